package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// A legal hold is released only by an admin's session that stepped up
// (migration 00309), decided by the database from the bound credential
// as the retention policy it protects against is: an admin whose second
// factor is 20 minutes old is refused step_up_required and the hold
// stays; an admin at AAL1 (pending), an admin of another org, a provider
// and no credential release nothing; a fresh admin releases it; an operator's statement (no
// credential) is not asked.
func TestLegalHoldReleaseStepUpSQL(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	super := superExec(t, env)
	org, other := uuid.NewString(), uuid.NewString()
	admin, prov, oadmin := uuid.NewString(), uuid.NewString(), uuid.NewString()
	super(`insert into app.orgs (id, name, device_binding_required_for) values ($1, 'Holds', '{}'), ($2, 'Other', '{}')`, org, other)
	for i, u := range []string{admin, prov, oadmin} {
		super(`insert into app.users (id, email_bidx, email_enc) values ($1, sha256($2::bytea), '\x00')`, u, fmt.Appendf(nil, "hold-u%d", i))
	}
	super(`insert into app.memberships (org_id, user_id, role) values ($1, $2, 'admin'), ($1, $3, 'provider'), ($4, $5, 'admin')`,
		org, admin, prov, other, oadmin)
	n := 0
	session := func(o, user string, aal int, age string) postgres.Credential {
		t.Helper()
		n++
		sum := sha256.Sum256(fmt.Appendf(nil, "hold-release-session%d", n))
		amr := "{email}"
		if aal == 2 {
			amr = "{email,totp}"
		}
		super(`insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, assurance, amr,
		         authenticated_at) values ($1, $2, $3, 60, now() + interval '50 minutes', $4, $5, now() - $6::interval)`,
			o, user, sum[:], aal, amr, age)
		return postgres.Credential{Hash: hex.EncodeToString(sum[:])}
	}
	hold := uuid.NewString()
	super(`insert into app.legal_holds (org_id, id, reason_enc, created_by) values ($1, $2, '\x01', $3)`, org, hold, admin)
	release := func(cred postgres.Credential) (int64, error) {
		var rows int64
		err := env.App.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, `update app.legal_holds set released_at = now(), released_by = (select private.uid()),
			    release_note_enc = '\x02' where id = $1 and released_at is null`, hold)
			rows = tag.RowsAffected()
			return err
		})
		return rows, err
	}
	code := func(err error) string {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return pe.Code + "/" + pe.Hint
		}
		return fmt.Sprint(err)
	}
	active := func() bool {
		t.Helper()
		var live bool
		if err := env.Super.Pool.QueryRow(ctx, `select released_at is null from app.legal_holds where id = $1`, hold).Scan(&live); err != nil {
			t.Fatal(err)
		}
		return live
	}
	for _, c := range []struct {
		name string
		cred postgres.Credential
		want string
	}{
		{"an admin whose second factor is 20 minutes old", session(org, admin, 2, "20 minutes"), "42501/step_up_required"},
		{"an admin at AAL1 (pending: sees no hold)", session(org, admin, 1, "0"), "0 rows"},
		{"a provider", session(org, prov, 2, "0"), "0 rows"},
		{"another org's fresh admin", session(other, oadmin, 2, "0"), "0 rows"},
		{"no credential", postgres.Credential{}, "0 rows"},
	} {
		rows, err := release(c.cred)
		got := fmt.Sprintf("%d rows", rows)
		if err != nil {
			got = code(err)
		}
		if got != c.want {
			t.Errorf("%s released the hold: %s, want %s", c.name, got, c.want)
		}
		if !active() {
			t.Fatalf("%s lifted the hold", c.name)
		}
	}
	if rows, err := release(session(org, admin, 2, "1 minute")); err != nil || rows != 1 {
		t.Fatalf("a fresh admin's release: %d rows, %v", rows, err)
	}
	if active() {
		t.Fatal("a fresh admin's release left the hold active")
	}
	// The operator (no credential bound) releases, as before.
	second := uuid.NewString()
	super(`insert into app.legal_holds (org_id, id, reason_enc, created_by) values ($1, $2, '\x01', $3)`, org, second, admin)
	super(`update app.legal_holds set released_at = now(), released_by = created_by, release_note_enc = '\x03' where id = $1`, second)
}
