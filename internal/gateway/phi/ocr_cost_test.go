package phi

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"
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

// Two numbers with OCR letters joined into one run ("O6/14/1952-O7/15/1953")
// are both found, and the pass ends: it went back to the run's first
// number, claimed it again and started over for ever, a note of 25 bytes
// holding a core until the process ended (the pass reads no context).
func TestOCRNumbersJoinedRunEnds(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"DOB O6/14/1952-O7/15/1953", "seen O6/14/1952-O7/15/1953-O8/16/1954 and (937) 555-O181"} {
		done := make(chan []Span, 1)
		go func() {
			spans, err := e.Detect(context.Background(), text, nil)
			if err != nil {
				t.Error(err)
			}
			done <- spans
		}()
		var spans []Span
		select {
		case spans = <-done:
		case <-time.After(time.Minute):
			t.Fatalf("%q: the detection did not end", text)
		}
		for _, v := range []string{"O6/14/1952", "O7/15/1953", "O8/16/1954", "555-O181"} {
			if !strings.Contains(text, v) {
				continue
			}
			found := false
			for _, sp := range spans {
				found = found || strings.Contains(text[sp.Start:sp.End], v)
			}
			if !found {
				t.Errorf("%q: %s not found (%+v)", text, v, spans)
			}
		}
	}
}

// A long run of numbers with OCR letters ("O6/14/1952-O6/14/1952-…" or
// with single spaces) is read once: the pass read it again from its start
// and to its end at each number, quadratic in its length.
func TestOCRNumbersLongRunReadOnce(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, unit := range []string{"O6/14/1952-", "O6/14/1952 "} {
		const n = 2000
		text := "seen " + strings.Repeat(unit, n)
		steps, dates := 0, 0
		err := e.withDetector(context.Background(), text, nil, func(d *detector) {
			steps = d.ocrSteps
			for _, sp := range d.spans() {
				if sp.Type == TypeDate {
					dates++
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if steps > 20*n {
			t.Errorf("%q ×%d: %d tokens read around the OCR letters", unit, n, steps)
		}
		if dates == 0 {
			t.Errorf("%q ×%d: no date found", unit, n)
		}
	}
}
