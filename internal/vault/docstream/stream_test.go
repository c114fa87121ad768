package docstream_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/vault/blob"
	"github.com/wardhq/ward/internal/vault/docstream"
)

// aadFor is associated data of the shape the vault binds: org, case,
// document and version.
func aadFor(f fixture) []byte {
	return []byte(fmt.Sprintf("ward/document/v1|%s|%s|%s|%s", f.keys.OrgID(), uuid.New(), uuid.New(), f.ad.Row))
}

// stored is one encrypted object and what it holds.
type stored struct {
	f     fixture
	s     blob.Store
	key   string
	aad   []byte
	plain []byte
}

// store encrypts plain with a fresh data key into s.
func store(t testing.TB, s blob.Store, plain []byte) stored {
	t.Helper()
	f := newFixture(t)
	key := blob.ObjectKey(f.keys.OrgID(), uuid.New())
	aad := aadFor(f)
	n, err := f.key.Put(t.Context(), s, key, aad, bytes.NewReader(plain))
	if err != nil {
		t.Fatalf("Put %d bytes: %v", len(plain), err)
	}
	if n != int64(len(plain)) {
		t.Fatalf("Put returned %d, want %d", n, len(plain))
	}
	return stored{f: f, s: s, key: key, aad: aad, plain: plain}
}

// read decrypts [off, off+n) of o.
func (o stored) read(t testing.TB, off, n int64) ([]byte, error) {
	t.Helper()
	return decryptAll(t, o.f, o.s, o.key, o.aad, int64(len(o.plain)), off, n)
}

// want returns the plaintext Decrypt(off, n) must give.
func (o stored) want(off, n int64) []byte {
	end := int64(len(o.plain))
	if n >= 0 {
		end = min(end, off+n)
	}
	return o.plain[off:end]
}

// checkRange decrypts [off, off+n) and compares it with the plaintext.
func (o stored) checkRange(t testing.TB, off, n int64) {
	t.Helper()
	got, err := o.read(t, off, n)
	if err != nil {
		t.Fatalf("%d-byte document, Decrypt(%d, %d): %v", len(o.plain), off, n, err)
	}
	if want := o.want(off, n); !bytes.Equal(got, want) {
		t.Fatalf("%d-byte document, Decrypt(%d, %d): %d bytes differ from the %d of the plaintext", len(o.plain), off, n, len(got), len(want))
	}
}

// TestStores runs every streaming test on a directory and on versitygw.
func TestStores(t *testing.T) {
	for _, c := range []struct {
		name string
		s    func(t *testing.T) blob.Store
	}{
		{"dir", func(t *testing.T) blob.Store { return newDir(t) }},
		{"s3", func(t *testing.T) blob.Store { return newS3(t) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.s(t)
			t.Run("sizes", func(t *testing.T) { testSizes(t, s) })
			t.Run("ranges", func(t *testing.T) { testRanges(t, s) })
			t.Run("tamper", func(t *testing.T) { testTamper(t, s) })
			t.Run("truncate-extend-reorder", func(t *testing.T) { testShape(t, s) })
			t.Run("wrong-aad-key-size", func(t *testing.T) { testWrongInputs(t, s) })
			t.Run("put-failure", func(t *testing.T) { testPutFailure(t, s) })
			t.Run("64MiB", func(t *testing.T) { test64MiB(t, s) })
		})
	}
}

// testSizes round-trips every boundary size, checks the object's size and
// that Tink's own reader decrypts what was written, and reads each size
// whole and from every segment edge.
func testSizes(t *testing.T, s blob.Store) {
	for _, size := range boundarySizes() {
		o := store(t, s, randomBytes(uint64(size), int(size)))
		ct := raw(t, s, o.key)
		if int64(len(ct)) != docstream.CiphertextSize(size) {
			t.Fatalf("size %d: object is %d bytes, CiphertextSize says %d", size, len(ct), docstream.CiphertextSize(size))
		}
		pt, err := tinkDecrypt(o.f, ct, o.aad)
		if err != nil || !bytes.Equal(pt, o.plain) {
			t.Fatalf("size %d: Tink's reader: %d bytes, %v", size, len(pt), err)
		}
		o.checkRange(t, 0, -1)
		o.checkRange(t, 0, size)
		for _, edge := range []int64{firstPlain, firstPlain + plainSeg, firstPlain + 2*plainSeg} {
			for _, off := range []int64{edge - 1, edge, edge + 1} {
				if off >= 0 && off <= size {
					o.checkRange(t, off, -1)
					o.checkRange(t, off, 1)
					o.checkRange(t, off, 3)
				}
			}
		}
	}
}

