package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestClosedCaseReadOnly: a closed case is read-only for everyone until
// those who manage it reopen it (migration 00185). Every write through
// the API (a file, a version, a request, a comment, an acceptance, an
// invitation, a grant, a new title, the acceptance of a pending
// invitation) is 409 case_closed, writes nothing and is audited as
// denied; reads, downloads, revocations and deletions still work, and
// nobody is reminded of a document due on it. Reopened, every write works
// again, the pending invitation included.
func TestClosedCaseReadOnly(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Closed Claims")
	w.populate(o, "cc")
	ctx := context.Background()
	var c caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Claim"}, http.StatusCreated, &c)
	cid := c.ID.String()
	attorney := w.joined(o.Lead.Token, cid, "counsel@law-cc.test", "attorney", "view", "upload", "download", "comment")
	employer := w.joined(o.Lead.Token, cid, "hr@employer-cc.test", "employer", "view")
	pending, payerToken := w.inviteOutbox(o.Lead.Token, cid, "adjuster@payer-cc.test", "payer", []string{"view"},
		time.Now().Add(30*24*time.Hour))
	other, _ := w.inviteOutbox(o.Lead.Token, cid, "clinic@clinic-cc.test", "clinic", []string{"view"},
		time.Now().Add(30*24*time.Hour))
	var d docJSON
	w.do("POST", "/v1/cases/"+cid+"/documents", o.Lead.Token, map[string]any{"type": "wage_statement",
		"requested_from": attorney.ID, "due_at": time.Now().Add(12 * time.Hour)}, http.StatusCreated, &d)
	doc := "/v1/documents/" + d.ID.String()
	if resp, b := w.upload("PUT", doc+"/content", attorney.Token, "wages.pdf", []byte("%PDF-1.7\nwages")); resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	var extra docJSON
	resp, b := w.upload("POST", "/v1/cases/"+cid+"/files", attorney.Token, "extra.pdf", []byte("%PDF-1.7\nextra"),
		"Ward-Document-Type", "note")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	_ = json.Unmarshal(b, &extra)
	var due docJSON
	w.do("POST", "/v1/cases/"+cid+"/documents", o.Lead.Token, map[string]any{"type": "pr2_report",
		"requested_from": attorney.ID, "due_at": time.Now().Add(12 * time.Hour)}, http.StatusCreated, &due)

	counts := func() (versions, docs, comments, invites, grants int) {
		t.Helper()
		if err := w.env.Super.Pool.QueryRow(ctx, `select
		    (select count(*) from app.document_versions where case_id = $1),
		    (select count(*) from app.documents where case_id = $1),
		    (select count(*) from app.document_comments where case_id = $1),
		    (select count(*) from app.case_invites where case_id = $1),
		    (select count(*) from app.case_members where case_id = $1)`, c.ID).Scan(&versions, &docs, &comments, &invites,
			&grants); err != nil {
			t.Fatal(err)
		}
		return
	}
	type write struct {
		name string
		try  func() (*http.Response, []byte)
		want int // once reopened
	}
	api := func(method, path, token string, body any) func() (*http.Response, []byte) {
		return func() (*http.Response, []byte) { return w.request(method, path, token, body) }
	}
	version := 1
	writes := []write{
		{"a new file", func() (*http.Response, []byte) {
			return w.upload("POST", "/v1/cases/"+cid+"/files", attorney.Token, "late.pdf", []byte("%PDF-1.7\nlate"),
				"Ward-Document-Type", "note")
		}, http.StatusCreated},
		{"a new version", func() (*http.Response, []byte) {
			return w.upload("PUT", doc+"/content", attorney.Token, "wages2.pdf", []byte("%PDF-1.7\nwages, again"))
		}, http.StatusCreated},
		{"a request", api("POST", "/v1/cases/"+cid+"/documents", o.Prov.Token, map[string]any{"type": "x_ray"}),
			http.StatusCreated},
		{"a comment", api("POST", doc+"/comments", attorney.Token, map[string]any{"body": "week 12 missing"}),
			http.StatusCreated},
		{"an acceptance", func() (*http.Response, []byte) {
			return w.request("POST", doc+"/accept", o.Lead.Token, map[string]any{"version": version})
		}, http.StatusNoContent},
		{"an invitation", api("POST", "/v1/cases/"+cid+"/invites", o.Prov.Token, map[string]any{
			"email": "late@payer-cc.test", "kind": "payer", "permissions": []string{"view"},
			"access_expires_at": time.Now().Add(time.Hour)}), http.StatusCreated},
		{"a grant", api("PUT", "/v1/cases/"+cid+"/members/"+o.Prov2.ID.String(), o.Lead.Token, map[string]any{
			"kind": "staff", "permissions": []string{"view", "comment"}}), http.StatusOK},
		{"a new title", api("PATCH", "/v1/cases/"+cid, o.Prov.Token, map[string]any{"title": "Renamed"}), http.StatusOK},
		{"an invitation accepted", api("POST", "/v1/case-invites/accept", "", map[string]string{"token": payerToken}),
			http.StatusOK},
	}

	w.do("PATCH", "/v1/cases/"+cid, o.Lead.Token, map[string]any{"status": "closed"}, http.StatusOK, nil)
	v0, d0, c0, i0, g0 := counts()
	deniedBefore := w.auditCount(o.ID, "case.invite.accept", "denied")
	for _, wr := range writes {
		resp, b := wr.try()
		if resp.StatusCode != http.StatusConflict || problemCode(t, b) != "case_closed" {
			t.Errorf("%s on a closed case: %d %s; want 409 case_closed", wr.name, resp.StatusCode, b)
		}
	}
	if v, dd, cm, i, g := counts(); v != v0 || dd != d0 || cm != c0 || i != i0 || g != g0 {
		t.Errorf("the refused writes wrote: versions %d→%d, documents %d→%d, comments %d→%d, invitations %d→%d, grants %d→%d",
			v0, v, d0, dd, c0, cm, i0, i, g0, g)
	}
	// Each refusal is audited, the acceptance's by the database.
	var refusals int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events
	    where org_id = $1 and outcome = 'denied' and details->>'reason' = 'case_closed'`, o.ID).Scan(&refusals); err != nil ||
		refusals != len(writes) {
		t.Errorf("%d refusals audited with reason case_closed, want %d (%v)", refusals, len(writes), err)
	}
	if n := w.auditCount(o.ID, "case.invite.accept", "denied"); n != deniedBefore+1 {
		t.Errorf("the refused acceptance: %d denied events, want %d", n, deniedBefore+1)
	}

	// The pending invitation's landing says the case is closed and offers
	// nothing to accept (it stays pending).
	landing := "/v1/case-invites/accept?token=" + payerToken
	if resp, b := w.browse("GET", landing, http.Header{}, ""); resp.StatusCode != http.StatusConflict ||
		!strings.Contains(string(b), "This case is closed") || strings.Contains(string(b), `action="/v1/case-invites/accept"`) {
		t.Errorf("the landing of an invitation to a closed case: %d %s", resp.StatusCode, b)
	}

	// Reads and downloads by the members, revocations, a lead's deletion.
	w.do("GET", "/v1/cases/"+cid, attorney.Token, nil, http.StatusOK, nil)
	w.do("GET", doc, attorney.Token, nil, http.StatusOK, nil)
	w.do("GET", doc+"/comments", attorney.Token, nil, http.StatusOK, nil)
	if resp, got, err := w.download(doc+"/content", attorney.Token); err != nil || resp.StatusCode != http.StatusOK ||
		string(got) != "%PDF-1.7\nwages" {
		t.Errorf("download from a closed case: %v %q", err, got)
	}
	w.do("DELETE", "/v1/cases/"+cid+"/members/"+employer.ID.String(), o.Prov.Token, nil, http.StatusNoContent, nil)
	w.do("GET", "/v1/cases/"+cid, employer.Token, nil, http.StatusNotFound, nil)
	w.do("DELETE", "/v1/cases/"+cid+"/invites/"+other.String(), o.Prov.Token, nil, http.StatusNoContent, nil)
	w.do("DELETE", "/v1/documents/"+extra.ID.String(), o.Lead.Token, nil, http.StatusNoContent, nil)
	// Nobody is asked for a document of a closed case.
	if n, err := w.caseJobs.Remind(ctx); err != nil || n != 0 {
		t.Errorf("reminders on a closed case: %d %v", n, err)
	}

	// Reopened (with a new title in the same change), every write works.
	var reopened caseJSON
	w.do("PATCH", "/v1/cases/"+cid, o.Prov.Token, map[string]any{"status": "open", "title": "Claim, reopened"},
		http.StatusOK, &reopened)
	if reopened.Status != "open" || reopened.Title != "Claim, reopened" {
		t.Fatalf("reopened: %+v", reopened)
	}
	if resp, b := w.browse("GET", landing, http.Header{}, ""); resp.StatusCode != http.StatusOK ||
		!strings.Contains(string(b), `action="/v1/case-invites/accept"`) {
		t.Errorf("the landing of the invitation once the case is reopened: %d %s", resp.StatusCode, b)
	}
	version = 2 // the version the reopened case's new upload made
	for _, wr := range writes {
		if resp, b := wr.try(); resp.StatusCode != wr.want {
			t.Errorf("%s on the reopened case: %d %s; want %d", wr.name, resp.StatusCode, b, wr.want)
		}
	}
	var status string
	if err := w.env.Super.Pool.QueryRow(ctx, `select case when accepted_at is null then 'pending' else 'accepted' end
	    from app.case_invites where id = $1`, pending).Scan(&status); err != nil || status != "accepted" {
		t.Errorf("the invitation pending while the case was closed: %s (%v)", status, err)
	}
	if n, err := w.caseJobs.Remind(ctx); err != nil || n != 1 {
		t.Errorf("reminders on the reopened case: %d %v; want 1", n, err)
	}
}

// A closed case owes nothing: a document requested on it and not provided
// is pending, never overdue, while the case is closed, in the case's
// counts, in the document's status and under the list's filters (its
// reminders stop as well); reopened, it is overdue again. Before, a closed
// claim kept showing its past-due requests as overdue, which nobody could
// upload until it was reopened.
func TestClosedCaseOwesNothing(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Closed Dues")
	w.populate(o, "cd")
	var c caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Claim"}, http.StatusCreated, &c)
	cid := c.ID.String()
	employer := w.joined(o.Lead.Token, cid, "hr@employer-cd.test", "employer", "view", "upload")
	var d docJSON
	w.do("POST", "/v1/cases/"+cid+"/documents", o.Lead.Token, map[string]any{"type": "wage_statement",
		"requested_from": employer.ID, "due_at": time.Now().Add(-time.Hour)}, http.StatusCreated, &d)
	type list struct {
		Documents []docJSON
		Counts    map[string]int
	}
	check := func(when, want string) {
		t.Helper()
		other := map[string]string{"overdue": "pending", "pending": "overdue"}[want]
		var kase caseJSON
		w.do("GET", "/v1/cases/"+cid, o.Lead.Token, nil, http.StatusOK, &kase)
		if kase.Documents[want] != 1 || kase.Documents[other] != 0 {
			t.Fatalf("%s: case counts %v, want one %s", when, kase.Documents, want)
		}
		var doc docJSON
		w.do("GET", "/v1/documents/"+d.ID.String(), employer.Token, nil, http.StatusOK, &doc)
		if doc.Status != want {
			t.Fatalf("%s: the document is %q, want %s", when, doc.Status, want)
		}
		var l, none list
		w.do("GET", "/v1/cases/"+cid+"/documents?status="+want, employer.Token, nil, http.StatusOK, &l)
		w.do("GET", "/v1/cases/"+cid+"/documents?status="+other, employer.Token, nil, http.StatusOK, &none)
		if len(l.Documents) != 1 || l.Counts[want] != 1 || len(none.Documents) != 0 {
			t.Fatalf("%s: listed %s %+v, %s %+v", when, want, l, other, none)
		}
	}
	check("open", "overdue")
	w.do("PATCH", "/v1/cases/"+cid, o.Lead.Token, map[string]any{"status": "closed"}, http.StatusOK, nil)
	check("closed", "pending")
	w.do("PATCH", "/v1/cases/"+cid, o.Lead.Token, map[string]any{"status": "open"}, http.StatusOK, nil)
	check("reopened", "overdue")
}
