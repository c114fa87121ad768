package postgres_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// A member, an API key or a SCIM token of an org that is being shredded
// is refused once the shred commits, also when its insert began after the
// shred took the org's row and before it committed: app.refuse_shredded_org
// reads the org row under a key-share lock (migration 00272), so it waits
// for the shred and then sees it. Before, the trigger read the org
// unlocked, found it whole, and the foreign key's lock only delayed the
// insert: the SCIM token and the member were live in the shredded org. A
// legal hold, an access request and a clinical entry are refused too
// (00274): they went in after the shred, a hold on what was destroyed, a
// request nobody can answer and an entry whose name and value the shred's
// overwrite (00273) never saw.
func TestOrgShredRefusesWhatIsMadeDuringIt(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	org, admin, other, patient := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`insert into app.orgs (id, name) values ($1, 'Leaving Clinic')`, []any{org}},
		{`insert into app.users (id, email_bidx, email_enc) values ($1, $2, $3), ($4, $5, $6)`,
			[]any{admin, rlsRandom(32), rlsRandom(40), other, rlsRandom(32), rlsRandom(40)}},
		{`insert into app.memberships (org_id, user_id, role) values ($1, $2, 'admin')`, []any{org, admin}},
		{`insert into app.patients (org_id, id, name_enc, created_by, keyset) values ($1, $2, $3, $4, '\x00')`,
			[]any{org, patient, rlsRandom(40), admin}},
	} {
		if _, err := env.Super.Pool.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}

	shred, err := env.Super.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer shred.Rollback(ctx)
	var at time.Time
	if err := shred.QueryRow(ctx, `select shredded_at from app.ops_org_shred($1, 'Leaving Clinic', false)`, org).Scan(&at); err != nil {
		t.Fatal(err)
	}

	// Each insert runs on a connection of its own while the shred is open.
	inserts := []struct {
		what, sql string
		args      []any
	}{
		{"SCIM token", `insert into app.scim_tokens (org_id, token_hash, prefix, name, created_by)
		                values ($1, $2, 'scim_abcd', 'race', $3)`, []any{org, rlsRandom(32), admin}},
		{"member", `insert into app.memberships (org_id, user_id, role) values ($1, $2, 'admin')`, []any{org, other}},
		{"API key", `insert into app.api_keys (org_id, key_hash, prefix, name, scopes, created_by)
		             values ($1, $2, 'sk_live_abcd', 'race', '{members}', $3)`, []any{org, rlsRandom(32), admin}},
		{"legal hold", `insert into app.legal_holds (org_id, patient_id, reason, created_by)
		                values ($1, $2, 'matter 12', $3)`, []any{org, patient, admin}},
		{"access request", `insert into app.dsr_requests (org_id, kind, patient_id, requested_by, due_at)
		                    values ($1, 'access', $2, $3, now() + interval '30 days')`, []any{org, patient, admin}},
		{"clinical entry", `insert into app.clinical_entries (org_id, patient_id, kind, name, value, unit, observed_at, created_by)
		                    values ($1, $2, 'biomarker', 'ferritin', 12, 'ng/mL', now(), $3)`, []any{org, patient, admin}},
	}
	type result struct {
		what string
		err  error
	}
	done := make(chan result, len(inserts))
	var finished atomic.Int32
	pids := []uint32{}
	for _, in := range inserts {
		c, err := env.Super.Pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Release()
		pids = append(pids, c.Conn().PgConn().PID())
		go func() {
			_, err := c.Exec(ctx, in.sql, in.args...)
			finished.Add(1)
			done <- result{in.what, err}
		}()
	}
	// Wait until every insert waits for a lock the shred holds or has
	// finished (refused, or let through, which the checks below report),
	// then commit the shred.
	for deadline := time.Now().Add(2 * time.Minute); ; {
		var waiting int
		if err := env.Super.Pool.QueryRow(ctx, `select count(*) from pg_stat_activity
			where pid = any ($1) and wait_event_type = 'Lock'`, pids).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting+int(finished.Load()) == len(pids) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d inserts wait for the shred, %d finished", waiting, len(pids), finished.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := shred.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for range inserts {
		r := <-done
		var pe *pgconn.PgError
		if !errors.As(r.err, &pe) || pe.Hint != "org_shredded" {
			t.Errorf("%s inserted while the org was shredded: %v, want a refusal with hint org_shredded", r.what, r.err)
		}
	}
	var live int
	if err := env.Super.Pool.QueryRow(ctx, `select
		  (select count(*) from app.memberships where org_id = $1 and revoked_at is null)
		+ (select count(*) from app.scim_tokens where org_id = $1 and revoked_at is null)
		+ (select count(*) from app.api_keys where org_id = $1 and revoked_at is null)
		+ (select count(*) from app.legal_holds where org_id = $1 and released_at is null)
		+ (select count(*) from app.dsr_requests where org_id = $1 and status = 'open')
		+ (select count(*) from app.clinical_entries where org_id = $1 and name <> 'shredded')`, org).Scan(&live); err != nil {
		t.Fatal(err)
	}
	if live != 0 {
		t.Errorf("the shredded org has %d live members, SCIM tokens, API keys, legal holds, open requests or legible entries, want 0", live)
	}
}