// testRanges reads random ranges of a five-segment document.
func testRanges(t *testing.T, s blob.Store) {
	size := int64(firstPlain + 4*plainSeg + 12345)
	o := store(t, s, randomBytes(99, int(size)))
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 120 {
		off := r.Int64N(size + 1)
		var n int64
		switch i % 4 {
		case 0:
			n = r.Int64N(64) // small
		case 1:
			n = r.Int64N(3 * plainSeg) // across segments
		case 2:
			n = -1 // to the end
		case 3:
			n = r.Int64N(2 * size) // past the end
		}
		o.checkRange(t, off, n)
	}
	// Ranges past the end are cut; an offset at the end is empty.
	if got, err := o.read(t, size, -1); err != nil || len(got) != 0 {
		t.Fatalf("Decrypt at the end: %d bytes, %v", len(got), err)
	}
	if got, err := o.read(t, 10, 0); err != nil || len(got) != 0 {
		t.Fatalf("Decrypt of 0 bytes: %d bytes, %v", len(got), err)
	}
	for _, c := range []struct{ size, off int64 }{{size, size + 1}, {size, -1}, {-1, 0}} {
		if _, err := o.f.key.Decrypt(t.Context(), s, o.key, o.aad, c.size, c.off, 1); !errors.Is(err, docstream.ErrRange) {
			t.Errorf("Decrypt(size %d, off %d): %v, want ErrRange", c.size, c.off, err)
		}
	}
	if _, err := o.f.key.Decrypt(t.Context(), s, blob.ObjectKey(uuid.New(), uuid.New()), o.aad, size, 0, -1); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Decrypt of a missing object: %v, want blob.ErrNotFound", err)
	}
}

// readUntilError decrypts the whole object and returns what came out
// before the error.
func readUntilError(t *testing.T, o stored, off, n int64) ([]byte, error) {
	t.Helper()
	got, err := o.read(t, off, n)
	if err == nil {
		t.Fatalf("Decrypt(%d, %d) of a tampered object succeeded", off, n)
	}
	return got, err
}

