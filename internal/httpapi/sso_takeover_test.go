package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/sso"
)

// TestSSOTakeover: three ways an IdP could sign its holder in as someone
// else's account, each refused and audited with its reason (migration
// 00160, internal/sso). An admin's second connection to an IdP they run
// links no member on a domain verified for another connection; an address
// the org's own IdP marks email_verified false names nobody, even on its
// verified domain; a JIT connection enrols no address off the org's verified
// domain (and tells none apart), and no existing account of another org on
// it. The member's own way in still works.
func TestSSOTakeover(t *testing.T) {
	dns := startDNS(t)
	w := newWorld(t, withSSOConfig(func(c *sso.Config) { c.Resolver = dns.resolver() }))
	refused := func(t *testing.T, o *org, conn, reason string) (int, []byte) {
		t.Helper()
		b, resp, body := w.ssoSignIn(t, o, conn)
		if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "sso_no_account" || b.session() != "" {
			t.Fatalf("signed in: %d %s", resp.StatusCode, body)
		}
		var got string
		if err := w.env.Super.Pool.QueryRow(t.Context(), `select details->>'reason' from audit.events where org_id = $1
		    and action = 'auth.signin' and outcome = 'denied' order by at desc limit 1`, o.ID).Scan(&got); err != nil || got != reason {
			t.Fatalf("refused for %q, want %q (%v)", got, reason, err)
		}
		return resp.StatusCode, body
	}

	t.Run("a second connection on a verified domain", func(t *testing.T) {
		a := w.createOrg("Rogue Conn Org")
		w.addMember(a, "chief@hospital.test", identity.RoleAdmin)
		w.verifiedSSODomain(a, "hospital.test") // the org's real IdP, verified by DNS
		op := startEvilOP(t, "rogue", "rogue-secret-123")
		rogue := w.createConnection(a, map[string]any{"name": "Rogue", "issuer": op.issuer, "client_id": "rogue",
			"client_secret": "rogue-secret-123", "signing_algs": []string{"ES256"}, "trusted_amr": []string{"mfa"}})
		op.set(func(op *evilOP) { op.sub, op.email, op.amr = "anything", "chief@hospital.test", []string{"mfa"} })
		refused(t, a, rogue.ID.String(), "domain_not_verified")
	})

	t.Run("an unverified address on the verified domain", func(t *testing.T) {
		a := w.createOrg("Unverified Org")
		op := startEvilOP(t, "legit", "legit-secret-123")
		conn := w.createConnection(a, map[string]any{"name": "Legit", "issuer": op.issuer, "client_id": "legit",
			"client_secret": "legit-secret-123", "signing_algs": []string{"ES256"}})
		boss := w.addMember(a, "boss@corp.test", identity.RoleAdmin)
		var claim sso.Domain
		w.do("POST", "/v1/sso/domains", a.Admin.Token, map[string]any{"domain": "corp.test", "connection_id": conn.ID},
			http.StatusCreated, &claim)
		dns.set(claim.TXTName, claim.TXTValue)
		w.do("POST", "/v1/sso/domains/corp.test/verify", a.Admin.Token, nil, http.StatusOK, nil)
		op.set(func(op *evilOP) { op.sub, op.email, op.unverified = "insider-7", "boss@corp.test", true })
		refused(t, a, conn.ID.String(), "no_email")
		// The boss's own identity, with the address verified, links and
		// signs in through the same connection.
		op.set(func(op *evilOP) { op.sub, op.email, op.unverified = "boss-1", "boss@corp.test", false })
		b, resp, body := w.ssoSignIn(t, a, conn.ID.String())
		if resp.StatusCode != http.StatusSeeOther || b.session() == "" {
			t.Fatalf("the member's own sign-in: %d %s", resp.StatusCode, body)
		}
		var me struct {
			UserID string `json:"user_id"`
		}
		w.do("GET", "/v1/me", b.session(), nil, http.StatusOK, &me)
		if me.UserID != boss.ID.String() {
			t.Fatalf("signed in as %s, want %s", me.UserID, boss.ID)
		}
	})

	t.Run("JIT and an account of another org", func(t *testing.T) {
		a := w.createOrg("JIT A")
		other := w.createOrg("JIT B")
		w.addMember(other, "cfo@bank.test", identity.RoleAdmin)
		op := startEvilOP(t, "jit", "jit-secret-1234")
		conn := w.createConnection(a, map[string]any{"name": "JIT", "issuer": op.issuer, "client_id": "jit",
			"client_secret": "jit-secret-1234", "signing_algs": []string{"ES256"}, "jit": true, "jit_role": "lead",
			"trusted_amr": []string{"mfa"}})
		users := func() (n int) {
			t.Helper()
			if err := w.env.Super.Pool.QueryRow(t.Context(), `select count(*) from app.users`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		// Off the org's verified domains (00168): the IdP the admin runs
		// says email_verified for any address, so an address with an
		// account elsewhere and one without are refused alike, with the
		// same answer and reason, and no account is made. Before, the two
		// outcomes told the admin whether anyone's address had an account
		// on the instance.
		before := users()
		op.set(func(op *evilOP) { op.sub, op.email, op.amr = "x", "cfo@bank.test", []string{"mfa"} })
		status1, body1 := refused(t, a, conn.ID.String(), "domain_not_verified")
		op.set(func(op *evilOP) { op.sub, op.email = "y", "new.hire@bank.test" })
		status2, body2 := refused(t, a, conn.ID.String(), "domain_not_verified")
		if status1 != status2 || problemCode(t, body1) != problemCode(t, body2) {
			t.Fatalf("an address with an account and one without differ: %d %s / %d %s", status1, body1, status2, body2)
		}
		if n := users(); n != before {
			t.Fatalf("JIT off the verified domain made %d accounts", n-before)
		}
		if n := w.auditCount(a.ID, "sso.jit.create", "success"); n != 0 {
			t.Fatalf("%d JIT creations off the verified domain", n)
		}

		// On a domain the org verified for this connection: the existing
		// account of another org still joins only by invitation; a new
		// address gets its account.
		var claim sso.Domain
		w.do("POST", "/v1/sso/domains", a.Admin.Token, map[string]any{"domain": "bank.test", "connection_id": conn.ID},
			http.StatusCreated, &claim)
		dns.set(claim.TXTName, claim.TXTValue)
		w.do("POST", "/v1/sso/domains/bank.test/verify", a.Admin.Token, nil, http.StatusOK, nil)
		op.set(func(op *evilOP) { op.sub, op.email = "x", "cfo@bank.test" })
		refused(t, a, conn.ID.String(), "invite_required")
		var members int
		if err := w.env.Super.Pool.QueryRow(t.Context(), `select count(*) from app.memberships m join app.users u on u.id = m.user_id
		    where m.org_id = $1 and u.id = (select user_id from app.memberships where org_id = $2 and role = 'admin'
		      and user_id <> $3)`, a.ID, other.ID, other.Admin.ID).Scan(&members); err != nil || members != 0 {
			t.Fatalf("the other org's account joined A: %d (%v)", members, err)
		}
		op.set(func(op *evilOP) { op.sub, op.email = "y", "new.hire@bank.test" })
		b, resp, body := w.ssoSignIn(t, a, conn.ID.String())
		if resp.StatusCode != http.StatusSeeOther || b.session() == "" {
			t.Fatalf("JIT of a new address on the verified domain: %d %s", resp.StatusCode, body)
		}
		if n := w.auditCount(a.ID, "sso.jit.create", "success"); n != 1 {
			t.Fatalf("%d JIT creations", n)
		}
	})

	t.Run("a failure inside Ward after the state is taken is audited", func(t *testing.T) {
		a := w.createOrg("Broken Secret Org")
		op := startEvilOP(t, "broken", "broken-secret-12")
		conn := w.createConnection(a, map[string]any{"name": "Broken", "issuer": op.issuer, "client_id": "broken",
			"client_secret": "broken-secret-12", "signing_algs": []string{"ES256"}})
		// A client secret that no longer opens (a damaged row): Ward cannot
		// finish, and says so, but the attempt is in the log.
		if _, err := w.env.Super.Pool.Exec(t.Context(), `update app.sso_connections set client_secret_enc = '\x00deadbeef'
		    where org_id = $1 and id = $2`, a.ID, conn.ID); err != nil {
			t.Fatal(err)
		}
		op.set(func(op *evilOP) { op.sub, op.email = "z", "someone@broken.test" })
		b, resp, body := w.ssoSignIn(t, a, conn.ID.String())
		if resp.StatusCode != http.StatusInternalServerError || b.session() != "" {
			t.Fatalf("a broken connection answered %d %s", resp.StatusCode, body)
		}
		var got string
		if err := w.env.Super.Pool.QueryRow(t.Context(), `select details->>'reason' from audit.events where org_id = $1
		    and action = 'auth.signin' and outcome = 'denied' order by at desc limit 1`, a.ID).Scan(&got); err != nil || got != "internal" {
			t.Fatalf("audited reason %q, want internal (%v)", got, err)
		}
	})
}
