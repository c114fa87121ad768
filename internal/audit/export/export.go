package export

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/errkind"
)

// Format is an export format.
type Format string

// The export formats.
const (
	JSONL      Format = "jsonl"
	CSV        Format = "csv"
	FHIRNDJSON Format = "fhir-ndjson"
	FHIRBundle Format = "fhir-bundle"
	OCSF       Format = "ocsf"
)

// Formats lists every format, in the order the docs list them.
var Formats = []Format{JSONL, CSV, FHIRNDJSON, FHIRBundle, OCSF}

// ContentType is the media type of an export in f.
func (f Format) ContentType() string {
	switch f {
	case CSV:
		return "text/csv; charset=utf-8; header=present"
	case FHIRBundle:
		return "application/fhir+json"
	case FHIRNDJSON:
		return "application/fhir+ndjson"
	default:
		return "application/x-ndjson"
	}
}

// Ext is the file name extension of an export in f.
func (f Format) Ext() string {
	switch f {
	case CSV:
		return ".csv"
	case FHIRBundle:
		return ".fhir.json"
	case FHIRNDJSON:
		return ".fhir.ndjson"
	case OCSF:
		return ".ocsf.ndjson"
	default:
		return ".jsonl"
	}
}

// ErrInvalid means an export request Ward refuses: an unknown format, a
// malformed action, an inverted time range. Its text is safe to show.
var ErrInvalid = errkind.New(errkind.Invalid, "invalid_input", "export: invalid request")

// ParseFormat returns the format named s. Errors: ErrInvalid.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", errkind.Visiblef(ErrInvalid, "format must be one of jsonl, csv, fhir-ndjson, fhir-bundle, ocsf")
}

// Filter selects the events of an export.
type Filter struct {
	// From and To bound the event time, From <= at < To; zero: unbounded.
	From, To time.Time
	// Patient, Actor, Case and Action keep only the events about a patient
	// (its own, and lists that returned it), of an actor, about a case, or
	// of an action.
	Patient, Actor, Case uuid.NullUUID
	Action               string
}

// Validate reports whether f is well formed. Errors: ErrInvalid.
func (f Filter) Validate() error {
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return errkind.Visible(ErrInvalid, "from must be before to")
	}
	if f.Action != "" {
		if _, ok := audit.Actions[f.Action]; !ok && f.Action != ActionExport {
			return errkind.Visible(ErrInvalid, "action is not a registered audit action")
		}
	}
	return nil
}

// Details are f's non-PHI facts, for the audit.export event.
func (f Filter) Details() map[string]any {
	d := map[string]any{}
	if !f.From.IsZero() {
		d["from"] = f.From.UTC().Format(time.RFC3339Nano)
	}
	if !f.To.IsZero() {
		d["to"] = f.To.UTC().Format(time.RFC3339Nano)
	}
	if f.Patient.Valid {
		d["patient"] = f.Patient.UUID.String()
	}
	if f.Actor.Valid {
		d["actor"] = f.Actor.UUID.String()
	}
	if f.Case.Valid {
		d["case"] = f.Case.UUID.String()
	}
	if f.Action != "" {
		d["action"] = f.Action
	}
	return d
}

// Selection is f as the log's Scan takes it.
func (f Filter) Selection() audit.Selection {
	return audit.Selection{From: f.From, To: f.To, Patient: f.Patient, Actor: f.Actor, Case: f.Case, Action: f.Action}
}

// ActionExport is the audit action every export is recorded under.
const ActionExport = "audit.export"

// Options describe the deployment to the formats that name it.
type Options struct {
	// Site names the deployment (FHIR source.site, OCSF metadata); "ward"
	// when empty.
	Site string
	// Version is Ward's version (OCSF metadata.product.version).
	Version string
	// Now is the time an export says it was made (the FHIR Bundle's
	// timestamp, a bundle's file times); zero: the clock.
	Now time.Time
}

func (o Options) site() string {
	if o.Site == "" {
		return "ward"
	}
	return o.Site
}

// Summary describes a written export.
type Summary struct {
	Events   int64
	Bytes    int64
	FirstSeq int64
	LastSeq  int64
}

// encoder writes one format.
type encoder interface {
	begin(w *bufio.Writer) error
	event(w *bufio.Writer, r *audit.Row) error
	end(w *bufio.Writer) error
}

func newEncoder(f Format, org uuid.UUID, o Options) (encoder, error) {
	switch f {
	case JSONL:
		return &jsonlEncoder{}, nil
	case CSV:
		return newCSVEncoder(), nil
	case FHIRNDJSON:
		return &fhirEncoder{org: org, opts: o}, nil
	case FHIRBundle:
		return &fhirEncoder{org: org, opts: o, bundle: true}, nil
	case OCSF:
		return &ocsfEncoder{org: org, opts: o}, nil
	}
	return nil, errkind.Visiblef(ErrInvalid, "unknown format")
}

