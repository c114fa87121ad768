package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/httpapi"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/scim"
)

// A provider keeps no case or document access after leaving the patient's
// care team (a security review, MEDIUM; migration 00113): they cannot
// grant themselves a case membership, and leaving the care team revokes
// the staff grants they hold on that patient's cases.
func TestCasesOwnGrant(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Own Grant Clinic")
	w.populate(o, "kg")
	ctx := context.Background()

	var c1 caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Claim"}, http.StatusCreated, &c1)
	cid := c1.ID.String()
	resp, b := w.upload("POST", "/v1/cases/"+cid+"/files", o.Lead.Token, "mri.pdf", []byte("%PDF-1.7\nmri"),
		"Ward-Document-Type", "note")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	var d1 docJSON
	_ = json.Unmarshal(b, &d1)
	docPath := "/v1/documents/" + d1.ID.String() + "/content"
	staff := map[string]any{"kind": "staff", "permissions": []string{"view", "download", "upload", "comment"}}
	gone := func(who *member, why string) {
		t.Helper()
		for _, p := range []string{"/v1/patients/" + o.P1.String(), "/v1/cases/" + cid, docPath} {
			if resp, b := w.request("GET", p, who.Token, nil); resp.StatusCode != http.StatusNotFound &&
				resp.StatusCode != http.StatusForbidden {
				t.Fatalf("%s: GET %s: %d %s", why, p, resp.StatusCode, b)
			}
		}
	}

	// The reproduction: prov1, on P1's care team and no member of C1,
	// grants themselves staff access; then an admin takes them off the
	// care team.
	prov1 := w.addMember(o, "prov1@kg.test", identity.RoleProvider)
	w.do("PUT", "/v1/patients/"+o.P1.String()+"/care-team/"+prov1.ID.String(), o.Lead.Token, nil, http.StatusNoContent, nil)
	w.do("GET", "/v1/cases/"+cid, prov1.Token, nil, http.StatusOK, nil)
	resp, b = w.request("PUT", "/v1/cases/"+cid+"/members/"+prov1.ID.String(), prov1.Token, staff)
	if resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("self-grant: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	var p httpapi.Problem
	if err := json.Unmarshal(b, &p); err != nil || !strings.Contains(p.Detail, "their own access to a case") {
		t.Fatalf("self-grant problem: %s (%v)", b, err)
	}
	// A lead cannot either (they read every case anyway).
	if resp, b := w.request("PUT", "/v1/cases/"+cid+"/members/"+o.Lead.ID.String(), o.Lead.Token, staff); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("lead self-grant: %d %s", resp.StatusCode, b)
	}
	w.do("DELETE", "/v1/patients/"+o.P1.String()+"/care-team/"+prov1.ID.String(), o.Admin.Token, nil, http.StatusNoContent, nil)
	gone(prov1, "after leaving the care team")

	// A staff grant an admin gave a care-team provider ends when they
	// leave the care team, audited; the admin's revocation is the record.
	prov2 := w.addMember(o, "prov2@kg.test", identity.RoleProvider)
	w.do("PUT", "/v1/patients/"+o.P1.String()+"/care-team/"+prov2.ID.String(), o.Lead.Token, nil, http.StatusNoContent, nil)
	w.do("PUT", "/v1/cases/"+cid+"/members/"+prov2.ID.String(), o.Admin.Token, staff, http.StatusOK, nil)
	// They cannot widen or renew it themselves.
	if resp, b := w.request("PUT", "/v1/cases/"+cid+"/members/"+prov2.ID.String(), prov2.Token,
		map[string]any{"kind": "staff", "permissions": []string{"view"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("own grant changed: %d %s", resp.StatusCode, b)
	}
	w.do("GET", docPath, prov2.Token, nil, http.StatusOK, nil)
	w.do("DELETE", "/v1/patients/"+o.P1.String()+"/care-team/"+prov2.ID.String(), o.Admin.Token, nil, http.StatusNoContent, nil)
	gone(prov2, "a granted provider after leaving the care team")
	var revoked bool
	var audited int
	if err := w.env.Super.Pool.QueryRow(ctx, `select revoked_at is not null from app.case_members
	    where org_id = $1 and case_id = $2 and user_id = $3`, o.ID, c1.ID, prov2.ID).Scan(&revoked); err != nil || !revoked {
		t.Fatalf("the leaver's staff grant is live (%v)", err)
	}
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1
	    and action = 'case.member.set' and outcome = 'success' and object_id = $2 and case_id = $3
	    and details->>'reason' = 'care_team_removed' and actor_id = $4`, o.ID, prov2.ID, c1.ID, o.Admin.ID).Scan(&audited); err != nil || audited != 1 {
		t.Fatalf("the revocation is audited %d times (%v)", audited, err)
	}

	// An invitation its author accepts (sent to their own address) grants
	// nothing.
	_, tok := w.inviteOutbox(o.Prov.Token, cid, "kg-prov@example.test", "attorney", []string{"view", "download"},
		time.Now().Add(time.Hour))
	if _, resp, b := w.accept(tok); resp.StatusCode != http.StatusBadRequest || problemCode(t, b) != "invite_invalid" ||
		!strings.Contains(string(b), "its author") {
		t.Fatalf("own invitation accepted: %d %s", resp.StatusCode, b)
	}
	var n int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.case_members where org_id = $1 and user_id = $2`,
		o.ID, o.Prov.ID).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the author holds %d grants (%v)", n, err)
	}

	// A reference is unique per patient, not per org: a search returns
	// every case carrying it that the caller may view.
	w.do("PATCH", "/v1/cases/"+cid, o.Lead.Token, map[string]any{"reference": "WC-SHARED-1"}, http.StatusOK, nil)
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P2, "title": "Other claim",
		"reference": "WC-SHARED-1"}, http.StatusCreated, nil)
	for who, want := range map[*member]int{o.Lead: 2, o.Prov: 1, o.PatUser2: 1} {
		var found struct {
			Cases []caseJSON `json:"cases"`
		}
		w.do("POST", "/v1/cases/search", who.Token, map[string]any{"reference": "WC-SHARED-1"}, http.StatusOK, &found)
		if len(found.Cases) != want {
			t.Errorf("%s finds %d cases by reference, want %d", who.Email, len(found.Cases), want)
		}
	}
}

