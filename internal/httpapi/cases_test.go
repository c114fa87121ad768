package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the database's time zone, on a machine without a zoneinfo database

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit/s3test"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/mail"
	"github.com/wardhq/ward/internal/mail/mailtest"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/vault/blob"
)

var inviteRE = regexp.MustCompile(`/v1/case-invites/accept\?token=([A-Za-z0-9_-]{43})`)

// upload sends data as the raw body of a file upload and returns the
// response.
func (w *world) upload(method, path, token, name string, data []byte, hdr ...string) (*http.Response, []byte) {
	w.t.Helper()
	req, err := http.NewRequest(method, w.srv.URL+path, bytes.NewReader(data))
	if err != nil {
		w.t.Fatal(err)
	}
	w.authorize(req, token)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Disposition", "attachment; filename*=UTF-8''"+strings.ReplaceAll(name, " ", "%20"))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := w.srv.Client().Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// download fetches a document's content with optional headers; err is the
// body read error (an aborted response).
func (w *world) download(path, token string, hdr ...string) (*http.Response, []byte, error) {
	w.t.Helper()
	req, err := http.NewRequest("GET", w.srv.URL+path, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	w.authorize(req, token)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := w.srv.Client().Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

type caseJSON struct {
	ID        uuid.UUID      `json:"id"`
	Title     string         `json:"title"`
	Reference string         `json:"reference"`
	Status    string         `json:"status"`
	Documents map[string]int `json:"documents"`
}

type docJSON struct {
	ID       uuid.UUID `json:"id"`
	CaseID   uuid.UUID `json:"case_id"`
	Status   string    `json:"status"`
	Versions []struct {
		ID          uuid.UUID `json:"id"`
		Version     int       `json:"version"`
		Size        int64     `json:"size"`
		SHA256      string    `json:"sha256"`
		ContentType string    `json:"content_type"`
		FileName    string    `json:"file_name"`
	} `json:"versions"`
}

// stakeholder is an invited and accepted case member.
type stakeholder struct {
	ID    uuid.UUID
	Token string
}

// invite invites email to kase as kind with perms, through the API, and
// returns the token from the mail in mp.
func (w *world) inviteByMail(mp *mailtest.Server, by, kase, email, kind string, perms []string) (uuid.UUID, string) {
	w.t.Helper()
	id, token, _ := w.inviteByMailWith(mp, by, kase, map[string]any{"email": email, "kind": kind, "permissions": perms})
	return id, token
}

// inviteByMailWith sends the invitation body (access for 30 days unless it
// says otherwise) and returns its id, the token its mail carries and the
// mail's text.
func (w *world) inviteByMailWith(mp *mailtest.Server, by, kase string, body map[string]any) (uuid.UUID, string, string) {
	w.t.Helper()
	var inv struct {
		ID uuid.UUID `json:"id"`
	}
	if _, ok := body["access_expires_at"]; !ok {
		body["access_expires_at"] = time.Now().Add(30 * 24 * time.Hour)
	}
	w.do("POST", "/v1/cases/"+kase+"/invites", by, body, http.StatusCreated, &inv)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	email, _ := body["email"].(string)
	msg, err := mp.WaitFor(ctx, email)
	if err != nil {
		w.t.Fatalf("no invitation mail to %s: %v", email, err)
	}
	m := inviteRE.FindStringSubmatch(msg.Text)
	if m == nil {
		w.t.Fatalf("no invitation link in %q", msg.Text)
	}
	return inv.ID, m[1], msg.Text
}

func (w *world) accept(token string) (stakeholder, *http.Response, []byte) {
	w.t.Helper()
	resp, body := w.request("POST", "/v1/case-invites/accept", "", map[string]string{"token": token})
	var s struct {
		Token  string    `json:"token"`
		UserID uuid.UUID `json:"user_id"`
	}
	_ = json.Unmarshal(body, &s)
	return stakeholder{ID: s.UserID, Token: s.Token}, resp, body
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// yearsBefore is what the database makes of at - interval 'n years' in the
// server's time zone: the same day and time of day n years back, or the
// month's last day when that year's month has no such day. Go's AddDate
// runs over into the next month instead: on 29 February it answers 1
// March, a day after the database.
func (w *world) yearsBefore(at time.Time, n int) time.Time {
	w.t.Helper()
	var zone string
	if err := w.env.App.Pool.QueryRow(context.Background(), `select current_setting('TimeZone')`).Scan(&zone); err != nil {
		w.t.Fatal(err)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		w.t.Fatalf("the database's time zone %q: %v", zone, err)
	}
	at = at.In(loc)
	y, m, d := at.Date()
	last := time.Date(y-n, m+1, 0, 0, 0, 0, 0, loc).Day()
	return time.Date(y-n, m, min(d, last), at.Hour(), at.Minute(), at.Second(), at.Nanosecond(), loc)
}

// The workers'-compensation claim of docs/cases.md, end to end: a lead
// opens the case, invites an employer and an attorney by mail (mailpit),
// requests a wage statement from the employer, who uploads it; the
// attorney downloads it (a disclosure) and comments; grants, revocation,
// access end dates, deletion under a legal hold and IDOR across orgs.
func TestCasesWorkersComp(t *testing.T) {
	mp := mailtest.Start(t)
	w := newWorld(t, withMailer(mail.NewSMTP(mail.SMTPConfig{Addr: mp.SMTPAddr(), From: "ward@ward.example"})))
	o := w.createOrg("Claims Clinic")
	w.populate(o, "cc")
	other := w.createOrg("Other Clinic")
	w.populate(other, "oc")

	var kase caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Back injury at the warehouse",
		"reference": "WC-2026-0001"}, http.StatusCreated, &kase)
	if kase.Reference != "WC-2026-0001" || kase.Status != "open" {
		t.Fatalf("case = %+v", kase)
	}
	cid := kase.ID.String()
	// The reference is unique among the patient's cases, and found by exact
	// match in a body.
	resp, body := w.request("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "dup",
		"reference": "wc-2026-0001"})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("duplicate reference: %d %s", resp.StatusCode, body)
	}
	var found struct{ Cases []caseJSON }
	w.do("POST", "/v1/cases/search", o.Lead.Token, map[string]any{"reference": "WC-2026-0001"}, http.StatusOK, &found)
	if len(found.Cases) != 1 || found.Cases[0].ID != kase.ID {
		t.Fatalf("search = %+v", found)
	}
	if resp, _ := w.request("GET", "/v1/cases?reference=WC-2026-0001", o.Lead.Token, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("reference in a URL: %d", resp.StatusCode)
	}
	// A provider reaches the cases of their care-team patients only.
	w.do("GET", "/v1/cases/"+cid, o.Prov.Token, nil, http.StatusOK, nil)
	w.do("GET", "/v1/cases/"+cid, o.Prov2.Token, nil, http.StatusNotFound, nil)
	// The patient reads their own case, and may not upload to it.
	w.do("GET", "/v1/cases/"+cid, o.PatUser.Token, nil, http.StatusOK, nil)
	w.do("GET", "/v1/cases/"+cid, o.PatUser2.Token, nil, http.StatusNotFound, nil)
	if resp, body := w.upload("POST", "/v1/cases/"+cid+"/files", o.PatUser.Token, "x.txt", []byte("hi"),
		"Ward-Document-Type", "note"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("patient upload: %d %s", resp.StatusCode, body)
	}

	// Invitations by mail: accept once, reuse refused.
	_, tok := w.inviteByMail(mp, o.Lead.Token, cid, "hr@employer.test", "employer", []string{"view", "upload"})
	if resp, body := w.request("GET", "/v1/case-invites/accept?token="+tok, "", nil); resp.StatusCode != http.StatusOK ||
		!strings.Contains(string(body), `method="post"`) {
		t.Fatalf("landing: %d %s", resp.StatusCode, body)
	}
	employer, resp, body := w.accept(tok)
	if resp.StatusCode != http.StatusOK || employer.Token == "" {
		t.Fatalf("accept: %d %s", resp.StatusCode, body)
	}
	if _, resp, body := w.accept(tok); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "already been used") {
		t.Fatalf("reuse: %d %s", resp.StatusCode, body)
	}
	_, tok = w.inviteByMail(mp, o.Prov.Token, cid, "counsel@law.test", "attorney", []string{"view", "download", "comment"})
	attorney, resp, body := w.accept(tok)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("accept attorney: %d %s", resp.StatusCode, body)
	}
	var me struct {
		Role string `json:"role"`
	}
	w.do("GET", "/v1/me", attorney.Token, nil, http.StatusOK, &me)
	if me.Role != string(identity.RoleStakeholder) {
		t.Fatalf("attorney role %q", me.Role)
	}
	// A revoked and an expired invitation are refused.
	payerInv, tok := w.inviteByMail(mp, o.Lead.Token, cid, "adjuster@payer.test", "payer", []string{"view", "download"})
	w.do("DELETE", "/v1/cases/"+cid+"/invites/"+payerInv.String(), o.Lead.Token, nil, http.StatusNoContent, nil)
	if _, resp, body := w.accept(tok); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "revoked") {
		t.Fatalf("revoked invite: %d %s", resp.StatusCode, body)
	}
	lateInv, tok := w.inviteByMail(mp, o.Lead.Token, cid, "late@clinic.test", "clinic", []string{"view"})
	if _, err := w.env.Super.Pool.Exec(context.Background(),
		`update app.case_invites set expires_at = clock_timestamp() - interval '1 second' where id = $1`, lateInv); err != nil {
		t.Fatal(err)
	}
	if _, resp, body := w.accept(tok); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "expired") {
		t.Fatalf("expired invite: %d %s", resp.StatusCode, body)
	}
	// An invitation may name the organisation the invitee acts for (the
	// rules of a grant's recipient_org); the grant it gives carries it, and
	// the mail says it. The provider who sends it manages the case's
	// grants too: they see none of the org's memberships (00154).
	for _, bad := range []any{"", " ", strings.Repeat("x", 181), "Acme\nMutual", "Acme \u202eLautuM", "Acme\u2028Mutual", 7} {
		w.do("POST", "/v1/cases/"+cid+"/invites", o.Prov.Token, map[string]any{"email": "nobody@payer.test",
			"kind": "payer", "permissions": []string{"view"}, "access_expires_at": time.Now().Add(time.Hour),
			"recipient_org": bad}, http.StatusBadRequest, nil)
	}
	_, tok, text := w.inviteByMailWith(mp, o.Prov.Token, cid, map[string]any{"email": "claims@payer.test",
		"kind": "payer", "permissions": []string{"view"}, "recipient_org": " Acme Mutual "})
	if !strings.Contains(text, "(as payer for Acme Mutual)") {
		t.Errorf("the invitation does not name the organisation: %q", text)
	}
	payer, resp, body := w.accept(tok)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("accept payer: %d %s", resp.StatusCode, body)
	}
	type grantJSON struct {
		UserID       uuid.UUID `json:"user_id"`
		Kind         string    `json:"kind"`
		RecipientOrg *string   `json:"recipient_org"`
	}
	grantOf := func(user uuid.UUID) grantJSON {
		t.Helper()
		var l struct{ Members []grantJSON }
		w.do("GET", "/v1/cases/"+cid+"/members", o.Prov.Token, nil, http.StatusOK, &l)
		for _, g := range l.Members {
			if g.UserID == user {
				return g
			}
		}
		t.Fatalf("no grant for %s", user)
		return grantJSON{}
	}
	if g := grantOf(payer.ID); g.Kind != "payer" || g.RecipientOrg == nil || *g.RecipientOrg != "Acme Mutual" {
		t.Fatalf("the accepted invitation's grant: %+v", g)
	}
	payerGrant := map[string]any{"kind": "payer", "permissions": []string{"view", "download"},
		"access_expires_at": time.Now().Add(48 * time.Hour), "recipient_org": "Acme Mutual Insurance Co."}
	// A grant set directly ends within five years, as an invitation's
	// does: it does not outlive its author's tenure by decades.
	for _, far := range []time.Time{time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), time.Now().AddDate(5, 0, 2)} {
		w.do("PUT", "/v1/cases/"+cid+"/members/"+payer.ID.String(), o.Prov.Token, map[string]any{"kind": "payer",
			"permissions": []string{"view"}, "access_expires_at": far}, http.StatusBadRequest, nil)
	}
	w.do("PUT", "/v1/cases/"+cid+"/members/"+payer.ID.String(), o.Prov.Token, payerGrant, http.StatusOK, nil)
	if g := grantOf(payer.ID); g.RecipientOrg == nil || *g.RecipientOrg != "Acme Mutual Insurance Co." {
		t.Fatalf("the provider's change: %+v", g)
	}
	// The provider's grants go only to live members of the org, of the
	// right kind; a provider off the patient's care team sees no case. A
	// user who is no member, the provider's own patient and another
	// provider's patient get one and the same answer (00156): a grant
	// tells no one who is a patient.
	var details []string
	for _, u := range []uuid.UUID{uuid.New(), o.PatUser.ID, o.PatUser2.ID} {
		var p struct {
			Detail string `json:"detail"`
		}
		w.do("PUT", "/v1/cases/"+cid+"/members/"+u.String(), o.Prov.Token, payerGrant, http.StatusBadRequest, &p)
		details = append(details, p.Detail)
	}
	if details[0] == "" || details[1] != details[0] || details[2] != details[0] {
		t.Errorf("grants to a non-member and to patients answer differently: %q", details)
	}
	w.do("PUT", "/v1/cases/"+cid+"/members/"+payer.ID.String(), o.Prov2.Token, payerGrant, http.StatusNotFound, nil)

	var invites struct {
		Invites []struct {
			Status       string  `json:"status"`
			Email        string  `json:"email"`
			RecipientOrg *string `json:"recipient_org"`
		}
	}
	w.do("GET", "/v1/cases/"+cid+"/invites", o.Lead.Token, nil, http.StatusOK, &invites)
	statuses, orgs := map[string]string{}, map[string]string{}
	for _, i := range invites.Invites {
		statuses[i.Email] = i.Status
		if i.RecipientOrg != nil {
			orgs[i.Email] = *i.RecipientOrg
		}
	}
	if statuses["hr@employer.test"] != "accepted" || statuses["adjuster@payer.test"] != "revoked" ||
		statuses["late@clinic.test"] != "expired" || statuses["claims@payer.test"] != "accepted" {
		t.Fatalf("invite statuses %v", statuses)
	}
	if len(orgs) != 1 || orgs["claims@payer.test"] != "Acme Mutual" {
		t.Fatalf("invitations naming an organisation: %v", orgs)
	}
	// A renewal of the same kind that names no organisation keeps the
	// grant's (00163); one that names another replaces it.
	if err := mp.Reset(context.Background()); err != nil { // the first invitation's mail is found no more
		t.Fatal(err)
	}
	_, tok, _ = w.inviteByMailWith(mp, o.Prov.Token, cid, map[string]any{"email": "claims@payer.test",
		"kind": "payer", "permissions": []string{"view"}})
	if _, resp, body := w.accept(tok); resp.StatusCode != http.StatusOK {
		t.Fatalf("accept the renewal: %d %s", resp.StatusCode, body)
	}
	if g := grantOf(payer.ID); g.RecipientOrg == nil || *g.RecipientOrg != "Acme Mutual Insurance Co." {
		t.Fatalf("a renewal naming no organisation left the grant %+v", g)
	}
	if err := mp.Reset(context.Background()); err != nil { // the first invitation's mail is found no more
		t.Fatal(err)
	}
	_, tok, _ = w.inviteByMailWith(mp, o.Prov.Token, cid, map[string]any{"email": "claims@payer.test",
		"kind": "payer", "permissions": []string{"view"}, "recipient_org": "Beta Casualty"})
	if _, resp, body := w.accept(tok); resp.StatusCode != http.StatusOK {
		t.Fatalf("accept the second renewal: %d %s", resp.StatusCode, body)
	}
	if g := grantOf(payer.ID); g.RecipientOrg == nil || *g.RecipientOrg != "Beta Casualty" {
		t.Fatalf("a renewal naming another organisation left the grant %+v", g)
	}
	// An invitation after the grant was revoked is a new grant: it names
	// what the invitation names, nothing from before.
	w.do("DELETE", "/v1/cases/"+cid+"/members/"+payer.ID.String(), o.Prov.Token, nil, http.StatusNoContent, nil)
	if err := mp.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, tok, _ = w.inviteByMailWith(mp, o.Prov.Token, cid, map[string]any{"email": "claims@payer.test",
		"kind": "payer", "permissions": []string{"view"}})
	if _, resp, body := w.accept(tok); resp.StatusCode != http.StatusOK {
		t.Fatalf("accept after a revocation: %d %s", resp.StatusCode, body)
	}
	if g := grantOf(payer.ID); g.RecipientOrg != nil {
		t.Fatalf("an invitation after a revoked grant brought back the organisation: %+v", g)
	}
	// Stakeholders are no users of the org's LLM gateway.
	if resp, body := w.request("POST", "/llm/v1/messages", attorney.Token, map[string]any{"model": "claude-sonnet-4-5",
		"max_tokens": 16, "messages": []map[string]string{{"role": "user", "content": "hi"}}},
		"Anthropic-Version", "2023-06-01"); resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "permission_error") {
		t.Fatalf("a stakeholder at the gateway: %d %s", resp.StatusCode, body)
	}
	// Stakeholders never see the org's patients or members, nor manage the case.
	var pats struct{ Patients []json.RawMessage }
	w.do("GET", "/v1/patients", attorney.Token, nil, http.StatusOK, &pats)
	if len(pats.Patients) != 0 {
		t.Fatalf("a stakeholder sees %d patients", len(pats.Patients))
	}
	w.do("GET", "/v1/cases/"+cid+"/invites", employer.Token, nil, http.StatusNotFound, nil)
	w.do("POST", "/v1/cases/"+cid+"/invites", attorney.Token, map[string]any{"email": "x@y.test", "kind": "payer",
		"permissions": []string{"view"}, "access_expires_at": time.Now().Add(time.Hour)}, http.StatusForbidden, nil)

	// An invitation never narrows a staff member's live grant.
	w.do("PUT", "/v1/cases/"+cid+"/members/"+o.Prov2.ID.String(), o.Lead.Token,
		map[string]any{"kind": "staff", "permissions": []string{"view", "comment"}}, http.StatusOK, nil)
	_, tok = w.inviteByMail(mp, o.Lead.Token, cid, o.Prov2.Email, "payer", []string{"view"})
	if _, resp, body := w.accept(tok); resp.StatusCode != http.StatusOK {
		t.Fatalf("a staff member accepts: %d %s", resp.StatusCode, body)
	}
	var grants struct {
		Members []struct {
			UserID          uuid.UUID  `json:"user_id"`
			Kind            string     `json:"kind"`
			Permissions     []string   `json:"permissions"`
			AccessExpiresAt *time.Time `json:"access_expires_at"`
		}
	}
	w.do("GET", "/v1/cases/"+cid+"/members", o.Lead.Token, nil, http.StatusOK, &grants)
	for _, g := range grants.Members {
		if g.UserID == o.Prov2.ID && (g.Kind != "staff" || g.AccessExpiresAt != nil || len(g.Permissions) != 2) {
			t.Fatalf("the staff grant became %+v", g)
		}
	}
	w.do("GET", "/v1/me", o.Prov2.Token, nil, http.StatusOK, &me)
	if me.Role != "provider" {
		t.Fatalf("the provider became %q", me.Role)
	}

	// A request with a due date in the past is overdue, and listed as such.
	var req docJSON
	w.do("POST", "/v1/cases/"+cid+"/documents", o.Lead.Token, map[string]any{"type": "wage_statement",
		"description": "Wages for the 52 weeks before the injury", "due_at": time.Now().Add(-time.Hour),
		"requested_from": employer.ID}, http.StatusCreated, &req)
	if req.Status != "overdue" {
		t.Fatalf("past-due request status %q", req.Status)
	}
	var list struct {
		Documents []docJSON
		Counts    map[string]int
	}
	w.do("GET", "/v1/cases/"+cid+"/documents?status=overdue", employer.Token, nil, http.StatusOK, &list)
	if len(list.Documents) != 1 || list.Counts["overdue"] != 1 {
		t.Fatalf("overdue list %+v", list)
	}
	// The employer uploads against it: complete, version 1.
	statement := append([]byte("%PDF-1.7\n"), randomBytes(300_000, 1)...)
	resp, body = w.upload("PUT", "/v1/documents/"+req.ID.String()+"/content", employer.Token, "wage statement 2025.pdf", statement)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	var doc docJSON
	_ = json.Unmarshal(body, &doc)
	sum := sha256.Sum256(statement)
	if doc.Status != "complete" || len(doc.Versions) != 1 || doc.Versions[0].SHA256 != hex.EncodeToString(sum[:]) ||
		doc.Versions[0].ContentType != "application/pdf" || doc.Versions[0].FileName != "wage statement 2025.pdf" {
		t.Fatalf("uploaded = %s", body)
	}
	w.do("GET", "/v1/cases/"+cid, o.Lead.Token, nil, http.StatusOK, &kase)
	if kase.Documents["complete"] != 1 || kase.Documents["overdue"] != 0 {
		t.Fatalf("case counts %v", kase.Documents)
	}
	// The attorney downloads it whole and by range; the employer may not
	// download.
	docPath := "/v1/documents/" + req.ID.String() + "/content"
	resp, got, err := w.download(docPath, attorney.Token, "Ward-Purpose", "claim litigation")
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(got, statement) {
		t.Fatalf("download: %v %d (%d bytes)", err, resp.StatusCode, len(got))
	}
	if resp.Header.Get("ETag") != `"`+hex.EncodeToString(sum[:])+`"` || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download headers %v", resp.Header)
	}
	// A lead names the firm the attorney acts for on the grant; the
	// later downloads are disclosures to it, by name. A staff grant names
	// none, and a name is 1..180 characters of text.
	const firm = "Dewey & Cheatham LLP"
	grantPath := "/v1/cases/" + cid + "/members/" + attorney.ID.String()
	grant := func(org any) map[string]any {
		return map[string]any{"kind": "attorney", "permissions": []string{"view", "download", "comment"},
			"access_expires_at": time.Now().Add(24 * time.Hour), "recipient_org": org}
	}
	for _, bad := range []any{"", " ", strings.Repeat("x", 181), "Dewey\x00LLP", "Dewey\nLLP", 7} {
		w.do("PUT", grantPath, o.Lead.Token, grant(bad), http.StatusBadRequest, nil)
	}
	w.do("PUT", "/v1/cases/"+cid+"/members/"+o.Prov2.ID.String(), o.Prov.Token,
		map[string]any{"kind": "staff", "permissions": []string{"view"}, "recipient_org": firm}, http.StatusBadRequest, nil)
	var named struct {
		RecipientOrg string `json:"recipient_org"`
	}
	w.do("PUT", grantPath, o.Lead.Token, grant("  "+firm+" "), http.StatusOK, &named)
	if named.RecipientOrg != firm {
		t.Fatalf("grant names %q, want %q", named.RecipientOrg, firm)
	}
	resp, got, _ = w.download(docPath, attorney.Token, "Range", "bytes=1000-1999")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, statement[1000:2000]) {
		t.Fatalf("range: %d %d bytes", resp.StatusCode, len(got))
	}
	resp, _, _ = w.download(docPath, attorney.Token, "If-None-Match", resp.Header.Get("ETag"))
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", resp.StatusCode)
	}
	if resp, _, _ := w.download(docPath, employer.Token); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("employer download: %d", resp.StatusCode)
	}
	// Each of the attorney's downloads is a disclosure to an attorney, with
	// the stated purpose or the default one; those after the grant named
	// the firm are to the firm. The 304 sent no content: it is a read of
	// the document's description (document.view, to the firm), not a
	// download (migration 00184).
	var disclosures, stated, toFirm int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*),
	      count(*) filter (where disclosure->>'purpose' = 'claim litigation'),
	      count(*) filter (where disclosure->>'recipient' = 'attorney: ' || $3) from audit.events
	    where org_id = $1 and action = 'document.download' and outcome = 'success' and case_id = $2
	      and disclosure->>'recipient' in ('attorney', 'attorney: ' || $3)`,
		o.ID, kase.ID, firm).Scan(&disclosures, &stated, &toFirm); err != nil || disclosures != 2 || stated != 1 || toFirm != 1 {
		t.Fatalf("disclosures recorded: %d (%d with the stated purpose, %d to the firm) %v", disclosures, stated, toFirm, err)
	}
	// The patient's accounting of disclosures (§164.528) lists the two and the view,
	// to the patient themself and to an admin, with recipient, purpose and
	// what (the document's type), and is itself audited; staff below admin,
	// another patient and another org's admin get none. It lists the
	// employer's reads too (migration 00159): the document list and the
	// document's description it opened before uploading, disclosures to
	// "employer" that the database named from the employer's grant.
	accounting := "/v1/patients/" + o.P1.String() + "/disclosures"
	for _, m := range []*member{o.PatUser, o.Admin} {
		var acc struct {
			PatientID   uuid.UUID `json:"patient_id"`
			Since       time.Time `json:"since"`
			Disclosures []struct {
				Seq                        int64
				Action, Recipient, Purpose string
				ObjectType                 string    `json:"object_type"`
				DocType                    string    `json:"doc_type"`
				CaseID                     uuid.UUID `json:"case_id"`
				ActorID                    uuid.UUID `json:"actor_id"`
				ActorRole                  string    `json:"actor_role"`
				ActorEmail                 string    `json:"actor_email"`
			} `json:"disclosures"`
		}
		w.do("GET", accounting, m.Token, nil, http.StatusOK, &acc)
		if want := w.yearsBefore(time.Now(), 6); acc.PatientID != o.P1 || acc.Since.Before(want.Add(-time.Minute)) ||
			acc.Since.After(want.Add(time.Minute)) || len(acc.Disclosures) != 5 {
			t.Fatalf("accounting for %s: %+v", m.Email, acc)
		}
		purposes, recipients := map[string]int{}, map[string]int{}
		reads := map[string]int{}
		attorneyViews := 0
		for _, d := range acc.Disclosures {
			if d.Action != "document.download" && d.ActorID == attorney.ID {
				attorneyViews++
				if d.Action != "document.view" || d.Recipient != "attorney: "+firm || d.ObjectType != "document" || d.CaseID != kase.ID {
					t.Errorf("the attorney's 304 %+v", d)
				}
				continue
			}
			if d.Action != "document.download" {
				reads[d.Action]++
				if d.Recipient != "employer" || d.Purpose != "case document exchange" || d.CaseID != kase.ID ||
					d.ActorID != employer.ID || d.ActorRole != "stakeholder" || d.ActorEmail != "hr@employer.test" ||
					d.Action == "document.view" && (d.ObjectType != "document" || d.DocType != "wage_statement") {
					t.Errorf("the employer's read %+v", d)
				}
				continue
			}
			recipients[d.Recipient]++
			if d.Seq <= 0 || d.Action != "document.download" || d.CaseID != kase.ID ||
				d.ObjectType != "document_version" || d.DocType != "wage_statement" ||
				// who received it, by name (§164.528(b)(2)(ii)): the attorney
				d.ActorID != attorney.ID || d.ActorRole != "stakeholder" || d.ActorEmail != "counsel@law.test" {
				t.Errorf("disclosure %+v", d)
			}
			purposes[d.Purpose]++
		}
		if purposes["claim litigation"] != 1 || recipients["attorney"] != 1 || recipients["attorney: "+firm] != 1 || attorneyViews != 1 {
			t.Errorf("purposes %v, recipients %v, the attorney's views %d", purposes, recipients, attorneyViews)
		}
		if reads["document.list"] != 1 || reads["document.view"] != 1 {
			t.Errorf("the employer's reads in the accounting: %v", reads)
		}
	}
	var rows int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from audit.disclosure_accounting($1, $2)`, o.ID, o.P1).Scan(&rows); !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
		t.Errorf("a connection with no credential read the accounting (%d rows): %v", rows, err)
	}
	w.do("GET", accounting, o.Lead.Token, nil, http.StatusForbidden, nil)
	w.do("GET", "/v1/patients/not-a-uuid/disclosures", o.Admin.Token, nil, http.StatusBadRequest, nil)
	w.do("GET", accounting, o.PatUser2.Token, nil, http.StatusNotFound, nil)
	w.do("GET", accounting, other.Admin.Token, nil, http.StatusNotFound, nil)
	var none struct{ Disclosures []any }
	w.do("GET", "/v1/patients/"+o.P2.String()+"/disclosures", o.Admin.Token, nil, http.StatusOK, &none)
	if none.Disclosures == nil || len(none.Disclosures) != 0 {
		t.Errorf("P2's accounting: %+v", none)
	}
	var given, refused int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) filter (where outcome = 'success'),
	      count(*) filter (where outcome = 'denied') from audit.events
	    where org_id = $1 and action = 'patient.disclosure_accounting'`, o.ID).Scan(&given, &refused); err != nil || given != 3 || refused != 2 {
		t.Errorf("accountings audited: %d given, %d refused (%v)", given, refused, err)
	}
	// Comments: the attorney may, the employer may not.
	w.do("POST", "/v1/documents/"+req.ID.String()+"/comments", attorney.Token, map[string]any{"body": "Missing week 12"},
		http.StatusCreated, nil)
	w.do("POST", "/v1/documents/"+req.ID.String()+"/comments", employer.Token, map[string]any{"body": "ok"},
		http.StatusForbidden, nil)
	var comments struct {
		Comments []struct{ Body string }
	}
	w.do("GET", "/v1/documents/"+req.ID.String()+"/comments", employer.Token, nil, http.StatusOK, &comments)
	if len(comments.Comments) != 1 || comments.Comments[0].Body != "Missing week 12" {
		t.Fatalf("comments %+v", comments)
	}

	// IDOR: another org's members, with this org's ids, get 404 everywhere.
	ids := []string{
		"GET /v1/cases/" + cid, "PATCH /v1/cases/" + cid, "GET /v1/cases/" + cid + "/members",
		"GET /v1/cases/" + cid + "/documents", "GET /v1/cases/" + cid + "/invites",
		"GET /v1/documents/" + req.ID.String(), "GET " + docPath, "GET /v1/documents/" + req.ID.String() + "/comments",
		"DELETE /v1/documents/" + req.ID.String(), "POST /v1/documents/" + req.ID.String() + "/accept",
		"DELETE /v1/cases/" + cid + "/members/" + attorney.ID.String(),
	}
	for _, tok := range []string{other.Admin.Token, other.Lead.Token, other.Prov.Token} {
		for _, r := range ids {
			method, path, _ := strings.Cut(r, " ")
			var b any
			if method == "PATCH" {
				b = map[string]any{"status": "closed"}
			}
			if strings.HasSuffix(path, "/accept") {
				b = map[string]any{"version": 1}
			}
			if resp, body := w.request(method, path, tok, b); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s by another org: %d %s", r, resp.StatusCode, body)
			}
		}
		if resp, body := w.upload("PUT", docPath, tok, "evil.txt", []byte("x")); resp.StatusCode != http.StatusNotFound {
			t.Errorf("upload by another org: %d %s", resp.StatusCode, body)
		}
		if resp, body := w.upload("POST", "/v1/cases/"+cid+"/files", tok, "evil.txt", []byte("x"),
			"Ward-Document-Type", "note"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("new file by another org: %d %s", resp.StatusCode, body)
		}
		for _, r := range []struct {
			method, path string
			body         any
		}{
			{"PUT", "/v1/cases/" + cid + "/members/" + attorney.ID.String(),
				map[string]any{"kind": "attorney", "permissions": []string{"view", "download"}, "access_expires_at": time.Now().Add(time.Hour)}},
			{"POST", "/v1/cases/" + cid + "/invites", map[string]any{"email": "spy@evil.test", "kind": "payer",
				"permissions": []string{"view"}, "access_expires_at": time.Now().Add(time.Hour)}},
			{"DELETE", "/v1/cases/" + cid + "/invites/" + payerInv.String(), nil},
			{"POST", "/v1/cases/" + cid + "/documents", map[string]any{"type": "spy"}},
			{"POST", "/v1/documents/" + req.ID.String() + "/comments", map[string]any{"body": "spy"}},
		} {
			if resp, body := w.request(r.method, r.path, tok, r.body); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s by another org: %d %s", r.method, r.path, resp.StatusCode, body)
			}
		}
	}
	// A stakeholder of this case reaches nothing of another case here.
	var kase2 caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P2, "title": "Second claim"}, http.StatusCreated, &kase2)
	w.do("GET", "/v1/cases/"+kase2.ID.String(), attorney.Token, nil, http.StatusNotFound, nil)
	w.do("GET", "/v1/cases/"+kase2.ID.String()+"/documents", attorney.Token, nil, http.StatusNotFound, nil)
	var theirs struct{ Cases []caseJSON }
	w.do("GET", "/v1/cases", attorney.Token, nil, http.StatusOK, &theirs)
	if len(theirs.Cases) != 1 || theirs.Cases[0].ID != kase.ID {
		t.Fatalf("attorney lists %+v", theirs.Cases)
	}

	// The access end date holds to the second, on the next request: served
	// before it, turned away after it. A request answered within the window
	// was served before the end date; one a loaded machine answered later
	// (over 1.5 s after the update) proves nothing, and the window doubles.
	var ends time.Time
	for window := 1500 * time.Millisecond; ; window *= 2 {
		start := time.Now()
		if _, err := w.env.Super.Pool.Exec(context.Background(), `update app.case_members
		    set access_expires_at = clock_timestamp() + make_interval(secs => $2) where user_id = $1`,
			attorney.ID, window.Seconds()); err != nil {
			t.Fatal(err)
		}
		ends = time.Now().Add(window) // not before the end date set
		resp, body := w.request("GET", "/v1/cases/"+cid, attorney.Token, nil)
		if time.Since(start) < window {
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("before the access end date: %d %s", resp.StatusCode, body)
			}
			break
		}
		if window > time.Minute {
			t.Fatalf("no request answered within %v of setting the access end date", window)
		}
	}
	time.Sleep(time.Until(ends.Add(100 * time.Millisecond)))
	w.do("GET", "/v1/cases/"+cid, attorney.Token, nil, http.StatusNotFound, nil)
	if resp, _, _ := w.download(docPath, attorney.Token); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("download after the access end date: %d", resp.StatusCode)
	}
	if n, err := w.caseJobs.RecordExpiries(context.Background()); err != nil || n != 1 {
		t.Fatalf("expiry events: %d %v", n, err)
	}
	if n, err := w.caseJobs.RecordExpiries(context.Background()); err != nil || n != 0 {
		t.Fatalf("expiry events twice: %d %v", n, err)
	}
	// Revocation takes effect on the next request.
	w.do("GET", "/v1/cases/"+cid, employer.Token, nil, http.StatusOK, nil)
	w.do("DELETE", "/v1/cases/"+cid+"/members/"+employer.ID.String(), o.Prov.Token, nil, http.StatusNoContent, nil)
	w.do("GET", "/v1/cases/"+cid, employer.Token, nil, http.StatusNotFound, nil)

	// Deletion is refused under a legal hold on the case, allowed after.
	var hold struct {
		ID     uuid.UUID `json:"id"`
		Active bool      `json:"active"`
	}
	w.do("POST", "/v1/legal-holds", o.Lead.Token, map[string]any{"case_id": kase.ID, "reason": "matter 17"}, http.StatusForbidden, nil)
	w.do("POST", "/v1/legal-holds", o.Admin.Token, map[string]any{"case_id": kase.ID, "patient_id": o.P1, "reason": "x"},
		http.StatusBadRequest, nil)
	w.do("POST", "/v1/legal-holds", other.Admin.Token, map[string]any{"case_id": kase.ID, "reason": "x"}, http.StatusBadRequest, nil)
	w.do("POST", "/v1/legal-holds", o.Admin.Token, map[string]any{"case_id": kase.ID, "reason": "matter 17"}, http.StatusCreated, &hold)
	resp, body = w.request("DELETE", "/v1/documents/"+req.ID.String(), o.Admin.Token, nil)
	if resp.StatusCode != http.StatusConflict || problemCode(t, body) != "legal_hold" {
		t.Fatalf("delete under hold: %d %s", resp.StatusCode, body)
	}
	var holds struct{ Holds []struct{ ID uuid.UUID } }
	w.do("GET", "/v1/legal-holds?active=true", o.Admin.Token, nil, http.StatusOK, &holds)
	if len(holds.Holds) != 1 || holds.Holds[0].ID != hold.ID {
		t.Fatalf("active holds %+v", holds)
	}
	w.do("GET", "/v1/legal-holds", other.Admin.Token, nil, http.StatusOK, &holds)
	if len(holds.Holds) != 0 {
		t.Fatalf("another org sees %d holds", len(holds.Holds))
	}
	w.do("POST", "/v1/legal-holds/"+hold.ID.String()+"/release", other.Admin.Token, map[string]any{"note": "x"}, http.StatusNotFound, nil)
	w.do("POST", "/v1/legal-holds/"+hold.ID.String()+"/release", o.Admin.Token, map[string]any{"note": "settled"},
		http.StatusNoContent, nil)
	w.do("POST", "/v1/legal-holds/"+hold.ID.String()+"/release", o.Admin.Token, map[string]any{"note": "again"},
		http.StatusNotFound, nil)
	w.do("DELETE", "/v1/documents/"+req.ID.String(), o.Lead.Token, nil, http.StatusNoContent, nil)
	if resp, _, _ := w.download(docPath, o.Lead.Token); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("download after delete: %d", resp.StatusCode)
	}
	// The case's trail exports by case: every row names it, and another
	// case's events are not among them.
	w.integrate()
	exportCase := func(id uuid.UUID) [][]string {
		resp, body := w.request("GET", "/v1/audit/export?format=csv&case_id="+id.String(), o.Admin.Token, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("export by case: %d %s", resp.StatusCode, body)
		}
		rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil || len(rows) < 1 {
			t.Fatalf("export by case: %v", err)
		}
		col := slices.Index(rows[0], "case_id")
		if col < 0 {
			t.Fatalf("no case_id column in %v", rows[0])
		}
		out := [][]string{}
		for _, r := range rows[1:] {
			if r[col] != id.String() {
				t.Fatalf("an export of case %s holds a row of case %q", id, r[col])
			}
			out = append(out, r)
		}
		return out
	}
	if n, m := len(exportCase(kase.ID)), len(exportCase(kase2.ID)); n < 20 || m < 1 {
		t.Fatalf("export by case: %d rows for the claim, %d for the second case", n, m)
	}
	for _, action := range []string{"case.create", "case.view", "case.invite.create", "case.invite.accept",
		"document.request", "document.upload", "document.download", "document.comment", "case.member.set",
		"case.member.expire", "document.delete", "legal_hold.place", "legal_hold.release", "legal_hold.list"} {
		if w.auditCount(o.ID, action, "success") == 0 {
			t.Errorf("no %s event", action)
		}
	}
	if w.auditCount(o.ID, "document.delete", "denied") != 1 {
		t.Errorf("the refused deletion is not audited")
	}
}

// Uploads and downloads around segment boundaries, Range reads at random
// offsets, and a flipped ciphertext byte, on both blob stores.
func TestDocumentBytes(t *testing.T) {
	for _, store := range []string{"dir", "s3"} {
		t.Run(store, func(t *testing.T) {
			var opts []worldOption
			var dir string
			if store == "s3" {
				opts = append(opts, withBlobStore(func(t testing.TB) blob.Store {
					srv := s3test.Start(t)
					s3, err := blob.NewS3(context.Background(), blob.S3Config{Endpoint: srv.Host(), Region: s3test.Region,
						Bucket: "documents", AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey, Create: true})
					if err != nil {
						t.Fatal(err)
					}
					return s3
				}))
			} else {
				dir = t.TempDir()
				opts = append(opts, withBlobStore(func(t testing.TB) blob.Store {
					d, err := blob.NewDir(dir)
					if err != nil {
						t.Fatal(err)
					}
					return d
				}))
			}
			w := newWorld(t, opts...)
			o := w.createOrg("Bytes Org")
			var kase caseJSON
			w.do("POST", "/v1/cases", o.Admin.Token, map[string]any{"title": "sizes"}, http.StatusCreated, &kase)
			const mib = 1 << 20
			sizes := []int{0, 1, mib - 1, mib, mib + 1, 3*mib + 17}
			if testing.Short() == false && store == "dir" {
				sizes = append(sizes, 64*mib)
			}
			for i, n := range sizes {
				data := randomBytes(n, uint64(i+1))
				resp, body := w.upload("POST", "/v1/cases/"+kase.ID.String()+"/files", o.Admin.Token, "f"+strconv.Itoa(n)+".bin",
					data, "Ward-Document-Type", "scan")
				if resp.StatusCode != http.StatusCreated {
					t.Fatalf("upload %d: %d %s", n, resp.StatusCode, body)
				}
				var d docJSON
				_ = json.Unmarshal(body, &d)
				path := "/v1/documents/" + d.ID.String() + "/content"
				resp, got, err := w.download(path, o.Admin.Token)
				if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
					t.Fatalf("download %d: %v %d, %d bytes", n, err, resp.StatusCode, len(got))
				}
				r := rand.New(rand.NewPCG(uint64(n), 3))
				for k := 0; k < 6 && n > 0; k++ {
					a := r.IntN(n)
					b := a + r.IntN(min(n-a, 2*mib+5))
					resp, got, err := w.download(path, o.Admin.Token, "Range", "bytes="+strconv.Itoa(a)+"-"+strconv.Itoa(b))
					if err != nil || resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, data[a:b+1]) {
						t.Fatalf("range %d-%d of %d: %v %d, %d bytes", a, b, n, err, resp.StatusCode, len(got))
					}
				}
				if n > 0 {
					resp, _, _ := w.download(path, o.Admin.Token, "Range", "bytes="+strconv.Itoa(n+10)+"-")
					if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
						t.Fatalf("range past the end: %d", resp.StatusCode)
					}
				}
			}
			// A flipped ciphertext byte: the download fails, never altered bytes.
			data := randomBytes(2*mib+100, 99)
			resp, body := w.upload("POST", "/v1/cases/"+kase.ID.String()+"/files", o.Admin.Token, "t.bin", data,
				"Ward-Document-Type", "scan")
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("upload: %d %s", resp.StatusCode, body)
			}
			var d docJSON
			_ = json.Unmarshal(body, &d)
			var key string
			if err := w.env.Super.Pool.QueryRow(context.Background(),
				`select storage_key from app.document_versions where document_id = $1`, d.ID).Scan(&key); err != nil {
				t.Fatal(err)
			}
			flip := func(off int64) {
				rc, err := w.blobs.Open(context.Background(), key, 0, -1)
				if err != nil {
					t.Fatal(err)
				}
				ct, _ := io.ReadAll(rc)
				rc.Close()
				ct[off] ^= 0x40
				if _, err := w.blobs.Put(context.Background(), key, bytes.NewReader(ct)); err != nil {
					t.Fatal(err)
				}
			}
			flip(int64(mib + 500)) // in the second segment
			path := "/v1/documents/" + d.ID.String() + "/content"
			resp, got, err := w.download(path, o.Admin.Token)
			if err == nil && bytes.Equal(got, data) {
				t.Fatal("a tampered object downloaded intact")
			}
			if len(got) > mib || !bytes.Equal(got, data[:len(got)]) {
				t.Fatalf("a tampered object gave %d bytes, some altered (status %d)", len(got), resp.StatusCode)
			}
			// A range in the untouched first segment still reads.
			resp, got, err = w.download(path, o.Admin.Token, "Range", "bytes=10-99")
			if err != nil || resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, data[10:100]) {
				t.Fatalf("range before the flip: %v %d bytes", err, len(got))
			}
			_ = dir
		})
	}
}

// The sweeper removes an object no committed version owns once it is old
// enough, and keeps the live ones; reminders go once across two nodes.
func TestCaseJobs(t *testing.T) {
	mp := mailtest.Start(t)
	dir := t.TempDir()
	w := newWorld(t, withMailer(mail.NewSMTP(mail.SMTPConfig{Addr: mp.SMTPAddr(), From: "ward@ward.example"})),
		withBlobStore(func(t testing.TB) blob.Store {
			d, err := blob.NewDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}))
	o := w.createOrg("Jobs Org")
	clerk := w.addMember(o, "clerk@jobs.test", identity.RoleProvider)
	var kase caseJSON
	w.do("POST", "/v1/cases", o.Admin.Token, map[string]any{"title": "jobs"}, http.StatusCreated, &kase)
	resp, body := w.upload("POST", "/v1/cases/"+kase.ID.String()+"/files", o.Admin.Token, "live.txt", []byte("live"),
		"Ward-Document-Type", "note")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	// An orphan: an object whose commit never happened.
	orphan := blob.ObjectKey(o.ID, uuid.New())
	if _, err := w.blobs.Put(context.Background(), orphan, strings.NewReader("ciphertext of a crashed upload")); err != nil {
		t.Fatal(err)
	}
	w.caseJobs.Grace, w.caseJobs.Confirm = time.Hour, 0
	if n, err := w.caseJobs.Sweep(context.Background()); err != nil || n != 0 {
		t.Fatalf("sweep within the grace period: %d %v", n, err)
	}
	old := time.Now().Add(-2 * time.Hour)
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			_ = os.Chtimes(p, old, old)
		}
		return nil
	})
	// The first sweep past the grace period notes the orphan; the next
	// removes it.
	if n, err := w.caseJobs.Sweep(context.Background()); err != nil || n != 0 {
		t.Fatalf("first sweep: %d %v", n, err)
	}
	if n, err := w.caseJobs.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if _, err := w.blobs.Open(context.Background(), orphan, 0, -1); err == nil {
		t.Fatal("the orphan is still there")
	}
	var d docJSON
	_ = json.Unmarshal(body, &d)
	w.do("GET", "/v1/documents/"+d.ID.String()+"/content", o.Admin.Token, nil, http.StatusOK, nil)

	// Reminders: due within a day → one "due soon" mail; two nodes at once
	// still send one.
	// The clerk reaches the case through a staff grant (reminders go only
	// to those who still reach the case).
	w.do("PUT", "/v1/cases/"+kase.ID.String()+"/members/"+clerk.ID.String(), o.Admin.Token,
		map[string]any{"kind": "staff", "permissions": []string{"view", "upload"}}, http.StatusOK, nil)
	var req docJSON
	w.do("POST", "/v1/cases/"+kase.ID.String()+"/documents", o.Admin.Token, map[string]any{"type": "lab_report",
		"due_at": time.Now().Add(3 * time.Hour), "requested_from": clerk.ID}, http.StatusCreated, &req)
	var wg sync.WaitGroup
	sent := make([]int, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := w.caseJobs.Remind(context.Background())
			if err != nil {
				t.Error(err)
			}
			sent[i] = n
		}()
	}
	wg.Wait()
	if sent[0]+sent[1] != 1 {
		t.Fatalf("reminders sent %v", sent)
	}
	if n, _ := w.caseJobs.Remind(context.Background()); n != 0 {
		t.Fatalf("a second pass sent %d", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := mp.WaitFor(ctx, clerk.Email); err != nil {
		t.Fatal(err)
	}
	if n, err := mp.Count(ctx, clerk.Email); err != nil || n != 1 {
		t.Fatalf("mails to the clerk: %d %v", n, err)
	}
	// Overdue: one more, once.
	if _, err := w.env.Super.Pool.Exec(context.Background(), `update app.documents set due_at = now() - interval '1 minute' where id = $1`, req.ID); err != nil {
		t.Fatal(err)
	}
	if n, _ := w.caseJobs.Remind(context.Background()); n != 1 {
		t.Fatalf("overdue reminder: %d", n)
	}
	if n, _ := w.caseJobs.Remind(context.Background()); n != 0 {
		t.Fatalf("overdue reminder twice: %d", n)
	}
}

// Every case, document and legal-hold route answers malformed ids and
// malformed bodies with a 4xx problem, never a 500.
func TestCaseRoutesBadInput(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Bad Input Org")
	var kase caseJSON
	w.do("POST", "/v1/cases", o.Admin.Token, map[string]any{"title": "bad input"}, http.StatusCreated, &kase)
	src, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	routes := regexp.MustCompile(`api\.route\("([A-Z]+) (/v1/(?:cases|documents|legal-holds|case-invites)[^"]*)"`).
		FindAllStringSubmatch(string(src), -1)
	if len(routes) < 20 {
		t.Fatalf("found %d case routes", len(routes))
	}
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	check := func(method, path string, body io.Reader, ctype string) {
		t.Helper()
		req, _ := http.NewRequest(method, w.srv.URL+path, body)
		req.Header.Set("Authorization", "Bearer "+o.Admin.Token)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := w.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
		} else if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s %s: %d with %q, not a problem", method, path, resp.StatusCode, ct)
		}
	}
	for _, r := range routes {
		method, pattern := r[1], r[2]
		if pattern == "/v1/case-invites/accept" {
			if method == "GET" {
				// The invitation's landing page is a browser's: a token cut
				// short gets its "not valid" page (HTML, 404), not a problem.
				resp, b := w.request(method, pattern+"?token=short", "", nil)
				if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
					t.Errorf("GET %s?token=short: %d %q %s", pattern, resp.StatusCode, resp.Header.Get("Content-Type"), b)
				}
			} else {
				check(method, pattern, strings.NewReader(`{"token": 12}`), "application/json")
			}
			continue
		}
		if param.MatchString(pattern) {
			check(method, param.ReplaceAllString(pattern, "not-a-uuid"), strings.NewReader(`{}`), "application/json")
		}
		if method == "POST" || method == "PUT" || method == "PATCH" {
			path := param.ReplaceAllString(pattern, kase.ID.String())
			check(method, path, strings.NewReader(`{"unknown": `), "application/json")
			check(method, path, strings.NewReader(`{"unknown": 1}`), "application/json")
		}
	}
}
