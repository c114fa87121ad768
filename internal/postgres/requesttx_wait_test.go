package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// TestDeferredCheckWait: a deferred check that waits for the server's own
// check (postgres.Confirm.Wait: a DPoP proof's signature, verified while
// the check's round trip runs) lets nothing of the request stand when that
// check refuses, on every path that runs it: the explicit transaction
// (InTenantTx: the wait comes after its first round trip, which ends at
// the savepoint, and everything rolls back), the batch committed in its
// round trip (InTenantBatch), the check run on its own (Confirm), a
// caller's own batch (QueueConfirm) and a transaction that cannot take the
// check over (InTx). No jti is recorded, the session is not touched, no
// Keep runs, no statement of the request runs, neither Held nor Stale is
// called, and the refusal is ErrStalePrincipal wrapping the wait's error
// (the request is served again after a full check). When the wait holds,
// each path records the jti and calls Held as before.
func TestDeferredCheckWait(t *testing.T) {
	env := pgtest.New(t)
	s := seedPrincipals(t, env)
	ctx := context.Background()
	jkt := strings.Repeat("W", 43)
	if _, err := env.Super.Pool.Exec(ctx, `update app.sessions set dpop_jkt = $1 where id = $2`, jkt, s.leadSession); err != nil {
		t.Fatal(err)
	}
	forged := errors.New("the proof's signature does not verify")
	type counts struct{ waits, stale, held, alone int }
	n := 0
	// deferred returns a deferred check of a fresh proof whose wait answers
	// werr, the proof's jti hash and the check's counts. inWait runs in the
	// wait, before it answers. noKeep leaves Keep out: a check that waits
	// is not taken over by a path that cannot wait first, Keep or not.
	noKeep := false
	deferred := func(t *testing.T, request string, werr error, inWait func()) (*postgres.RequestTx, postgres.Credential, string, *counts) {
		t.Helper()
		n++
		sum := sha256.Sum256([]byte(t.Name() + strconv.Itoa(n)))
		jti, iat := hex.EncodeToString(sum[:]), strconv.FormatInt(time.Now().Unix(), 10)
		proof := func(b *pgx.Batch) { b.Queue(`select app.bind_proof($1, $2)`, jti, iat) }
		keep := &pgx.Batch{}
		proof(keep)
		keep.Queue(`select app.dpop_jti_keep()`)
		k := new(counts)
		c := postgres.Confirm{Keep: keep, Stale: func() { k.stale++ }, Held: func() { k.held++ }, Alone: func() { k.alone++ },
			Queue: func(b *pgx.Batch) {
				proof(b)
				b.Queue(`select count(*) from app.whoami()`) // records the jti, touches the session
			},
			Wait: func() error {
				k.waits++
				if inWait != nil {
					inWait()
				}
				return werr
			}}
		if noKeep {
			c.Keep = nil
		}
		cred := postgres.Credential{Hash: s.leadHash, Org: s.org, DPoP: jkt, Request: request}
		return postgres.DeferCheck(env.App, cred, s.org, c), cred, jti, k
	}
	recorded := func(t *testing.T, jti string) bool {
		t.Helper()
		var ok bool
		if err := env.Super.Pool.QueryRow(ctx, `select exists (select from app.dpop_jtis where jkt = $1 and jti_hash = decode($2, 'hex'))`,
			jkt, jti).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	// idle puts the session's last use ten minutes back, so that a
	// resolution touches it; touched reports whether one did.
	idle := func(t *testing.T) {
		t.Helper()
		if _, err := env.Super.Pool.Exec(ctx, `update app.sessions set last_seen_at = now() - interval '10 minutes' where id = $1`,
			s.leadSession); err != nil {
			t.Fatal(err)
		}
	}
	touched := func(t *testing.T) bool {
		t.Helper()
		var ok bool
		if err := env.Super.Pool.QueryRow(ctx, `select last_seen_at > now() - interval '1 minute' from app.sessions where id = $1`,
			s.leadSession).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	// openTx counts the ward_app backends with a transaction open: the
	// check's, while an explicit transaction waits after its first round
	// trip.
	openTx := func() int {
		var k int
		if err := env.Super.Pool.QueryRow(ctx, `select count(*) from pg_stat_activity
			where usename = 'ward_app' and state like 'idle in transaction%'`).Scan(&k); err != nil {
			t.Error(err)
		}
		return k
	}
	// paths run the request's first transaction, each a path of its own;
	// ran counts the request's own statements that ran.
	paths := map[string]func(ctx context.Context, rt *postgres.RequestTx, cred postgres.Credential, ran *int) error{
		"InTenantTx": func(ctx context.Context, _ *postgres.RequestTx, cred postgres.Credential, ran *int) error {
			return env.App.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
				*ran++
				_, err := tx.Exec(ctx, `select count(*) from app.patients`)
				return err
			})
		},
		"InTenantBatch": func(ctx context.Context, _ *postgres.RequestTx, cred postgres.Credential, ran *int) error {
			b := &pgx.Batch{}
			b.Queue(`select count(*) from app.patients`).QueryRow(func(row pgx.Row) error {
				*ran++
				var k int
				return row.Scan(&k)
			})
			return env.App.InTenantBatch(ctx, cred, b)
		},
		"Confirm": func(ctx context.Context, rt *postgres.RequestTx, _ postgres.Credential, _ *int) error {
			return rt.Confirm(ctx)
		},
		"QueueConfirm": func(ctx context.Context, _ *postgres.RequestTx, cred postgres.Credential, ran *int) error {
			b := &pgx.Batch{}
			postgres.QueueBind(ctx, b, cred)
			before := b.Len()
			mapped, first := postgres.QueueConfirm(ctx, cred, b)
			if first != nil {
				return first
			}
			if b.Len() != before {
				t.Errorf("QueueConfirm queued a check that waits on the caller's batch")
			}
			b.Queue(`select count(*) from app.patients`)
			*ran++
			return mapped(env.App.Pool.SendBatch(ctx, b).Close())
		},
		"InTx": func(ctx context.Context, _ *postgres.RequestTx, _ postgres.Credential, ran *int) error {
			return env.App.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
				*ran++
				return nil
			})
		},
	}
	for name, run := range paths {
		for _, nk := range []bool{false, true} {
			label := ""
			if nk {
				label = " (no Keep)"
			}
			t.Run(name+", refused"+label, func(t *testing.T) {
				idle(t)
				noKeep = nk
				defer func() { noKeep = false }()
				rt, cred, jti, k := deferred(t, "wait-refused-"+name+label, forged, nil)
				rctx := postgres.WithRequestTx(ctx, rt)
				ran := 0
				err := run(rctx, rt, cred, &ran)
				if !errors.Is(err, postgres.ErrStalePrincipal) || !errors.Is(err, forged) {
					t.Fatalf("err = %v, want ErrStalePrincipal wrapping the wait's refusal", err)
				}
				if ran != 0 {
					t.Errorf("%d of the request's statements ran after the wait refused", ran)
				}
				if recorded(t, jti) {
					t.Error("the jti of a check whose wait refused was recorded")
				}
				if touched(t) {
					t.Error("the session was touched by a check whose wait refused")
				}
				if k.waits != 1 || k.stale != 0 || k.held != 0 {
					t.Errorf("waits %d, stale %d, held %d: want one wait, neither Stale nor Held", k.waits, k.stale, k.held)
				}
				// Whatever answers later is refused too, and runs nothing.
				if err := rt.Confirm(rctx); !errors.Is(err, postgres.ErrStalePrincipal) {
					t.Errorf("Confirm after the wait refused: %v", err)
				}
				if k.alone != 0 || k.waits != 1 {
					t.Errorf("alone %d, waits %d after the refusal", k.alone, k.waits)
				}
				if recorded(t, jti) {
					t.Error("the jti was recorded by a later Confirm")
				}
			})
		}
		t.Run(name+", held", func(t *testing.T) {
			idle(t)
			rt, cred, jti, k := deferred(t, "wait-held-"+name, nil, nil)
			ran := 0
			if err := run(postgres.WithRequestTx(ctx, rt), rt, cred, &ran); err != nil {
				t.Fatal(err)
			}
			if !recorded(t, jti) || !touched(t) || k.waits != 1 || k.held != 1 || k.stale != 0 {
				t.Errorf("recorded %t, touched %t, waits %d, held %d, stale %d: want the check standing, one wait, held",
					recorded(t, jti), touched(t), k.waits, k.held, k.stale)
			}
		})
	}

	// Where the wait comes: after an explicit transaction's first round
	// trip (its transaction open, nothing committed), before anything is
	// sent where the round trip commits.
	t.Run("the order", func(t *testing.T) {
		for _, name := range []string{"InTenantTx", "InTenantBatch", "Confirm"} {
			var open int
			var early bool
			var jti string
			rt, cred, j, _ := deferred(t, "wait-order-"+name, forged, func() {
				open = openTx()
				early = recorded(t, jti)
			})
			jti = j
			ran := 0
			_ = paths[name](postgres.WithRequestTx(ctx, rt), rt, cred, &ran)
			want := 0
			if name == "InTenantTx" {
				want = 1 // the check's transaction, open while the signature is checked
			}
			if open != want || early {
				t.Errorf("%s: %d transactions open during the wait (want %d), the jti recorded before it: %t",
					name, open, want, early)
			}
		}
	})
}
