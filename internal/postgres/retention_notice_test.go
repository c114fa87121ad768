package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// A shortened retention waits for its notice period (migration 00256):
// adding a type or lowering its days is pending for 30 days, and the purge
// keeps using the rule in force until then; raising the days or removing
// a type applies at once; saving the same pending days again keeps their
// effective time, fewer days restart it; the event records the effective
// time. Time is moved by the superuser only (effective_at), as no caller
// can. And the purge keeps the documents of a patient with an open access
// or amendment request (not an accounting one) until the request closes.
func TestRetentionNoticeAndDSRSQL(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	super := superExec(t, env)
	org, admin := uuid.NewString(), uuid.NewString()
	super(`insert into app.orgs (id, name, device_binding_required_for) values ($1, 'Notice', '{}')`, org)
	super(`insert into app.users (id, email_bidx, email_enc) values ($1, sha256('notice-admin'), '\x00')`, admin)
	super(`insert into app.memberships (org_id, user_id, role) values ($1, $2, 'admin')`, org, admin)
	sum := sha256.Sum256([]byte("notice-admin-session"))
	super(`insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, assurance, amr,
	         authenticated_at) values ($1, $2, $3, 60, now() + interval '50 minutes', 2, '{email,totp}', now())`, org, admin, sum[:])
	cred := postgres.Credential{Hash: hex.EncodeToString(sum[:])}
	set := func(policy string) {
		t.Helper()
		if err := env.App.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `select app.set_document_retention($1::jsonb, 'req')`, policy)
			return err
		}); err != nil {
			t.Fatalf("set %s: %v", policy, err)
		}
	}
	type rule struct {
		inForce, pending *int
		at               *time.Time
	}
	// rules reads the policy as the org's admin does (GET): per type, the
	// days in force and the pending change.
	rules := func() map[string]rule {
		t.Helper()
		out := map[string]rule{}
		if err := env.App.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `select doc_type,
			    case when effective_at <= now() then pending_days else retain_days end,
			    case when effective_at > now() then pending_days end,
			    case when effective_at > now() then effective_at end from app.document_retention`)
			if err != nil {
				return err
			}
			for rows.Next() {
				var k string
				var r rule
				if err := rows.Scan(&k, &r.inForce, &r.pending, &r.at); err != nil {
					return err
				}
				out[k] = r
			}
			return rows.Err()
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	show := func(r rule) string {
		s := "in force "
		if r.inForce == nil {
			s += "none"
		} else {
			s += fmt.Sprint(*r.inForce)
		}
		if r.pending != nil {
			s += fmt.Sprintf(", pending %d at %s", *r.pending, r.at.UTC().Format(time.RFC3339))
		}
		return s
	}
	expect := func(typ string, inForce, pending int) rule {
		t.Helper()
		r, ok := rules()[typ]
		got := func(p *int) int {
			if p == nil {
				return 0
			}
			return *p
		}
		if !ok || got(r.inForce) != inForce || got(r.pending) != pending || (pending != 0) != (r.at != nil) {
			t.Fatalf("%s: %s, want in force %d, pending %d (0: none)", typ, show(r), inForce, pending)
		}
		return r
	}
	// elapse moves a pending change's effective time (the superuser's,
	// as no caller can): to the past makes it the rule in force.
	elapse := func(typ, at string) {
		t.Helper()
		super(`update app.document_retention set effective_at = now() + $3::interval
		        where org_id = $1 and doc_type = $2 and effective_at is not null`, org, typ, at)
	}
	lastEvent := func() (details map[string]any) {
		t.Helper()
		if err := env.Super.Pool.QueryRow(ctx, `select details from audit.events where org_id = $1
		    and action = 'org.retention_policy.update' and outcome = 'success' order by qid desc limit 1`, org).Scan(&details); err != nil {
			t.Fatal(err)
		}
		return details
	}
	ops, err := postgres.OpenAs(ctx, env.SuperURL(), "ward_ops")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ops.Close)
	purge := func() []string {
		t.Helper()
		var out []string
		if err := ops.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `select document_id::text from app.purge_expired_documents(100)`)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					return err
				}
				out = append(out, id)
			}
			return rows.Err()
		}); err != nil {
			t.Fatal(err)
		}
		slices.Sort(out)
		return out
	}
	p1, p2, c1, c2 := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	super(`insert into app.patients (org_id, id, name_enc, created_by, keyset) values ($1, $2, '\x00', $4, '\x00'), ($1, $3, '\x00', $4, '\x00')`, org, p1, p2, admin)
	super(`insert into app.cases (org_id, id, patient_id, title_enc, created_by) values ($1, $2, $4, '\x00', $6), ($1, $3, $5, '\x00', $6)`,
		org, c1, c2, p1, p2, admin)
	doc := func(kase, typ string, days int) string {
		t.Helper()
		id := uuid.NewString()
		super(`insert into app.documents (org_id, id, case_id, doc_type, created_by, created_at)
		         values ($1, $2, $3, $4, $5, now() - make_interval(days => $6))`, org, id, kase, typ, admin, days)
		return id
	}

	// Adding a type is a shortening (a type not named is kept for ever):
	// pending for 30 days, and nothing of the type is purged meanwhile.
	d40 := doc(c1, "wage_statement", 40)
	set(`{"wage_statement": 30}`)
	first := expect("wage_statement", 0, 30)
	if d := time.Until(*first.at); d < 29*24*time.Hour || d > 31*24*time.Hour {
		t.Fatalf("the added type takes effect in %v, want 30 days", d)
	}
	ev := lastEvent()
	if p, _ := ev["pending"].(map[string]any)["wage_statement"].(map[string]any); p == nil || p["retain_days"] != float64(30) ||
		p["effective_at"] == nil || ev["notice_days"] != float64(30) || len(ev["new"].(map[string]any)) != 0 {
		t.Fatalf("the event of an added type: %v", ev)
	}
	if got := purge(); len(got) != 0 {
		t.Fatalf("purged under a rule still pending: %v", got)
	}
	// Saving the same policy again keeps the clock where it was.
	elapse("wage_statement", "1 day")
	set(`{"wage_statement": 30}`)
	if r := expect("wage_statement", 0, 30); time.Until(*r.at) > 2*24*time.Hour {
		t.Fatalf("saving the same policy again restarted the clock: %s", show(r))
	}
	// Its time comes: the rule is in force and the purge applies it.
	elapse("wage_statement", "-1 second")
	expect("wage_statement", 30, 0)
	if got := purge(); !slices.Equal(got, []string{d40}) {
		t.Fatalf("purged %v once the rule took effect, want %s", got, d40)
	}

	// A shortening (30 to 10 days) is pending; the 20-day-old document is
	// kept until it takes effect.
	d20 := doc(c1, "wage_statement", 20)
	set(`{"wage_statement": 10}`)
	expect("wage_statement", 30, 10)
	if got := purge(); len(got) != 0 {
		t.Fatalf("purged under a pending shortening: %v", got)
	}
	// A further shortening restarts the clock from this save; days
	// between the pending ones and those in force keep it.
	elapse("wage_statement", "1 day")
	set(`{"wage_statement": 5}`)
	if r := expect("wage_statement", 30, 5); time.Until(*r.at) < 29*24*time.Hour {
		t.Fatalf("a further shortening kept the earlier clock: %s", show(r))
	}
	elapse("wage_statement", "1 day")
	set(`{"wage_statement": 15}`)
	if r := expect("wage_statement", 30, 15); time.Until(*r.at) > 2*24*time.Hour {
		t.Fatalf("a lesser shortening restarted the clock: %s", show(r))
	}
	elapse("wage_statement", "-1 second")
	expect("wage_statement", 15, 0)
	if got := purge(); !slices.Equal(got, []string{d20}) {
		t.Fatalf("purged %v once the shortening took effect, want %s", got, d20)
	}

	// Lengthening applies at once, and cancels a pending shortening.
	set(`{"wage_statement": 5}`)
	expect("wage_statement", 15, 5)
	set(`{"wage_statement": 60}`)
	expect("wage_statement", 60, 0)
	d45 := doc(c1, "wage_statement", 45)
	if got := purge(); len(got) != 0 {
		t.Fatalf("purged %v under a lengthened rule", got)
	}
	// Removing a type applies at once (kept for ever).
	set(`{}`)
	if r := rules(); len(r) != 0 {
		t.Fatalf("a removed type: %v", r)
	}

	// An open access request about a patient keeps the patient's
	// documents; an accounting request does not; once the request closes
	// the purge takes them.
	set(`{"wage_statement": 30}`)
	elapse("wage_statement", "-1 second")
	d41 := doc(c2, "wage_statement", 41)
	super(`insert into app.dsr_requests (org_id, kind, patient_id, requested_by) values ($1, 'access', $2, $3)`, org, p1, admin)
	super(`insert into app.dsr_requests (org_id, kind, patient_id, requested_by) values ($1, 'accounting', $2, $3)`, org, p2, admin)
	if got := purge(); !slices.Equal(got, []string{d41}) {
		t.Fatalf("purged %v with an access request open about the first patient, want only the second's %s", got, d41)
	}
	if err := env.App.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `update app.dsr_requests set status = 'fulfilled' where org_id = $1 and patient_id = $2`, org, p1)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := purge(); !slices.Equal(got, []string{d45}) {
		t.Fatalf("purged %v once the access request closed, want %s", got, d45)
	}
}

