package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/wardhq/ward/internal/httpapi"
)

// TestKeptCheckAfterServerSideChanges: a principal kept from a full check
// less than 30 s ago is never what answers once the org, through the API,
// tightened its assurance policy, shortened its session lifetime, demoted
// or removed the member: the next read on a kept route answers as a full
// check would.
func TestKeptCheckAfterServerSideChanges(t *testing.T) {
	w := newWorld(t, withUnboundOrgs())
	o := w.createOrg("Kept Change Org")
	w.populate(o, "kc")
	P := "/v1/patients/" + o.P1.String()
	keep := func(token string) {
		t.Helper()
		w.do("GET", P, token, nil, http.StatusOK, nil)
		w.do("GET", P, token, nil, http.StatusOK, nil)
	}
	expect := func(token string, status int, code string) {
		t.Helper()
		for _, path := range []string{P, "/v1/patients", P + "/entries", "/v1/cases", P + "?x=1", "/v1/patients?limit=zz"} {
			resp, b := w.request("GET", path, token, nil)
			if resp.StatusCode != status || (code != "" && problemCode(t, b) != code) {
				t.Errorf("GET %s: %d %s, want %d %s", path, resp.StatusCode, b, status, code)
			}
		}
	}
	t.Run("require_mfa", func(t *testing.T) {
		prov := w.addMember(o, "kc-aal1@example.test", "provider")
		w.do("PUT", P+"/care-team/"+prov.ID.String(), o.Lead.Token, nil, http.StatusNoContent, nil)
		tok := w.signInAAL1(prov.Email, o.ID)
		keep(tok)
		w.do("PUT", "/v1/org/assurance-policy", o.Admin.Token, map[string]bool{"require_mfa": true, "require_passkey": false}, http.StatusOK, nil)
		expect(tok, http.StatusUnauthorized, "session_revoked") // tightening ends the sessions below the bar
		w.do("PUT", "/v1/org/assurance-policy", o.Admin.Token, map[string]bool{"require_mfa": false, "require_passkey": false}, http.StatusOK, nil)
	})
	t.Run("demoted", func(t *testing.T) {
		keep(o.Lead.Token)
		w.do("PATCH", "/v1/members/"+o.Lead.ID.String(), o.Admin.Token, map[string]any{"role": "patient"}, http.StatusOK, nil)
		resp, b := w.request("GET", P, o.Lead.Token, nil)
		if resp.StatusCode == http.StatusOK {
			t.Errorf("a demoted lead still reads the record: %s", b)
		}
	})
	t.Run("removed", func(t *testing.T) {
		keep(o.Prov.Token)
		w.do("DELETE", "/v1/members/"+o.Prov.ID.String(), o.Admin.Token, nil, http.StatusNoContent, nil)
		expect(o.Prov.Token, http.StatusUnauthorized, "")
	})
	t.Run("logged out", func(t *testing.T) {
		keep(o.PatUser.Token)
		w.do("POST", "/v1/auth/logout", o.PatUser.Token, nil, http.StatusNoContent, nil)
		expect(o.PatUser.Token, http.StatusUnauthorized, "")
	})
}

// TestKeptCheckBeforeRateLimit: a request served with a kept principal
// whose user has run out of requests is not answered 429 on the kept
// principal's word: the deferred check runs first, so a session revoked
// behind the server's back gets its 401 (and the kept principal is
// forgotten), as on a full check, which refuses the credential before it
// counts anything.
func TestKeptCheckBeforeRateLimit(t *testing.T) {
	w := newWorld(t, withUnboundOrgs(), withAPIConfig(func(c *httpapi.Config) { c.RateLimit = 0.01; c.RateBurst = 40 }))
	o := w.createOrg("Kept Limit Org")
	w.populate(o, "kl")
	ctx := context.Background()
	w.do("GET", "/v1/patients", o.Lead.Token, nil, http.StatusOK, nil) // full check: kept
	// Run the lead's bucket dry (on a route a full check serves).
	for i := 0; ; i++ {
		resp, _ := w.request("GET", "/v1/me", o.Lead.Token, nil)
		if resp.StatusCode == http.StatusTooManyRequests {
			break
		}
		if i > 100 {
			t.Fatal("never limited")
		}
	}
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set revoked_at = now(), revoked_reason = 'logout'
		where token_hash = sha256($1::bytea)`, []byte(o.Lead.Token)); err != nil {
		t.Fatal(err)
	}
	// The full-check route refuses the revoked session first.
	if resp, b := w.request("GET", "/v1/me", o.Lead.Token, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /v1/me with a revoked session: %d %s", resp.StatusCode, b)
	}
	before := w.auth.CheckStats()
	for range 2 {
		resp, b := w.request("GET", "/v1/patients", o.Lead.Token, nil)
		if resp.StatusCode != http.StatusUnauthorized || problemCode(t, b) != "session_revoked" {
			t.Fatalf("GET /v1/patients with a revoked session, kept principal, no requests left: %d %s", resp.StatusCode, b)
		}
	}
	if d := w.auth.CheckStats(); d.Stale-before.Stale != 1 {
		t.Fatalf("the kept principal was found stale %d times, want once (then forgotten)", d.Stale-before.Stale)
	}

	// A principal changed behind the server's back but live is still
	// limited: the full check that answers for it does not let it through.
	w.do("GET", "/v1/patients", o.Prov.Token, nil, http.StatusOK, nil) // kept
	for i := 0; ; i++ {
		if resp, _ := w.request("GET", "/v1/me", o.Prov.Token, nil); resp.StatusCode == http.StatusTooManyRequests {
			break
		}
		if i > 100 {
			t.Fatal("never limited")
		}
	}
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.memberships set role = 'lead' where org_id = $1 and user_id = $2`,
		o.ID, o.Prov.ID); err != nil {
		t.Fatal(err)
	}
	if resp, b := w.request("GET", "/v1/patients", o.Prov.Token, nil); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a changed but live principal without requests left: %d %s", resp.StatusCode, b)
	}
}
