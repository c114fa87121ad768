package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/sso"
)

// ssoDomainOrg is an org with an OIDC connection to an evil OP that
// trusts the amr mfa (AAL2), domain verified by DNS for it, and boss, an
// admin on that domain.
func ssoDomainOrg(t *testing.T, w *world, dns *dnsServer, name, domain string) (*org, *evilOP, sso.Connection, *member) {
	t.Helper()
	a := w.createOrg(name)
	op := startEvilOP(t, "at-"+domain, "at-secret-12345")
	conn := w.createConnection(a, map[string]any{"name": "IdP", "issuer": op.issuer, "client_id": "at-" + domain,
		"client_secret": "at-secret-12345", "signing_algs": []string{"ES256"}, "trusted_amr": []string{"mfa"}})
	verifyDomain(t, w, dns, a, domain, conn.ID.String())
	boss := w.addMember(a, "boss@"+domain, identity.RoleAdmin)
	return a, op, conn, boss
}

// verifyDomain claims domain for conn and verifies it by DNS.
func verifyDomain(t *testing.T, w *world, dns *dnsServer, a *org, domain, conn string) {
	t.Helper()
	var claim sso.Domain
	w.do("POST", "/v1/sso/domains", a.Admin.Token, map[string]any{"domain": domain, "connection_id": conn},
		http.StatusCreated, &claim)
	dns.set(claim.TXTName, claim.TXTValue)
	w.do("POST", "/v1/sso/domains/"+domain+"/verify", a.Admin.Token, nil, http.StatusOK, nil)
}

// sessionAuthTime reads the session's authenticated_at (as superuser).
func (w *world) sessionAuthTime(t *testing.T, token string) time.Time {
	t.Helper()
	var me struct {
		SessionID string `json:"session_id"`
	}
	w.do("GET", "/v1/me", token, nil, http.StatusOK, &me)
	var at time.Time
	if err := w.env.Super.Pool.QueryRow(t.Context(), `select authenticated_at from app.sessions where id = $1`,
		me.SessionID).Scan(&at); err != nil {
		t.Fatal(err)
	}
	return at
}

// TestSSOAuthTime: Ward asks the IdP for max_age=600 (its step-up window)
// and takes an SSO session's authentication time from the ID token's
// auth_time, never later than now. An AAL2 sign-in the IdP answered from
// its own ten-hour-old session, or one whose time it does not name, is no
// fresh factor: the step-up routes answer 403 step_up_required. A recent
// one (or one "in the future") passes them.
func TestSSOAuthTime(t *testing.T) {
	dns := startDNS(t)
	w := newWorld(t, withUnboundOrgs(), withSSOConfig(func(c *sso.Config) { c.Resolver = dns.resolver() }))
	a, op, conn, boss := ssoDomainOrg(t, w, dns, "Auth Time Org", "authtime.test")
	now := time.Now()
	stale, recent, ahead := now.Add(-10*time.Hour).Unix(), now.Add(-time.Minute).Unix(), now.Add(time.Hour).Unix()
	for i, c := range []struct {
		name     string
		authTime any // the ID token's auth_time; nil: none
		want     func(at time.Time) bool
		stepUp   int
	}{
		{"ten hours ago", stale, func(at time.Time) bool { return at.Unix() == stale }, http.StatusForbidden},
		{"not named", nil, func(at time.Time) bool { return at.Equal(time.Unix(0, 0)) }, http.StatusForbidden},
		{"eleven minutes ago", now.Add(-11 * time.Minute).Unix(),
			func(at time.Time) bool { return at.Unix() == now.Add(-11*time.Minute).Unix() }, http.StatusForbidden},
		{"a minute ago", recent, func(at time.Time) bool { return at.Unix() == recent }, http.StatusCreated},
		{"a minute ago, with a fraction", float64(recent) + 0.5,
			func(at time.Time) bool { return at.Unix() == recent }, http.StatusCreated},
		{"an hour ahead", ahead, func(at time.Time) bool { return !at.After(time.Now()) && time.Since(at) < time.Minute },
			http.StatusCreated},
	} {
		t.Run(c.name, func(t *testing.T) {
			op.set(func(op *evilOP) {
				op.sub, op.email, op.amr, op.extra = "boss-1", boss.Email, []string{"mfa"}, nil
				if c.authTime != nil {
					op.extra = map[string]any{"auth_time": c.authTime}
				}
			})
			b, resp, body := w.ssoSignIn(t, a, conn.ID.String())
			if resp.StatusCode != http.StatusSeeOther || b.session() == "" {
				t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
			}
			op.mu.Lock()
			q := op.authQuery
			op.mu.Unlock()
			if q.Get("max_age") != "600" {
				t.Errorf("authorization request without max_age=600: %v", q)
			}
			var me struct {
				AAL     int     `json:"aal"`
				Pending *string `json:"pending"`
			}
			w.do("GET", "/v1/me", b.session(), nil, http.StatusOK, &me)
			if me.AAL != 2 || me.Pending != nil {
				t.Fatalf("a trusted amr gives a full AAL2 session whatever its time: %+v", me)
			}
			if at := w.sessionAuthTime(t, b.session()); !c.want(at) {
				t.Errorf("authenticated_at %s for auth_time %v", at.UTC().Format(time.RFC3339Nano), c.authTime)
			}
			resp, body = w.request("POST", "/v1/scim/tokens", b.session(), map[string]any{"name": fmt.Sprintf("t%d", i)})
			if resp.StatusCode != c.stepUp {
				t.Fatalf("a step-up route: %d, want %d: %s", resp.StatusCode, c.stepUp, body)
			}
			if c.stepUp == http.StatusForbidden && problemCode(t, body) != "step_up_required" {
				t.Fatalf("a step-up route: %s", body)
			}
		})
	}
	// The sign-in event names the IdP's time and the one the database took.
	var idp, taken string
	if err := w.env.Super.Pool.QueryRow(t.Context(), `select coalesce(details->>'idp_auth_time', ''), details->>'authenticated_at'
	    from audit.events where org_id = $1 and action = 'auth.signin' and outcome = 'success'
	     and details->>'method' = 'sso' order by at desc limit 1`, a.ID).Scan(&idp, &taken); err != nil {
		t.Fatal(err)
	}
	if idp == "" || taken == "" || idp == taken {
		t.Fatalf("auth.signin details idp_auth_time %q authenticated_at %q (the IdP's time is in the future)", idp, taken)
	}
}

