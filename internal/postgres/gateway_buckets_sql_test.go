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
// and a reservation or nothing, app.gateway_settle settles a reservation
// once, for the credential that made it, giving back at most what it
// took; both on the bound credential's org and its policy's limits, never
// beyond a minute's worth.
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
		ok                           bool
		retryMS, requestsMS, emptyMS int64
		reservation                  *int64
	}
	admit := func(cred string, tokens int64) (answer, error) {
		var a answer
		err := env.App.InTenantTx(ctx, postgres.Credential{Hash: cred}, func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `select admitted, retry_ms, requests_ms, empty_ms, reservation from app.gateway_admit($1)`,
				tokens).Scan(&a.ok, &a.retryMS, &a.requestsMS, &a.emptyMS, &a.reservation)
		})
		return a, err
	}
	mustAdmit := func(cred string, tokens int64, want bool) answer {
		t.Helper()
		a, err := admit(cred, tokens)
		if err != nil || a.ok != want || (a.reservation != nil) != want {
			t.Fatalf("admit %d: %+v, %v; want admitted %v", tokens, a, err, want)
		}
		return a
	}
	settle := func(cred string, reservation *int64, used int64, giveRequest bool) bool {
		t.Helper()
		var done bool
		err := env.App.InTenantTx(ctx, postgres.Credential{Hash: cred}, func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `select app.gateway_settle($1, $2, $3)`, reservation, used, giveRequest).Scan(&done)
		})
		if err != nil {
			t.Fatalf("settle: %v", err)
		}
		return done
	}
	bucket := func() (requests, tokens float64) {
		t.Helper()
		if err := env.Super.Pool.QueryRow(ctx, `select requests, tokens from app.gateway_buckets where org_id = $1`,
			w.org).Scan(&requests, &tokens); err != nil {
			t.Fatal(err)
		}
		return requests, tokens
	}
	// fill sets the org's bucket as if last touched ago, with no
	// reservation waiting to be taken back.
	fill := func(requests, tokens float64, ago time.Duration) {
		t.Helper()
		w.exec(`delete from app.gateway_reservations where org_id = $1`, w.org)
		w.exec(`update app.gateway_buckets set requests = $2, tokens = $3, at = clock_timestamp() - $4::interval
		         where org_id = $1`, w.org, requests, tokens, ago.String())
	}
	// near: at least want (less rounding), and no more than the bucket
	// refilled on top of it since since, at 1,000 tokens a minute (a loaded
	// machine takes its time between statements).
	near := func(got, want float64, since time.Time) bool {
		return got >= want-0.5 && got <= want+0.5+time.Since(since).Seconds()*1000/60
	}

	// Three requests a minute, shared by both members: the fourth waits
	// about 20 seconds for one to come back, and the buckets say they
	// admit nothing meanwhile.
	since := time.Now()
	mustAdmit(first, 10, true)
	mustAdmit(second, 10, true)
	mustAdmit(first, 10, true)
	a := mustAdmit(second, 10, false)
	if a.requestsMS <= 0 || a.requestsMS > 20000 || a.retryMS < a.requestsMS {
		t.Fatalf("the fourth request of three a minute: %+v; want a wait of at most 20 s", a)
	}
	if r, tk := bucket(); r >= 1 || !near(tk, 970, since) {
		t.Fatalf("after three calls of 10 tokens: %v requests, %v tokens", r, tk)
	}
	// The other org has a bucket of its own.
	mustAdmit(outsider, 10, true)

	// Time refills it, at the policy's rate, on the database's clock.
	fill(0, 1000, 30*time.Second)
	mustAdmit(first, 10, true) // 1.5 requests came back in 30 s

	// Tokens: a reservation must fit whole; what a call did not use comes
	// back at the org's next admit, once, and only to the credential that
	// made it; a call that used more is charged the rest.
	since = time.Now()
	fill(3, 1000, 0)
	r1 := mustAdmit(first, 600, true).reservation
	a = mustAdmit(second, 600, false)
	if a.requestsMS != 0 || a.retryMS < 10000 || a.retryMS > 13000 {
		t.Fatalf("600 tokens of 400: %+v; want a wait of about 12 s for tokens alone", a)
	}
	if settle(second, r1, 0, false) || settle(outsider, r1, 0, false) {
		t.Fatal("a reservation settled by a credential that did not make it")
	}
	if !settle(first, r1, 100, false) || settle(first, r1, 0, false) {
		t.Fatal("a reservation settled not exactly once")
	}
	r2 := mustAdmit(second, 600, true).reservation // 400 + 500 back
	if !settle(second, r2, 800, false) {           // 200 more than reserved
		t.Fatal("settle refused")
	}
	mustAdmit(first, 0, true)
	if _, tk := bucket(); !near(tk, 100, since) {
		t.Fatalf("after 600 reserved, 500 back, 600 reserved and 200 charged: %v tokens, want 100", tk)
	}

	// A request comes back only with its own reservation; nothing a settle
	// claims fills the bucket beyond what its reservation took.
	since = time.Now()
	fill(1, 500, 0)
	r3 := mustAdmit(first, 50, true).reservation
	mustAdmit(first, 10, false)
	if !settle(first, r3, -1000000, true) {
		t.Fatal("settle refused")
	}
	mustAdmit(first, 0, true)
	if r, tk := bucket(); r >= 1 || !near(tk, 500, since) {
		t.Fatalf("a settle claiming -10^6 tokens used: %v requests, %v tokens; want 0 and 500", r, tk)
	}

	// A reservation larger than a minute's worth passes a full bucket only,
	// which it overdraws; then the buckets admit nothing for about four
	// minutes, whatever is asked.
	fill(3, 900, 0)
	mustAdmit(first, 5000, false)
	fill(3, 1000, 0)
	if a := mustAdmit(first, 5000, true); a.emptyMS < 239000 || a.emptyMS > 241000 {
		t.Fatalf("an overdraw of 4,000 tokens at 1,000 a minute: empty for %d ms, want about 240,000", a.emptyMS)
	}
	if a := mustAdmit(second, 0, false); a.emptyMS < 239000 {
		t.Fatalf("a call of no tokens after the overdraw: %+v", a)
	}

	// Bad amounts are refused; without a credential that may call a model
	// nothing is taken or settled.
	for _, bad := range []int64{-1, 1000000001} {
		if _, err := admit(first, bad); !postgres.IsCode(err, postgres.CodeInvalidParameter) {
			t.Errorf("admit %d: %v, want SQLSTATE 22023", bad, err)
		}
	}
	fill(3, 1000, 0)
	r4 := mustAdmit(first, 10, true).reservation
	nobody := hexSHA256("no such credential")
	if _, err := admit(nobody, 10); !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
		t.Errorf("admit without a credential: %v, want SQLSTATE 42501", err)
	}
	if settle(nobody, r4, 0, true) || settle(first, nil, 0, true) {
		t.Error("a settle without a credential or a reservation settled")
	}

	// Members read their own org's bucket and write none; nobody reads or
	// writes the reservations.
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
		`insert into app.gateway_buckets (org_id, rpm, tpm, requests, tokens, at) values ('` + uuid.NewString() + `', 1, 1, 1, 1, now())`,
		`delete from app.gateway_buckets`,
		`select count(*) from app.gateway_reservations`,
		`update app.gateway_reservations set back = 1000000000`,
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
