package phi

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
)

// endsAfter is a context whose Err reports it cancelled from its n+1th
// call on: a request cancelled while detection runs, at a point the test
// sets, without a clock.
type endsAfter struct {
	context.Context
	n, calls atomic.Int64
}

func (c *endsAfter) Err() error {
	if c.calls.Add(1) > c.n.Load() {
		return context.Canceled
	}
	return nil
}

// The passes after the token loop stop within cancelEvery units of work
// of a request's cancellation, and detection then returns the context's
// error and no spans: they ran to their end once started (the names pass
// over a 32 MB request took seconds after its client had gone). Each pass
// is run alone on a long text it has work in, once with a live context
// (it must do that work) and once with one cancelled before it starts (it
// must not).
func TestPassesStopOnCancel(t *testing.T) {
	e, err := New(Config{SafeListMode: true})
	if err != nil {
		t.Fatal(err)
	}
	const n = 6000
	rec := &Record{Names: []string{"Zorblat Quemmit"}, MRN: "A4471920", Phones: []string{"617-555-0142"}, Employers: []string{"Vantaro"}}
	for _, c := range []struct {
		name string
		text string
		rec  *Record
		pass func(*detector)
	}{
		// (run reads the context once after the raw scan, before its loop)
		{"token loop", strings.Repeat("seen 617-555-0142 on 03/14/2026, ", n), nil, func(d *detector) {
			if c := d.ctx.(*endsAfter); c.n.Load() == 0 {
				c.n.Store(1)
			}
			d.run()
		}},
		{"names", strings.Repeat("Mr. Zorblat Quemmit met Rosa Delacroix at Bellmont Family Medicine. ", n), nil, (*detector).names},
		{"OCR numbers", strings.Repeat("seen O6/14/1952 ", n), nil, func(d *detector) { d.ocrSeen = true; d.ocrNumbers() }},
		{"numbers in pieces", strings.Repeat("6 1 7 5 5 5 ", n), nil, func(d *detector) { d.sepSeen = true; d.sepPieces() }},
		{"CSV columns", "name,dob,mrn,phone\n" + strings.Repeat("Rosa Delacroix,1952-06-14,A4471920,617-555-0142\n", n), nil, (*detector).csvColumns},
		{"record", strings.Repeat("Vantaro 617 555 0142 ", n), rec, (*detector).recordScan},
		{"safe list", strings.Repeat("the zorblat quemmit ", n), nil, (*detector).safeListScan},
	} {
		var cr *compiledRecord
		if c.rec != nil {
			cr = compileRecord(c.rec)
		}
		never := &endsAfter{Context: context.Background()}
		never.n.Store(1 << 62)
		live := newDetector(e, never, c.text, cr, new(scratch))
		c.pass(live)
		if live.err != nil || live.work < 4*cancelEvery {
			t.Fatalf("%s: %d units of work with a live context (%v); the text gives the pass too little to do", c.name, live.work, live.err)
		}
		d := newDetector(e, &endsAfter{Context: context.Background()}, c.text, cr, new(scratch))
		c.pass(d)
		if d.work > cancelEvery || !errors.Is(d.err, context.Canceled) {
			t.Errorf("%s: %d units of work after the request was cancelled (of %d), want at most %d; err %v", c.name, d.work, live.work, cancelEvery, d.err)
		}
	}
}

// A request cancelled in the middle of a detection gets the context's
// error and no text (fail closed: nothing partly de-identified goes
// upstream), wherever the cancellation falls.
func TestRedactCancelledMidway(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("Mr. Zorblat Quemmit, seen 03/14/2026 at 617-555-0142, met Rosa Delacroix. ", 2000)
	never := &endsAfter{Context: context.Background()}
	never.n.Store(1 << 62)
	s, err := e.NewSession(nil, SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Redact(never, text); err != nil {
		t.Fatal(err)
	}
	reads := never.calls.Load() // how often a whole detection reads it
	if reads < 16 {
		t.Fatalf("the detection read its context %d times", reads)
	}
	for _, after := range []int64{0, 1, 2, 5, reads / 4, reads / 2, reads * 3 / 4, reads - 1} {
		ctx := &endsAfter{Context: context.Background()}
		ctx.n.Store(after)
		s, err := e.NewSession(nil, SessionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Redact(ctx, text)
		if !errors.Is(err, context.Canceled) || res.Text != "" || len(res.Spans) != 0 {
			t.Errorf("cancelled after %d checks: err %v, %d bytes and %d spans returned", after, err, len(res.Text), len(res.Spans))
		}
		if calls := ctx.calls.Load(); calls > after+1 {
			t.Errorf("cancelled after %d checks: the context was read %d times; the detection went on after it saw the end", after, calls)
		}
	}
}

// The detector's set-up, which looks every word of the text up in the
// lexicon (a third of a detection's time), stops as the passes do: it
// looked up every word of a cancelled request.
func TestNewDetectorStopsOnCancel(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("the patient was seen in clinic today ", 4000)
	looked := func(d *detector) (n int) {
		for _, tk := range d.toks {
			if tk.kind == tkWord && tk.lex|tk.voc != 0 {
				n++
			}
		}
		return n
	}
	live := newDetector(e, context.Background(), text, nil, new(scratch))
	if n := looked(live); n < 16*cancelEvery || live.err != nil {
		t.Fatalf("%d words looked up with a live context (%v)", n, live.err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	d := newDetector(e, cancelled, text, nil, new(scratch))
	if n := looked(d); n > cancelEvery || !errors.Is(d.err, context.Canceled) {
		t.Errorf("%d words looked up after the request was cancelled, want at most %d; err %v", n, cancelEvery, d.err)
	}
	if err := d.run(); !errors.Is(err, context.Canceled) || len(d.cands) != 0 {
		t.Errorf("run after a cancelled set-up: %v, %d candidates", err, len(d.cands))
	}
}
