package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// Once an org enforces SSO on a domain it verified (migration 00128), a
// case invitation and a passkey are no way around it: a stakeholder on that
// domain loses the session an invitation gave them before, and accepting
// an invitation (sent before or after) to an address there starts no
// session (403 sso_required); a provider there loses the sessions a
// passkey gave them and a new passkey sign-in is 403 sso_required.
// Stakeholders and staff on other domains go on as before.
func TestSSOEnforcedDoors(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Enforcing Clinic")
	w.populate(o, "se")
	ctx := context.Background()
	var c caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Claim"}, http.StatusCreated, &c)
	cid := c.ID.String()
	until := time.Now().Add(30 * 24 * time.Hour)
	early := w.joined(o.Lead.Token, cid, "adjuster@hospital.test", "payer", "view")
	outsider := w.joined(o.Lead.Token, cid, "hr@employer.test", "employer", "view")
	_, pending := w.inviteOutbox(o.Lead.Token, cid, "nurse@hospital.test", "clinic", []string{"view"}, until)
	w.do("GET", "/v1/cases/"+cid, early.Token, nil, http.StatusOK, nil)
	// A provider on the domain with a passkey, signed in with it.
	prov := w.addMember(o, "surgeon@hospital.test", identity.RoleProvider)
	d := w.newDevice()
	provTok := prov.Token
	w.registerPasskey(&provTok, d, "laptop")
	passkeyTok := w.passkeySignIn(d)
	w.do("GET", "/v1/me", passkeyTok, nil, http.StatusOK, nil)

	// The org's verified domain (as DNS verification leaves it, with the
	// blind index the server gives at the claim), then enforcement.
	w.verifiedSSODomain(o, "hospital.test")
	// A member whose address's domain was never noted (written before
	// 00128, the backfill not run): enforcement is refused, saying how to
	// fix it (00130); once the backfill noted it, enforcement goes on.
	gap := uuid.New()
	if _, err := w.env.Super.Pool.Exec(ctx, `insert into app.users (id, email_bidx, email_enc)
		values ($1, sha256(convert_to($2, 'UTF8')), '\x00')`, gap, gap.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := w.env.Super.Pool.Exec(ctx, `insert into app.memberships (org_id, user_id, role)
		values ($1, $2, 'provider')`, o.ID, gap); err != nil {
		t.Fatal(err)
	}
	resp, body := w.request("PUT", "/v1/org/sso-policy", o.Admin.Token, map[string]any{"enforce_sso": true})
	if resp.StatusCode != http.StatusConflict || problemCode(t, body) != "sso_domain_gaps" || !strings.Contains(string(body), "backfill") {
		t.Fatalf("enforcing with a member's domain not noted: %d %s", resp.StatusCode, body)
	}
	if _, err := w.env.Super.Pool.Exec(ctx, `insert into app.email_domains (email_bidx, domain_bidx)
		values (sha256(convert_to($1, 'UTF8')), sha256('elsewhere'))`, gap.String()); err != nil {
		t.Fatal(err)
	}
	w.do("PUT", "/v1/org/sso-policy", o.Admin.Token, map[string]any{"enforce_sso": true}, http.StatusOK, nil)

	if resp, body := w.request("GET", "/v1/cases/"+cid, early.Token, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an invitation's session on the enforced domain after enforcement: %d %s", resp.StatusCode, body)
	}
	w.do("GET", "/v1/cases/"+cid, outsider.Token, nil, http.StatusOK, nil)
	_, after := w.inviteOutbox(o.Lead.Token, cid, "doctor@hospital.test", "clinic", []string{"view"}, until)
	// Spellings of the domain that mail software resolves to it (UTS #46:
	// an ideographic full stop, a soft hyphen, a zero-width space, a
	// trailing dot) are the domain.
	_, ideographic := w.inviteOutbox(o.Lead.Token, cid, "nurse2@hospital\u3002test", "clinic", []string{"view"}, until)
	_, softHyphen := w.inviteOutbox(o.Lead.Token, cid, "ann@hospi\u00adtal.test", "clinic", []string{"view"}, until)
	_, zeroWidth := w.inviteOutbox(o.Lead.Token, cid, "bo@hospital\u200b.test", "clinic", []string{"view"}, until)
	for name, tok := range map[string]string{"sent before": pending, "sent after": after,
		"to an ideographic full stop": ideographic, "to a soft hyphen": softHyphen, "to a zero-width space": zeroWidth} {
		s, resp, body := w.accept(tok)
		if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "sso_required" || s.Token != "" {
			t.Errorf("an invitation %s enforcement, to the enforced domain: %d %s", name, resp.StatusCode, body)
		}
	}
	w.joined(o.Lead.Token, cid, "counsel@law.test", "attorney", "view")

	for name, tok := range map[string]string{"passkey": passkeyTok, "operator link, then passkey registration": provTok} {
		if resp, body := w.request("GET", "/v1/me", tok, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("the provider's %s session after enforcement: %d %s", name, resp.StatusCode, body)
		}
	}
	opts, binder := w.signInOptions()
	resp, body = w.request("POST", "/v1/auth/passkeys/signin/finish", "", map[string]any{"binder": binder,
		"credential": json.RawMessage(virtualwebauthn.CreateAssertionResponse(d.rp, d.auth, d.cred, *opts))},
		w.signInProof("/v1/auth/passkeys/signin/finish")...)
	if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "sso_required" {
		t.Errorf("a passkey sign-in after enforcement: %d %s", resp.StatusCode, body)
	}
	// The refusals the sessions trigger made (its transaction rolled back)
	// are audited all the same, from a transaction of their own: one per
	// refused invitation and the passkey sign-in, with no address.
	for method, want := range map[string]int{"case_invitation": 5, "passkey": 1} {
		var n int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and action = 'auth.signin'
			and outcome = 'denied' and details->>'reason' = 'sso_required' and details->>'method' = $2
			and details::text not like '%@%'`, o.ID, method).Scan(&n); err != nil || n != want {
			t.Errorf("sign-ins by %s refused for SSO, audited: %d, want %d (%v)", method, n, want, err)
		}
	}
	w.do("GET", "/v1/me", o.Prov.Token, nil, http.StatusOK, nil)
}

// verifiedSSODomain gives org o an OIDC connection and the domain as DNS
// verification leaves it, with the blind index the server gives at the
// claim (enforcement itself is the org admin's PUT).
func (w *world) verifiedSSODomain(o *org, domain string) {
	w.t.Helper()
	ctx := context.Background()
	inst, err := w.keys.Instance(ctx, w.env.App)
	if err != nil {
		w.t.Fatal(err)
	}
	conn := uuid.New()
	if _, err := w.env.Super.Pool.Exec(ctx, `
		insert into app.sso_connections (org_id, id, kind, name, issuer, client_id, client_secret_enc, created_by)
		values ($1, $2, 'oidc', 'IdP', 'https://idp.example', 'ward', '\x00', $3)`, o.ID, conn, o.Admin.ID); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.env.Super.Pool.Exec(ctx, `
		insert into app.sso_domains (org_id, domain, connection_id, verified_at, verified_by, domain_bidx)
		values ($1, $2, $3, now(), 'dns', $4)`, o.ID, domain, conn,
		inst.BlindIndex(envelope.EmailDomainField, domain)); err != nil {
		w.t.Fatal(err)
	}
}