// testTamper flips one byte at a time, in the header, at the start, middle
// and end (tag) of each segment, and at ten random places, and checks that a read covering it fails
// with ErrIntegrity without returning a byte of the affected segment,
// that Tink's reader refuses it too, and that reads of other segments
// (when the header is intact) still succeed.
func testTamper(t *testing.T, s blob.Store) {
	size := int64(firstPlain + 2*plainSeg + 500) // four segments
	o := store(t, s, randomBytes(5, int(size)))
	orig := raw(t, s, o.key)
	ct := int64(len(orig))
	segStart := []int64{40, 1 << 20, 2 << 20, 3 << 20}
	segEnd := []int64{1 << 20, 2 << 20, 3 << 20, ct}
	plainStart := []int64{0, firstPlain, firstPlain + plainSeg, firstPlain + 2*plainSeg}
	positions := []int64{0, 1, 20, 32, 33, 39} // length byte, salt, nonce prefix
	for i := range segStart {
		positions = append(positions, segStart[i], segStart[i]+1, (segStart[i]+segEnd[i])/2, segEnd[i]-17, segEnd[i]-16, segEnd[i]-1)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 10 {
		positions = append(positions, r.Int64N(ct))
	}
	for _, pos := range positions {
		bad := slices.Clone(orig)
		bad[pos] ^= 0x01
		replace(t, s, o.key, bad)
		if _, err := tinkDecrypt(o.f, bad, o.aad); err == nil {
			t.Fatalf("byte %d flipped: Tink's reader accepted it", pos)
		}
		seg := -1 // the header
		for i := range segStart {
			if pos >= segStart[i] && pos < segEnd[i] {
				seg = i
			}
		}
		got, err := readUntilError(t, o, 0, -1)
		if !isIntegrity(err) {
			t.Fatalf("byte %d flipped: %v, want ErrIntegrity", pos, err)
		}
		limit := int64(0)
		if seg > 0 {
			limit = plainStart[seg]
		}
		if int64(len(got)) > limit || !bytes.Equal(got, o.plain[:len(got)]) {
			t.Fatalf("byte %d flipped (segment %d): %d bytes returned before the error, at most %d authentic ones allowed", pos, seg, len(got), limit)
		}
		if seg < 0 {
			continue
		}
		// A range inside the damaged segment fails; one elsewhere reads.
		mid := plainStart[seg] + 7
		if _, err := readUntilError(t, o, mid, 10); !isIntegrity(err) {
			t.Fatalf("byte %d flipped, range in segment %d: %v, want ErrIntegrity", pos, seg, err)
		}
		other := (seg + 2) % len(segStart)
		o.checkRange(t, plainStart[other]+3, 100)
	}
	replace(t, s, o.key, orig)
	o.checkRange(t, 0, -1)
}

// testShape truncates, extends and reorders objects.
func testShape(t *testing.T, s blob.Store) {
	size := int64(firstPlain + 3*plainSeg) // four full segments, the last one full too
	o := store(t, s, randomBytes(6, int(size)))
	orig := raw(t, s, o.key)
	check := func(what string, bad []byte, plaintextSize int64) {
		t.Helper()
		replace(t, s, o.key, bad)
		if _, err := tinkDecrypt(o.f, bad, o.aad); err == nil {
			t.Fatalf("%s: Tink's reader accepted it", what)
		}
		rc, err := o.f.key.Decrypt(t.Context(), s, o.key, o.aad, plaintextSize, 0, -1)
		if err == nil {
			var buf bytes.Buffer
			_, err = io.Copy(&buf, rc)
			rc.Close()
			if !bytes.Equal(buf.Bytes(), o.plain[:buf.Len()]) {
				t.Fatalf("%s: altered bytes returned", what)
			}
		}
		if !isIntegrity(err) {
			t.Fatalf("%s: %v, want ErrIntegrity", what, err)
		}
	}
	// Truncations: inside the last segment, at each segment boundary, to
	// the header, to nothing. The recorded size stays; and where the
	// shorter object has a size of its own, it is also read with that
	// size, so the last-segment flag alone must catch it.
	for _, cut := range []int64{int64(len(orig)) - 1, int64(len(orig)) - 17, 3 << 20, 2 << 20, 1 << 20, 1<<20 - 1, 41, 40, 39, 1, 0} {
		check(fmt.Sprintf("truncated to %d", cut), orig[:cut], size)
		if p, err := docstream.PlaintextSize(cut); err == nil {
			check(fmt.Sprintf("truncated to %d, read as %d bytes", cut, p), orig[:cut], p)
		}
	}
	check("extended by one byte", append(slices.Clone(orig), 0), size)
	check("extended by a copy of the last segment", append(slices.Clone(orig), orig[3<<20:]...), size)
	// Swap two whole middle segments (equal lengths).
	bad := slices.Clone(orig)
	copy(bad[1<<20:2<<20], orig[2<<20:3<<20])
	copy(bad[2<<20:3<<20], orig[1<<20:2<<20])
	check("segments 1 and 2 swapped", bad, size)
	// Drop a middle segment and read it as the shorter document it would
	// be: the last segment's flag matches its new place, its number does
	// not.
	dropped := append(slices.Clone(orig[:2<<20]), orig[3<<20:]...)
	check("segment 2 dropped", dropped, size-plainSeg)
	replace(t, s, o.key, orig)
	o.checkRange(t, 0, -1)
}

// testWrongInputs reads with a wrong aad, another data key, another
// object's header, and a wrong recorded size.
func testWrongInputs(t *testing.T, s blob.Store) {
	size := int64(firstPlain + plainSeg + 10)
	o := store(t, s, randomBytes(8, int(size)))
	for _, c := range []struct {
		name string
		aad  []byte
	}{
		{"other aad", append(slices.Clone(o.aad), 'x')},
		{"empty aad", nil},
		{"aad one bit off", func() []byte { b := slices.Clone(o.aad); b[0] ^= 1; return b }()},
	} {
		if _, err := decryptAll(t, o.f, s, o.key, c.aad, size, 0, -1); !isIntegrity(err) {
			t.Errorf("%s: %v, want ErrIntegrity", c.name, err)
		}
		if _, err := decryptAll(t, o.f, s, o.key, c.aad, size, firstPlain+5, 10); !isIntegrity(err) {
			t.Errorf("%s, a deep range: %v, want ErrIntegrity", c.name, err)
		}
		if _, err := tinkDecrypt(o.f, raw(t, s, o.key), c.aad); err == nil {
			t.Errorf("%s: Tink's reader accepted it", c.name)
		}
	}
	other := newFixture(t)
	if _, err := decryptAll(t, other, s, o.key, o.aad, size, 0, -1); !isIntegrity(err) {
		t.Errorf("another data key: %v, want ErrIntegrity", err)
	}
	// Another object under the same key and aad, of the same size: a mix
	// of its header and our segments does not authenticate.
	o2 := stored{f: o.f, s: s, key: blob.ObjectKey(o.f.keys.OrgID(), uuid.New()), aad: o.aad, plain: randomBytes(9, int(size))}
	if _, err := o.f.key.Put(t.Context(), s, o2.key, o2.aad, bytes.NewReader(o2.plain)); err != nil {
		t.Fatalf("Put: %v", err)
	}
	o2.checkRange(t, 0, -1)
	a, b := raw(t, s, o.key), raw(t, s, o2.key)
	replace(t, s, o.key, append(slices.Clone(b[:40]), a[40:]...))
	if _, err := o.read(t, 0, -1); !isIntegrity(err) {
		t.Errorf("another object's header: %v, want ErrIntegrity", err)
	}
	replace(t, s, o.key, append(slices.Clone(a[:1<<20]), b[1<<20:]...))
	if _, err := o.read(t, 0, -1); !isIntegrity(err) {
		t.Errorf("another object's later segments: %v, want ErrIntegrity", err)
	}
	replace(t, s, o.key, a)
	for _, sz := range []int64{size - 1, size + 1, firstPlain, 0} {
		if _, err := decryptAll(t, o.f, s, o.key, o.aad, sz, 0, -1); !isIntegrity(err) {
			t.Errorf("recorded size %d instead of %d: %v, want ErrIntegrity", sz, size, err)
		}
	}
	o.checkRange(t, 0, -1)
}

// testPutFailure checks that a failing source or a cancelled context
// leaves no object behind, and that the source's error comes back.
func testPutFailure(t *testing.T, s blob.Store) {
	f := newFixture(t)
	boom := errors.New("upload cut off")
	for _, n := range []int{0, 10, 3 << 20, 20 << 20} {
		key := blob.ObjectKey(f.keys.OrgID(), uuid.New())
		src := io.MultiReader(bytes.NewReader(make([]byte, n)), errReader{boom})
		if _, err := f.key.Put(t.Context(), s, key, []byte("aad"), src); !errors.Is(err, boom) {
			t.Fatalf("Put failing after %d bytes: %v, want the source's error", n, err)
		}
		if _, err := s.Size(t.Context(), key); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("after a failed Put of %d bytes: %v, want ErrNotFound", n, err)
		}
	}
	key := blob.ObjectKey(f.keys.OrgID(), uuid.New())
	ctx, cancel := context.WithCancel(t.Context())
	src := io.MultiReader(bytes.NewReader(make([]byte, 5<<20)), cancelReader{cancel}, bytes.NewReader(make([]byte, 5<<20)))
	if _, err := f.key.Put(ctx, s, key, []byte("aad"), src); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Put: %v, want context.Canceled", err)
	}
	if _, err := s.Size(t.Context(), key); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("after a cancelled Put: %v, want ErrNotFound", err)
	}
	if _, err := f.key.Put(t.Context(), s, "../escape", nil, bytes.NewReader([]byte("x"))); !errors.Is(err, blob.ErrInvalidKey) {
		t.Fatalf("Put to a bad key: %v, want blob.ErrInvalidKey", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// cancelReader cancels its context when first read, and yields nothing.
type cancelReader struct{ cancel context.CancelFunc }

func (r cancelReader) Read([]byte) (int, error) { r.cancel(); return 0, io.EOF }

// test64MiB round-trips 64 MiB, checks it with Tink's reader and reads a
// few deep ranges.
func test64MiB(t *testing.T, s blob.Store) {
	size := int64(64 << 20)
	o := store(t, s, randomBytes(64, int(size)))
	ct := raw(t, s, o.key)
	pt, err := tinkDecrypt(o.f, ct, o.aad)
	if err != nil || !bytes.Equal(pt, o.plain) {
		t.Fatalf("Tink's reader: %d bytes, %v", len(pt), err)
	}
	o.checkRange(t, 0, -1)
	o.checkRange(t, size-1, -1)
	o.checkRange(t, 40<<20+12345, 1<<20)
	o.checkRange(t, size-plainSeg-5, 2*plainSeg)
}
