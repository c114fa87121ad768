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

// TestDeferredCheckKeep: a deferred session check whose writes must stand
// (postgres.Confirm.Keep: a DPoP proof's jti, recorded by app.whoami in
// the check's statement) keeps them whatever the request's first
// transaction does after the check: an implicit transaction (InTenantBatch)
// that fails runs the Keep statements on their own; an explicit one
// (InTenantTx) that fails rolls back to a savepoint after the check and
// commits it; the check run on its own (Confirm) records it as it is. A
// refusal of the check itself (a stale principal, or what Refused names)
// runs no Keep: nothing was accepted. QueueConfirm, whose caller's
// transaction may roll back unseen, leaves such a check to Confirm.
func TestDeferredCheckKeep(t *testing.T) {
	env := pgtest.New(t)
	s := seedPrincipals(t, env)
	ctx := context.Background()
	jkt := strings.Repeat("K", 43)
	if _, err := env.Super.Pool.Exec(ctx, `update app.sessions set dpop_jkt = $1 where id = $2`, jkt, s.leadSession); err != nil {
		t.Fatal(err)
	}
	cred := postgres.Credential{Hash: s.leadHash, Org: s.org, DPoP: jkt}
	n := 0
	// deferred returns a deferred check of a fresh proof, its jti hash, and
	// the count of stale refusals; refuse makes its statement fail as the
	// check's own refusal would.
	deferred := func(t *testing.T, request string, refuse bool) (*postgres.RequestTx, string, *int) {
		t.Helper()
		n++
		sum := sha256.Sum256([]byte(t.Name() + strconv.Itoa(n)))
		jti, iat := hex.EncodeToString(sum[:]), strconv.FormatInt(time.Now().Unix(), 10)
		proof := func(b *pgx.Batch) {
			b.Queue(`select app.bind_proof($1, $2)`, jti, iat)
		}
		keep := &pgx.Batch{}
		proof(keep)
		keep.Queue(`select app.dpop_jti_keep()`)
		stale := new(int)
		c := postgres.Confirm{Keep: keep, Stale: func() { *stale++ },
			Queue: func(b *pgx.Batch) {
				proof(b)
				b.Queue(`select count(*) from app.whoami()`) // records the jti
				if refuse {
					b.Queue(`select app.stale_principal()`)
				}
			}}
		c2 := cred
		c2.Request = request
		return postgres.DeferCheck(env.App, c2, s.org, c), jti, stale
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
	failing := &pgx.Batch{}
	failing.Queue(`select 1 / 0`)
	boom := errors.New("the request failed after its check")

	t.Run("a batch that fails after the check", func(t *testing.T) {
		rt, jti, stale := deferred(t, "keep-batch", false)
		c := cred
		c.Request = "keep-batch"
		err := env.App.InTenantBatch(postgres.WithRequestTx(ctx, rt), c, failing)
		if !postgres.IsCode(err, "22012") || *stale != 0 {
			t.Fatalf("the batch: %v (stale %d)", err, *stale)
		}
		if !recorded(t, jti) {
			t.Error("the jti of a check whose implicit transaction failed after it was not kept")
		}
	})

	t.Run("an explicit transaction that fails after the check", func(t *testing.T) {
		rt, jti, _ := deferred(t, "keep-tx", false)
		c := cred
		c.Request = "keep-tx"
		err := env.App.InTenantTx(postgres.WithRequestTx(ctx, rt), c, func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `select count(*) from app.patients`); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("the transaction: %v", err)
		}
		if !recorded(t, jti) {
			t.Error("the jti of a check whose transaction failed after it was not kept")
		}
	})

	t.Run("the check on its own", func(t *testing.T) {
		rt, jti, _ := deferred(t, "keep-alone", false)
		if err := rt.Confirm(ctx); err != nil {
			t.Fatal(err)
		}
		if !recorded(t, jti) {
			t.Error("the jti of a check run on its own was not recorded")
		}
	})

	t.Run("the check's own refusal keeps nothing", func(t *testing.T) {
		for _, path := range []string{"batch", "tx", "alone"} {
			rt, jti, stale := deferred(t, "refused-"+path, true)
			c := cred
			c.Request = "refused-" + path
			rctx := postgres.WithRequestTx(ctx, rt)
			var err error
			switch path {
			case "batch":
				err = env.App.InTenantBatch(rctx, c, failing)
			case "tx":
				err = env.App.InTenantTx(rctx, c, func(context.Context, pgx.Tx) error { return nil })
			default:
				err = rt.Confirm(ctx)
			}
			if !errors.Is(err, postgres.ErrStalePrincipal) || *stale != 1 {
				t.Fatalf("%s: %v (stale %d), want the stale refusal", path, err, *stale)
			}
			if recorded(t, jti) {
				t.Errorf("%s: a refused check's jti was kept", path)
			}
		}
	})

	t.Run("QueueConfirm runs a check with Keep on its own first", func(t *testing.T) {
		for _, refuse := range []bool{false, true} {
			request := "keep-queue-" + strconv.FormatBool(refuse)
			rt, jti, _ := deferred(t, request, refuse)
			c := cred
			c.Request = request
			b := &pgx.Batch{}
			postgres.QueueBind(ctx, b, c)
			before := b.Len()
			mapped, first := postgres.QueueConfirm(postgres.WithRequestTx(ctx, rt), c, b)
			if refuse != errors.Is(first, postgres.ErrStalePrincipal) || !refuse && first != nil {
				t.Errorf("refuse %t: QueueConfirm returned %v first", refuse, first)
			}
			if b.Len() != before || rt.Deferred() {
				t.Fatalf("refuse %t: QueueConfirm queued %d statements of a check with Keep (deferred after: %t)",
					refuse, b.Len()-before, rt.Deferred())
			}
			if recorded(t, jti) == refuse {
				t.Errorf("refuse %t: the check's jti recorded %t before the caller's batch", refuse, !refuse)
			}
			// The caller's batch ran fine: the mapping answers the check's
			// refusal in its place, or nothing.
			if err := mapped(nil); refuse != errors.Is(err, postgres.ErrStalePrincipal) || !refuse && err != nil {
				t.Errorf("refuse %t: the mapping returned %v", refuse, err)
			}
		}
	})
}
