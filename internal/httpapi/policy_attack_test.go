package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/audit/sink"
	"github.com/wardhq/ward/internal/identity"
)

// The database holds an admin to the step-up window for the org's audit
// sinks and legal holds as it does for every other admin change (the
// policies, members, API keys, SCIM tokens, a sink's deletion, a hold's
// release): an admin session whose second factor is more than 10 minutes
// old creates no sink, switches none off (which silences the org's SIEM
// stream), rotates no webhook secret (the SIEM then rejects what it is
// sent), renames none, and places no hold, even when a statement bound to
// it reaches the table past the server's guard. The same statements after
// a step-up each change one row.
func TestAdminChangesRefusedByDatabaseWithoutStepUp(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Stale Factor Clinic")
	w.populate(o, "sfc")
	ctx := context.Background()
	var live struct {
		Sink sink.Sink `json:"sink"`
	}
	w.do("POST", "/v1/audit/sinks", o.Admin.Token, map[string]any{"kind": "webhook", "name": "siem",
		"endpoint": "https://siem.example/intake"}, http.StatusCreated, &live)

	dana := w.addMember(o, "stale-factor-dana@example.test", identity.RoleAdmin)
	stale := func(minutes int) {
		t.Helper()
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set authenticated_at = now() - make_interval(mins => $2)
		    where user_id = $1`, dana.ID, minutes); err != nil {
			t.Fatal(err)
		}
	}
	stmts := []struct {
		what, sql string
		args      []any
	}{
		{"create", `insert into app.audit_sinks (org_id, kind, name, endpoint) values ($1, 'syslog', 'stale', 'elsewhere.example:6514')`,
			[]any{o.ID}},
		{"disable", `update app.audit_sinks set enabled = false where id = $1`, []any{live.Sink.ID}},
		{"rotate", `update app.audit_sinks set prev_secret_enc = secret_enc, prev_expires_at = now() + interval '1 hour',
		    secret_enc = '\x00'::bytea where id = $1`, []any{live.Sink.ID}},
		{"rename", `update app.audit_sinks set name = 'renamed' where id = $1`, []any{live.Sink.ID}},
		{"hold", `insert into app.legal_holds (org_id, reason_enc, created_by) values ($1, '\x01'::bytea, $2)`, []any{o.ID, dana.ID}},
	}
	run := func(sql string, args []any) (int64, error) {
		var n int64
		err := w.env.App.InTenantTx(ctx, w.cred(dana.Token), func(ctx context.Context, tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, sql, args...)
			n = tag.RowsAffected()
			return err
		})
		return n, err
	}
	stale(11)
	for _, s := range stmts {
		n, err := run(s.sql, s.args)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" || pe.Hint != "step_up_required" {
			t.Errorf("%s by an admin who stepped up 11 minutes ago: %d rows, %v; want 42501 step_up_required", s.what, n, err)
		}
	}
	var sinks, enabled, renamed, holds int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*), count(*) filter (where enabled), count(*) filter (where name = 'renamed'),
	    (select count(*) from app.legal_holds h where h.org_id = $1) from app.audit_sinks where org_id = $1`, o.ID).Scan(&sinks,
		&enabled, &renamed, &holds); err != nil || sinks != 1 || enabled != 1 || renamed != 0 || holds != 0 {
		t.Fatalf("after the stale admin's statements: %d sinks, %d enabled, %d renamed, %d holds (%v); want 1, 1, 0, 0",
			sinks, enabled, renamed, holds, err)
	}
	stale(0)
	for _, s := range stmts {
		if n, err := run(s.sql, s.args); err != nil || n != 1 {
			t.Errorf("%s after a step-up: %d rows, %v", s.what, n, err)
		}
	}
}

// The risk threshold is switched off only by asking for it: a PUT whose
// body does not name risk_threshold (an empty object, a client that
// dropped the field) is 400 and the threshold stays, as the assurance
// policy's body must name both its fields; so is a console post without
// the field, which the page's form always sends. null, and the form's
// empty field, still record scores only; a threshold that is no whole
// number is refused.
func TestRiskPolicyOffOnlyWhenAsked(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Risk Omission Clinic")
	w.populate(o, "rsk")
	threshold := func() *int {
		t.Helper()
		var out struct {
			Threshold *int `json:"risk_threshold"`
		}
		w.do("GET", "/v1/org/risk-policy", o.Admin.Token, nil, http.StatusOK, &out)
		return out.Threshold
	}
	w.do("PUT", "/v1/org/risk-policy", o.Admin.Token, map[string]any{"risk_threshold": 40}, http.StatusOK, nil)
	for _, body := range []any{map[string]any{}, map[string]any{"risk_threshold": "40"}, map[string]any{"risk_threshold": 40.5},
		map[string]any{"risk_threshold": 1 << 40}} {
		if resp, b := w.request("PUT", "/v1/org/risk-policy", o.Admin.Token, body); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("PUT %v: %d %s, want 400", body, resp.StatusCode, b)
		}
	}
	if got := threshold(); got == nil || *got != 40 {
		t.Fatalf("after the refused bodies the threshold is %v, want 40", got)
	}
	adm, _ := w.consoleAdmin(o.Admin.Email)
	if resp, body := w.consolePage("POST", "/policies/risk", adm, url.Values{}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a console post without the field: %d %s", resp.StatusCode, body)
	}
	if got := threshold(); got == nil || *got != 40 {
		t.Fatalf("after the console post without the field the threshold is %v, want 40", got)
	}
	if resp, body := w.consolePage("POST", "/policies/risk", adm, url.Values{"risk_threshold": {""}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the form's empty field: %d %s", resp.StatusCode, body)
	}
	if got := threshold(); got != nil {
		t.Fatalf("after the form's empty field the threshold is %v, want null", *got)
	}
	w.do("PUT", "/v1/org/risk-policy", o.Admin.Token, map[string]any{"risk_threshold": 40}, http.StatusOK, nil)
	w.do("PUT", "/v1/org/risk-policy", o.Admin.Token, map[string]any{"risk_threshold": nil}, http.StatusOK, nil)
	if got := threshold(); got != nil {
		t.Fatalf("after an explicit null the threshold is %v, want null", *got)
	}
}

// SSO enforcement, likewise, is switched off only by asking for it: a PUT
// whose body does not name enforce_sso is 400 and enforcement stays on;
// false switches it off.
func TestSSOPolicyOffOnlyWhenAsked(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("SSO Omission Clinic")
	w.verifiedSSODomain(o, "omission.test")
	enforced := func() bool {
		t.Helper()
		var out struct {
			EnforceSSO bool `json:"enforce_sso"`
		}
		w.do("GET", "/v1/org/sso-policy", o.Admin.Token, nil, http.StatusOK, &out)
		return out.EnforceSSO
	}
	w.do("PUT", "/v1/org/sso-policy", o.Admin.Token, map[string]any{"enforce_sso": true}, http.StatusOK, nil)
	for _, body := range []any{map[string]any{}, map[string]any{"enforce_sso": nil}} {
		if resp, b := w.request("PUT", "/v1/org/sso-policy", o.Admin.Token, body); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("PUT %v: %d %s, want 400", body, resp.StatusCode, b)
		}
	}
	if !enforced() {
		t.Fatal("a body without enforce_sso switched SSO enforcement off")
	}
	w.do("PUT", "/v1/org/sso-policy", o.Admin.Token, map[string]any{"enforce_sso": false}, http.StatusOK, nil)
	if enforced() {
		t.Fatal("enforce_sso false left enforcement on")
	}
}
