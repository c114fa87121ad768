package export_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/audit/export"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// inTx reads through db, each page in a transaction of its own (as the
// Service and the command line do).
func inTx(db *postgres.DB) export.Reader {
	return func(ctx context.Context, fn func(ctx context.Context, q audit.Querier) error) error {
		return db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error { return fn(ctx, tx) })
	}
}

// seedPages seeds a log of a few dozen events (three rounds of seed's
// mix), sequenced, and checkpointed.
func seedPages(t *testing.T, env *pgtest.Env) (seeded, *export.Options) {
	s := seed(t, env.Super)
	p0 := some(s.patients[0])
	for i := range 2 * s.events {
		appendAs(t, env.Super, s.org, rawEvent{action: "patient.read", outcome: "success", actor: some(s.actors[i%2]),
			objectType: "patient", object: p0, patient: p0, details: `{"i":1}`})
	}
	integrate(t, env.Super, s.org)
	s.events *= 3
	return s, &export.Options{Site: "ward-test", Version: "test", Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// An export read page by page is byte for byte the export read in one go
// (one page holds the whole log at the default size), in every format,
// filtered or not, and so is an evidence bundle, which still verifies.
func TestPagedExportIsByteIdentical(t *testing.T) {
	env := pgtest.New(t)
	s, o := seedPages(t, env)
	signer, vkey := checkpoint(t, env.Super, s.org)
	ctx := context.Background()
	sels := map[string]export.Filter{"all": {}, "patient": {Patient: some(s.patients[0])},
		"action": {Action: "patient.list"}}
	run := func() map[string][]byte {
		out := map[string][]byte{}
		for name, filter := range sels {
			for _, f := range export.Formats {
				var buf bytes.Buffer
				sum, err := export.Write(ctx, inTx(env.Super), s.org, filter.Selection(), f, *o, &buf)
				if err != nil {
					t.Fatalf("%s %s: %v", name, f, err)
				}
				if sum.Bytes != int64(buf.Len()) {
					t.Fatalf("%s %s: summary says %d bytes, wrote %d", name, f, sum.Bytes, buf.Len())
				}
				out[name+" "+string(f)] = buf.Bytes()
			}
			var buf bytes.Buffer
			if _, err := export.WriteBundle(ctx, inTx(env.Super), s.org, filter, export.CSV, *o, signer, &buf); err != nil {
				t.Fatalf("%s bundle: %v", name, err)
			}
			if _, err := export.VerifyBundle(bytes.NewReader(buf.Bytes()), vkey, s.org); err != nil {
				t.Fatalf("%s bundle: %v", name, err)
			}
			out[name+" bundle"] = buf.Bytes()
		}
		return out
	}
	whole := run()
	if n := bytes.Count(whole["all jsonl"], []byte("\n")); n != s.events {
		t.Fatalf("the export holds %d events, want %d", n, s.events)
	}
	export.SetPageSize(t, 4, 5) // about a dozen pages
	paged := run()
	for k, b := range whole {
		if !bytes.Equal(b, paged[k]) {
			t.Errorf("%s: the paged export differs from the whole one (%d and %d bytes)", k, len(paged[k]), len(b))
		}
	}
	// An exact multiple of the page size, and pages of one event.
	for _, n := range []int64{int64(s.events), 1} {
		export.SetPageSize(t, n, n)
		for _, k := range []string{"all jsonl", "all fhir-bundle", "patient csv", "all bundle"} {
			if got := run()[k]; !bytes.Equal(whole[k], got) {
				t.Errorf("pages of %d: %s differs", n, k)
			}
		}
	}
}

// blockingWriter holds its first Write until released, saying when it
// is held.
type blockingWriter struct {
	held, release chan struct{}
	once          sync.Once
	buf           bytes.Buffer
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	w.once.Do(func() {
		close(w.held)
		<-w.release
	})
	return w.buf.Write(p)
}

// A client that stops reading an export holds no database connection:
// with a pool of one connection, and an export (or bundle) waiting for its
// reader in the middle of the log, another query on the same pool gets the
// connection at once; the export then finishes, whole.
func TestSlowReaderHoldsNoConnection(t *testing.T) {
	env := pgtest.New(t)
	s, o := seedPages(t, env)
	signer, _ := checkpoint(t, env.Super, s.org)
	ctx := context.Background()
	db, err := postgres.Open(ctx, env.SuperURL(), postgres.MaxConns(1))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	export.SetPageSize(t, 4, 5)
	for _, bundle := range []bool{false, true} {
		w := &blockingWriter{held: make(chan struct{}), release: make(chan struct{})}
		done := make(chan error, 1)
		go func() {
			var err error
			if bundle {
				_, err = export.WriteBundle(ctx, inTx(db), s.org, export.Filter{}, export.JSONL, *o, signer, w)
			} else {
				_, err = export.Write(ctx, inTx(db), s.org, audit.Selection{}, export.JSONL, *o, w)
			}
			done <- err
		}()
		<-w.held
		// Not a timing: a pool whose one connection the export held would
		// wait for it until this context ends.
		qctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		var one int
		err := db.Pool.QueryRow(qctx, `select 1`).Scan(&one)
		cancel()
		close(w.release)
		if err != nil {
			t.Fatalf("bundle %v: another query on the pool while the export waits for its reader: %v", bundle, err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if bundle {
			_, err = export.WriteBundle(ctx, export.Direct(env.Super.Pool), s.org, export.Filter{}, export.JSONL, *o, signer, &want)
		} else {
			_, err = export.Write(ctx, export.Direct(env.Super.Pool), s.org, audit.Selection{}, export.JSONL, *o, &want)
		}
		if err != nil || !bytes.Equal(want.Bytes(), w.buf.Bytes()) {
			t.Fatalf("bundle %v: the export after the wait differs (%v)", bundle, err)
		}
	}
}
