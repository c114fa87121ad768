package phi

import (
	"context"
	"runtime"
	"strings"
	"testing"
)

// The OCR pass reads a note of many numbers with OCR letters without a
// copy of the whole note for each: it made one a number, so a note of
// 20,000 such dates (300 KB) copied 6 GB and took seconds, a megabyte of
// them minutes. The dates are found as before.
func TestOCRNumbersOneCopy(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 4000
	text := strings.Repeat("seen O6/14/1952 ", n)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	spans, err := e.Detect(context.Background(), text, nil)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) != n || text[spans[0].Start:spans[0].End] != "O6/14/1952" || spans[0].Type != TypeDate {
		t.Fatalf("%d spans, the first %+v; want %d dates", len(spans), spans[0], n)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > uint64(64*len(text)) {
		t.Errorf("detecting in %d bytes allocated %d bytes", len(text), got)
	}
}
