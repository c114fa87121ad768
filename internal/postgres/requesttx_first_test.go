package postgres_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// TestDeferredCheckBeforeOtherTx: a deferred session check (DeferCheck)
// that the request's first transaction cannot take over (a transaction of
// another kind, InTx, or one bound to a credential that does not continue
// the check's) runs on its own before that transaction begins. When the
// principal no longer holds, the transaction does not run at all (its
// callback is never called, nothing is written) and the error is
// ErrStalePrincipal, so that a request served again after a full check
// writes once; when it holds, the transaction runs and the check is not
// run again by a later one.
func TestDeferredCheckBeforeOtherTx(t *testing.T) {
	env := pgtest.New(t)
	s := seedPrincipals(t, env)
	db := env.App
	ctx := context.Background()
	cred := postgres.Credential{Hash: s.leadHash, Org: s.org, Request: "req-first"}
	other := postgres.Credential{Hash: s.leadHash, Org: s.org, Request: "req-other"}
	if _, err := env.Super.Pool.Exec(ctx, `create table public.first_writes (n int)`); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Super.Pool.Exec(ctx, `grant insert, select on public.first_writes to ward_app`); err != nil {
		t.Fatal(err)
	}
	written := func(t *testing.T) int {
		t.Helper()
		var n int
		if err := env.Super.Pool.QueryRow(ctx, `select count(*) from public.first_writes`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// deferred is a check whose statement holds (live), refuses (stale) or
	// cannot run (broken: it fails, not as a refusal), and the counts of
	// its runs on its own, of its statement queued and of its refusals.
	type counts struct{ alone, queued, stale int }
	const (
		live = iota
		stale
		broken
	)
	deferred := func(kind int) (context.Context, *postgres.RequestTx, *counts) {
		n := new(counts)
		c := postgres.Confirm{Alone: func() { n.alone++ }, Stale: func() { n.stale++ },
			Queue: func(b *pgx.Batch) {
				n.queued++
				switch kind {
				case stale:
					b.Queue(`select app.stale_principal()`)
				case broken:
					b.Queue(`select 1 / 0`)
				default:
					b.Queue(`select count(*) from app.whoami()`)
				}
			}}
		rt := postgres.DeferCheck(db, cred, s.org, c)
		return postgres.WithRequestTx(ctx, rt), rt, n
	}
	insert := func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `insert into public.first_writes values (1)`)
		return err
	}
	batch := func() *pgx.Batch {
		b := &pgx.Batch{}
		b.Queue(`insert into public.first_writes values (1)`)
		return b
	}
	runs := map[string]func(ctx context.Context) error{
		"InTx": func(ctx context.Context) error { return db.InTx(ctx, insert) },
		"InTenantTx, another credential": func(ctx context.Context) error {
			return db.InTenantTx(ctx, other, insert)
		},
		"InTenantBatch, another credential": func(ctx context.Context) error {
			return db.InTenantBatch(ctx, other, batch())
		},
	}

	for name, run := range runs {
		t.Run(name+", stale: nothing runs", func(t *testing.T) {
			before := written(t)
			ctx, rt, n := deferred(stale)
			if err := run(ctx); !errors.Is(err, postgres.ErrStalePrincipal) {
				t.Fatalf("err = %v, want ErrStalePrincipal", err)
			}
			if got := written(t) - before; got != 0 {
				t.Errorf("%d rows written on a stale principal, want 0", got)
			}
			if n.alone != 1 || n.stale != 1 {
				t.Errorf("check ran alone %d times, stale %d times; want 1 and 1", n.alone, n.stale)
			}
			// Whatever runs next on this request is refused too.
			if err := run(ctx); !errors.Is(err, postgres.ErrStalePrincipal) {
				t.Errorf("second transaction: err = %v, want ErrStalePrincipal", err)
			}
			if err := rt.Confirm(ctx); !errors.Is(err, postgres.ErrStalePrincipal) {
				t.Errorf("Confirm after the refusal: %v, want ErrStalePrincipal", err)
			}
			if got := written(t) - before; got != 0 {
				t.Errorf("%d rows written after the refusal, want 0", got)
			}
		})
		t.Run(name+", live: runs once, confirmed once", func(t *testing.T) {
			before := written(t)
			ctx, rt, n := deferred(live)
			if err := run(ctx); err != nil {
				t.Fatal(err)
			}
			if got := written(t) - before; got != 1 {
				t.Errorf("%d rows written, want 1", got)
			}
			if rt.Deferred() {
				t.Error("the check is still deferred after the transaction")
			}
			// The request's own credential now finds no check to take over.
			b := batch()
			if err := db.InTenantBatch(ctx, cred, b); err != nil {
				t.Fatal(err)
			}
			if n.alone != 1 || n.queued != 1 || n.stale != 0 {
				t.Errorf("check ran alone %d, queued %d, stale %d times; want 1, 1, 0", n.alone, n.queued, n.stale)
			}
			if got := written(t) - before; got != 2 {
				t.Errorf("%d rows written, want 2", got)
			}
		})
	}

	t.Run("the request's own credential still takes the check over", func(t *testing.T) {
		before := written(t)
		ctx, _, n := deferred(stale)
		if err := db.InTenantTx(ctx, cred, insert); !errors.Is(err, postgres.ErrStalePrincipal) {
			t.Fatalf("err = %v, want ErrStalePrincipal", err)
		}
		if n.alone != 0 || n.queued != 1 || n.stale != 1 {
			t.Errorf("check ran alone %d, queued %d, stale %d times; want 0, 1, 1", n.alone, n.queued, n.stale)
		}
		// A handler that swallowed that refusal writes nothing after it.
		for name, run := range runs {
			if err := run(ctx); !errors.Is(err, postgres.ErrStalePrincipal) {
				t.Errorf("%s after the takeover found it stale: err = %v, want ErrStalePrincipal", name, err)
			}
		}
		if got := written(t) - before; got != 0 {
			t.Errorf("%d rows written on a stale principal, want 0", got)
		}
	})

	t.Run("a check that cannot run leaves the transaction to run", func(t *testing.T) {
		// Not a refusal: the request is answered with the check's error
		// (Confirm) and not served again, so a transaction that runs
		// meanwhile (a refusal's audit past a client's hang-up) writes once.
		before := written(t)
		ctx, rt, n := deferred(broken)
		if err := db.InTx(ctx, insert); err != nil {
			t.Fatalf("InTx after a check that failed: %v", err)
		}
		if got := written(t) - before; got != 1 {
			t.Errorf("%d rows written, want 1", got)
		}
		if err := rt.Confirm(ctx); err == nil || errors.Is(err, postgres.ErrStalePrincipal) {
			t.Errorf("Confirm: %v, want the check's own failure", err)
		}
		if n.alone != 1 || n.stale != 0 {
			t.Errorf("check ran alone %d times, stale %d; want 1 and 0", n.alone, n.stale)
		}
	})

	t.Run("a transaction waits for a check running on its own", func(t *testing.T) {
		// The check sleeps in its statement, then refuses; a transaction
		// that starts meanwhile waits for that answer.
		before := written(t)
		var queued atomic.Int32
		c := postgres.Confirm{Queue: func(b *pgx.Batch) {
			queued.Add(1)
			b.Queue(`select pg_sleep(0.3)`)
			b.Queue(`select app.stale_principal()`)
		}}
		rt := postgres.DeferCheck(db, cred, s.org, c)
		ctx := postgres.WithRequestTx(context.Background(), rt)
		confirmed := make(chan error, 1)
		go func() { confirmed <- rt.Confirm(ctx) }()
		for queued.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		if err := db.InTx(ctx, insert); !errors.Is(err, postgres.ErrStalePrincipal) {
			t.Errorf("InTx while the check ran: %v, want ErrStalePrincipal", err)
		}
		if err := <-confirmed; !errors.Is(err, postgres.ErrStalePrincipal) {
			t.Errorf("Confirm: %v, want ErrStalePrincipal", err)
		}
		if n := queued.Load(); n != 1 {
			t.Errorf("the check ran %d times, want once", n)
		}
		if got := written(t) - before; got != 0 {
			t.Errorf("%d rows written on a stale principal, want 0", got)
		}
	})
}
