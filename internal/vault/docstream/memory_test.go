package docstream_test

import (
	"io"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/vault/blob"
)

// heapObjects returns the bytes of the heap's objects, live or not yet
// collected.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// heapPeak runs f and returns the peak of the heap's objects above their
// level before, sampled every 2 ms.
func heapPeak(f func()) uint64 {
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
	f()
	close(stop)
	wg.Wait()
	if h := heapObjects(); h > top.Load() {
		top.Store(h)
	}
	return max(top.Load(), base) - base
}

// TestMemory encrypts 32 MiB and then 128 MiB into each store and decrypts
// them back, and checks that the heap held does not grow with the size:
// the larger may hold at most 4 MiB more than the smaller, and none more
// than 40 MiB (Tink's two segment buffers, the S3 part, slack).
func TestMemory(t *testing.T) {
	s3store := newS3(t)
	defer debug.SetGCPercent(debug.SetGCPercent(5))
	for _, c := range []struct {
		name string
		s    blob.Store
	}{{"dir", newDir(t)}, {"s3", s3store}} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			aad := []byte("memory")
			var put, get [2]uint64
			for i, size := range []int64{32 << 20, 128 << 20} {
				key := blob.ObjectKey(f.keys.OrgID(), uuid.New())
				put[i] = heapPeak(func() {
					if _, err := f.key.Put(t.Context(), c.s, key, aad, io.LimitReader(zeros{}, size)); err != nil {
						t.Fatal(err)
					}
				})
				get[i] = heapPeak(func() {
					rc, err := f.key.Decrypt(t.Context(), c.s, key, aad, size, 0, -1)
					if err != nil {
						t.Fatal(err)
					}
					defer rc.Close()
					if n, err := io.Copy(io.Discard, rc); err != nil || n != size {
						t.Fatalf("read %d bytes: %v", n, err)
					}
				})
				_ = c.s.Delete(t.Context(), key)
			}
			mib := func(b uint64) float64 { return float64(b) / (1 << 20) }
			t.Logf("heap peak: Put +%.1f / +%.1f MiB, Decrypt +%.1f / +%.1f MiB (32 / 128 MiB)", mib(put[0]), mib(put[1]), mib(get[0]), mib(get[1]))
			for what, v := range map[string][2]uint64{"Put": put, "Decrypt": get} {
				if v[1] > v[0]+4<<20 {
					t.Errorf("%s: %d bytes of heap for 128 MiB, %d for 32 MiB: memory grows with the size", what, v[1], v[0])
				}
				if max(v[0], v[1]) > 40<<20 {
					t.Errorf("%s held %d bytes of heap", what, max(v[0], v[1]))
				}
			}
		})
	}
}