// A Reader runs fn in a read transaction of its own, committed (or, for
// Direct, over) when fn returns. An export reads through one page by
// page, and writes a page only after its transaction has ended: no
// database connection waits on the client, however slowly it reads, and no
// transaction stays open for the length of the export (it would hold back
// VACUUM).
type Reader func(ctx context.Context, fn func(ctx context.Context, q audit.Querier) error) error

// Direct reads through q itself: for a pool, each statement in a
// transaction of its own; for a transaction (or a connection), in it.
func Direct(q audit.Querier) Reader {
	return func(ctx context.Context, fn func(ctx context.Context, q audit.Querier) error) error {
		return fn(ctx, q)
	}
}

// pageRows is how many events a page of an export reads (a FHIR page is
// about 2 MB); leafPage is how many leaf hashes a page of a bundle's
// leaves reads (32 bytes each).
var (
	pageRows int64 = 500
	leafPage int64 = 8192
)

// Write streams the sequenced events of org that sel selects to w in
// format f, reading through rd (whose credential row-level security
// applies to). It does not record the export: Service does, and the
// command line. Memory is independent of the number of events.
//
// The export is of the log as it is when Write starts: the first page
// fixes the newest seq (sel.MaxSeq when set), and every page reads the
// next events after the last one written up to it, in a transaction of
// its own, encoded and committed before any of it reaches w. The log is
// append-only and sequenced in order, so the pages make up exactly what
// one snapshot would have read. A page that ends short of a full one
// checks, in its transaction, that the newest event is still readable: a
// credential that lost the org mid-export (its pages read nothing) ends
// the export with an error, never with a short export that looks whole.
// w sees nothing when an error comes back from the first page.
//
// Errors: ErrInvalid; a database error; w's error.
func Write(ctx context.Context, rd Reader, org uuid.UUID, sel audit.Selection, f Format, o Options, w io.Writer) (Summary, error) {
	enc, err := newEncoder(f, org, o)
	if err != nil {
		return Summary{}, err
	}
	if err := sel.Check(); err != nil {
		return Summary{}, errkind.Visible(ErrInvalid, err.Error())
	}
	cw := &countWriter{w: w}
	var page bytes.Buffer
	bw := bufio.NewWriterSize(&page, 64<<10)
	var sum Summary
	if err := enc.begin(bw); err != nil {
		return sum, err
	}
	upper := sel.MaxSeq
	after := max(sel.MinSeq, 1) - 1
	for started, done := false, false; !done; {
		err := rd(ctx, func(ctx context.Context, q audit.Querier) error {
			if !started {
				started = true
				if upper == 0 {
					n, err := audit.MaxSeq(ctx, q, org)
					if err != nil {
						return err
					}
					if upper = n; upper == 0 {
						done = true // an empty log
						return nil
					}
				}
			}
			if after >= upper {
				done = true
				return nil
			}
			ps := sel
			ps.MinSeq, ps.MaxSeq, ps.Limit = after+1, upper, pageRows
			var n int64
			err := audit.Scan(ctx, q, org, ps, func(r *audit.Row, bad string) error {
				if bad != "" {
					return fmt.Errorf("export: org %s seq %d: %s", org, r.Seq, bad)
				}
				if sum.Events == 0 {
					sum.FirstSeq = r.Seq
				}
				sum.LastSeq, after = r.Seq, r.Seq
				sum.Events++
				n++
				return enc.event(bw, r)
			})
			if err != nil || n == pageRows {
				return err
			}
			done = true
			ok, err := audit.Visible(ctx, q, org, upper)
			if err == nil && !ok {
				err = fmt.Errorf("export: org %s: seq %d is no longer readable: the export stopped at seq %d", org, upper, after)
			}
			return err
		})
		if err != nil {
			if errors.Is(err, audit.ErrInvalidFilter) {
				return sum, errkind.Visible(ErrInvalid, err.Error())
			}
			return sum, err
		}
		if done {
			if err := enc.end(bw); err != nil {
				return sum, err
			}
		}
		if err := bw.Flush(); err != nil {
			return sum, err
		}
		if _, err := cw.Write(page.Bytes()); err != nil {
			return sum, err
		}
		page.Reset()
		if page.Cap() > 4<<20 {
			page = bytes.Buffer{} // a page of unusually large events: do not keep its buffer
		}
	}
	sum.Bytes = cw.n
	return sum, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
