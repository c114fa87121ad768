package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// Document retention (migrations 00233, 00234): only an admin's session
// with a fresh second factor replaces the policy, decided by the database
// from the bound credential; members read it. The purge, ward_ops only,
// deletes and shreds exactly the live documents whose type's retention
// has passed, skips those under a legal hold on their org, patient or case
// and those of types without a policy, and audits each one.
func TestDocumentRetentionSQL(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	super := superExec(t, env)
	org, other := uuid.NewString(), uuid.NewString()
	admin, prov, pat, oadmin := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	super(`insert into app.orgs (id, name, device_binding_required_for) values ($1, 'Retain', '{}'), ($2, 'Held', '{}')`, org, other)
	for i, u := range []string{admin, prov, pat, oadmin} {
		super(`insert into app.users (id, email_bidx, email_enc) values ($1, sha256($2::bytea), '\x00')`, u, fmt.Appendf(nil, "u%d", i))
	}
	super(`insert into app.memberships (org_id, user_id, role) values ($1, $2, 'admin'), ($1, $3, 'provider'), ($1, $4, 'patient'),
	         ($5, $6, 'admin')`, org, admin, prov, pat, other, oadmin)
	n := 0
	session := func(o, user string, aal int, age string) postgres.Credential {
		t.Helper()
		n++
		sum := sha256.Sum256(fmt.Appendf(nil, "retention-session%d", n))
		amr := "{email}"
		if aal == 2 {
			amr = "{email,totp}"
		}
		super(`insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, assurance, amr,
		         authenticated_at) values ($1, $2, $3, 60, now() + interval '50 minutes', $4, $5, now() - $6::interval)`,
			o, user, sum[:], aal, amr, age)
		return postgres.Credential{Hash: hex.EncodeToString(sum[:])}
	}
	set := func(cred postgres.Credential, policy string) error {
		return env.App.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `select app.set_document_retention($1::jsonb, 'req')`, policy)
			return err
		})
	}
	read := func(cred postgres.Credential) map[string]int {
		t.Helper()
		out := map[string]int{}
		err := env.App.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `select doc_type, case when effective_at <= now() then pending_days else retain_days end
			    from app.document_retention`)
			if err != nil {
				return err
			}
			for rows.Next() {
				var k string
				var v int
				if err := rows.Scan(&k, &v); err != nil {
					return err
				}
				out[k] = v
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	code := func(err error) string {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return pe.Code + "/" + pe.Hint
		}
		return fmt.Sprint(err)
	}

	// Who may set it: the database decides from the credential.
	fresh := session(org, admin, 2, "0")
	for _, c := range []struct {
		name string
		cred postgres.Credential
		want string
	}{
		{"a provider", session(org, prov, 2, "0"), "42501/"},
		{"a patient", session(org, pat, 1, "0"), "42501/"},
		{"an admin whose second factor is 20 minutes old", session(org, admin, 2, "20 minutes"), "42501/step_up_required"},
		{"an admin at AAL1 (pending)", session(org, admin, 1, "0"), "42501/"},
		{"no credential", postgres.Credential{}, "42501/"},
	} {
		if got := code(set(c.cred, `{"wage_statement": 30}`)); got != c.want {
			t.Errorf("%s set the policy: %s, want %s", c.name, got, c.want)
		}
	}
	// Bounds.
	for _, bad := range []string{`{"wage_statement": 0}`, `{"wage_statement": 36501}`, `{"wage_statement": 1.5}`,
		`{"wage_statement": "30"}`, `{"Wage Statement": 30}`, `[]`, `{"wage_statement": null}`} {
		if got := code(set(fresh, bad)); got != "22023/" {
			t.Errorf("policy %s: %s", bad, got)
		}
	}
	if err := set(fresh, `{"wage_statement": 30, "lab_report": 36500, "note": 1}`); err != nil {
		t.Fatal(err)
	}
	if err := set(fresh, `{"wage_statement": 30, "lab_report": 36500}`); err != nil {
		t.Fatal(err)
	}
	// The types were added, which waits 30 days (00256): the event says
	// so, and the superuser moves their time to now (no caller can).
	var details string
	if err := env.Super.Pool.QueryRow(ctx, `select jsonb_build_object('old', details->'old', 'new', details->'new',
	      'old_pending', (select jsonb_object_agg(k, v->'retain_days') from jsonb_each(details->'old_pending') e(k, v)),
	      'pending', (select jsonb_object_agg(k, v->'retain_days') from jsonb_each(details->'pending') e(k, v)),
	      'same_time', details #> '{old_pending,wage_statement,effective_at}' = details #> '{pending,wage_statement,effective_at}')::text
	    from audit.events where org_id = $1 and action = 'org.retention_policy.update' and outcome = 'success'
	    order by qid desc limit 1`, org).Scan(&details); err != nil ||
		details != `{"new": {}, "old": {}, "pending": {"lab_report": 36500, "wage_statement": 30}, "same_time": true, "old_pending": {"note": 1, "lab_report": 36500, "wage_statement": 30}}` {
		t.Fatalf("policy event: %s %v", details, err)
	}
	super(`update app.document_retention set effective_at = now() where org_id = $1 and effective_at is not null`, org)
	// Members read it; the other org's admin does not.
	want := map[string]int{"wage_statement": 30, "lab_report": 36500}
	for _, c := range []postgres.Credential{session(org, pat, 1, "0"), session(org, prov, 2, "0")} {
		if got := read(c); len(got) != 2 || got["wage_statement"] != 30 || got["lab_report"] != 36500 {
			t.Fatalf("a member reads %v, want %v", got, want)
		}
	}
	if got := read(session(other, oadmin, 2, "0")); len(got) != 0 {
		t.Fatalf("another org's admin reads %v", got)
	}

	// The documents: a patient with two cases, another patient, and the
	// other org (held as a whole).
	p1, p2, c1, c2, c3 := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	super(`insert into app.patients (org_id, id, name_enc, created_by, keyset) values ($1, $2, '\x00', $4, '\x00'), ($1, $3, '\x00', $4, '\x00')`, org, p1, p2, admin)
	super(`insert into app.cases (org_id, id, patient_id, title_enc, created_by) values ($1, $2, $5, '\x00', $6),
	         ($1, $3, $5, '\x00', $6), ($1, $4, $7, '\x00', $6)`, org, c1, c2, c3, p1, admin, p2)
	doc := func(o, kase, typ, age, versionAge string) (string, string) {
		t.Helper()
		id, key := uuid.NewString(), "orgs/"+o+"/obj/"+uuid.NewString()
		super(`insert into app.documents (org_id, id, case_id, doc_type, created_by, created_at)
		         select $1, $2, $3, $4, m.user_id, now() - $5::interval from app.memberships m where m.org_id = $1 limit 1`,
			o, id, kase, typ, age)
		if versionAge != "" {
			super(`insert into app.document_versions (org_id, case_id, document_id, version, storage_key, data_key, size, sha256,
			         content_type, filename_enc, uploaded_by, created_at)
			       select $1, $2, $3, 1, $4, '\x01', 1, sha256('x'), 'text/plain', '\x00', m.user_id, now() - $5::interval
			         from app.memberships m where m.org_id = $1 limit 1`, o, kase, id, key, versionAge)
		}
		return id, key
	}
	old, oldKey := doc(org, c1, "wage_statement", "40 days", "35 days")    // purged
	request, _ := doc(org, c1, "wage_statement", "40 days", "")            // purged (nothing uploaded)
	recent, _ := doc(org, c1, "wage_statement", "10 days", "10 days")      // kept: within 30 days
	reupped, _ := doc(org, c1, "wage_statement", "400 days", "5 days")     // kept: uploaded again lately
	untyped, _ := doc(org, c1, "medical_report", "4000 days", "4000 days") // kept: no policy for the type
	long, _ := doc(org, c1, "lab_report", "400 days", "400 days")          // kept: 36500 days
	onCase, _ := doc(org, c2, "wage_statement", "40 days", "40 days")      // kept: case hold
	onPatient, _ := doc(org, c3, "wage_statement", "40 days", "40 days")   // kept: patient hold
	// Requests with nothing uploaded whose due date is ahead, or past by
	// less than the policy's days: kept (the clock runs from the due date).
	dueSoon, _ := doc(org, c1, "wage_statement", "40 days", "")
	super(`update app.documents set due_at = now() + interval '10 days' where id = $1`, dueSoon)
	dueLately, _ := doc(org, c1, "wage_statement", "40 days", "")
	super(`update app.documents set due_at = now() - interval '5 days' where id = $1`, dueLately)
	oc := uuid.NewString()
	super(`insert into app.cases (org_id, id, title_enc, created_by) values ($1, $2, '\x00', $3)`, other, oc, oadmin)
	super(`insert into app.document_retention (org_id, doc_type, retain_days, updated_by) values ($1, 'wage_statement', 1, $2)`, other, oadmin)
	inHeldOrg, _ := doc(other, oc, "wage_statement", "40 days", "40 days") // kept: org hold
	super(`insert into app.legal_holds (org_id, case_id, reason, created_by) values ($1, $2, 'matter', $3)`, org, c2, admin)
	super(`insert into app.legal_holds (org_id, patient_id, reason, created_by) values ($1, $2, 'matter', $3)`, org, p2, admin)
	super(`insert into app.legal_holds (org_id, reason, created_by) values ($1, 'matter', $2)`, other, oadmin)

	// ward_app cannot purge; ward_ops can.
	err := env.App.InTenantTx(ctx, fresh, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `select * from app.purge_expired_documents(100)`)
		return err
	})
	if code(err) != "42501/" {
		t.Fatalf("ward_app purged: %v", err)
	}
	ops, err := postgres.OpenAs(ctx, env.SuperURL(), "ward_ops")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ops.Close)
	type purged struct {
		doc  string
		keys []string
	}
	purge := func(max int) []purged {
		t.Helper()
		var out []purged
		err := ops.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `select document_id::text, storage_keys from app.purge_expired_documents($1)`, max)
			if err != nil {
				return err
			}
			for rows.Next() {
				var p purged
				if err := rows.Scan(&p.doc, &p.keys); err != nil {
					return err
				}
				out = append(out, p)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// The cap: one per call.
	first := purge(1)
	if len(first) != 1 || first[0].doc != old {
		t.Fatalf("first batch of one: %+v", first)
	}
	if !slices.Equal(first[0].keys, []string{oldKey}) {
		t.Fatalf("keys %v, want %s", first[0].keys, oldKey)
	}
	rest := purge(100)
	if len(rest) != 1 || rest[0].doc != request || len(rest[0].keys) != 0 {
		t.Fatalf("second batch: %+v", rest)
	}
	if again := purge(100); len(again) != 0 {
		t.Fatalf("a third pass purged %+v", again)
	}
	state := func(id string) (deleted bool, keys int) {
		t.Helper()
		if err := env.Super.Pool.QueryRow(ctx, `select d.deleted_at is not null,
		    (select count(*) from app.document_versions v where v.org_id = d.org_id and v.document_id = d.id and v.data_key is not null)
		    from app.documents d where d.id = $1`, id).Scan(&deleted, &keys); err != nil {
			t.Fatal(err)
		}
		return deleted, keys
	}
	if d, k := state(old); !d || k != 0 {
		t.Fatalf("the purged document: deleted %v, %d live data keys", d, k)
	}
	for name, id := range map[string]string{"recent": recent, "uploaded again": reupped, "no policy": untyped,
		"long policy": long, "case hold": onCase, "patient hold": onPatient, "org hold": inHeldOrg,
		"request due in 10 days": dueSoon, "request due 5 days ago": dueLately} {
		want := 1
		if id == dueSoon || id == dueLately {
			want = 0 // nothing uploaded
		}
		if d, k := state(id); d || k != want {
			t.Errorf("%s: deleted %v, %d live data keys", name, d, k)
		}
	}
	var events int
	if err := env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and action = 'document.purge'
	    and outcome = 'success' and actor_kind = 'system' and actor_id = $2 and object_id = any($3::uuid[])
	    and case_id = $4 and patient_id = $5 and details->>'doc_type' = 'wage_statement' and (details->>'retain_days')::int = 30`,
		org, admin, []uuid.UUID{uuid.MustParse(old), uuid.MustParse(request)}, c1, p1).Scan(&events); err != nil || events != 2 {
		t.Fatalf("document.purge events: %d %v", events, err)
	}

	// A hold placed while the purge runs: the purge waits for it and then
	// sees it, so the held document is not purged.
	c4 := uuid.NewString()
	super(`insert into app.cases (org_id, id, patient_id, title_enc, created_by) values ($1, $2, $3, '\x00', $4)`, org, c4, p1, admin)
	racing, _ := doc(org, c4, "wage_statement", "40 days", "40 days")
	inserted, release, holdErr := make(chan uint32, 1), make(chan struct{}), make(chan error, 1)
	free := sync.OnceFunc(func() { close(release) })
	defer free()
	go func() {
		holdErr <- env.App.InTenantTx(ctx, fresh, func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `insert into app.legal_holds (org_id, case_id, reason_enc, created_by) values ($1, $2, '\x00', $3)`,
				org, c4, admin)
			if err != nil {
				return err
			}
			inserted <- tx.Conn().PgConn().PID()
			<-release
			return nil
		})
	}()
	var holder uint32
	select {
	case holder = <-inserted:
	case err := <-holdErr:
		t.Fatalf("placing the hold: %v", err)
	}
	done := make(chan int, 1)
	go func() {
		n := -1
		err := ops.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `select count(*) from app.purge_expired_documents(100)`).Scan(&n)
		})
		if err != nil {
			n = -1
		}
		done <- n
	}()
	if got, blocked := blockedBy(t, env, holder, done); !blocked {
		t.Fatalf("the purge did not wait for the hold being placed: %d purged", got)
	}
	free()
	if err := <-holdErr; err != nil {
		t.Fatal(err)
	}
	if got := <-done; got != 0 {
		t.Fatalf("purged under a hold placed during the purge: %d", got)
	}
	if d, _ := state(racing); d {
		t.Fatal("the document of the late hold was purged")
	}
}

// A user's deletion and a legal hold being placed do not cross (00235):
// app.delete_document waits for the hold's transaction and then refuses
// (55000), where it used to delete and shred under the new hold.
func TestDeleteDocumentWaitsForHold(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	super := superExec(t, env)
	org, admin, kase, doc := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	super(`insert into app.orgs (id, name, device_binding_required_for) values ($1, 'Deleting', '{}')`, org)
	super(`insert into app.users (id, email_bidx, email_enc) values ($1, sha256('deleting-admin'), '\x00')`, admin)
	super(`insert into app.memberships (org_id, user_id, role) values ($1, $2, 'admin')`, org, admin)
	sum := sha256.Sum256([]byte("deleting-admin-session"))
	super(`insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, assurance, amr,
	         authenticated_at) values ($1, $2, $3, 60, now() + interval '50 minutes', 2, '{email,totp}', now())`, org, admin, sum[:])
	cred := postgres.Credential{Hash: hex.EncodeToString(sum[:])}
	super(`insert into app.cases (org_id, id, title_enc, created_by) values ($1, $2, '\x00', $3)`, org, kase, admin)
	super(`insert into app.documents (org_id, id, case_id, doc_type, created_by) values ($1, $2, $3, 'wage_statement', $4)`,
		org, doc, kase, admin)

	inserted, release, holdErr := make(chan uint32, 1), make(chan struct{}), make(chan error, 1)
	free := sync.OnceFunc(func() { close(release) })
	defer free()
	go func() {
		holdErr <- env.App.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `insert into app.legal_holds (org_id, case_id, reason_enc, created_by) values ($1, $2, '\x00', $3)`,
				org, kase, admin)
			if err != nil {
				return err
			}
			inserted <- tx.Conn().PgConn().PID()
			<-release
			return nil
		})
	}()
	var holder uint32
	select {
	case holder = <-inserted:
	case err := <-holdErr:
		t.Fatalf("placing the hold: %v", err)
	}
	deleted := make(chan error, 1)
	go func() {
		deleted <- env.App.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `select * from app.delete_document($1, 'req')`, doc)
			return err
		})
	}()
	if err, blocked := blockedBy(t, env, holder, deleted); !blocked {
		t.Fatalf("the deletion did not wait for the hold being placed: %v", err)
	}
	free()
	if err := <-holdErr; err != nil {
		t.Fatal(err)
	}
	var pe *pgconn.PgError
	if err := <-deleted; !errors.As(err, &pe) || pe.Code != "55000" {
		t.Fatalf("deletion under a hold placed meanwhile: %v", err)
	}
	var gone bool
	if err := env.Super.Pool.QueryRow(ctx, `select deleted_at is not null from app.documents where id = $1`, doc).Scan(&gone); err != nil || gone {
		t.Fatalf("deleted under the hold: %v %v", gone, err)
	}
}

// blockedBy waits until a backend of env's database waits for a lock that
// the backend pid holds (the transaction of a hold or request being filed)
// and reports true; or, when done delivers first (the statement that
// should have waited finished), reports false with what it delivered. A
// minute with neither fails the test. A fixed pause in its place proved
// nothing on a loaded machine: the statement could start after the pause,
// once the other transaction had committed, and find its rows anyway.
func blockedBy[T any](t *testing.T, env *pgtest.Env, pid uint32, done <-chan T) (T, bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		select {
		case v := <-done:
			return v, false
		default:
		}
		var blocked bool
		if err := env.Super.Pool.QueryRow(context.Background(), `select exists (select from pg_stat_activity
		    where datname = current_database() and $1::int = any (pg_blocking_pids(pid)))`, int32(pid)).Scan(&blocked); err != nil {
			t.Fatal(err)
		}
		if blocked {
			var zero T
			return zero, true
		}
		if time.Now().After(deadline) {
			t.Fatalf("no statement waited for backend %d within a minute, and none finished", pid)
		}
	}
}