// A revoked member's case grants end with the membership, audited, so a
// membership revived later (the same address added again) starts with no
// case access: nobody granted it again (migration 00123).
func TestRevokedMemberLosesCaseGrants(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Revoked Grants Clinic")
	w.populate(o, "rg")
	ctx := context.Background()
	var c caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P2, "title": "Claim"}, http.StatusCreated, &c)
	cid := c.ID.String()
	back := w.addMember(o, "back@rg.test", identity.RoleProvider)
	w.do("PUT", "/v1/cases/"+cid+"/members/"+back.ID.String(), o.Admin.Token,
		map[string]any{"kind": "staff", "permissions": []string{"view", "download"}}, http.StatusOK, nil)
	w.do("GET", "/v1/cases/"+cid, back.Token, nil, http.StatusOK, nil)

	resp, b := w.request("DELETE", "/v1/members/"+back.ID.String(), o.Admin.Token, nil)
	reqID := resp.Header.Get("X-Request-Id")
	if resp.StatusCode != http.StatusNoContent || reqID == "" {
		t.Fatalf("revoking the membership: %d %q %s", resp.StatusCode, reqID, b)
	}
	liveGrants := func() int {
		t.Helper()
		var n int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.case_members
		    where org_id = $1 and user_id = $2 and revoked_at is null`, o.ID, back.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := liveGrants(); n != 0 {
		t.Fatalf("live case grants of a revoked member: %d", n)
	}
	w.integrate()
	var audited int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events e
	    where e.org_id = $1 and e.action = 'case.member.set' and e.object_id = $2 and e.case_id = $3
	      and e.details->>'reason' = 'membership_revoked'`, o.ID, back.ID, c.ID).Scan(&audited); err != nil || audited != 1 {
		t.Fatalf("revocation events: %d (%v)", audited, err)
	}
	// The trigger's event carries the request that revoked the membership.
	var req *string
	if err := w.env.Super.Pool.QueryRow(ctx, `select e.request_id from audit.events e
	    where e.org_id = $1 and e.action = 'case.member.set' and e.object_id = $2 and e.case_id = $3
	      and e.details->>'reason' = 'membership_revoked'`, o.ID, back.ID, c.ID).Scan(&req); err != nil || req == nil || *req != reqID {
		t.Fatalf("the revocation event's request id: %v, want %q (%v)", req, reqID, err)
	}

	// The same address added again: a member without the old grant.
	var r struct {
		UserID uuid.UUID `json:"user_id"`
	}
	w.do("POST", "/v1/members", o.Admin.Token, map[string]any{"email": back.Email, "role": "provider", "invite": false},
		http.StatusCreated, &r)
	if r.UserID != back.ID {
		t.Fatalf("re-added as another user: %s, was %s", r.UserID, back.ID)
	}
	again := w.operatorSignIn(back.Email, o.ID)
	if resp, b := w.request("GET", "/v1/cases/"+cid, again, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a revived member reads the case of a revoked grant: %d %s", resp.StatusCode, b)
	}
	// A grant given after the revival holds, and revoking the membership
	// again ends it too.
	w.do("PUT", "/v1/cases/"+cid+"/members/"+back.ID.String(), o.Admin.Token,
		map[string]any{"kind": "staff", "permissions": []string{"view"}}, http.StatusOK, nil)
	w.do("GET", "/v1/cases/"+cid, again, nil, http.StatusOK, nil)
	w.do("DELETE", "/v1/members/"+back.ID.String(), o.Admin.Token, nil, http.StatusNoContent, nil)
	if n := liveGrants(); n != 0 {
		t.Fatalf("live case grants after the second revocation: %d", n)
	}
}