// An access request filed while the purge runs is not missed (00256):
// filing it takes the org's hold lock, shared, so the purge waits for the
// request's transaction and then keeps the patient's document. Without the
// trigger the purge does not wait and deletes it.
func TestRetentionPurgeWaitsForDSR(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	super := superExec(t, env)
	org, admin, patient, kase, doc := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	super(`insert into app.orgs (id, name, device_binding_required_for) values ($1, 'Asking', '{}')`, org)
	super(`insert into app.users (id, email_bidx, email_enc) values ($1, sha256('asking-admin'), '\x00')`, admin)
	super(`insert into app.memberships (org_id, user_id, role) values ($1, $2, 'admin')`, org, admin)
	sum := sha256.Sum256([]byte("asking-admin-session"))
	super(`insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, assurance, amr,
	         authenticated_at) values ($1, $2, $3, 60, now() + interval '50 minutes', 2, '{email,totp}', now())`, org, admin, sum[:])
	cred := postgres.Credential{Hash: hex.EncodeToString(sum[:])}
	super(`insert into app.patients (org_id, id, name_enc, created_by, keyset) values ($1, $2, '\x00', $3, '\x00')`, org, patient, admin)
	super(`insert into app.cases (org_id, id, patient_id, title_enc, created_by) values ($1, $2, $3, '\x00', $4)`, org, kase, patient, admin)
	super(`insert into app.document_retention (org_id, doc_type, retain_days, updated_by) values ($1, 'wage_statement', 30, $2)`, org, admin)
	super(`insert into app.documents (org_id, id, case_id, doc_type, created_by, created_at)
	         values ($1, $2, $3, 'wage_statement', $4, now() - interval '40 days')`, org, doc, kase, admin)
	ops, err := postgres.OpenAs(ctx, env.SuperURL(), "ward_ops")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ops.Close)

	inserted, release, dsrErr := make(chan uint32, 1), make(chan struct{}), make(chan error, 1)
	free := sync.OnceFunc(func() { close(release) })
	defer free()
	go func() {
		dsrErr <- env.App.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `insert into app.dsr_requests (org_id, kind, patient_id, requested_by) values ($1, 'access', $2, $3)`,
				org, patient, admin)
			if err != nil {
				return err
			}
			inserted <- tx.Conn().PgConn().PID()
			<-release
			return nil
		})
	}()
	var filer uint32
	select {
	case filer = <-inserted:
	case err := <-dsrErr:
		t.Fatalf("filing the request: %v", err)
	}
	done := make(chan int, 1)
	go func() {
		n := -1
		if err := ops.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `select count(*) from app.purge_expired_documents(100)`).Scan(&n)
		}); err != nil {
			n = -1
		}
		done <- n
	}()
	if got, blocked := blockedBy(t, env, filer, done); !blocked {
		t.Fatalf("the purge did not wait for the access request being filed: %d purged", got)
	}
	free()
	if err := <-dsrErr; err != nil {
		t.Fatal(err)
	}
	if got := <-done; got != 0 {
		t.Fatalf("purged under an access request filed during the purge: %d", got)
	}
}
