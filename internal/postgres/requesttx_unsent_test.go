package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// TestDeferredCheckNotSent: a transaction that takes a deferred check over
// but gets no connection never ran it, so the check stays to be run (by a
// later transaction, or Confirm before the answer) and is not taken for
// confirmed; QueueConfirm's caller says so with NotSent. And QueueConfirm
// with a credential that does not continue the check runs it first, as
// every other transaction helper does, so a stale principal stops that
// batch too.
func TestDeferredCheckNotSent(t *testing.T) {
	env := pgtest.New(t)
	s := seedPrincipals(t, env)
	db := env.App
	cred := postgres.Credential{Hash: s.leadHash, Org: s.org, Request: "req-unsent"}
	other := postgres.Credential{Hash: s.leadHash, Org: s.org, Request: "req-unsent-other"}
	type counts struct{ alone, queued, stale, held int }
	deferred := func(stale bool) (context.Context, *postgres.RequestTx, *counts) {
		n := new(counts)
		c := postgres.Confirm{Alone: func() { n.alone++ }, Stale: func() { n.stale++ }, Held: func() { n.held++ },
			Queue: func(b *pgx.Batch) {
				n.queued++
				if stale {
					b.Queue(`select app.stale_principal()`)
				} else {
					b.Queue(`select count(*) from app.whoami()`)
				}
			}}
		rt := postgres.DeferCheck(db, cred, s.org, c)
		return postgres.WithRequestTx(context.Background(), rt), rt, n
	}
	gone := func(ctx context.Context) context.Context { // no connection for it
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		return ctx
	}
	noop := func(ctx context.Context, tx pgx.Tx) error { return nil }
	one := func() *pgx.Batch {
		b := &pgx.Batch{}
		b.Queue(`select 1`)
		return b
	}

	for name, run := range map[string]func(ctx context.Context) error{
		"InTenantTx":    func(ctx context.Context) error { return db.InTenantTx(ctx, cred, noop) },
		"InTenantBatch": func(ctx context.Context) error { return db.InTenantBatch(ctx, cred, one()) },
	} {
		t.Run(name+" without a connection", func(t *testing.T) {
			ctx, rt, n := deferred(false)
			if err := run(gone(ctx)); !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if !rt.Deferred() || n.held != 0 {
				t.Fatalf("the check a transaction took but never sent was dropped or taken for held (held %d): "+
					"later answers would pass unconfirmed", n.held)
			}
			if err := rt.Confirm(ctx); err != nil || n.alone != 1 || n.held != 1 {
				t.Fatalf("Confirm: %v; alone %d, held %d; want nil, 1, 1", err, n.alone, n.held)
			}
		})
	}

	t.Run("QueueConfirm, NotSent", func(t *testing.T) {
		ctx, rt, n := deferred(false)
		b := &pgx.Batch{}
		mapping, first := postgres.QueueConfirm(ctx, cred, b)
		if n.queued != 1 || rt.Deferred() || first != nil {
			t.Fatalf("queued %d, deferred %v, first %v: want the check taken over", n.queued, rt.Deferred(), first)
		}
		cause := errors.New("no connection")
		if err := mapping(postgres.NotSent(cause)); err != cause {
			t.Fatalf("mapping(NotSent(e)) = %v, want e", err)
		}
		if !rt.Deferred() || n.held != 0 {
			t.Fatalf("the check of a batch never sent was taken for confirmed (deferred %v, held %d)", rt.Deferred(), n.held)
		}
		if err := rt.Confirm(ctx); err != nil || n.alone != 1 || n.held != 1 {
			t.Fatalf("Confirm: %v, alone %d, held %d", err, n.alone, n.held)
		}
	})

	// Held is called once the check ran in a batch that succeeded, not
	// when QueueConfirm queues it; never for a refusal.
	for _, stale := range []bool{false, true} {
		t.Run("QueueConfirm, sent, stale "+map[bool]string{false: "no", true: "yes"}[stale], func(t *testing.T) {
			ctx, _, n := deferred(stale)
			b := &pgx.Batch{}
			postgres.QueueBind(ctx, b, cred)
			mapping, first := postgres.QueueConfirm(ctx, cred, b)
			b.Queue(`select 1`)
			if first != nil || n.queued != 1 || n.held != 0 {
				t.Fatalf("first %v, queued %d, held %d before the batch was sent", first, n.queued, n.held)
			}
			err := mapping(db.Pool.SendBatch(ctx, b).Close())
			if stale != errors.Is(err, postgres.ErrStalePrincipal) || !stale && err != nil {
				t.Fatalf("mapping = %v", err)
			}
			if want := map[bool]int{false: 1, true: 0}[stale]; n.held != want || n.stale != 1-want {
				t.Fatalf("held %d, stale %d; want %d, %d", n.held, n.stale, want, 1-want)
			}
		})
	}

	t.Run("QueueConfirm, another credential, stale", func(t *testing.T) {
		ctx, _, n := deferred(true)
		b := &pgx.Batch{}
		mapping, first := postgres.QueueConfirm(ctx, other, b)
		if b.Len() != 0 || !errors.Is(first, postgres.ErrStalePrincipal) {
			t.Fatalf("%d statements queued for a credential that does not continue the check; first %v", b.Len(), first)
		}
		if err := mapping(nil); !errors.Is(err, postgres.ErrStalePrincipal) {
			t.Fatalf("mapping = %v, want ErrStalePrincipal: the batch must not run on a stale principal", err)
		}
		if n.alone != 1 || n.stale != 1 || n.held != 0 {
			t.Errorf("alone %d, stale %d, held %d; want 1, 1, 0", n.alone, n.stale, n.held)
		}
	})
}
