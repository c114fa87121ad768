package blob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit/s3test"
	"github.com/wardhq/ward/internal/vault/blob"
)

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 1})
	_, _ = r.Read(b)
	return b
}

// objKey returns a fresh key of the shape the vault uses.
func objKey(org uuid.UUID) string { return blob.ObjectKey(org, uuid.New()) }

// newDir returns a Dir in a temporary directory.
func newDir(t *testing.T) *blob.Dir {
	t.Helper()
	d, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatalf("NewDir: %v", err)
	}
	return d
}

// newS3 starts a versitygw and returns an S3 store on a fresh bucket.
func newS3(t *testing.T, prefix string) (*blob.S3, *s3test.Server) {
	t.Helper()
	srv := s3test.Start(t)
	s, err := blob.NewS3(t.Context(), blob.S3Config{
		Endpoint: srv.Host(), Region: s3test.Region, Bucket: "documents",
		AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey, Prefix: prefix, Create: true,
	})
	if err != nil {
		t.Fatalf("NewS3: %v", err)
	}
	return s, srv
}

// readAll opens key at [off, off+n) and returns its bytes.
func readAll(t *testing.T, s blob.Store, key string, off, n int64) []byte {
	t.Helper()
	rc, err := s.Open(t.Context(), key, off, n)
	if err != nil {
		t.Fatalf("Open(%d, %d): %v", off, n, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read (%d, %d): %v", off, n, err)
	}
	return b
}

// put stores b at key and checks the count.
func put(t *testing.T, s blob.Store, key string, b []byte) {
	t.Helper()
	n, err := s.Put(t.Context(), key, bytes.NewReader(b))
	if err != nil {
		t.Fatalf("Put %d bytes: %v", len(b), err)
	}
	if n != int64(len(b)) {
		t.Fatalf("Put returned %d, want %d", n, len(b))
	}
}

// failingReader yields n bytes of zeros, then err.
type failingReader struct {
	n   int
	err error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, r.err
	}
	k := min(len(p), r.n)
	clear(p[:k])
	r.n -= k
	return k, nil
}

// zeroReader yields n zero bytes without holding them.
type zeroReader struct{ n int64 }

func (r *zeroReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := int(min(int64(len(p)), r.n))
	clear(p[:k])
	r.n -= int64(k)
	return k, nil
}

// cancelAfter cancels its context once n bytes have been read.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n -= k
	if c.n <= 0 {
		c.cancel()
	}
	return k, err
}

