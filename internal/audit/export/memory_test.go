package export_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/audit/export"
)

// heapWatcher is a writer that discards what it gets and samples the live
// heap every 64 writes.
type heapWatcher struct {
	writes, bytes int64
	peak          uint64
}

func (h *heapWatcher) Write(p []byte) (int, error) {
	h.writes++
	h.bytes += int64(len(p))
	if h.writes%64 == 0 {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		h.peak = max(h.peak, m.HeapAlloc)
	}
	return len(p), nil
}

// An export streams: a FHIR export of 20,000 events (about 70 MB) never
// holds more than a fraction of that above where the heap started.
func TestExportMemoryIndependentOfSize(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 20,000 events")
	}
	env, org := benchLog(t)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	h := &heapWatcher{}
	sum, err := export.Write(context.Background(), export.Direct(env.Super.Pool), org, audit.Selection{}, export.FHIRNDJSON, export.Options{}, h)
	if err != nil || sum.Events != benchEvents {
		t.Fatalf("%v (%d events)", err, sum.Events)
	}
	if h.bytes < 50<<20 {
		t.Fatalf("the export is only %d bytes: too small to show anything", h.bytes)
	}
	grew := int64(h.peak) - int64(before.HeapAlloc)
	t.Logf("exported %d MB; heap peak %d MB above the start", h.bytes>>20, grew>>20)
	// HeapAlloc counts garbage not yet collected too (up to GOGC's target
	// above the live heap), so the bound is loose; an export held in memory
	// would need more than the whole 70 MB.
	if grew > 40<<20 {
		t.Fatalf("the heap grew by %d MB during a %d MB export: it is not streaming", grew>>20, h.bytes>>20)
	}
}
