package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestReadsHoldNoIntegrationLock: a patient's access report, accounting
// and export and an admin's read of the log sequence the org's pending
// events in a short transaction of their own, as an audit export does, and
// read in another, so no read holds the org's integration lock while it
// reads. Before, each integrated inside its reading transaction, and
// audit.integrate's lock (pg_advisory_xact_lock) lasts to the end of the
// transaction: while one patient's long report was read, every other
// report, log read and export of the org waited, and so did the
// integrator's pass, for that org and every org after it (the lag
// /readyz fails on). Each read is held inside its reading transaction
// here (audit.actions locked, which only its closing audit event reads)
// while the test asks for the org's integration lock (helper-119's
// review).
func TestReadsHoldNoIntegrationLock(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Integration Lock")
	w.populate(o, "il")
	ctx := context.Background()
	w.do("GET", "/v1/patients/"+o.P1.String(), o.Prov.Token, nil, http.StatusOK, nil)
	w.integrate()
	p1 := "/v1/patients/" + o.P1.String()
	for _, c := range []struct{ name, method, path, token string }{
		{"access report", "GET", p1 + "/access-report", o.PatUser.Token},
		{"accounting", "GET", p1 + "/disclosures", o.PatUser.Token},
		{"export", "POST", p1 + "/export", o.PatUser.Token},
		{"log read", "GET", "/v1/audit/events", o.Admin.Token},
	} {
		t.Run(c.name, func(t *testing.T) {
			w.request("GET", "/v1/patients/"+o.P1.String(), o.Prov.Token, nil) // something pending
			hold, err := w.env.Super.Pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer hold.Rollback(ctx) //nolint:errcheck // released below on the way out
			if _, err := hold.Exec(ctx, `lock table audit.actions in access exclusive mode`); err != nil {
				t.Fatal(err)
			}
			var body any
			if c.method == "POST" {
				body = map[string]any{"passphrase": "correct horse battery"}
			}
			done := make(chan int, 1)
			go func() {
				resp, _ := w.request(c.method, c.path, c.token, body)
				done <- resp.StatusCode
			}()
			// Wait until the read waits on the lock, in its reading
			// transaction (bounded: it gets there or the test fails).
			deadline := time.Now().Add(30 * time.Second)
			for {
				var waiting bool
				if err := w.env.Super.Pool.QueryRow(ctx, `select exists (select from pg_locks l
				    join pg_class c on c.oid = l.relation
				    where c.relname = 'actions' and not l.granted)`).Scan(&waiting); err != nil {
					t.Fatal(err)
				}
				if waiting {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the read never reached its audit event")
				}
				time.Sleep(20 * time.Millisecond)
			}
			var free bool
			if err := pgx.BeginFunc(ctx, w.env.Super.Pool, func(tx pgx.Tx) error {
				return tx.QueryRow(ctx, `select pg_try_advisory_xact_lock(hashtextextended('ward.audit.integrate.' || $1::text, 0))`,
					o.ID).Scan(&free)
			}); err != nil {
				t.Fatal(err)
			}
			if err := hold.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
			if status := <-done; status != http.StatusOK {
				t.Fatalf("the read answered %d", status)
			}
			if !free {
				t.Fatal("the org's integration lock is held while the read reads")
			}
		})
	}
}
