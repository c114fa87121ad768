package docstream_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/vault/blob"
)

// Benchmarks of streaming encryption into and out of a store, each beside
// a baseline taken in the same run: the same bytes copied into or out of a
// plain file (io.Copy through a 256 KiB buffer, fsync on write, as
// blob.Dir.Put does), or read from the start with Tink's own reader.
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

// BenchmarkWrite64MiB: 64 MiB into a file (baseline), into the directory
// store in the clear, and encrypted into the directory store; and, on
// versitygw, in the clear and encrypted.
func BenchmarkWrite64MiB(b *testing.B) {
	plain := randomBytes(1, benchSize)
	dir := b.TempDir()
	d, err := blob.NewDir(filepath.Join(dir, "store"))
	if err != nil {
		b.Fatal(err)
	}
	f := newFixture(b)
	aad := []byte("bench")
	b.Run("copy-to-file", func(b *testing.B) {
		b.SetBytes(benchSize)
		buf := make([]byte, 256<<10)
		for b.Loop() {
			out, err := os.CreateTemp(dir, "plain-*")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.CopyBuffer(struct{ io.Writer }{out}, bytes.NewReader(plain), buf); err != nil {
				b.Fatal(err)
			}
			if err := out.Sync(); err != nil {
				b.Fatal(err)
			}
			out.Close()
			os.Remove(out.Name())
		}
	})
	for _, c := range []struct {
		name string
		s    func(b *testing.B) blob.Store
	}{
		{"dir", func(*testing.B) blob.Store { return d }},
		{"s3", func(b *testing.B) blob.Store { return newS3(b) }},
	} {
		var s blob.Store
		b.Run("plain-to-"+c.name, func(b *testing.B) {
			s = c.s(b)
			b.SetBytes(benchSize)
			for b.Loop() {
				key := blob.ObjectKey(f.keys.OrgID(), uuid.New())
				if _, err := s.Put(b.Context(), key, bytes.NewReader(plain)); err != nil {
					b.Fatal(err)
				}
				_ = s.Delete(b.Context(), key)
			}
		})
		b.Run("encrypt-to-"+c.name, func(b *testing.B) {
			if c.name == "s3" {
				s = c.s(b)
			}
			b.SetBytes(benchSize)
			for b.Loop() {
				key := blob.ObjectKey(f.keys.OrgID(), uuid.New())
				if _, err := f.key.Put(b.Context(), s, key, aad, bytes.NewReader(plain)); err != nil {
					b.Fatal(err)
				}
				_ = s.Delete(b.Context(), key)
			}
		})
	}
}

// BenchmarkRead64MiB: 64 MiB out of a file (baseline), out of the
// directory store in the clear, and decrypted out of the directory store;
// and, on versitygw, in the clear and decrypted.
func BenchmarkRead64MiB(b *testing.B) {
	plain := randomBytes(2, benchSize)
	dir := b.TempDir()
	d, err := blob.NewDir(filepath.Join(dir, "store"))
	if err != nil {
		b.Fatal(err)
	}
	f := newFixture(b)
	aad := []byte("bench")
	file := filepath.Join(dir, "plain")
	if err := os.WriteFile(file, plain, 0o600); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 256<<10)
	b.Run("copy-from-file", func(b *testing.B) {
		b.SetBytes(benchSize)
		for b.Loop() {
			in, err := os.Open(file)
			if err != nil {
				b.Fatal(err)
			}
			copyOut(b, in, buf)
			in.Close()
		}
	})
	for _, c := range []struct {
		name string
		s    func(b *testing.B) blob.Store
	}{
		{"dir", func(*testing.B) blob.Store { return d }},
		{"s3", func(b *testing.B) blob.Store { return newS3(b) }},
	} {
		var s blob.Store
		plainKey := blob.ObjectKey(f.keys.OrgID(), uuid.New())
		encKey := blob.ObjectKey(f.keys.OrgID(), uuid.New())
		b.Run("plain-from-"+c.name, func(b *testing.B) {
			s = c.s(b)
			if _, err := s.Put(b.Context(), plainKey, bytes.NewReader(plain)); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(benchSize)
			for b.Loop() {
				rc, err := s.Open(b.Context(), plainKey, 0, -1)
				if err != nil {
					b.Fatal(err)
				}
				copyOut(b, rc, buf)
				rc.Close()
			}
		})
		b.Run("decrypt-from-"+c.name, func(b *testing.B) {
			if c.name == "s3" {
				s = c.s(b)
			}
			if _, err := f.key.Put(b.Context(), s, encKey, aad, bytes.NewReader(plain)); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(benchSize)
			for b.Loop() {
				rc, err := f.key.Decrypt(b.Context(), s, encKey, aad, benchSize, 0, -1)
				if err != nil {
					b.Fatal(err)
				}
				if n := copyOut(b, rc, buf); n != benchSize {
					b.Fatalf("read %d bytes", n)
				}
				rc.Close()
			}
		})
	}
}

// BenchmarkRange256MiB: 1 MiB at a deep offset (200 MiB) of a 256 MiB
// document, read by segment with Decrypt, beside Tink's reader decrypting
// from the start and discarding up to the offset.
func BenchmarkRange256MiB(b *testing.B) {
	const size, off, n = 256 << 20, 200<<20 + 12345, 1 << 20
	d, err := blob.NewDir(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	f := newFixture(b)
	aad := []byte("bench")
	key := blob.ObjectKey(f.keys.OrgID(), uuid.New())
	plain := randomBytes(3, size)
	if _, err := f.key.Put(b.Context(), d, key, aad, bytes.NewReader(plain)); err != nil {
		b.Fatal(err)
	}
	want := plain[off : off+n]
	plain = nil
	file := filepath.Join(d.Root(), filepath.FromSlash(key))
	got := make([]byte, n)
	b.Run("decrypt-range", func(b *testing.B) {
		b.SetBytes(n)
		for b.Loop() {
			rc, err := f.key.Decrypt(b.Context(), d, key, aad, size, off, n)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(rc, got); err != nil {
				b.Fatal(err)
			}
			rc.Close()
		}
		if !bytes.Equal(got, want) {
			b.Fatal("wrong bytes")
		}
	})
	b.Run("tink-from-start", func(b *testing.B) {
		b.SetBytes(n)
		buf := make([]byte, 256<<10)
		for b.Loop() {
			in, err := os.Open(file)
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
		}
		if !bytes.Equal(got, want) {
			b.Fatal("wrong bytes")
		}
	})
}