// Credentials a member made die with their standing, whichever path takes
// it away (migration 00123): an admin made a lead loses their API keys for
// good (a key resolves only while its creator is an admin, and before, it
// came back with the role); a member the directory deactivates loses the
// SCIM tokens they made, as one an admin revokes did.
func TestRevokedStandingEndsOwnCredentials(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Standing Clinic")
	w.populate(o, "st")
	admin2 := w.addMember(o, "st-admin2@example.test", identity.RoleAdmin)
	var k auth.CreatedAPIKey
	w.do("POST", "/v1/api-keys", admin2.Token, map[string]any{"name": "ops", "scopes": []string{"members"}},
		http.StatusCreated, &k)
	w.do("GET", "/v1/members", k.Key, nil, http.StatusOK, nil)

	w.do("PATCH", "/v1/members/"+admin2.ID.String(), o.Admin.Token, map[string]any{"role": "lead"}, http.StatusOK, nil)
	if resp, b := w.request("GET", "/v1/members", k.Key, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a demoted admin's key: %d %s", resp.StatusCode, b)
	}
	w.do("PATCH", "/v1/members/"+admin2.ID.String(), o.Admin.Token, map[string]any{"role": "admin"}, http.StatusOK, nil)
	if resp, b := w.request("GET", "/v1/members", k.Key, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the key of an admin made admin again came back: %d %s", resp.StatusCode, b)
	}
	w.integrate()
	var n int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from audit.events where org_id = $1
	    and action = 'auth.api_key.revoke' and object_id = $2 and details->>'reason' = 'admin_role_removed'`,
		o.ID, k.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d revocation events for the demoted admin's key (%v)", n, err)
	}

	// The directory deactivates an admin who made a SCIM token: the token
	// dies with the membership, audited, and the directory's own token
	// (made by another admin) keeps working.
	admin3 := w.addMember(o, "st-admin3@example.test", identity.RoleAdmin)
	var own scim.CreatedToken
	w.do("POST", "/v1/scim/tokens", admin3.Token, map[string]any{"name": "theirs", "default_role": "provider"},
		http.StatusCreated, &own)
	dir := w.createSCIMToken(o, "lead").Secret
	path3 := "/scim/v2/Users/" + admin3.ID.String()
	w.scim("GET", path3, own.Secret, "", http.StatusOK, nil)
	w.scim("PATCH", path3, dir, patchActiveFalse, http.StatusOK, nil)
	w.scimError("GET", path3, own.Secret, "", http.StatusUnauthorized, "")
	w.scim("GET", path3, dir, "", http.StatusOK, nil)
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from audit.events where org_id = $1
	    and action = 'scim.token.revoke' and object_id = $2 and details->>'reason' = 'member_revoked'`,
		o.ID, own.ID).Scan(&n); err != nil || n != 1 {
		w.integrate()
		if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from audit.events where org_id = $1
		    and action = 'scim.token.revoke' and object_id = $2 and details->>'reason' = 'member_revoked'`,
			o.ID, own.ID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d revocation events for the deactivated admin's SCIM token (%v)", n, err)
		}
	}
}
