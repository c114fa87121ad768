package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/identity"
)

// TestKeptBodyRoutes: the writes that decode a body, if they have one, and
// then go to their first tenant transaction (need.ahead, every one
// routes.go marks so besides the gateway's) serve a session this process
// checked less than
// 30 s ago with its kept principal, and that transaction takes the check
// over: no full check, no check in a round trip of its own. A principal
// changed behind the server's back is found stale before any of the
// transaction's statements runs, and the request is served again after a
// full check with the body it sent: written once, or refused when the
// change took the right away; a revoked session writes nothing.
func TestKeptBodyRoutes(t *testing.T) {
	w := newWorld(t, withUnboundOrgs())
	o := w.createOrg("Kept Body")
	w.populate(o, "kbr")
	ctx := context.Background()
	var kase caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Kept claim"},
		http.StatusCreated, &kase)
	var doc docJSON
	w.do("POST", "/v1/cases/"+kase.ID.String()+"/documents", o.Lead.Token, map[string]any{"type": "mri_report",
		"description": "knee", "due_at": time.Now().Add(48 * time.Hour)}, http.StatusCreated, &doc)
	// A request deleted below, on P2's case: P1's amendment request (below)
	// keeps P1's documents from deletion (00283).
	var kase2 caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P2, "title": "Kept claim two"},
		http.StatusCreated, &kase2)
	var doomed docJSON
	w.do("POST", "/v1/cases/"+kase2.ID.String()+"/documents", o.Lead.Token, map[string]any{"type": "wage_statement"},
		http.StatusCreated, &doomed)
	var provided docJSON // a file, accepted below
	resp, b := w.upload("POST", "/v1/cases/"+kase.ID.String()+"/files", o.Lead.Token, "knee.pdf", []byte("%PDF-1.7\nknee"),
		"Ward-Document-Type", "mri_report")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, &provided); err != nil {
		t.Fatal(err)
	}
	invite, _ := w.inviteOutbox(o.Lead.Token, kase.ID.String(), "kbr-counsel@example.test", "attorney",
		[]string{"view"}, time.Now().Add(time.Hour))
	pat3 := w.addMember(o, "kbr-pat3@example.test", identity.RolePatient)
	// A second session of the lead's, which the lead ends below.
	w.operatorSignIn(o.Lead.Email, o.ID)
	var sessions struct {
		Sessions []struct {
			ID      uuid.UUID `json:"id"`
			Current bool      `json:"current"`
		} `json:"sessions"`
	}
	w.do("GET", "/v1/sessions", o.Lead.Token, nil, http.StatusOK, &sessions)
	var other uuid.UUID
	for _, s := range sessions.Sessions {
		if !s.Current {
			other = s.ID
		}
	}
	p1, p2 := "/v1/patients/"+o.P1.String(), "/v1/patients/"+o.P2.String()
	// An amendment request of P1's, which the routes below deny, dispute
	// and rebut in that order (their own principals: an admin decides and
	// rebuts, the patient disagrees).
	var amend struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", p1+"/amendments", o.PatUser.Token, map[string]any{"request": "My allergy is to peanuts, not to shellfish."},
		http.StatusCreated, &amend)
	amendPath := p1 + "/amendments/" + amend.ID.String()
	tokens := map[string]string{
		"POST /v1/patients/{id}/amendments":                             o.PatUser.Token,
		"POST /v1/patients/{id}/amendments/{amendment_id}/decision":     o.Admin.Token,
		"POST /v1/patients/{id}/amendments/{amendment_id}/disagreement": o.PatUser.Token,
		"POST /v1/patients/{id}/amendments/{amendment_id}/rebuttal":     o.Admin.Token,
	}
	caseMember := "/v1/cases/" + kase.ID.String() + "/members/" + o.Prov2.ID.String()
	entry := func(name string) map[string]any {
		return map[string]any{"kind": "food", "name": name, "observed_at": time.Now().UTC().Format(time.RFC3339)}
	}

	routes := []struct {
		pattern, path string
		body          any
		want          int
	}{
		{"POST /v1/patients", "/v1/patients", map[string]any{"name": "Kept New", "mrn": "KBR-9"}, http.StatusCreated},
		{"POST /v1/patients/search", "/v1/patients/search", map[string]any{"mrn": "KBR-9"}, http.StatusOK},
		{"PUT /v1/patients/{id}", p2, map[string]any{"name": "Patient Two", "dob": "1981-05-06", "phone": "",
			"email": "", "address": "", "mrn": "kbr-MRN-2", "identifiers": map[string]string{}}, http.StatusOK},
		{"PATCH /v1/patients/{id}", p2, map[string]any{"phone": "+1 555 0100"}, http.StatusOK},
		{"POST /v1/patients/{id}/entries", p1 + "/entries", entry("Oats"), http.StatusCreated},
		{"POST /v1/patients/{id}/amendments", p1 + "/amendments", map[string]any{"request": "Add my new address."},
			http.StatusCreated},
		{"POST /v1/patients/{id}/amendments/{amendment_id}/decision", amendPath + "/decision", map[string]any{
			"outcome": "denied", "basis": "accurate_and_complete", "statement": "The chart records the test result."},
			http.StatusOK},
		{"POST /v1/patients/{id}/amendments/{amendment_id}/disagreement", amendPath + "/disagreement",
			map[string]any{"statement": "The test was repeated elsewhere."}, http.StatusOK},
		{"POST /v1/patients/{id}/amendments/{amendment_id}/rebuttal", amendPath + "/rebuttal",
			map[string]any{"statement": "No other result reached us."}, http.StatusOK},
		{"POST /v1/cases", "/v1/cases", map[string]any{"patient_id": o.P2, "title": "Second"}, http.StatusCreated},
		{"POST /v1/cases/search", "/v1/cases/search", map[string]any{"reference": "none"}, http.StatusOK},
		{"PATCH /v1/cases/{id}", "/v1/cases/" + kase.ID.String(), map[string]any{"title": "Renamed"}, http.StatusOK},
		{"POST /v1/documents/{id}/comments", "/v1/documents/" + doc.ID.String() + "/comments",
			map[string]any{"body": "when?"}, http.StatusCreated},
		// Writes with no body, and more JSON ones.
		{"PUT /v1/patients/{id}/care-team/{user_id}", p2 + "/care-team/" + o.Prov2.ID.String(), nil, http.StatusNoContent},
		{"DELETE /v1/patients/{id}/care-team/{user_id}", p2 + "/care-team/" + o.Prov2.ID.String(), nil, http.StatusNoContent},
		{"PUT /v1/patients/{id}/users/{user_id}", p1 + "/users/" + pat3.ID.String(), nil, http.StatusNoContent},
		{"PUT /v1/cases/{id}/members/{user_id}", caseMember, map[string]any{"kind": "staff", "permissions": []string{"view"}},
			http.StatusOK},
		{"DELETE /v1/cases/{id}/members/{user_id}", caseMember, nil, http.StatusNoContent},
		{"DELETE /v1/cases/{id}/invites/{invite_id}", "/v1/cases/" + kase.ID.String() + "/invites/" + invite.String(),
			nil, http.StatusNoContent},
		{"POST /v1/cases/{id}/documents", "/v1/cases/" + kase.ID.String() + "/documents",
			map[string]any{"type": "payroll", "description": "March"}, http.StatusCreated},
		{"POST /v1/documents/{id}/accept", "/v1/documents/" + provided.ID.String() + "/accept",
			map[string]any{"version": 1}, http.StatusNoContent},
		{"DELETE /v1/documents/{id}", "/v1/documents/" + doomed.ID.String(), nil, http.StatusNoContent},
		// The lead has no passkey: refused (and the refusal audited).
		{"PATCH /v1/auth/passkeys/{id}", "/v1/auth/passkeys/" + uuid.NewString(), map[string]any{"name": "Laptop"},
			http.StatusNotFound},
		{"DELETE /v1/sessions/{id}", "/v1/sessions/" + other.String(), nil, http.StatusNoContent},
		{"POST /v1/sessions/{id}/forget-device", "/v1/sessions/" + other.String() + "/forget-device", nil, http.StatusOK},
		{"POST /v1/compliance/dsr", "/v1/compliance/dsr", map[string]any{"kind": "ccpa_know"}, http.StatusCreated},
	}

	t.Run("every such route is here", func(t *testing.T) {
		src, err := os.ReadFile("routes.go")
		if err != nil {
			t.Fatal(err)
		}
		var marked, tested []string
		for _, m := range regexp.MustCompile(`api\.route\("([A-Z]+ [^"]+)", ahead\(`).FindAllStringSubmatch(string(src), -1) {
			marked = append(marked, m[1])
		}
		for _, r := range routes {
			tested = append(tested, r.pattern)
		}
		slices.Sort(marked)
		slices.Sort(tested)
		if !slices.Equal(marked, tested) {
			t.Errorf("routes marked ahead in routes.go %v, tested here %v", marked, tested)
		}
	})

	t.Run("kept, confirmed in the first transaction", func(t *testing.T) {
		for _, tok := range []string{o.Lead.Token, o.Admin.Token, o.PatUser.Token} {
			w.do("GET", "/v1/patients", tok, nil, http.StatusOK, nil) // a full check: kept
		}
		for _, r := range routes {
			token := o.Lead.Token
			if t, ok := tokens[r.pattern]; ok {
				token = t
			}
			before := w.auth.CheckStats()
			method, _, _ := strings.Cut(r.pattern, " ")
			if resp, body := w.request(method, r.path, token, r.body); resp.StatusCode != r.want {
				t.Fatalf("%s: %d %s", r.pattern, resp.StatusCode, body)
			}
			if d := w.checksSince(before); d.Kept != 1 || d.Full != 0 || d.Alone != 0 || d.Stale != 0 {
				t.Errorf("%s with a kept session: %+v, want one kept check taken over by its transaction", r.pattern, d)
			}
		}
		// A body refused before any transaction is confirmed on its own
		// before the answer, and answered.
		before := w.auth.CheckStats()
		if resp, body := w.request("POST", p1+"/entries", o.Lead.Token, map[string]any{"kind": 1}); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("malformed entry: %d %s", resp.StatusCode, body)
		}
		if d := w.checksSince(before); d.Kept != 1 || d.Alone != 1 || d.Stale != 0 {
			t.Errorf("malformed entry with a kept session: %+v, want its check alone", d)
		}
	})

	t.Run("a kept principal the route refuses is no kept check", func(t *testing.T) {
		w.do("GET", "/v1/patients", o.Prov2.Token, nil, http.StatusOK, nil) // kept
		before := w.auth.CheckStats()
		if resp, body := w.request("POST", "/v1/patients", o.Prov2.Token, map[string]any{"name": "No", "mrn": "KBR-N"}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("a provider creates a patient: %d %s", resp.StatusCode, body)
		}
		if d := w.checksSince(before); d.Kept != 0 || d.Full != 1 {
			t.Errorf("a route refusing the kept principal: %+v, want no kept check and one full check", d)
		}
	})

	entries := func() int {
		var list struct {
			Entries []struct{} `json:"entries"`
		}
		w.do("GET", p1+"/entries", o.Admin.Token, nil, http.StatusOK, &list)
		return len(list.Entries)
	}

	t.Run("stale, served again with its body: written once", func(t *testing.T) {
		w.do("GET", "/v1/patients", o.Lead.Token, nil, http.StatusOK, nil)
		n := entries()
		// A change the database sees and the kept principal does not.
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set amr = array_append(amr, 'passkey')
			where token_hash = sha256($1::bytea)`, []byte(o.Lead.Token)); err != nil {
			t.Fatal(err)
		}
		before := w.auth.CheckStats()
		w.do("POST", p1+"/entries", o.Lead.Token, entry("Served again"), http.StatusCreated, nil)
		if d := w.checksSince(before); d.Kept != 1 || d.Stale != 1 || d.Full != 1 {
			t.Errorf("a stale kept principal: %+v, want kept, stale, then a full check", d)
		}
		if got := entries() - n; got != 1 {
			t.Errorf("%d entries written for one request served again (want 1)", got)
		}
	})

	t.Run("stale, served again: one document requested, one member granted", func(t *testing.T) {
		w.do("GET", "/v1/patients", o.Lead.Token, nil, http.StatusOK, nil)
		count := func(table string) int {
			var n int
			if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.`+table+` where case_id = $1`,
				kase.ID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		docs, members := count("documents"), count("case_members")
		for _, r := range []struct {
			method, path string
			body         any
			want         int
		}{
			{"POST", "/v1/cases/" + kase.ID.String() + "/documents", map[string]any{"type": "wage_statement"}, http.StatusCreated},
			{"PUT", "/v1/cases/" + kase.ID.String() + "/members/" + o.Prov.ID.String(),
				map[string]any{"kind": "staff", "permissions": []string{"view"}}, http.StatusOK},
		} {
			if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set amr = array_append(amr, 'passkey')
				where token_hash = sha256($1::bytea)`, []byte(o.Lead.Token)); err != nil {
				t.Fatal(err)
			}
			before := w.auth.CheckStats()
			w.do(r.method, r.path, o.Lead.Token, r.body, r.want, nil)
			if d := w.checksSince(before); d.Kept != 1 || d.Stale != 1 || d.Full != 1 {
				t.Errorf("%s %s on a stale kept principal: %+v, want kept, stale, then a full check", r.method, r.path, d)
			}
		}
		if d, m := count("documents")-docs, count("case_members")-members; d != 1 || m != 1 {
			t.Errorf("%d documents and %d case members written for one request each served again (want 1 and 1)", d, m)
		}
	})

	t.Run("stale, the right taken away: nothing written", func(t *testing.T) {
		w.do("GET", "/v1/patients", o.Lead.Token, nil, http.StatusOK, nil)
		var before struct {
			Patients []struct{} `json:"patients"`
		}
		w.do("GET", "/v1/patients", o.Admin.Token, nil, http.StatusOK, &before)
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.memberships set role = 'provider'
			where user_id = $1 and org_id = $2`, o.Lead.ID, o.ID); err != nil {
			t.Fatal(err)
		}
		resp, body := w.request("POST", "/v1/patients", o.Lead.Token, map[string]any{"name": "Never", "mrn": "KBR-X"})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("a lead demoted behind the server's back creates a patient: %d %s", resp.StatusCode, body)
		}
		var after struct {
			Patients []struct{} `json:"patients"`
		}
		w.do("GET", "/v1/patients", o.Admin.Token, nil, http.StatusOK, &after)
		if len(after.Patients) != len(before.Patients) {
			t.Errorf("patients %d then %d", len(before.Patients), len(after.Patients))
		}
	})

	t.Run("revoked: nothing written", func(t *testing.T) {
		w.do("GET", "/v1/patients", o.Prov.Token, nil, http.StatusOK, nil)
		n := entries()
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set revoked_at = now(), revoked_reason = 'logout'
			where token_hash = sha256($1::bytea)`, []byte(o.Prov.Token)); err != nil {
			t.Fatal(err)
		}
		if resp, body := w.request("POST", p1+"/entries", o.Prov.Token, entry("Revoked")); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a revoked kept session writes an entry: %d %s", resp.StatusCode, body)
		}
		if got := entries() - n; got != 0 {
			t.Errorf("%d entries written by a revoked session", got)
		}
	})

	t.Run("revoked: nothing deleted", func(t *testing.T) {
		lead2 := w.addMember(o, "kbr-lead2@example.test", identity.RoleLead)
		w.do("GET", "/v1/patients", lead2.Token, nil, http.StatusOK, nil) // kept
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set revoked_at = now(), revoked_reason = 'logout'
			where token_hash = sha256($1::bytea)`, []byte(lead2.Token)); err != nil {
			t.Fatal(err)
		}
		before := w.auth.CheckStats()
		if resp, body := w.request("DELETE", p1+"/care-team/"+o.Prov.ID.String(), lead2.Token, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a revoked kept session takes a provider off a care team: %d %s", resp.StatusCode, body)
		}
		if d := w.checksSince(before); d.Kept != 1 || d.Stale != 1 || d.Full != 1 {
			t.Errorf("a revoked kept session's delete: %+v, want kept, stale, then a full check", d)
		}
		var n int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.care_team
			where patient_id = $1 and provider_id = $2`, o.P1, o.Prov.ID).Scan(&n); err != nil || n != 1 {
			t.Errorf("the provider's place on the care team: %d rows (%v), want 1", n, err)
		}
	})
}
