package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// The gateway's rate limits live in the database (00170), one bucket per
// org whichever node serves the call: app.gateway_admit takes a request
// and a reservation or nothing, app.gateway_settle gives back what a call
// did not use, both on the bound credential's org and its policy's
// limits, never beyond a minute's worth.
func TestGatewayBuckets(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	w := &riskWorld{t: t, env: env, org: uuid.New()}
	w.exec(`insert into app.orgs (id, name, device_binding_required_for, gateway_requests_per_minute,
	          gateway_tokens_per_minute) values ($1, 'Limits Org', '{}', 3, 1000)`, w.org)
	// Two members: calls of the same org, as two nodes would send them.
	first, _, _ := w.signIn(w.member(), "", "10.0.0.5", "MyApp/1.0")
	second, _, _ := w.signIn(w.member(), "", "10.0.0.6", "MyApp/1.0")
	other := &riskWorld{t: t, env: env, org: uuid.New()}
	other.exec(`insert into app.orgs (id, name, device_binding_required_for) values ($1, 'Other Org', '{}')`, other.org)
	outsider, _, _ := other.signIn(other.member(), "", "10.0.0.7", "MyApp/1.0")

	type answer struct {
		ok                bool
		retry, requestsMS int64
	}
	admit := func(cred string, tokens int64) (answer, error) {
		var a answer
		err := env.App.InTenantTx(ctx, postgres.Credential{Hash: cred}, func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `select admitted, retry_ms, requests_ms from app.gateway_admit($1)`, tokens).
				Scan(&a.ok, &a.retry, &a.requestsMS)
		})
		return a, err
	}
	mustAdmit := func(cred string, tokens int64, want bool) answer {
		t.Helper()
		a, err := admit(cred, tokens)
		if err != nil || a.ok != want {
			t.Fatalf("admit %d: %+v, %v; want admitted %v", tokens, a, err, want)
		}
		return a
	}
	settle := func(cred string, requests int, tokens int64) error {
		return env.App.InTenantTx(ctx, postgres.Credential{Hash: cred}, func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `select app.gateway_settle($1, $2)`, requests, tokens)
			return err
		})
	}
	bucket := func(org uuid.UUID) (requests, tokens float64) {
		t.Helper()
		if err := env.Super.Pool.QueryRow(ctx, `select requests, tokens from app.gateway_buckets where org_id = $1`,
			org).Scan(&requests, &tokens); err != nil {
			t.Fatal(err)
		}
		return requests, tokens
	}
	// fill sets the org's bucket as if last touched ago.
	fill := func(requests, tokens float64, ago time.Duration) {
		t.Helper()
		w.exec(`update app.gateway_buckets set requests = $2, tokens = $3, at = clock_timestamp() - $4::interval
		         where org_id = $1`, w.org, requests, tokens, ago.String())
	}

	// Three requests a minute, shared by both members: the fourth waits
	// about 20 seconds for one to come back.
	mustAdmit(first, 10, true)
	mustAdmit(second, 10, true)
	mustAdmit(first, 10, true)
	a := mustAdmit(second, 10, false)
	if a.requestsMS <= 0 || a.requestsMS > 20000 || a.retry < a.requestsMS {
		t.Fatalf("the fourth request of three a minute: %+v; want a wait of at most 20 s", a)
	}
	if r, tk := bucket(w.org); r >= 1 || tk < 969.9 || tk > 985 {
		t.Fatalf("after three calls of 10 tokens: %v requests, %v tokens", r, tk)
	}
	// The other org has a bucket of its own.
	mustAdmit(outsider, 10, true)

	// Time refills it, at the policy's rate, on the database's clock.
	fill(0, 1000, 30*time.Second)
	mustAdmit(first, 10, true) // 1.5 requests came back in 30 s

	// Tokens: a reservation must fit whole; what a call did not use comes
	// back at once.
	fill(3, 1000, 0)
	mustAdmit(first, 600, true)
	a = mustAdmit(second, 600, false)
	if a.requestsMS != 0 || a.retry < 10000 || a.retry > 13000 {
		t.Fatalf("600 tokens of 400: %+v; want a wait of about 12 s for tokens alone", a)
	}
	if err := settle(first, 0, 500); err != nil { // the first used 100 of its 600
		t.Fatal(err)
	}
	mustAdmit(second, 600, true)
	// A call that used more than it reserved is charged the rest.
	if err := settle(second, 0, -200); err != nil {
		t.Fatal(err)
	}
	if _, tk := bucket(w.org); tk > 100.5 || tk < 99 {
		t.Fatalf("after 600 reserved, 500 back, 600 reserved and 200 charged: %v tokens, want 100", tk)
	}

	// A settle never fills a bucket beyond a minute's worth.
	if err := settle(first, 1, 1000000000); err != nil {
		t.Fatal(err)
	}
	if r, tk := bucket(w.org); r > 3 || tk > 1000 {
		t.Fatalf("after a settle of everything: %v requests, %v tokens; want at most 3 and 1000", r, tk)
	}

	// A reservation larger than a minute's worth passes a full bucket only,
	// which it overdraws.
	fill(3, 999, 0)
	mustAdmit(first, 5000, false)
	fill(3, 1000, 0)
	mustAdmit(first, 5000, true)
	if _, tk := bucket(w.org); tk > -3999 {
		t.Fatalf("after 5000 of 1000: %v tokens, want -4000", tk)
	}

	// Bad amounts are refused; nothing of another credential's org is
	// touched; without a live credential nothing is taken or given.
	for _, bad := range []int64{-1, 1000000001} {
		if _, err := admit(first, bad); !postgres.IsCode(err, postgres.CodeInvalidParameter) {
			t.Errorf("admit %d: %v, want SQLSTATE 22023", bad, err)
		}
	}
	for _, bad := range []struct {
		requests int
		tokens   int64
	}{{2, 0}, {-1, 0}, {0, 1000000001}, {0, -1000000001}} {
		if err := settle(first, bad.requests, bad.tokens); !postgres.IsCode(err, postgres.CodeInvalidParameter) {
			t.Errorf("settle %d, %d: %v, want SQLSTATE 22023", bad.requests, bad.tokens, err)
		}
	}
	nobody := hexSHA256("no such credential")
	if _, err := admit(nobody, 10); !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
		t.Errorf("admit without a credential: %v, want SQLSTATE 42501", err)
	}
	before, _ := bucket(w.org)
	if err := settle(nobody, 1, 1000); err != nil {
		t.Errorf("settle without a credential: %v, want nothing done", err)
	}
	if after, _ := bucket(w.org); after != before {
		t.Errorf("settle without a credential moved the bucket: %v → %v", before, after)
	}

	// Members read their own org's bucket and write none.
	var orgs []uuid.UUID
	err := env.App.InTenantTx(ctx, postgres.Credential{Hash: outsider}, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `select org_id from app.gateway_buckets`)
		if err != nil {
			return err
		}
		orgs, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		return err
	})
	if err != nil || len(orgs) != 1 || orgs[0] != other.org {
		t.Fatalf("the other org's member reads buckets %v (%v); want only their own", orgs, err)
	}
	for _, sql := range []string{
		`update app.gateway_buckets set requests = 1000000`,
		`insert into app.gateway_buckets (org_id, requests, tokens, at) values ('` + uuid.NewString() + `', 1, 1, now())`,
		`delete from app.gateway_buckets`,
	} {
		err := env.App.InTenantTx(ctx, postgres.Credential{Hash: first}, func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, sql)
			return err
		})
		if !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
			t.Errorf("%s: %v, want SQLSTATE 42501", sql, err)
		}
	}
}