// conformance runs the Store contract against s.
func conformance(t *testing.T, s blob.Store) {
	ctx := t.Context()
	org := uuid.New()

	t.Run("put-open-size", func(t *testing.T) {
		for _, size := range []int{0, 1, 4096, 1<<20 + 7} {
			key := objKey(org)
			data := randomBytes(uint64(size), size)
			put(t, s, key, data)
			got, err := s.Size(ctx, key)
			if err != nil || got != int64(size) {
				t.Fatalf("Size = %d, %v; want %d", got, err, size)
			}
			if b := readAll(t, s, key, 0, -1); !bytes.Equal(b, data) {
				t.Fatalf("size %d: read back %d bytes, not the bytes written", size, len(b))
			}
		}
	})

	t.Run("part-boundaries", func(t *testing.T) {
		// S3 stores up to one part with a single PUT, more as a
		// multipart upload; the directory store does not care.
		for _, size := range []int{blob.S3PartSize - 1, blob.S3PartSize, blob.S3PartSize + 1, 2*blob.S3PartSize + 5} {
			key := objKey(org)
			data := randomBytes(uint64(size), size)
			put(t, s, key, data)
			if b := readAll(t, s, key, 0, -1); !bytes.Equal(b, data) {
				t.Fatalf("size %d: read back %d bytes, not the bytes written", size, len(b))
			}
			if b := readAll(t, s, key, blob.S3PartSize-3, 6); !bytes.Equal(b, data[blob.S3PartSize-3:min(size, blob.S3PartSize+3)]) {
				t.Fatalf("size %d: the bytes around the part boundary differ", size)
			}
			if err := s.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("ranges", func(t *testing.T) {
		key := objKey(org)
		data := randomBytes(7, 10000)
		put(t, s, key, data)
		cases := []struct{ off, n int64 }{
			{0, -1}, {0, 0}, {0, 1}, {1, 1}, {9999, 1}, {9999, -1}, {9999, 5}, {10000, -1}, {10000, 3},
			{12000, -1}, {12000, 4}, {5000, 100}, {5000, 5000}, {5000, 6000}, {0, 10000}, {0, 20000},
		}
		r := rand.New(rand.NewPCG(1, 2))
		for range 40 {
			off := r.Int64N(10001)
			cases = append(cases, struct{ off, n int64 }{off, r.Int64N(3000) - 1})
		}
		for _, c := range cases {
			lo := min(c.off, int64(len(data)))
			hi := int64(len(data))
			if c.n >= 0 {
				hi = min(hi, c.off+c.n)
			}
			hi = max(hi, lo)
			if got := readAll(t, s, key, c.off, c.n); !bytes.Equal(got, data[lo:hi]) {
				t.Errorf("Open(%d, %d): %d bytes, want data[%d:%d]", c.off, c.n, len(got), lo, hi)
			}
		}
		if _, err := s.Open(ctx, key, -1, 1); !errors.Is(err, blob.ErrInvalidRange) {
			t.Errorf("Open at -1: %v, want ErrInvalidRange", err)
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		// Sixteen Puts at once into one new org's directory, then reads.
		corg := uuid.New()
		keys := make([]string, 16)
		errs := make(chan error, len(keys))
		for i := range keys {
			keys[i] = objKey(corg)
			go func() {
				_, err := s.Put(ctx, keys[i], bytes.NewReader(randomBytes(uint64(i), 1000+i)))
				errs <- err
			}()
		}
		for range keys {
			if err := <-errs; err != nil {
				t.Fatalf("concurrent Put: %v", err)
			}
		}
		for i, k := range keys {
			if got := readAll(t, s, k, 0, -1); !bytes.Equal(got, randomBytes(uint64(i), 1000+i)) {
				t.Fatalf("object %d differs after concurrent Puts", i)
			}
		}
	})

	t.Run("replace", func(t *testing.T) {
		key := objKey(org)
		put(t, s, key, []byte("first version of the bytes"))
		put(t, s, key, []byte("second"))
		if got := readAll(t, s, key, 0, -1); string(got) != "second" {
			t.Fatalf("after replacing: %q", got)
		}
	})

	t.Run("missing", func(t *testing.T) {
		key := objKey(org)
		if _, err := s.Open(ctx, key, 0, -1); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Open of a missing key: %v, want ErrNotFound", err)
		}
		if _, err := s.Open(ctx, key, 0, 0); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Open(0, 0) of a missing key: %v, want ErrNotFound", err)
		}
		if _, err := s.Size(ctx, key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Size of a missing key: %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Errorf("Delete of a missing key: %v", err)
		}
	})

	t.Run("delete", func(t *testing.T) {
		key := objKey(org)
		put(t, s, key, []byte("x"))
		if err := s.Delete(ctx, key); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := s.Size(ctx, key); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Size after Delete: %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Fatalf("second Delete: %v", err)
		}
	})

	t.Run("invalid-keys", func(t *testing.T) {
		bad := []string{"", "/abs/key", "a/../b", "..", "a/./b", ".", "a//b", "a/", "a/.hidden", ".put-123",
			"a b", "a\\b", "a/b\x00", "ä", "a?b", "a%2e", strings.Repeat("a", blob.MaxKeyLen+1)}
		for _, k := range bad {
			if _, err := s.Put(ctx, k, strings.NewReader("x")); !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("Put(%q): %v, want ErrInvalidKey", k, err)
			}
			if _, err := s.Open(ctx, k, 0, -1); !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("Open(%q): %v, want ErrInvalidKey", k, err)
			}
			if _, err := s.Size(ctx, k); !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("Size(%q): %v, want ErrInvalidKey", k, err)
			}
			if err := s.Delete(ctx, k); !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("Delete(%q): %v, want ErrInvalidKey", k, err)
			}
		}
		for _, p := range []string{"/abs", "a/../b", "..", "a//b", "a/.hidden/", "a b", "ä", "a/.", strings.Repeat("a", blob.MaxKeyLen+1)} {
			if err := s.List(ctx, p, func(string, time.Time) error { return nil }); !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("List(%q): %v, want ErrInvalidKey", p, err)
			}
		}
	})

	t.Run("list", func(t *testing.T) {
		lorg := uuid.New()
		other := uuid.New()
		var want []string
		before := time.Now().Add(-time.Minute)
		for range 5 {
			k := objKey(lorg)
			put(t, s, k, []byte("y"))
			want = append(want, k)
		}
		put(t, s, objKey(other), []byte("z"))
		slices.Sort(want)
		list := func(prefix string) []string {
			t.Helper()
			var got []string
			err := s.List(ctx, prefix, func(k string, mod time.Time) error {
				if mod.Before(before) || mod.After(time.Now().Add(time.Minute)) {
					t.Errorf("List: %s modified at %v, not around now", k, mod)
				}
				got = append(got, k)
				return nil
			})
			if err != nil {
				t.Fatalf("List(%q): %v", prefix, err)
			}
			return got
		}
		if diff := cmp.Diff(want, list("orgs/"+lorg.String()+"/")); diff != "" {
			t.Errorf("List of the org (-want +got):\n%s", diff)
		}
		// A partial segment is a prefix too.
		if diff := cmp.Diff(want, list("orgs/"+lorg.String()[:8])); diff != "" && !strings.HasPrefix(other.String(), lorg.String()[:8]) {
			t.Errorf("List of a partial prefix (-want +got):\n%s", diff)
		}
		if got := list("orgs/" + uuid.NewString() + "/"); len(got) != 0 {
			t.Errorf("List of an empty prefix: %v", got)
		}
		all := list("")
		for _, k := range want {
			if !slices.Contains(all, k) {
				t.Errorf("List(\"\") misses %s", k)
			}
		}
		stop := errors.New("stop")
		calls := 0
		err := s.List(ctx, "orgs/"+lorg.String()+"/", func(string, time.Time) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("List with a failing callback: %v after %d calls, want stop after 1", err, calls)
		}
	})

	t.Run("failed-put-leaves-nothing", func(t *testing.T) {
		boom := errors.New("client went away")
		for _, n := range []int{0, 100, 20 << 20} {
			key := objKey(org)
			_, err := s.Put(ctx, key, &failingReader{n: n, err: boom})
			if !errors.Is(err, boom) {
				t.Fatalf("Put with a reader failing after %d bytes: %v, want the reader's error", n, err)
			}
			if _, err := s.Size(ctx, key); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("after a failed Put of %d bytes: Size %v, want ErrNotFound", n, err)
			}
		}
		// A failed Put over an existing object leaves the old one.
		key := objKey(org)
		put(t, s, key, []byte("old"))
		if _, err := s.Put(ctx, key, &failingReader{n: 10, err: boom}); !errors.Is(err, boom) {
			t.Fatalf("Put: %v", err)
		}
		if got := readAll(t, s, key, 0, -1); string(got) != "old" {
			t.Fatalf("after a failed replacement: %q, want the old object", got)
		}
	})

	t.Run("cancelled-put-leaves-nothing", func(t *testing.T) {
		for _, n := range []int{1, 20 << 20} {
			key := objKey(org)
			cctx, cancel := context.WithCancel(ctx)
			_, err := s.Put(cctx, key, &cancelAfter{r: &zeroReader{n: 40 << 20}, n: n, cancel: cancel})
			cancel()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled Put after %d bytes: %v, want context.Canceled", n, err)
			}
			if _, err := s.Size(ctx, key); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("after a cancelled Put: Size %v, want ErrNotFound", err)
			}
		}
	})
}

