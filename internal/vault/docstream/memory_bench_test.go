package docstream_test

import (
	"bufio"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/vault/blob"
)

// rss returns the process's resident set size in bytes (VmRSS).
func rss(b *testing.B) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// peakRSS samples the RSS every 5 ms while f runs and returns the
// highest sample minus the RSS before f.
func peakRSS(b *testing.B, f func()) int64 {
	runtime.GC()
	debug.FreeOSMemory()
	before := rss(b)
	var peak atomic.Int64
	peak.Store(before)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if r := rss(b); r > peak.Load() {
					peak.Store(r)
				}
			}
		}
	})
	f()
	close(stop)
	wg.Wait()
	if r := rss(b); r > peak.Load() {
		peak.Store(r)
	}
	return peak.Load() - before
}

// BenchmarkMemory1GiB encrypts 1 GiB (generated, never held in memory)
// into each store and decrypts it back out, and reports the peak growth
// of the process's RSS during each: it must not grow with the size (the
// issue's bound: under 64 MiB for a 1 GiB upload). Run it alone, with
// -benchtime 1x.
func BenchmarkMemory1GiB(b *testing.B) {
	const size = 1 << 30
	for _, c := range []struct {
		name string
		s    func(b *testing.B) blob.Store
	}{
		{"dir", func(b *testing.B) blob.Store { return newDir(b) }},
		{"s3", func(b *testing.B) blob.Store { return newS3(b) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := c.s(b)
			f := newFixture(b)
			aad := []byte("bench")
			var putGrowth, getGrowth int64
			for b.Loop() {
				key := blob.ObjectKey(f.keys.OrgID(), uuid.New())
				putGrowth = max(putGrowth, peakRSS(b, func() {
					if _, err := f.key.Put(b.Context(), s, key, aad, io.LimitReader(zeros{}, size)); err != nil {
						b.Fatal(err)
					}
				}))
				getGrowth = max(getGrowth, peakRSS(b, func() {
					rc, err := f.key.Decrypt(b.Context(), s, key, aad, size, 0, -1)
					if err != nil {
						b.Fatal(err)
					}
					if n := copyOut(b, rc, make([]byte, 256<<10)); n != size {
						b.Fatalf("read %d bytes", n)
					}
					rc.Close()
				}))
				_ = s.Delete(b.Context(), key)
			}
			b.ReportMetric(float64(putGrowth)/(1<<20), "put-rss-growth-MiB")
			b.ReportMetric(float64(getGrowth)/(1<<20), "get-rss-growth-MiB")
		})
	}
}

// zeros is an endless source of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
