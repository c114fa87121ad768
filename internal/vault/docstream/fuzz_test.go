package docstream_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/vault/blob"
	"github.com/wardhq/ward/internal/vault/docstream"
)

// FuzzDecrypt damages a three-segment object (one byte changed, or cut
// short, or neither) and reads an arbitrary range of it. Whatever the
// damage and the range, Decrypt and Read either give exactly the range's
// plaintext, or fail with ErrIntegrity (ErrRange for a range outside the
// document) after giving only a prefix of it: never other bytes.
//
//	go test -run '^$' -fuzz FuzzDecrypt ./internal/vault/docstream/
func FuzzDecrypt(f *testing.F) {
	d, err := blob.NewDir(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	fx := newFixture(f)
	size := int64(firstPlain + plainSeg + 777)
	plain := randomBytes(21, int(size))
	aad := []byte("fuzz")
	key := blob.ObjectKey(fx.keys.OrgID(), uuid.New())
	if _, err := fx.key.Put(f.Context(), d, key, aad, bytes.NewReader(plain)); err != nil {
		f.Fatal(err)
	}
	file := filepath.Join(d.Root(), filepath.FromSlash(key))
	orig, err := os.ReadFile(file)
	if err != nil {
		f.Fatal(err)
	}
	ctLen := uint32(len(orig))
	// Seeds: no damage; a flip in the header, in each segment, in a tag;
	// cuts at segment edges; ranges at and across the edges.
	f.Add(uint32(0), int32(-1), uint32(0), byte(0), uint32(0))
	f.Add(uint32(firstPlain-1), int32(2), uint32(0), byte(0), uint32(0))
	f.Add(uint32(0), int32(-1), uint32(5), byte(0x80), uint32(0))
	f.Add(uint32(firstPlain+10), int32(100), uint32(100), byte(1), uint32(0))
	f.Add(uint32(0), int32(100), uint32(1<<20+5), byte(1), uint32(0))
	f.Add(uint32(firstPlain+plainSeg), int32(-1), ctLen-1, byte(0xff), uint32(0))
	f.Add(uint32(0), int32(-1), uint32(0), byte(0), uint32(1<<20))
	f.Add(uint32(5), int32(5), uint32(0), byte(0), ctLen-1)
	f.Add(uint32(size), int32(1), uint32(0), byte(0), uint32(0))
	f.Add(uint32(size+1), int32(1), uint32(0), byte(0), uint32(0))
	f.Fuzz(func(t *testing.T, off uint32, n int32, flipAt uint32, mask byte, cut uint32) {
		bad := slices.Clone(orig)
		damaged := false
		if mask != 0 {
			bad[flipAt%ctLen] ^= mask
			damaged = true
		}
		if cut != 0 {
			bad = bad[:cut%ctLen]
			damaged = true
		}
		if err := os.WriteFile(file, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(file, orig, 0o600)
		rc, err := fx.key.Decrypt(t.Context(), d, key, aad, size, int64(off), int64(n))
		var got []byte
		if err == nil {
			got, err = io.ReadAll(rc)
			rc.Close()
		}
		if int64(off) > size {
			if !errors.Is(err, docstream.ErrRange) {
				t.Fatalf("offset %d past the end: %v, want ErrRange", off, err)
			}
			return
		}
		end := size
		if n >= 0 {
			end = min(end, int64(off)+int64(n))
		}
		want := plain[off:end]
		switch {
		case err == nil && !bytes.Equal(got, want):
			t.Fatalf("range [%d, %d): %d bytes that are not the plaintext", off, end, len(got))
		case err == nil && damaged && cut != 0:
			t.Fatalf("cut to %d bytes: no error", cut%ctLen)
		case err != nil && !errors.Is(err, docstream.ErrIntegrity):
			t.Fatalf("range [%d, %d): %v, want ErrIntegrity or success", off, end, err)
		case err != nil && !bytes.HasPrefix(want, got):
			t.Fatalf("range [%d, %d): %d bytes before the error, not a prefix of the plaintext", off, end, len(got))
		case err != nil && !damaged:
			t.Fatalf("intact object: %v", err)
		}
	})
}
