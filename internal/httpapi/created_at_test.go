package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/wardhq/ward/internal/scim"
	"github.com/wardhq/ward/internal/sso"
)

// TestCreationAnswersStoredTimes: a creation answers the times the
// database stored, the ones every later read shows, not the server's
// clock after the commit: a SCIM token's and an SSO connection's
// created_at, a domain claim's created_at, and a DNS verification's
// verified_at (with the claim's connection and creation time).
func TestCreationAnswersStoredTimes(t *testing.T) {
	dns := startDNS(t)
	w := newWorld(t, withUnboundOrgs(), withSSOConfig(func(c *sso.Config) { c.Resolver = dns.resolver() }))
	a := w.createOrg("Stored Times Org")

	tok := w.createSCIMToken(a, "")
	var ts struct {
		Tokens []scim.Token `json:"scim_tokens"`
	}
	w.do("GET", "/v1/scim/tokens", a.Admin.Token, nil, http.StatusOK, &ts)
	if len(ts.Tokens) != 1 || !ts.Tokens[0].CreatedAt.Equal(tok.CreatedAt) {
		t.Errorf("SCIM token created_at: %v at creation, listed %+v", tok.CreatedAt, ts.Tokens)
	}

	op := startEvilOP(t, "times-client", "times-secret-12345")
	conn := w.createConnection(a, map[string]any{"name": "IdP", "issuer": op.issuer, "client_id": "times-client",
		"client_secret": "times-secret-12345", "signing_algs": []string{"ES256"}})
	var cs struct {
		Connections []sso.Connection `json:"connections"`
	}
	w.do("GET", "/v1/sso/connections", a.Admin.Token, nil, http.StatusOK, &cs)
	if len(cs.Connections) != 1 || !cs.Connections[0].CreatedAt.Equal(conn.CreatedAt) {
		t.Errorf("SSO connection created_at: %v at creation, listed %+v", conn.CreatedAt, cs.Connections)
	}

	var claim sso.Domain
	w.do("POST", "/v1/sso/domains", a.Admin.Token, map[string]any{"domain": "times.test", "connection_id": conn.ID},
		http.StatusCreated, &claim)
	listed := func() sso.Domain {
		t.Helper()
		var ds struct {
			Domains []sso.Domain `json:"domains"`
		}
		w.do("GET", "/v1/sso/domains", a.Admin.Token, nil, http.StatusOK, &ds)
		if len(ds.Domains) != 1 {
			t.Fatalf("domains %+v", ds.Domains)
		}
		return ds.Domains[0]
	}
	if l := listed(); !l.CreatedAt.Equal(claim.CreatedAt) || l.ConnectionID != conn.ID || l.TXTValue != claim.TXTValue {
		t.Errorf("domain claim: answered %+v, listed %+v", claim, l)
	}

	dns.set(claim.TXTName, claim.TXTValue)
	var verified sso.Domain
	w.do("POST", "/v1/sso/domains/times.test/verify", a.Admin.Token, nil, http.StatusOK, &verified)
	l := listed()
	if verified.VerifiedAt == nil || l.VerifiedAt == nil || !verified.VerifiedAt.Equal(*l.VerifiedAt) ||
		verified.VerifiedBy != "dns" || !verified.CreatedAt.Equal(l.CreatedAt) || verified.ConnectionID != conn.ID {
		t.Errorf("domain verification: answered %+v, listed %+v", verified, l)
	}
}
