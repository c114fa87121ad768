package docstream_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/vault/blob"
)

// Benchmarks of streaming encryption into and out of a store, each beside
// baselines taken in the same loop: the same bytes copied into or out of
// a plain file (fsync on write, as blob.Dir.Put does) and into or out of
// the store in the clear; or, for a range, read from the start with
// Tink's own reader. The machine is shared, so variants alternate within
// one loop and the ratios are the figures to read.
//
//	go test -run '^$' -bench . -benchtime 5x ./internal/vault/docstream/

const benchSize = 64 << 20

// sink discards writes and hides io.Discard's ReaderFrom (8 KiB reads), so
// baseline and Decrypt are read through the same 256 KiB buffer.
type sink struct{}

func (sink) Write(p []byte) (int, error) { return len(p), nil }

func copyOut(b *testing.B, r io.Reader, buf []byte) int64 {
	n, err := io.CopyBuffer(sink{}, r, buf)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// timer adds up the time of each variant of a benchmark whose variants
// alternate within one loop, so that all see the same load on a shared
// machine, and reports each one's throughput and their ratios.
type timer struct {
	names []string
	total map[string]time.Duration
}

func newTimer(names ...string) *timer {
	return &timer{names: names, total: map[string]time.Duration{}}
}

// time runs f and charges its duration to name.
func (t *timer) time(name string, f func()) {
	start := time.Now()
	f()
	t.total[name] += time.Since(start)
}

// report gives MB/s for every variant; for every variant after the first
// (the baseline), its throughput relative to the baseline; and for the
// last, its throughput relative to the one before it.
func (t *timer) report(b *testing.B, size int64) {
	ratio := func(a, base string) {
		b.ReportMetric(t.total[base].Seconds()/t.total[a].Seconds(), a+"/"+base)
	}
	for i, name := range t.names {
		b.ReportMetric(float64(b.N)*float64(size)/t.total[name].Seconds()/1e6, name+"-MB/s")
		if i > 0 {
			ratio(name, t.names[0])
		}
	}
	if n := len(t.names); n > 2 {
		ratio(t.names[n-1], t.names[n-2])
	}
}

// BenchmarkWrite64MiB writes 64 MiB, alternating: into a plain file
// (io.Copy, fsync: the baseline), into the store in the clear (Put), and
// encrypted into the store (DataKey.Put); on the directory store and on
// versitygw.
func BenchmarkWrite64MiB(b *testing.B) {
	plain := randomBytes(1, benchSize)
	dir := b.TempDir()
	f := newFixture(b)
	aad := []byte("bench")
	for _, c := range []struct {
		name string
		s    func(b *testing.B) blob.Store
	}{
		{"dir", func(b *testing.B) blob.Store { return newDir(b) }},
		{"s3", func(b *testing.B) blob.Store { return newS3(b) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := c.s(b)
			t := newTimer("file", "store", "encrypted")
			for b.Loop() {
				var name string
				t.time("file", func() {
					out, err := os.CreateTemp(dir, "plain-*")
					if err != nil {
						b.Fatal(err)
					}
					name = out.Name()
					if _, err := io.Copy(out, bytes.NewReader(plain)); err != nil {
						b.Fatal(err)
					}
					if err := out.Sync(); err != nil {
						b.Fatal(err)
					}
					out.Close()
				})
				os.Remove(name)
				key := blob.ObjectKey(f.keys.OrgID(), uuid.New())
				t.time("store", func() {
					if _, err := s.Put(b.Context(), key, bytes.NewReader(plain)); err != nil {
						b.Fatal(err)
					}
				})
				_ = s.Delete(b.Context(), key)
				t.time("encrypted", func() {
					if _, err := f.key.Put(b.Context(), s, key, aad, bytes.NewReader(plain)); err != nil {
						b.Fatal(err)
					}
				})
				_ = s.Delete(b.Context(), key)
			}
			t.report(b, benchSize)
		})
	}
}

// BenchmarkRead64MiB reads 64 MiB, alternating: out of a plain file
// (io.Copy through a 256 KiB buffer: the baseline), out of the store in
// the clear (Open), and decrypted out of the store (Decrypt); on the
// directory store and on versitygw.
func BenchmarkRead64MiB(b *testing.B) {
	plain := randomBytes(2, benchSize)
	dir := b.TempDir()
	f := newFixture(b)
	aad := []byte("bench")
	file := filepath.Join(dir, "plain")
	if err := os.WriteFile(file, plain, 0o600); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 256<<10)
	for _, c := range []struct {
		name string
		s    func(b *testing.B) blob.Store
	}{
		{"dir", func(b *testing.B) blob.Store { return newDir(b) }},
		{"s3", func(b *testing.B) blob.Store { return newS3(b) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := c.s(b)
			plainKey := blob.ObjectKey(f.keys.OrgID(), uuid.New())
			encKey := blob.ObjectKey(f.keys.OrgID(), uuid.New())
			if _, err := s.Put(b.Context(), plainKey, bytes.NewReader(plain)); err != nil {
				b.Fatal(err)
			}
			if _, err := f.key.Put(b.Context(), s, encKey, aad, bytes.NewReader(plain)); err != nil {
				b.Fatal(err)
			}
			t := newTimer("file", "store", "decrypted")
			for b.Loop() {
				t.time("file", func() {
					in, err := os.Open(file)
					if err != nil {
						b.Fatal(err)
					}
					copyOut(b, in, buf)
					in.Close()
				})
				t.time("store", func() {
					rc, err := s.Open(b.Context(), plainKey, 0, -1)
					if err != nil {
						b.Fatal(err)
					}
					copyOut(b, rc, buf)
					rc.Close()
				})
				t.time("decrypted", func() {
					rc, err := f.key.Decrypt(b.Context(), s, encKey, aad, benchSize, 0, -1)
					if err != nil {
						b.Fatal(err)
					}
					if n := copyOut(b, rc, buf); n != benchSize {
						b.Fatalf("read %d bytes", n)
					}
					rc.Close()
				})
			}
			t.report(b, benchSize)
		})
	}
}

