package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// An attacker's review of data-subject requests, legal holds and
// retention (helper 175), in SQL under the application's role.

// TestLegalHoldReleaseTimeIsTheDatabases: the time a hold was released is
// the database's, whatever the releasing statement says (migration 00335).
// The release was the one write of the hold's lifecycle whose time the
// caller chose: ward_app may name released_at, and neither the policy nor
// trigger legal_holds_release (00309) looked at its value. A stepped-up
// admin's statement (a server bug, a console form) could date a release
// a year back, so the holds list said the hold ended before the documents
// it kept were deleted, or a year ahead, so a hold the purge already
// ignored (released_at is set) read as lifted only later. The receipt and
// deadlines of a data-subject request have been the database's since
// 00149; a release is now dated so too.
func TestLegalHoldReleaseTimeIsTheDatabases(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	super := superExec(t, env)
	org, admin := uuid.NewString(), uuid.NewString()
	super(`insert into app.orgs (id, name, device_binding_required_for) values ($1, 'Hold times', '{}')`, org)
	super(`insert into app.users (id, email_bidx, email_enc) values ($1, sha256('hold-time-admin'::bytea), '\x00')`, admin)
	super(`insert into app.memberships (org_id, user_id, role) values ($1, $2, 'admin')`, org, admin)
	sum := sha256.Sum256([]byte("hold-time-session"))
	super(`insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, assurance, amr,
	         authenticated_at) values ($1, $2, $3, 60, now() + interval '50 minutes', 2, '{email,totp}', now())`,
		org, admin, sum[:])
	cred := postgres.Credential{Hash: hex.EncodeToString(sum[:])}

	for _, c := range []struct{ name, at string }{
		{"a release dated a year back", "now() - interval '1 year'"},
		{"a release dated a year ahead", "now() + interval '1 year'"},
	} {
		hold := uuid.NewString()
		super(`insert into app.legal_holds (org_id, id, reason_enc, created_by) values ($1, $2, '\x01', $3)`, org, hold, admin)
		var txNow time.Time
		err := env.App.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `select now()`).Scan(&txNow); err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, fmt.Sprintf(`update app.legal_holds set released_at = %s,
			    released_by = (select private.uid()), release_note_enc = '\x02' where id = $1 and released_at is null`, c.at), hold)
			if err == nil && tag.RowsAffected() != 1 {
				err = fmt.Errorf("%d rows released", tag.RowsAffected())
			}
			return err
		})
		if err != nil {
			t.Fatalf("%s: a fresh admin's release: %v", c.name, err)
		}
		var released time.Time
		if err := env.Super.Pool.QueryRow(ctx, `select released_at from app.legal_holds where id = $1`, hold).
			Scan(&released); err != nil {
			t.Fatal(err)
		}
		if !released.Equal(txNow) {
			t.Errorf("%s: released_at %s, want the releasing transaction's time %s", c.name,
				released.UTC().Format(time.RFC3339), txNow.UTC().Format(time.RFC3339))
		}
	}

	// The operator's statement (no credential) is dated by the database too.
	hold := uuid.NewString()
	super(`insert into app.legal_holds (org_id, id, reason_enc, created_by) values ($1, $2, '\x01', $3)`, org, hold, admin)
	super(`update app.legal_holds set released_at = '2001-01-01', released_by = created_by, release_note_enc = '\x03'
	        where id = $1`, hold)
	var recent bool
	if err := env.Super.Pool.QueryRow(ctx, `select released_at > now() - interval '1 minute' from app.legal_holds
	                                          where id = $1`, hold).Scan(&recent); err != nil || !recent {
		t.Errorf("the operator's release kept the date it named (%v)", err)
	}
}
