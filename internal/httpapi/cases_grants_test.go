package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// caseWithFile is a new case of o's patient P1, opened by the lead, with
// one file the provider uploaded: the case's id and the document.
func caseWithFile(t *testing.T, w *world, o *org, name string, content []byte, docType string) (string, docJSON) {
	t.Helper()
	var kase caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "P1 claim"}, http.StatusCreated, &kase)
	cid := kase.ID.String()
	resp, body := w.upload("POST", "/v1/cases/"+cid+"/files", o.Prov.Token, name, content, "Ward-Document-Type", docType)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload %d %s", resp.StatusCode, body)
	}
	var doc docJSON
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	return cid, doc
}

// A member invited to a case as an outside party (here a patient of the
// clinic, invited as another patient's attorney: an invitation keeps a
// live member's role) reads and downloads as that party: both are
// disclosures of the case's patient, in the accounting of disclosures
// (migration 00174). Before, the membership role decided, and nothing was
// accounted.
func TestGrantDisclosesWhateverTheRole(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Grant Disclosure Clinic")
	w.populate(o, "gd")
	cid, doc := caseWithFile(t, w, o, "report.pdf", []byte("%PDF-1.4 report"), "medical_report")
	_, tok := w.inviteOutbox(o.Prov.Token, cid, o.PatUser2.Email, "attorney", []string{"view", "download"},
		time.Now().Add(24*time.Hour))
	if _, r, b := w.accept(tok); r.StatusCode != http.StatusOK {
		t.Fatalf("accept: %d %s", r.StatusCode, b)
	}
	w.do("GET", "/v1/cases/"+cid, o.PatUser2.Token, nil, http.StatusOK, nil)
	if r, _, err := w.download("/v1/documents/"+doc.ID.String()+"/content", o.PatUser2.Token, "Ward-Purpose", "litigation"); err != nil ||
		r.StatusCode != http.StatusOK {
		t.Fatalf("download by the invited patient: %v %v", r, err)
	}
	var n, disclosed int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*), count(disclosure) from audit.events
	   where org_id = $1 and actor_id = $2 and case_id = $3 and outcome = 'success'
	     and action in ('case.view', 'document.download')`, o.ID, o.PatUser2.ID, cid).Scan(&n, &disclosed); err != nil {
		t.Fatal(err)
	}
	if n != 2 || disclosed != 2 {
		t.Fatalf("%d reads by the invited patient, %d of them disclosures; want 2 and 2", n, disclosed)
	}
	var acc struct {
		Disclosures []struct {
			Recipient string `json:"recipient"`
			Purpose   string `json:"purpose"`
		} `json:"disclosures"`
	}
	w.do("GET", "/v1/patients/"+o.P1.String()+"/disclosures", o.PatUser.Token, nil, http.StatusOK, &acc)
	purposes := map[string]bool{}
	for _, d := range acc.Disclosures {
		if d.Recipient != "attorney" {
			t.Errorf("a disclosure to %q, want the grant's kind, attorney", d.Recipient)
		}
		purposes[d.Purpose] = true
	}
	if len(acc.Disclosures) != 2 || !purposes["litigation"] {
		t.Fatalf("P1's accounting: %+v", acc.Disclosures)
	}
	// The clinic's own staff reading the same case disclose nothing.
	w.do("GET", "/v1/cases/"+cid, o.Prov.Token, nil, http.StatusOK, nil)
	var staff int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from audit.events
	   where org_id = $1 and case_id = $2 and disclosure is not null and actor_id <> $3`, o.ID, cid,
		o.PatUser2.ID).Scan(&staff); err != nil || staff != 0 {
		t.Fatalf("%d disclosures by the clinic's staff (%v)", staff, err)
	}
}

// A party who may view a case but not download its documents does not see
// a version's SHA-256 or size (which would let it confirm a templated
// report's content by hashing candidates); one who may download does, and
// so does the version's uploader.
func TestViewOnlyPartySeesNoHash(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Hash Clinic")
	w.populate(o, "hc")
	cid, doc := caseWithFile(t, w, o, "screen.pdf", []byte("%PDF-1.4 NEGATIVE"), "drug_screen")
	if len(doc.Versions) != 1 || doc.Versions[0].SHA256 == "" {
		t.Fatalf("the uploader's answer: %+v", doc)
	}
	_, tok := w.inviteOutbox(o.Prov.Token, cid, o.PatUser2.Email, "employer", []string{"view"}, time.Now().Add(24*time.Hour))
	if _, r, b := w.accept(tok); r.StatusCode != http.StatusOK {
		t.Fatalf("accept: %d %s", r.StatusCode, b)
	}
	path := "/v1/documents/" + doc.ID.String()
	var seen map[string]any
	w.do("GET", path, o.PatUser2.Token, nil, http.StatusOK, &seen)
	vs, _ := seen["versions"].([]any)
	if len(vs) != 1 {
		t.Fatalf("the viewer's document: %v", seen)
	}
	v := vs[0].(map[string]any)
	if _, ok := v["sha256"]; ok {
		t.Fatalf("a view-only party sees the hash: %v", v)
	}
	if _, ok := v["size"]; ok {
		t.Fatalf("a view-only party sees the size: %v", v)
	}
	var lead docJSON
	w.do("GET", path, o.Lead.Token, nil, http.StatusOK, &lead)
	if len(lead.Versions) != 1 || lead.Versions[0].SHA256 != doc.Versions[0].SHA256 {
		t.Fatalf("the lead's document: %+v", lead)
	}
}