// A shred leaves no clinical entry legible (migration 00273). An entry's
// note is sealed under the org's keyset, but its name (a food, a symptom,
// a biomarker: free text), value, unit, nutrients and the time it was
// observed are columns in the clear, and after app.ops_org_shred they
// still said which patient id logged what when. The shred now overwrites
// them ('shredded', no value, unit or nutrients, observed when recorded)
// and counts them in its event.
func TestOrgShredLeavesNoClinicalEntryLegible(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	org, admin, patient := uuid.New(), uuid.New(), uuid.New()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`insert into app.orgs (id, name) values ($1, 'Leaving Clinic')`, []any{org}},
		{`insert into app.users (id, email_bidx, email_enc) values ($1, $2, $3)`, []any{admin, rlsRandom(32), rlsRandom(40)}},
		{`insert into app.memberships (org_id, user_id, role) values ($1, $2, 'admin')`, []any{org, admin}},
		{`insert into app.patients (org_id, id, name_enc, created_by, keyset) values ($1, $2, $3, $4, '\x00')`,
			[]any{org, patient, rlsRandom(40), admin}},
		{`insert into app.clinical_entries (org_id, patient_id, kind, name, value, unit, observed_at, created_by)
		  values ($1, $2, 'biomarker', 'HbA1c', 9.7, '%', now() - interval '3 days', $3),
		         ($1, $2, 'food', 'two slices of rye toast', null, null, now() - interval '2 days', $3),
		         ($1, $2, 'symptom', 'night sweats', null, null, now() - interval '1 day', $3)`, []any{org, patient, admin}},
		{`update app.clinical_entries set kcal = 160, protein_g = 5, carbs_g = 30, fat_g = 2 where kind = 'food'`, nil},
	} {
		if _, err := env.Super.Pool.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.Super.Pool.Exec(ctx, `select app.ops_org_shred($1, 'Leaving Clinic', false)`, org); err != nil {
		t.Fatal(err)
	}
	var legible, counted int
	if err := env.Super.Pool.QueryRow(ctx, `select count(*) from app.clinical_entries
		where org_id = $1 and (name <> 'shredded' or num_nonnulls(value, unit, kcal, protein_g, carbs_g, fat_g) > 0
		                       or observed_at <> created_at)`, org).Scan(&legible); err != nil {
		t.Fatal(err)
	}
	if legible != 0 {
		t.Errorf("%d clinical entries of the shredded org are legible, want 0", legible)
	}
	if err := env.Super.Pool.QueryRow(ctx, `select coalesce((details->>'clinical_entries')::int, -1) from audit.events
		where org_id = $1 and action = 'org.shred'`, org).Scan(&counted); err != nil {
		t.Fatal(err)
	}
	if counted != 3 {
		t.Errorf("the org.shred event counts %d clinical entries, want 3", counted)
	}
}
