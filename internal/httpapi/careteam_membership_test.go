package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/wardhq/ward/internal/identity"
)

// A provider's care-team assignments end with their membership or their
// reading role: re-admitted, or promoted back, they see none of their old
// patients until a lead assigns them again. Each removal is recorded as a
// care_team.unassign with its reason.
func TestCareTeamEndsWithMembership(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Juniper Nutrition")
	w.populate(o, "jn")
	assign := func(patient, provider string) {
		w.do("PUT", "/v1/patients/"+patient+"/care-team/"+provider, o.Lead.Token, nil, http.StatusNoContent, nil)
	}
	reads := func(token, patient string) int {
		resp, _ := w.request("GET", "/v1/patients/"+patient, token, nil)
		return resp.StatusCode
	}
	unassigned := func(reason string) int {
		var n int
		if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from audit.events
		    where org_id = $1 and action = 'care_team.unassign' and outcome = 'success' and details->>'reason' = $2`,
			o.ID, reason).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Revoked, then re-admitted with the same address.
	dana := w.addMember(o, "dana@juniper.test", identity.RoleProvider)
	assign(o.P1.String(), dana.ID.String())
	assign(o.P2.String(), dana.ID.String())
	if st := reads(dana.Token, o.P1.String()); st != http.StatusOK {
		t.Fatalf("an assigned provider reads the patient: %d", st)
	}
	w.do("DELETE", "/v1/members/"+dana.ID.String(), o.Admin.Token, nil, http.StatusNoContent, nil)
	if n := unassigned("membership_revoked"); n != 2 {
		t.Fatalf("%d care_team.unassign events for the revocation, want 2", n)
	}
	again := w.addMember(o, "dana@juniper.test", identity.RoleProvider)
	if again.ID != dana.ID {
		t.Fatalf("re-admitted as another user (%s, was %s)", again.ID, dana.ID)
	}
	for _, p := range []string{o.P1.String(), o.P2.String()} {
		if st := reads(again.Token, p); st != http.StatusNotFound {
			t.Fatalf("a re-admitted provider reads an old patient: %d", st)
		}
	}
	assign(o.P1.String(), dana.ID.String())
	if st := reads(again.Token, o.P1.String()); st != http.StatusOK {
		t.Fatalf("assigned again: %d", st)
	}

	// Made a patient, then a provider again.
	w.do("PATCH", "/v1/members/"+dana.ID.String(), o.Admin.Token, map[string]string{"role": "patient"}, http.StatusOK, nil)
	if n := unassigned("role_changed"); n != 1 {
		t.Fatalf("%d care_team.unassign events for the role change, want 1", n)
	}
	w.do("PATCH", "/v1/members/"+dana.ID.String(), o.Admin.Token, map[string]string{"role": "provider"}, http.StatusOK, nil)
	token := w.operatorSignIn("dana@juniper.test", o.ID)
	if st := reads(token, o.P1.String()); st != http.StatusNotFound {
		t.Fatalf("a provider promoted back reads the old patient: %d", st)
	}

	// A promotion keeps them: a provider made lead is still on the team.
	assign(o.P2.String(), dana.ID.String())
	w.do("PATCH", "/v1/members/"+dana.ID.String(), o.Admin.Token, map[string]string{"role": "lead"}, http.StatusOK, nil)
	var left int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from app.care_team
	    where org_id = $1 and provider_id = $2`, o.ID, dana.ID).Scan(&left); err != nil || left != 1 {
		t.Fatalf("care-team rows after a promotion to lead: %d, %v", left, err)
	}
}
