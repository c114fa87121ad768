package export

import (
	"bufio"
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

// Write streams the sequenced events of org that sel selects to w in
// format f, reading through q (whose credential row-level security
// applies to). It does not record the export: Service does, and the
// command line. Memory is independent of the number of events.
//
// Errors: ErrInvalid; a database error; w's error.
func Write(ctx context.Context, q audit.Querier, org uuid.UUID, sel audit.Selection, f Format, o Options, w io.Writer) (Summary, error) {
	enc, err := newEncoder(f, org, o)
	if err != nil {
		return Summary{}, err
	}
	cw := &countWriter{w: w}
	bw := bufio.NewWriterSize(cw, 64<<10)
	var sum Summary
	if err := enc.begin(bw); err != nil {
		return sum, err
	}
	err = audit.Scan(ctx, q, org, sel, func(r *audit.Row, bad string) error {
		if bad != "" {
			return fmt.Errorf("export: org %s seq %d: %s", org, r.Seq, bad)
		}
		if sum.Events == 0 {
			sum.FirstSeq = r.Seq
		}
		sum.LastSeq = r.Seq
		sum.Events++
		return enc.event(bw, r)
	})
	if err != nil {
		if errors.Is(err, audit.ErrInvalidFilter) {
			return sum, errkind.Visible(ErrInvalid, err.Error())
		}
		return sum, err
	}
	if err := enc.end(bw); err != nil {
		return sum, err
	}
	if err := bw.Flush(); err != nil {
		return sum, err
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