// BenchmarkRange256MiB: 1 MiB at a deep offset (200 MiB) of a 256 MiB
// document, read by segment with Decrypt, beside Tink's reader decrypting
// the object from the start and discarding up to the offset; in the
// directory store and on versitygw.
func BenchmarkRange256MiB(b *testing.B) {
	const size, off, n = 256 << 20, 200<<20 + 12345, 1 << 20
	plain := randomBytes(3, size)
	want := bytes.Clone(plain[off : off+n])
	f := newFixture(b)
	aad := []byte("bench")
	for _, c := range []struct {
		name string
		s    func(b *testing.B) blob.Store
	}{
		{"dir", func(b *testing.B) blob.Store { return newDir(b) }},
		{"s3", func(b *testing.B) blob.Store { return newS3(b) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := c.s(b)
			key := blob.ObjectKey(f.keys.OrgID(), uuid.New())
			if _, err := f.key.Put(b.Context(), s, key, aad, bytes.NewReader(plain)); err != nil {
				b.Fatal(err)
			}
			got := make([]byte, n)
			buf := make([]byte, 256<<10)
			t := newTimer("tink-from-start", "decrypt-range")
			for b.Loop() {
				t.time("tink-from-start", func() {
					in, err := s.Open(b.Context(), key, 0, -1)
					if err != nil {
						b.Fatal(err)
					}
					r, err := f.tink.NewDecryptingReader(in, aad)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := io.CopyBuffer(sink{}, io.LimitReader(r, off), buf); err != nil {
						b.Fatal(err)
					}
					if _, err := io.ReadFull(r, got); err != nil {
						b.Fatal(err)
					}
					in.Close()
				})
				t.time("decrypt-range", func() {
					rc, err := f.key.Decrypt(b.Context(), s, key, aad, size, off, n)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := io.ReadFull(rc, got); err != nil {
						b.Fatal(err)
					}
					rc.Close()
				})
			}
			if !bytes.Equal(got, want) {
				b.Fatal("wrong bytes")
			}
			for _, name := range t.names {
				b.ReportMetric(t.total[name].Seconds()*1e3/float64(b.N), name+"-ms")
			}
			b.ReportMetric(t.total["tink-from-start"].Seconds()/t.total["decrypt-range"].Seconds(), "speedup")
		})
	}
}