// TestStores runs the Store contract on a directory and on versitygw.
func TestStores(t *testing.T) {
	t.Run("dir", func(t *testing.T) { conformance(t, newDir(t)) })
	t.Run("s3", func(t *testing.T) {
		s, _ := newS3(t, "")
		conformance(t, s)
	})
	t.Run("s3-prefix", func(t *testing.T) {
		s, _ := newS3(t, "ward/test")
		conformance(t, s)
	})
}

// TestPutMemory streams 32 MiB and then 128 MiB into each store and checks
// that the heap a Put holds does not grow with the object: the peak of
// the heap's objects (sampled every 2 ms, the collector made eager)
// during the larger Put is at most 4 MiB above the smaller one's, and
// neither is more than two S3 parts.
func TestPutMemory(t *testing.T) {
	s3store, _ := newS3(t, "")
	defer debug.SetGCPercent(debug.SetGCPercent(5))
	for _, c := range []struct {
		name string
		s    blob.Store
	}{{"dir", newDir(t)}, {"s3", s3store}} {
		t.Run(c.name, func(t *testing.T) {
			peak := func(size int64) uint64 {
				runtime.GC()
				base := heapObjects()
				var top atomic.Uint64
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Go(func() {
					tick := time.NewTicker(2 * time.Millisecond)
					defer tick.Stop()
					for {
						select {
						case <-stop:
							return
						case <-tick.C:
							if h := heapObjects(); h > top.Load() {
								top.Store(h)
							}
						}
					}
				})
				n, err := c.s.Put(t.Context(), objKey(uuid.New()), &zeroReader{n: size})
				close(stop)
				wg.Wait()
				if err != nil || n != size {
					t.Fatalf("Put: %d, %v", n, err)
				}
				return max(top.Load(), base) - base
			}
			small, large := peak(32<<20), peak(128<<20)
			t.Logf("heap peak +%.1f MiB for 32 MiB, +%.1f MiB for 128 MiB", float64(small)/(1<<20), float64(large)/(1<<20))
			if large > small+4<<20 {
				t.Errorf("a 128 MiB Put held %d bytes of heap, a 32 MiB one %d: memory grows with the size", large, small)
			}
			if max(small, large) > 2*blob.S3PartSize {
				t.Errorf("a Put held %d bytes of heap, more than two parts", max(small, large))
			}
		})
	}
}

// heapObjects returns the bytes of the heap's objects, live or not yet
// collected.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func TestObjectKey(t *testing.T) {
	org, obj := uuid.New(), uuid.New()
	k := blob.ObjectKey(org, obj)
	if want := fmt.Sprintf("orgs/%s/obj/%s", org, obj); k != want {
		t.Fatalf("ObjectKey = %q, want %q", k, want)
	}
	if err := blob.CheckKey(k); err != nil {
		t.Fatalf("CheckKey(ObjectKey): %v", err)
	}
}
