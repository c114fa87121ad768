package phi

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"unicode/utf8"
)

// Errors returned by the engine. None of them carries input text.
var (
	// ErrInvalidUTF8 means the input is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("phi: input is not valid UTF-8")
	// ErrInternal means detection failed (a recovered panic); the text must be refused.
	ErrInternal = errors.New("phi: internal detection error")
	// ErrTooLarge means the input exceeds Config.MaxBytes.
	ErrTooLarge = errors.New("phi: input too large")
)

// Config tunes an Engine. The zero value is the recommended setting.
type Config struct {
	// SafeListMode redacts every word that is not on the allow-list
	// (Philter's strict mode): the highest recall, much lower precision.
	SafeListMode bool
	// MaxBytes bounds one input; 0 means 64 MiB.
	MaxBytes int
}

// Engine detects identifiers. Build one with New and share it: it is safe
// for concurrent use and holds only read-only tables.
type Engine struct {
	cfg    Config
	lex    *lexicon
	caches sync.Pool // of *scratch
}

// New parses the embedded lexicon and returns an Engine. It fails only if
// the embedded data is damaged.
func New(cfg Config) (*Engine, error) {
	lx, err := loadLexicon()
	if err != nil {
		return nil, err
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 64 << 20
	}
	e := &Engine{cfg: cfg, lex: lx}
	e.caches.New = func() any { return new(scratch) }
	return e, nil
}

// IsRegion reports whether name is a country, continent or US state, which
// Safe Harbor lets stay in the text and the engine therefore keeps.
func (e *Engine) IsRegion(name string) bool {
	k := lowerKey(name)
	return e.lex.get(k)&(lexRegion|lexRegionMW) != 0
}

// Detect returns the identifier spans in text, sorted and non-overlapping,
// using rec (may be nil) as the strongest evidence. It returns an error,
// and no spans, if text is not valid UTF-8, ctx ends first, or detection
// fails internally; the caller must then refuse the text.
func (e *Engine) Detect(ctx context.Context, text string, rec *Record) ([]Span, error) {
	var cr *compiledRecord
	if rec != nil {
		cr = compileRecord(rec)
	}
	return e.detect(ctx, text, cr)
}

func (e *Engine) detect(ctx context.Context, text string, cr *compiledRecord) ([]Span, error) {
	_, spans, offs, err := e.detectFolded(ctx, text, cr)
	if err != nil {
		return nil, err
	}
	if offs != nil {
		for i := range spans {
			spans[i] = unfold(spans[i], text, offs)
		}
	}
	return spans, nil
}

// detectFolded detects in text as Normalize folds it, and returns the
// folded text, the spans found in it, and where each of its bytes came
// from in text (nil when folding changed nothing: the folded text is
// text).
func (e *Engine) detectFolded(ctx context.Context, text string, cr *compiledRecord) (folded string, spans []Span, offs []int32, err error) {
	folded = text
	if len(text) <= e.cfg.MaxBytes && utf8.ValidString(text) {
		// (withDetector refuses the others, as they are)
		folded, offs = fold(text, true, false)
	}
	err = e.withDetector(ctx, folded, cr, func(d *detector) { spans = d.spans() })
	if err != nil {
		return "", nil, nil, err
	}
	return folded, spans, offs, nil
}

// withDetector runs detection over text and hands the finished detector
// to fn (which must not keep it); it is detect's frame, shared with
// Session.Holds.
func (e *Engine) withDetector(ctx context.Context, text string, cr *compiledRecord, fn func(*detector)) (err error) {
	if len(text) > e.cfg.MaxBytes {
		return ErrTooLarge
	}
	if !utf8.ValidString(text) {
		return ErrInvalidUTF8
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("phi: detection stopped: %w", err)
	}
	defer func() {
		if r := recover(); r != nil {
			// The panic value may quote input; it is dropped on purpose.
			err = ErrInternal
		}
	}()
	sc := e.caches.Get().(*scratch)
	d := newDetector(e, ctx, text, cr, sc)
	if err := d.run(); err != nil {
		return err
	}
	fn(d)
	// the detector lives in the scratch: it must not keep the text, the
	// record or the context reachable from the pool
	sc.cands = d.cands[:0]
	*d = detector{}
	if len(text) <= scratchKeep {
		// not on a panic: its buffers are dropped with it
		e.caches.Put(sc)
	}
	return nil
}
