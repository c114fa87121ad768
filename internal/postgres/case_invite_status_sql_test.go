package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// Migration 00192: an invitation's landing page and its acceptance read
// one status test. Every state an invitation can be in (and a few at once,
// where the order decides) reaches the same verdict through both: the
// landing says what the acceptance then does (closed for the acceptance's
// case_closed), the landing spends nothing, and the acceptance's denied
// event names the same reason.
func TestCaseInviteStatusOneVerdict(t *testing.T) {
	env := pgtest.New(t)
	s := seedRLS(t, env)
	ctx := context.Background()
	cases := []struct {
		name, kase, by, set string
		want                string // the acceptance's status
	}{
		{"pending, from an admin", "C1", "a_admin", "", "ok"},
		{"pending, from a provider of the patient's care team", "C1", "a_prov1", "", "ok"},
		{"used", "C1", "a_admin", "accepted_at = now()", "used"},
		{"revoked", "C1", "a_admin", "revoked_at = now()", "revoked"},
		{"expired", "C1", "a_admin", "expires_at = now() - interval '1 second'", "expired"},
		{"access ended", "C1", "a_admin", "access_expires_at = now() - interval '1 second'", "expired"},
		{"its author left the org", "C1", "a_gone", "", "revoked"},
		{"its author is off the care team", "C1", "a_prov0", "", "revoked"},
		{"its case is closed", "C3", "a_admin", "", "case_closed"},
		{"used, its case closed", "C3", "a_admin", "accepted_at = now()", "used"},
		{"revoked and expired", "C1", "a_admin", "revoked_at = now(), expires_at = now() - interval '1 second'", "revoked"},
		{"expired, its case closed", "C3", "a_admin", "expires_at = now() - interval '1 second'", "expired"},
		{"its author left, its case closed", "C3", "a_gone", "", "revoked"},
	}
	anonymous := func(q string, args ...any) (string, error) {
		var out string
		err := env.App.InTenantTx(ctx, postgres.Credential{}, func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, q, args...).Scan(&out)
		})
		return out, err
	}
	// The invitations, written before C3 is closed (a closed case takes no
	// new invitation); C1 stays open.
	ids := make([]string, len(cases))
	for n, c := range cases {
		token := "status." + c.name
		if err := env.Super.Pool.QueryRow(ctx, `insert into app.case_invites (org_id, case_id, email_bidx, email_enc,
			      invitee_id, token_hash, kind, permissions, access_expires_at, expires_at, created_by)
			    values ($1, $2, $3, $4, gen_random_uuid(), sha256(convert_to($5, 'UTF8')), 'attorney', '{view}',
			            now() + interval '30 days', now() + interval '7 days', $6)
			    returning id`, s.must("A"), s.must(c.kase), rlsRandom(32), rlsRandom(40), token, s.must(c.by)).Scan(&ids[n]); err != nil {
			t.Fatal(err)
		}
		if c.set != "" {
			if _, err := env.Super.Pool.Exec(ctx, `update app.case_invites set `+c.set+` where id = $1`, ids[n]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := env.Super.Pool.Exec(ctx, `update app.cases set status = 'closed', closed_at = now() where id = $1`,
		s.must("C3")); err != nil {
		t.Fatal(err)
	}
	for n, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			token, id := "status."+c.name, ids[n]
			wantLanding := c.want
			if wantLanding == "case_closed" {
				wantLanding = "closed"
			}
			for range 2 { // the landing spends nothing: twice the same
				landing, err := anonymous(`select status from app.case_invite_landing(sha256(convert_to($1, 'UTF8')))`, token)
				if err != nil || landing != wantLanding {
					t.Fatalf("landing: %q (%v), want %q", landing, err, wantLanding)
				}
			}
			accepted, err := anonymous(`select status from app.accept_case_invite(sha256(convert_to($1, 'UTF8')), $2)`,
				token, rlsRandom(32))
			if err != nil || accepted != c.want {
				t.Fatalf("acceptance: %q (%v), want %q (the landing said %q)", accepted, err, c.want, wantLanding)
			}
			var outcome, reason string
			if err := env.Super.Pool.QueryRow(ctx, `select outcome, coalesce(details->>'reason', '') from audit.events
			    where action = 'case.invite.accept' and object_id = $1`, id).Scan(&outcome, &reason); err != nil {
				t.Fatalf("the acceptance's event: %v", err)
			}
			if c.want == "ok" {
				if outcome != "success" {
					t.Errorf("event: %s, want success", outcome)
				}
				// accepted now: the landing says used, as the acceptance would
				if landing, err := anonymous(`select status from app.case_invite_landing(sha256(convert_to($1, 'UTF8')))`,
					token); err != nil || landing != "used" {
					t.Errorf("landing after the acceptance: %q (%v), want used", landing, err)
				}
			} else if outcome != "denied" || reason != c.want {
				t.Errorf("event: %s %q, want denied %q", outcome, reason, c.want)
			}
		})
	}
}