// TestSAMLAuthnInstant: a SAML session's authentication time is the
// assertion's AuthnInstant. A fresh login at the IdP passes the step-up
// routes (with an AuthnContextClassRef the connection trusts); the same
// browser's next sign-in, which the IdP answers from its session opened
// ten hours earlier (no login form), does not.
func TestSAMLAuthnInstant(t *testing.T) {
	dns := startDNS(t)
	w := newWorld(t, withUnboundOrgs(), withSSOConfig(func(c *sso.Config) { c.Resolver = dns.resolver() }))
	a := w.createOrg("SAML Instant Org")
	idp, store := samlIdPStore(t, "carol", "carol@instant.test", "hunter22")
	_, md := (&browser{t: t, c: idpClient()}).get(idp.URL + "/metadata")
	var conn sso.SAMLConnection
	w.do("POST", "/v1/sso/saml/connections", a.Admin.Token, map[string]any{"name": "samlidp", "idp_metadata": string(md),
		"trusted_acr": []string{"urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"}},
		http.StatusCreated, &conn)
	_, spMD := (&browser{t: t, c: idpClient()}).get(w.srv.URL + "/v1/sso/saml/" + conn.ID.String() + "/metadata")
	put(t, idp.URL+"/services/ward", string(spMD))
	verifyDomain(t, w, dns, a, "instant.test", conn.ID.String())
	w.addMember(a, "carol@instant.test", identity.RoleAdmin)
	acs := w.srv.URL + "/v1/sso/saml/" + conn.ID.String() + "/acs"
	start := w.srv.URL + "/v1/sso/start?org=" + a.ID.String() + "&connection=" + conn.ID.String()

	b := w.browser(t)
	resp, body := b.get(start)
	resp, body = b.post(acs, b.samlLogin(idp, resp, body, "carol", "hunter22"))
	if resp.StatusCode != http.StatusSeeOther || b.session() == "" {
		t.Fatalf("SAML sign-in: %d %s", resp.StatusCode, body)
	}
	if at := w.sessionAuthTime(t, b.session()); time.Since(at) > time.Minute || at.After(time.Now()) {
		t.Fatalf("a fresh IdP login: authenticated_at %s", at)
	}
	w.do("POST", "/v1/scim/tokens", b.session(), map[string]any{"name": "fresh"}, http.StatusCreated, nil)

	// The IdP's session of this browser was opened ten hours ago.
	u, _ := url.Parse(idp.URL)
	var sid string
	for _, c := range b.jar.Cookies(u) {
		if c.Name == "session" {
			sid = c.Value
		}
	}
	var sess saml.Session
	if err := store.Get("/sessions/"+sid, &sess); err != nil {
		t.Fatalf("the IdP's session %q: %v", sid, err)
	}
	opened := time.Now().Add(-10 * time.Hour).UTC().Truncate(time.Second)
	sess.CreateTime = opened
	if err := store.Put("/sessions/"+sid, &sess); err != nil {
		t.Fatal(err)
	}
	resp, body = b.get(start)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the IdP's answer from its session: %d %s", resp.StatusCode, body)
	}
	resp, body = b.post(acs, samlForm(t, body))
	if resp.StatusCode != http.StatusSeeOther || b.session() == "" {
		t.Fatalf("SAML sign-in from the IdP's session: %d %s", resp.StatusCode, body)
	}
	if at := w.sessionAuthTime(t, b.session()); !at.Equal(opened) {
		t.Fatalf("authenticated_at %s, want the AuthnInstant %s", at.UTC(), opened)
	}
	resp, body = w.request("POST", "/v1/scim/tokens", b.session(), map[string]any{"name": "stale"})
	if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "step_up_required" {
		t.Fatalf("a step-up route with a ten-hour-old IdP login: %d %s", resp.StatusCode, body)
	}
}
