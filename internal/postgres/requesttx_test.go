package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// TestRequestTx checks the request transaction that a session check leaves
// open for the request's first tenant transaction: taken over by a
// compatible credential (same transaction, the principal app.whoami sealed
// not resolved again), ended first by anything else, committed or rolled
// back as a transaction of its own would be, and never keeping a
// connection.
func TestRequestTx(t *testing.T) {
	env := pgtest.New(t)
	s := seedPrincipals(t, env)
	db := env.App
	check := postgres.Credential{Hash: s.leadHash, Request: "req-tx"}
	business := postgres.Credential{Hash: s.leadHash, Org: s.org, Request: "req-tx"}

	// open runs the session check (app.whoami) and notes the check's
	// transaction id and sealed principal; openCheck with durable (what the
	// check wrote commits whatever follows).
	var openCheck func(t *testing.T, ctx context.Context, durable bool) (*postgres.RequestTx, int64, string)
	open := func(t *testing.T, ctx context.Context) (*postgres.RequestTx, int64, string) {
		return openCheck(t, ctx, false)
	}
	openCheck = func(t *testing.T, ctx context.Context, durable bool) (*postgres.RequestTx, int64, string) {
		t.Helper()
		var kind, org, seal string
		var xid int64
		b := &pgx.Batch{}
		// The sealed principal is what shows the check's transaction
		// continued: without the shared cache (00162), which needs none.
		b.Queue(`set local ward.principal_cache = 'off'`)
		b.Queue(`select kind, org_id::text from app.whoami()`).QueryRow(func(r pgx.Row) error { return r.Scan(&kind, &org) })
		b.Queue(`select txid_current(), coalesce(current_setting('ward.principal_mac', true), '')`).QueryRow(func(r pgx.Row) error {
			return r.Scan(&xid, &seal)
		})
		var keep *pgx.Batch
		if durable {
			keep = &pgx.Batch{}
			keep.Queue(`select`)
		}
		rt, err := db.OpenRequestTx(ctx, check, b, keep)
		if err != nil {
			t.Fatal(err)
		}
		if kind != "session" || org != s.org || seal == "" {
			t.Fatalf("whoami in the request transaction: kind %q org %q sealed %t", kind, org, seal != "")
		}
		rt.Resolved(org)
		return rt, xid, seal
	}
	status := func(t *testing.T, xid int64) string {
		t.Helper()
		var st string
		if err := env.Super.Pool.QueryRow(context.Background(), `select txid_status($1)`, xid).Scan(&st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	noConnHeld := func(t *testing.T) {
		t.Helper()
		if n := db.Pool.Stat().AcquiredConns(); n != 0 {
			t.Errorf("%d connections still acquired", n)
		}
	}

	t.Run("a batch continues the check's transaction and its principal", func(t *testing.T) {
		rt, xid, seal := open(t, context.Background())
		defer rt.End(context.Background())
		ctx := postgres.WithRequestTx(context.Background(), rt)
		var xid2 int64
		var seal2 string
		var patients int
		b := &pgx.Batch{}
		b.Queue(`select count(*) from app.patients`).QueryRow(func(r pgx.Row) error { return r.Scan(&patients) })
		b.Queue(`select txid_current(), current_setting('ward.principal_mac', true)`).QueryRow(func(r pgx.Row) error {
			return r.Scan(&xid2, &seal2)
		})
		if err := db.InTenantBatch(ctx, business, b); err != nil {
			t.Fatal(err)
		}
		if xid2 != xid {
			t.Errorf("the batch ran in transaction %d, not the check's %d", xid2, xid)
		}
		if seal2 != seal {
			t.Error("the principal was resolved again (its seal changed) instead of the check's being used")
		}
		if patients != 2 {
			t.Errorf("the lead sees %d patients through RLS, want 2", patients)
		}
		if st := status(t, xid); st != "committed" {
			t.Errorf("the request transaction is %s after the batch, want committed", st)
		}
		noConnHeld(t)
	})

	t.Run("a transaction continues it and commits it", func(t *testing.T) {
		rt, xid, _ := open(t, context.Background())
		ctx := postgres.WithRequestTx(context.Background(), rt)
		var xid2 int64
		err := db.InTenantTx(ctx, business, func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `select txid_current()`).Scan(&xid2)
		})
		if err != nil {
			t.Fatal(err)
		}
		if xid2 != xid {
			t.Errorf("the transaction ran in %d, not the check's %d", xid2, xid)
		}
		if st := status(t, xid); st != "committed" {
			t.Errorf("request transaction %s, want committed", st)
		}
		rt.End(context.Background()) // after a takeover: nothing to do
		noConnHeld(t)
	})

	t.Run("a failing statement rolls it back", func(t *testing.T) {
		rt, xid, _ := open(t, context.Background())
		ctx := postgres.WithRequestTx(context.Background(), rt)
		b := &pgx.Batch{}
		b.Queue(`select 1 / 0`)
		if err := db.InTenantBatch(ctx, business, b); !postgres.IsCode(err, "22012") {
			t.Fatalf("batch error %v, want division by zero", err)
		}
		if st := status(t, xid); st != "aborted" {
			t.Errorf("request transaction %s, want aborted", st)
		}
		rt, xid, _ = open(t, context.Background())
		ctx = postgres.WithRequestTx(context.Background(), rt)
		boom := errors.New("boom")
		if err := db.InTenantTx(ctx, business, func(context.Context, pgx.Tx) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("tx error %v, want boom", err)
		}
		if st := status(t, xid); st != "aborted" {
			t.Errorf("request transaction %s after the callback's error, want aborted", st)
		}
		noConnHeld(t)
	})

	t.Run("a durable check commits when what continues it fails", func(t *testing.T) {
		rt, xid, _ := openCheck(t, context.Background(), true)
		ctx := postgres.WithRequestTx(context.Background(), rt)
		b := &pgx.Batch{}
		b.Queue(`select 1 / 0`)
		if err := db.InTenantBatch(ctx, business, b); !postgres.IsCode(err, "22012") {
			t.Fatalf("batch error %v, want division by zero", err)
		}
		if st := status(t, xid); st != "committed" {
			t.Errorf("after a failed batch the check's transaction is %s, want committed", st)
		}
		rt, xid, _ = openCheck(t, context.Background(), true)
		ctx = postgres.WithRequestTx(context.Background(), rt)
		var inner int64
		boom := errors.New("boom")
		err := db.InTenantTx(ctx, business, func(ctx context.Context, tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `select txid_current()`).Scan(&inner); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) || inner != xid {
			t.Fatalf("tx: %v, transaction %d (check %d)", err, inner, xid)
		}
		if st := status(t, xid); st != "committed" {
			t.Errorf("after a failed transaction the check's is %s, want committed", st)
		}
		func() {
			rt, xid, _ = openCheck(t, context.Background(), true)
			ctx = postgres.WithRequestTx(context.Background(), rt)
			defer func() {
				if recover() == nil {
					t.Error("the panic did not come through")
				}
				if st := status(t, xid); st != "committed" {
					t.Errorf("after a panic the check's transaction is %s, want committed", st)
				}
			}()
			_ = db.InTenantTx(ctx, business, func(context.Context, pgx.Tx) error { panic("boom") })
		}()
		noConnHeld(t)
	})

	t.Run("another credential ends it first, committed", func(t *testing.T) {
		for name, other := range map[string]postgres.Credential{
			"another credential": {Hash: s.adminHash, Request: "req-tx"},
			"another org hint":   {Hash: s.leadHash, Org: "0c000000-0000-4000-8000-0000000000ff", Request: "req-tx"},
			"a device binding":   {Hash: s.leadHash, Org: s.org, Request: "req-tx", DPoP: postgres.BrowserBinding},
			"another request":    {Hash: s.leadHash, Org: s.org, Request: "req-other"},
		} {
			rt, xid, _ := open(t, context.Background())
			ctx := postgres.WithRequestTx(context.Background(), rt)
			var xid2 int64
			b := &pgx.Batch{}
			b.Queue(`select txid_current()`).QueryRow(func(r pgx.Row) error { return r.Scan(&xid2) })
			if err := db.InTenantBatch(ctx, other, b); err != nil {
				t.Fatal(name, err)
			}
			if xid2 == xid {
				t.Errorf("%s continued the check's transaction", name)
			}
			if st := status(t, xid); st != "committed" {
				t.Errorf("%s: request transaction %s, want committed", name, st)
			}
		}
		rt, xid, _ := open(t, context.Background())
		ctx := postgres.WithRequestTx(context.Background(), rt)
		if err := db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if st := status(t, xid); st != "committed" {
			t.Errorf("InTx: request transaction %s, want committed (ended before it began its own)", st)
		}
		noConnHeld(t)
	})

	t.Run("End commits what the check wrote, once", func(t *testing.T) {
		rt, xid, _ := open(t, context.Background())
		if n := db.Pool.Stat().AcquiredConns(); n != 1 {
			t.Errorf("%d connections acquired while the request transaction is open, want 1", n)
		}
		rt.End(context.Background())
		rt.End(context.Background())
		var none *postgres.RequestTx
		none.End(context.Background())
		if st := status(t, xid); st != "committed" {
			t.Errorf("request transaction %s, want committed", st)
		}
		noConnHeld(t)
	})

	t.Run("a callback's error commits what ran and returns no transaction", func(t *testing.T) {
		var xid int64
		b := &pgx.Batch{}
		b.Queue(`select txid_current()`).QueryRow(func(r pgx.Row) error { return r.Scan(&xid) })
		b.Queue(`select kind from app.whoami() where false`).QueryRow(func(r pgx.Row) error {
			var k string
			return r.Scan(&k)
		})
		rt, err := db.OpenRequestTx(context.Background(), check, b, nil)
		if !errors.Is(err, pgx.ErrNoRows) || rt != nil {
			t.Fatalf("OpenRequestTx = %v, %v; want no transaction and ErrNoRows", rt, err)
		}
		if st := status(t, xid); st != "committed" {
			t.Errorf("the check's transaction is %s, want committed", st)
		}
		noConnHeld(t)
	})

	t.Run("not inside another transaction", func(t *testing.T) {
		err := db.InTx(context.Background(), func(ctx context.Context, tx pgx.Tx) error {
			_, err := db.OpenRequestTx(ctx, check, &pgx.Batch{}, nil)
			return err
		})
		if !errors.Is(err, postgres.ErrNestedTx) {
			t.Errorf("OpenRequestTx inside InTx: %v, want ErrNestedTx", err)
		}
		noConnHeld(t)
	})
}
