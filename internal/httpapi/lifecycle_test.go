package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/scim"
)

// What a member holds ends with their standing (migration 00123; an
// attacker's review of the privilege lifecycle): a demoted admin's SCIM
// token (it could make them admin again through a mapped group), a
// provider-made-patient's staff case grants, the invitations pending for a
// revoked member, their factors and unused links. The directory may still
// deactivate the person who made the token it uses, and keeps that token.
func TestStandingLifecycle(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Lifecycle Clinic")
	w.populate(o, "lc")
	ctx := context.Background()
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := w.env.Super.Pool.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("a demoted admin's SCIM token ends", func(t *testing.T) {
		admin2 := w.addMember(o, "lc-admin2@example.test", identity.RoleAdmin)
		var tok scim.CreatedToken
		w.do("POST", "/v1/scim/tokens", admin2.Token, map[string]any{"name": "theirs", "default_role": "provider"},
			http.StatusCreated, &tok)
		w.scim("GET", "/scim/v2/Users", tok.Secret, "", http.StatusOK, nil)
		w.do("PATCH", "/v1/members/"+admin2.ID.String(), o.Admin.Token, map[string]any{"role": "provider"}, http.StatusOK, nil)
		w.scimError("GET", "/scim/v2/Users", tok.Secret, "", http.StatusUnauthorized, "")
		w.integrate()
		if n := count(`select count(*) from audit.events where org_id = $1 and action = 'scim.token.revoke'
		    and object_id = $2 and details->>'reason' = 'admin_role_removed'`, o.ID, tok.ID); n != 1 {
			t.Fatalf("%d revocation events for the demoted admin's SCIM token", n)
		}
	})

	t.Run("the directory deactivates the maker of its own token", func(t *testing.T) {
		admin3 := w.addMember(o, "lc-admin3@example.test", identity.RoleAdmin)
		var own, other scim.CreatedToken
		w.do("POST", "/v1/scim/tokens", admin3.Token, map[string]any{"name": "directory", "default_role": "provider"},
			http.StatusCreated, &own)
		w.do("POST", "/v1/scim/tokens", admin3.Token, map[string]any{"name": "spare", "default_role": "provider"},
			http.StatusCreated, &other)
		path := "/scim/v2/Users/" + admin3.ID.String()
		w.scim("PATCH", path, own.Secret, patchActiveFalse, http.StatusOK, nil)
		if n := count(`select count(*) from app.memberships where org_id = $1 and user_id = $2 and revoked_at is not null`,
			o.ID, admin3.ID); n != 1 {
			t.Fatal("the directory's deactivation of its token's maker did not hold")
		}
		// The token in use goes on; the maker's other token ends.
		w.scim("GET", "/scim/v2/Users", own.Secret, "", http.StatusOK, nil)
		w.scimError("GET", "/scim/v2/Users", other.Secret, "", http.StatusUnauthorized, "")
	})

	t.Run("a provider made a patient loses their staff case grants", func(t *testing.T) {
		var c caseJSON
		w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P2, "title": "Claim"}, http.StatusCreated, &c)
		prov := w.addMember(o, "lc-prov3@example.test", identity.RoleProvider)
		w.do("PUT", "/v1/cases/"+c.ID.String()+"/members/"+prov.ID.String(), o.Admin.Token,
			map[string]any{"kind": "staff", "permissions": []string{"view", "download"}}, http.StatusOK, nil)
		w.do("GET", "/v1/cases/"+c.ID.String(), prov.Token, nil, http.StatusOK, nil)
		w.do("PATCH", "/v1/members/"+prov.ID.String(), o.Admin.Token, map[string]any{"role": "patient"}, http.StatusOK, nil)
		again := w.operatorSignIn(prov.Email, o.ID)
		if resp, b := w.request("GET", "/v1/cases/"+c.ID.String(), again, nil); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("a provider made a patient reads a case through a staff grant: %d %s", resp.StatusCode, b)
		}
		if n := count(`select count(*) from app.case_members where org_id = $1 and user_id = $2 and revoked_at is null`,
			o.ID, prov.ID); n != 0 {
			t.Fatalf("%d live staff grants of a provider made a patient", n)
		}
	})

	t.Run("revocation ends invitations pending for the member, factors and links", func(t *testing.T) {
		var c1, c2 caseJSON
		w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Claim 1"}, http.StatusCreated, &c1)
		w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P2, "title": "Claim 2"}, http.StatusCreated, &c2)
		until := time.Now().Add(30 * 24 * time.Hour)
		_, first := w.inviteOutbox(o.Admin.Token, c1.ID.String(), "att@law.test", "attorney", []string{"view"}, until)
		_, second := w.inviteOutbox(o.Admin.Token, c2.ID.String(), "att@law.test", "attorney", []string{"view"}, until)
		att, resp, b := w.accept(first)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("accept: %d %s", resp.StatusCode, b)
		}
		// Factors and an unused link, as enrolment and a link request leave
		// them.
		if _, err := w.env.Super.Pool.Exec(ctx, `
		    insert into app.recovery_codes (org_id, user_id, code_hash) values ($1, $2, sha256('code-1'::bytea));
		    `, o.ID, att.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.env.Super.Pool.Exec(ctx, `insert into app.magic_links (org_id, user_id, token_hash, expires_at, purpose)
		    values ($1, $2, sha256('link-1'::bytea), now() + interval '1 hour', 'invite')`, o.ID, att.ID); err != nil {
			t.Fatal(err)
		}
		w.do("DELETE", "/v1/members/"+att.ID.String(), o.Admin.Token, nil, http.StatusNoContent, nil)
		if _, resp, b := w.accept(second); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("an invitation pending when the admin revoked the member: %d %s", resp.StatusCode, b)
		}
		if n := count(`select count(*) from app.memberships where org_id = $1 and user_id = $2 and revoked_at is null`,
			o.ID, att.ID); n != 0 {
			t.Fatal("the revoked stakeholder's membership is live again")
		}
		if n := count(`select (select count(*) from app.recovery_codes where org_id = $1 and user_id = $2)
		    + (select count(*) from app.totp_factors where org_id = $1 and user_id = $2)
		    + (select count(*) from app.passkeys where org_id = $1 and user_id = $2)
		    + (select count(*) from app.magic_links where org_id = $1 and user_id = $2 and used_at is null)`,
			o.ID, att.ID); n != 0 {
			t.Fatalf("%d factors or unused links survive the revocation", n)
		}
		// A new invitation after the revocation is the org's deliberate
		// choice, and it works.
		_, third := w.inviteOutbox(o.Admin.Token, c2.ID.String(), "att@law.test", "attorney", []string{"view"}, until)
		if _, resp, b := w.accept(third); resp.StatusCode != http.StatusOK {
			t.Fatalf("an invitation sent after the revocation: %d %s", resp.StatusCode, b)
		}
	})
}