// An org that binds its outside parties' sessions (stakeholder in
// device_binding_required_for): an app's JSON acceptance gets no bearer
// token (403 device_binding_required, the session ended, the grant kept,
// the party signs in with a DPoP proof), and one from Ward's own pages
// gets its session in the cookie only, as a magic link's would.
func TestInviteAcceptFollowsDeviceBinding(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Bound Parties Clinic")
	w.populate(o, "bp")
	cid, _ := caseWithFile(t, w, o, "report.pdf", []byte("%PDF-1.4 report"), "medical_report")
	w.do("PUT", "/v1/org/device-binding-policy", o.Admin.Token,
		map[string]any{"device_binding_required_for": []string{"stakeholder"}}, http.StatusOK, nil)
	live := func(invite uuid.UUID) (sessions, grants int) {
		t.Helper()
		if err := w.env.Super.Pool.QueryRow(context.Background(), `select
		    (select count(*) from app.sessions s join app.case_invites i on i.accepted_by = s.user_id
		      where i.id = $1 and s.revoked_at is null),
		    (select count(*) from app.case_members m join app.case_invites i on i.accepted_by = m.user_id
		      where i.id = $1 and m.case_id = $2)`, invite, cid).Scan(&sessions, &grants); err != nil {
			t.Fatal(err)
		}
		return sessions, grants
	}
	until := time.Now().Add(24 * time.Hour)
	inv, tok := w.inviteOutbox(o.Lead.Token, cid, "app-party@firm.test", "attorney", []string{"view"}, until)
	resp, b := w.request("POST", "/v1/case-invites/accept", "", map[string]string{"token": tok})
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "device_binding_required" || len(resp.Cookies()) != 0 {
		t.Fatalf("app acceptance, parties bound: %d %s", resp.StatusCode, b)
	}
	if s, g := live(inv); s != 0 || g != 1 {
		t.Fatalf("after a refused app acceptance: %d live sessions, %d grants; want 0 and 1", s, g)
	}

	inv, tok = w.inviteOutbox(o.Lead.Token, cid, "page-party@firm.test", "attorney", []string{"view"}, until)
	resp, b = w.request("POST", "/v1/case-invites/accept", "", map[string]string{"token": tok}, "Sec-Fetch-Site", "same-origin")
	var ans struct {
		Token                 string `json:"token"`
		DeviceBindingRequired bool   `json:"device_binding_required"`
	}
	_ = json.Unmarshal(b, &ans)
	if resp.StatusCode != http.StatusOK || ans.Token != "" || !ans.DeviceBindingRequired || len(resp.Cookies()) == 0 {
		t.Fatalf("acceptance from Ward's pages, parties bound: %d %s", resp.StatusCode, b)
	}
	var browser bool
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select s.browser from app.sessions s
	    join app.case_invites i on i.accepted_by = s.user_id where i.id = $1 and s.revoked_at is null`, inv).Scan(&browser); err != nil || !browser {
		t.Fatalf("the page's session is no browser session: %v %v", browser, err)
	}
}

// A member sends at most 50 invitations an hour (migration 00176), each a
// mail to any address: the 51st is 429 invite_rate_limited with the
// seconds until one more is allowed, nothing is mailed, and another
// member's invitations are not held up.
func TestInviteRate(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Invite Rate Clinic")
	w.populate(o, "ir")
	cid, _ := caseWithFile(t, w, o, "report.pdf", []byte("%PDF-1.4 report"), "medical_report")
	until := time.Now().Add(24 * time.Hour)
	invite := func(by string, i int) (*http.Response, []byte) {
		return w.request("POST", "/v1/cases/"+cid+"/invites", by, map[string]any{
			"email": fmt.Sprintf("party%d@firm.test", i), "kind": "attorney", "permissions": []string{"view"},
			"access_expires_at": until})
	}
	for i := range 50 {
		if resp, b := invite(o.Lead.Token, i); resp.StatusCode != http.StatusCreated {
			t.Fatalf("invitation %d: %d %s", i+1, resp.StatusCode, b)
		}
	}
	mailed := strings.Count(w.outbox.String(), "firm.test")
	resp, b := invite(o.Lead.Token, 50)
	secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusTooManyRequests || problemCode(t, b) != "invite_rate_limited" || secs < 3500 || secs > 3600 {
		t.Fatalf("the 51st invitation in an hour: %d (Retry-After %q) %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	if n := strings.Count(w.outbox.String(), "firm.test"); n != mailed {
		t.Fatalf("a refused invitation mailed: %d mails, then %d", mailed, n)
	}
	if resp, b := invite(o.Prov.Token, 51); resp.StatusCode != http.StatusCreated {
		t.Fatalf("another member's invitation: %d %s", resp.StatusCode, b)
	}
}