// An admin demoted while their own member change waits for the org's lock
// does not complete it (00127): the change re-reads its caller's standing
// once it holds the lock.
func TestMemberChangeRechecksCallerAfterLock(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Race Clinic")
	w.populate(o, "rc")
	ctx := context.Background()
	admin2 := w.addMember(o, "rc-admin2@example.test", identity.RoleAdmin)

	// The demotion of admin2 holds the org's lock, as app.update_member
	// does, until the test commits it.
	tx, err := w.env.Super.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `select 1 from app.orgs where id = $1 for update`, o.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `update app.memberships set role = 'lead' where org_id = $1 and user_id = $2`,
		o.ID, admin2.ID); err != nil {
		t.Fatal(err)
	}
	// admin2 revokes a provider meanwhile: the request waits for the lock.
	done := make(chan int, 1)
	go func() {
		resp, _ := w.request("DELETE", "/v1/members/"+o.Prov2.ID.String(), admin2.Token, nil)
		done <- resp.StatusCode
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var waiting int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from pg_locks where not granted`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the member change never waited for the org's lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != http.StatusForbidden {
		t.Fatalf("a member change by an admin demoted while it waited: %d", code)
	}
	var live int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.memberships where org_id = $1 and user_id = $2
	    and revoked_at is null`, o.ID, o.Prov2.ID).Scan(&live); err != nil || live != 1 {
		t.Fatalf("the provider's membership after the refused change: %d live (%v)", live, err)
	}
}

// An admin who holds a case grant may still revoke themselves: the grant
// ends with the membership (giving one's own grant up is no gain).
func TestSelfRevocationWithCaseGrant(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Self Clinic")
	w.populate(o, "sf")
	var c caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Claim"}, http.StatusCreated, &c)
	admin2 := w.addMember(o, "sf-admin2@example.test", identity.RoleAdmin)
	w.do("PUT", "/v1/cases/"+c.ID.String()+"/members/"+admin2.ID.String(), o.Admin.Token,
		map[string]any{"kind": "staff", "permissions": []string{"view"}}, http.StatusOK, nil)
	w.do("DELETE", "/v1/members/"+admin2.ID.String(), admin2.Token, nil, http.StatusNoContent, nil)
	var live int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from app.case_members
	    where org_id = $1 and user_id = $2 and revoked_at is null`, o.ID, admin2.ID).Scan(&live); err != nil || live != 0 {
		t.Fatalf("live grants after self-revocation: %d (%v)", live, err)
	}
	// Granting or widening one's own access stays refused.
	w.do("PUT", "/v1/cases/"+c.ID.String()+"/members/"+o.Lead.ID.String(), o.Lead.Token,
		map[string]any{"kind": "staff", "permissions": []string{"view", "upload"}}, http.StatusForbidden, nil)
}
