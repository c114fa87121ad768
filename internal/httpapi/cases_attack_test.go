package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/mail"
	"github.com/wardhq/ward/internal/mail/mailtest"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/vault/blob"
)

// An attacker's review of the case repository (issue 9): each subtest is
// one attack, by an insider (a stakeholder, a provider, a patient, an API
// key, another org) or over the wire (Range, file names, content types),
// and what Ward must do about it. Tokens come from the console outbox.

// inviteOutbox invites email to kase through the API and returns the
// invitation's id and the token of the link in the newest outbox mail.
func (w *world) inviteOutbox(by, kase, email, kind string, perms []string, until time.Time) (uuid.UUID, string) {
	w.t.Helper()
	var inv struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/cases/"+kase+"/invites", by, map[string]any{"email": email, "kind": kind,
		"permissions": perms, "access_expires_at": until}, http.StatusCreated, &inv)
	all := inviteRE.FindAllStringSubmatch(w.outbox.String(), -1)
	if len(all) == 0 {
		w.t.Fatalf("no invitation link in the outbox")
	}
	return inv.ID, all[len(all)-1][1]
}

// joined invites email and accepts at once.
func (w *world) joined(by, kase, email, kind string, perms ...string) stakeholder {
	w.t.Helper()
	_, tok := w.inviteOutbox(by, kase, email, kind, perms, time.Now().Add(30*24*time.Hour))
	s, resp, body := w.accept(tok)
	if resp.StatusCode != http.StatusOK {
		w.t.Fatalf("accept %s: %d %s", email, resp.StatusCode, body)
	}
	return s
}

// rfc8187 percent-encodes every byte of s but attr-char (RFC 8187).
func rfc8187(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// Canaries: PHI the test puts in titles, references, descriptions, file
// names, comments and addresses; none may reach a log or an audit row.
const (
	canaryTitle   = "CanaryTitle Zebulon Quartermaine"
	canaryRef     = "WC-CANARY-7781"
	canaryDesc    = "CanaryDesc lumbar MRI of Zebulon"
	canaryFile    = "CanaryFile zebulon-mri.pdf"
	canaryComment = "CanaryComment Zebulon called twice"
	canaryEmail   = "canary.zebulon@law.test"
)

func TestCasesAttack(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Attack Clinic")
	w.populate(o, "ka")
	other := w.createOrg("Attack Other")
	w.populate(other, "kb")
	ctx := context.Background()

	var c1, c2 caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": canaryTitle,
		"reference": canaryRef}, http.StatusCreated, &c1)
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P2, "title": "Second claim"},
		http.StatusCreated, &c2)
	cid, cid2 := c1.ID.String(), c2.ID.String()

	viewer := w.joined(o.Lead.Token, cid, "adjuster@payer.test", "payer", "view")
	uploader := w.joined(o.Lead.Token, cid, "hr@employer.test", "employer", "view", "upload")
	attorney := w.joined(o.Prov.Token, cid, canaryEmail, "attorney", "view", "download", "comment")

	var reqDoc docJSON
	w.do("POST", "/v1/cases/"+cid+"/documents", o.Lead.Token, map[string]any{"type": "mri_report",
		"description": canaryDesc, "due_at": time.Now().Add(48 * time.Hour), "requested_from": uploader.ID},
		http.StatusCreated, &reqDoc)
	body := append([]byte("%PDF-1.7\n"), randomBytes(300_000, 5)...)
	resp, b := w.upload("PUT", "/v1/documents/"+reqDoc.ID.String()+"/content", uploader.Token, canaryFile, body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	docPath := "/v1/documents/" + reqDoc.ID.String() + "/content"
	var doc2 docJSON
	resp, b = w.upload("POST", "/v1/cases/"+cid2+"/files", o.Lead.Token, "other.pdf", []byte("%PDF-1.7\nother"),
		"Ward-Document-Type", "note")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload to C2: %d %s", resp.StatusCode, b)
	}
	_ = json.Unmarshal(b, &doc2)
	w.do("POST", "/v1/documents/"+reqDoc.ID.String()+"/comments", attorney.Token, map[string]any{"body": canaryComment},
		http.StatusCreated, nil)

	t.Run("stakeholder escalation", func(t *testing.T) {
		all := map[string]any{"kind": "employer", "permissions": []string{"view", "upload", "download", "comment"},
			"access_expires_at": time.Now().Add(time.Hour)}
		// Granting themselves more, or a colleague anything: refused.
		for _, s := range []stakeholder{viewer, uploader, attorney} {
			if resp, b := w.request("PUT", "/v1/cases/"+cid+"/members/"+s.ID.String(), s.Token, all); resp.StatusCode != http.StatusForbidden {
				t.Errorf("self-grant: %d %s", resp.StatusCode, b)
			}
		}
		var perms []string
		if err := w.env.Super.Pool.QueryRow(ctx, `select permissions from app.case_members where user_id = $1`,
			viewer.ID).Scan(&perms); err != nil || strings.Join(perms, ",") != "view" {
			t.Fatalf("viewer's permissions now %v %v", perms, err)
		}
		// A viewer neither uploads, requests, comments nor downloads.
		if resp, b := w.upload("PUT", docPath, viewer.Token, "x.pdf", []byte("%PDF-1.7\nx")); resp.StatusCode != http.StatusForbidden {
			t.Errorf("viewer upload: %d %s", resp.StatusCode, b)
		}
		if resp, b := w.upload("POST", "/v1/cases/"+cid+"/files", viewer.Token, "x.pdf", []byte("%PDF-1.7\nx"),
			"Ward-Document-Type", "note"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("viewer new file: %d %s", resp.StatusCode, b)
		}
		w.do("POST", "/v1/cases/"+cid+"/documents", viewer.Token, map[string]any{"type": "x"}, http.StatusForbidden, nil)
		w.do("POST", "/v1/documents/"+reqDoc.ID.String()+"/comments", viewer.Token, map[string]any{"body": "x"},
			http.StatusForbidden, nil)
		w.do("POST", "/v1/documents/"+reqDoc.ID.String()+"/comments", uploader.Token, map[string]any{"body": "x"},
			http.StatusForbidden, nil)
		if resp, _, _ := w.download(docPath, viewer.Token); resp.StatusCode != http.StatusNotFound {
			t.Errorf("viewer download: %d", resp.StatusCode)
		}
		// Nor accept, delete, re-title the case, or manage invitations.
		w.do("POST", "/v1/documents/"+reqDoc.ID.String()+"/accept", uploader.Token, map[string]any{"version": 1},
			http.StatusForbidden, nil)
		w.do("DELETE", "/v1/documents/"+reqDoc.ID.String(), uploader.Token, nil, http.StatusForbidden, nil)
		w.do("PATCH", "/v1/cases/"+cid, uploader.Token, map[string]any{"status": "closed"}, http.StatusForbidden, nil)
		w.do("GET", "/v1/cases/"+cid+"/invites", attorney.Token, nil, http.StatusNotFound, nil)
		w.do("POST", "/v1/cases/"+cid+"/invites", uploader.Token, map[string]any{"email": "friend@x.test",
			"kind": "payer", "permissions": []string{"view"}, "access_expires_at": time.Now().Add(time.Hour)},
			http.StatusForbidden, nil)
		// The member list shows a stakeholder only their own grant; the
		// org's member list shows them nobody.
		var ms struct {
			Members []struct {
				UserID uuid.UUID `json:"user_id"`
			}
		}
		w.do("GET", "/v1/cases/"+cid+"/members", viewer.Token, nil, http.StatusOK, &ms)
		if len(ms.Members) != 1 || ms.Members[0].UserID != viewer.ID {
			t.Errorf("a stakeholder lists members %+v", ms.Members)
		}
		var org struct {
			Members []struct {
				UserID uuid.UUID `json:"user_id"`
			}
		}
		w.do("GET", "/v1/members", viewer.Token, nil, http.StatusOK, &org)
		if len(org.Members) > 1 || len(org.Members) == 1 && org.Members[0].UserID != viewer.ID {
			t.Errorf("a stakeholder lists org members %+v", org.Members)
		}
		// Another case of the same org: nothing, through any route.
		for _, r := range []string{"GET /v1/cases/" + cid2, "GET /v1/cases/" + cid2 + "/documents",
			"GET /v1/cases/" + cid2 + "/members", "GET /v1/documents/" + doc2.ID.String(),
			"GET /v1/documents/" + doc2.ID.String() + "/content", "GET /v1/documents/" + doc2.ID.String() + "/comments"} {
			method, path, _ := strings.Cut(r, " ")
			if resp, b := w.request(method, path, uploader.Token, nil); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s by C1's stakeholder: %d %s", r, resp.StatusCode, b)
			}
		}
		if resp, b := w.upload("PUT", "/v1/documents/"+doc2.ID.String()+"/content", uploader.Token, "x.pdf",
			[]byte("%PDF-1.7\nx")); resp.StatusCode != http.StatusNotFound {
			t.Errorf("version into C2's document: %d %s", resp.StatusCode, b)
		}
	})

	t.Run("accepted documents", func(t *testing.T) {
		// The employer uploads, the lead accepts; the employer may not
		// then swap the accepted file for another, through the API or
		// with direct SQL under their own credential.
		var d docJSON
		resp, b := w.upload("POST", "/v1/cases/"+cid+"/files", uploader.Token, "payroll.pdf", []byte("%PDF-1.7\nv1"),
			"Ward-Document-Type", "payroll")
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload: %d %s", resp.StatusCode, b)
		}
		_ = json.Unmarshal(b, &d)
		w.do("POST", "/v1/documents/"+d.ID.String()+"/accept", o.Lead.Token, map[string]any{"version": 1},
			http.StatusNoContent, nil)
		if resp, b := w.upload("PUT", "/v1/documents/"+d.ID.String()+"/content", uploader.Token, "payroll.pdf",
			[]byte("%PDF-1.7\nv2 altered")); resp.StatusCode != http.StatusConflict {
			t.Errorf("a new version of an accepted document by its uploader: %d %s", resp.StatusCode, b)
		}
		cred := w.cred(uploader.Token)
		cred.Org = o.ID.String()
		err := w.env.App.InTenantTx(ctx, cred,
			func(ctx context.Context, tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `insert into app.document_versions (org_id, case_id, document_id, version, storage_key,
				    data_key, size, sha256, content_type, filename_enc, uploaded_by)
				  values ($1, $2, $3, 99, $4, '\x00', 1, sha256('x'), 'application/pdf', '\x00', $5)`,
					o.ID, c1.ID, d.ID, blob.ObjectKey(o.ID, uuid.New()), uploader.ID)
				return err
			})
		if !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
			t.Errorf("a version row into an accepted document by its uploader: %v", err)
		}
		// The case's manager still may.
		if resp, b := w.upload("PUT", "/v1/documents/"+d.ID.String()+"/content", o.Prov.Token, "payroll.pdf",
			[]byte("%PDF-1.7\nv2")); resp.StatusCode != http.StatusCreated {
			t.Errorf("a new version by the case's manager: %d %s", resp.StatusCode, b)
		}
	})

	t.Run("staff reach", func(t *testing.T) {
		// A provider reaches only the cases of their care-team patients.
		for _, r := range []string{"GET /v1/cases/" + cid, "GET /v1/cases/" + cid + "/documents",
			"GET /v1/documents/" + reqDoc.ID.String(), "GET " + docPath, "GET /v1/cases/" + cid + "/invites"} {
			method, path, _ := strings.Cut(r, " ")
			if resp, b := w.request(method, path, o.Prov2.Token, nil); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s by a provider off the care team: %d %s", r, resp.StatusCode, b)
			}
		}
		var list struct{ Cases []caseJSON }
		w.do("GET", "/v1/cases", o.Prov2.Token, nil, http.StatusOK, &list)
		if len(list.Cases) != 0 {
			t.Errorf("a provider off the care team lists %d cases", len(list.Cases))
		}
		// The patient reads their own case and writes nothing.
		w.do("GET", "/v1/cases/"+cid, o.PatUser.Token, nil, http.StatusOK, nil)
		w.do("POST", "/v1/documents/"+reqDoc.ID.String()+"/comments", o.PatUser.Token, map[string]any{"body": "x"},
			http.StatusForbidden, nil)
		w.do("POST", "/v1/cases/"+cid+"/documents", o.PatUser.Token, map[string]any{"type": "x"}, http.StatusForbidden, nil)
		w.do("PATCH", "/v1/cases/"+cid, o.PatUser.Token, map[string]any{"title": "mine"}, http.StatusForbidden, nil)
		w.do("GET", "/v1/cases/"+cid, o.PatUser2.Token, nil, http.StatusNotFound, nil)
		// A reference (a claim number) is unique per patient, so a conflict
		// tells a provider nothing about cases they cannot read: another
		// patient's case carries WC-ORACLE-2, the provider's case takes it.
		w.do("PATCH", "/v1/cases/"+cid2, o.Lead.Token, map[string]any{"reference": "WC-ORACLE-2"}, http.StatusOK, nil)
		w.do("PATCH", "/v1/cases/"+cid, o.Prov.Token, map[string]any{"reference": "wc-oracle-2"}, http.StatusOK, nil)
		// Within one patient's cases, which the writer reads, it still is.
		var dup caseJSON
		w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Follow-up claim"},
			http.StatusCreated, &dup)
		w.do("PATCH", "/v1/cases/"+dup.ID.String(), o.Prov.Token, map[string]any{"reference": "WC-ORACLE-2"},
			http.StatusConflict, nil)
		w.do("PATCH", "/v1/cases/"+cid, o.Prov.Token, map[string]any{"reference": canaryRef}, http.StatusOK, nil)
		// An admin API key reaches no case, not even with the members scope.
		key := w.createKey(o, "members")
		for _, r := range []string{"GET /v1/cases", "GET /v1/cases/" + cid, "GET " + docPath} {
			method, path, _ := strings.Cut(r, " ")
			if resp, _ := w.request(method, path, key.Key, nil); resp.StatusCode < 400 {
				t.Errorf("%s with an API key: %d", r, resp.StatusCode)
			}
		}
	})

	t.Run("invite acceptance", func(t *testing.T) {
		// Two accepts of one token at once: one session, one grant.
		_, tok := w.inviteOutbox(o.Lead.Token, cid, "race@clinic.test", "clinic", []string{"view"}, time.Now().Add(time.Hour))
		var wg sync.WaitGroup
		codes := make([]int, 8)
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, resp, _ := w.accept(tok)
				codes[i] = resp.StatusCode
			}()
		}
		wg.Wait()
		ok := 0
		for _, c := range codes {
			if c == http.StatusOK {
				ok++
			}
		}
		var sessions int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.sessions s join app.users u on u.id = s.user_id
		    join app.case_invites i on i.accepted_by = u.id where i.token_hash = sha256($1::bytea)`, []byte(tok)).Scan(&sessions); err != nil {
			t.Fatal(err)
		}
		if ok != 1 || sessions != 1 {
			t.Fatalf("concurrent accepts: %v, %d sessions", codes, sessions)
		}
		// The session an acceptance starts ends no later than the access.
		until := time.Now().Add(90 * time.Minute).Truncate(time.Second)
		_, tok = w.inviteOutbox(o.Lead.Token, cid, "short@clinic.test", "clinic", []string{"view"}, until)
		resp, b := w.request("POST", "/v1/case-invites/accept", "", map[string]string{"token": tok})
		var sess struct {
			AbsoluteExpiresAt time.Time `json:"absolute_expires_at"`
		}
		_ = json.Unmarshal(b, &sess)
		if resp.StatusCode != http.StatusOK || sess.AbsoluteExpiresAt.After(until.Add(time.Second)) {
			t.Fatalf("session of a 90-minute grant: %d, ends %v (access ends %v)", resp.StatusCode, sess.AbsoluteExpiresAt, until)
		}
		// Staff invited to a case stay what they are: a provider is not
		// made a stakeholder, and an invitation is no sign-in route for a
		// member of the org (it would go around enforce_sso, their second
		// factor and their device binding): the grant, and no session.
		for _, m := range []*member{o.Prov2, o.Lead, o.PatUser} {
			_, tok := w.inviteOutbox(o.Admin.Token, cid2, m.Email, "clinic", []string{"view"}, time.Now().Add(30*24*time.Hour))
			s, resp, body := w.accept(tok)
			var ans struct {
				Status string    `json:"status"`
				CaseID uuid.UUID `json:"case_id"`
			}
			_ = json.Unmarshal(body, &ans)
			if resp.StatusCode != http.StatusOK || ans.Status != "sign_in_required" || ans.CaseID.String() != cid2 ||
				s.Token != "" || len(resp.Cookies()) != 0 {
				t.Fatalf("%s accepts: %d %s (cookies %v)", m.Email, resp.StatusCode, body, resp.Cookies())
			}
			var role string
			var granted bool
			if err := w.env.Super.Pool.QueryRow(ctx, `select m.role, exists (select from app.case_members c
			    where c.org_id = m.org_id and c.case_id = $3 and c.user_id = m.user_id and c.revoked_at is null)
			    from app.memberships m where m.org_id = $1 and m.user_id = $2`, o.ID, m.ID, cid2).Scan(&role, &granted); err != nil {
				t.Fatal(err)
			}
			if role == "stakeholder" || !granted {
				t.Errorf("%s: membership %q, case grant %v", m.Email, role, granted)
			}
		}
		// The form post from the landing page: sent to sign in, no cookie.
		_, tok = w.inviteOutbox(o.Admin.Token, cid2, o.Prov.Email, "clinic", []string{"view"}, time.Now().Add(30*24*time.Hour))
		form, err := http.NewRequest("POST", w.srv.URL+"/v1/case-invites/accept", strings.NewReader("token="+tok))
		if err != nil {
			t.Fatal(err)
		}
		form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		form.Header.Set("Sec-Fetch-Site", "same-origin")
		form.Header.Set("Origin", w.srv.URL)
		fresp, err := w.browser(t).c.Do(form)
		if err != nil {
			t.Fatal(err)
		}
		fbody, _ := io.ReadAll(fresp.Body)
		fresp.Body.Close()
		if fresp.StatusCode != http.StatusSeeOther || len(fresp.Cookies()) != 0 {
			t.Fatalf("a provider's form acceptance: %d %s, cookies %v", fresp.StatusCode, fbody, fresp.Cookies())
		}
		// A revoked staff member is not brought back by an invitation: the
		// acceptance is refused and the membership stays revoked.
		gone := w.addMember(o, "gone@ka.test", identity.RoleProvider)
		w.do("DELETE", "/v1/members/"+gone.ID.String(), o.Admin.Token, nil, http.StatusNoContent, nil)
		_, tok = w.inviteOutbox(o.Prov.Token, cid, gone.Email, "clinic", []string{"view", "download"}, time.Now().Add(time.Hour))
		_, resp, b = w.accept(tok)
		if resp.StatusCode != http.StatusBadRequest || problemCode(t, b) != "invite_invalid" {
			t.Fatalf("a revoked member accepts: %d %s", resp.StatusCode, b)
		}
		var revoked bool
		if err := w.env.Super.Pool.QueryRow(ctx, `select revoked_at is not null and role = 'provider' from app.memberships
		    where org_id = $1 and user_id = $2`, o.ID, gone.ID).Scan(&revoked); err != nil || !revoked {
			t.Fatalf("the revoked provider's membership is live again (%v)", err)
		}
		// A provider who leaves cannot come back through an invitation they
		// sent (to a private address) before leaving.
		leaver := w.addMember(o, "leaver@ka.test", identity.RoleProvider)
		w.do("PUT", "/v1/patients/"+o.P1.String()+"/care-team/"+leaver.ID.String(), o.Lead.Token, nil, http.StatusNoContent, nil)
		_, tok = w.inviteOutbox(leaver.Token, cid, "leaver.private@mail.test", "attorney", []string{"view", "download"},
			time.Now().Add(time.Hour))
		w.do("DELETE", "/v1/members/"+leaver.ID.String(), o.Admin.Token, nil, http.StatusNoContent, nil)
		if _, resp, b := w.accept(tok); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "revoked") {
			t.Fatalf("an invitation of a member who left: %d %s", resp.StatusCode, b)
		}
		// A revoked invitation stays refused; revoking twice is a 404.
		inv, tok := w.inviteOutbox(o.Lead.Token, cid, "late@clinic.test", "clinic", []string{"view"}, time.Now().Add(time.Hour))
		w.do("DELETE", "/v1/cases/"+cid+"/invites/"+inv.String(), o.Lead.Token, nil, http.StatusNoContent, nil)
		w.do("DELETE", "/v1/cases/"+cid+"/invites/"+inv.String(), o.Lead.Token, nil, http.StatusNotFound, nil)
		if _, resp, b := w.accept(tok); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("revoked invite accepted: %d %s", resp.StatusCode, b)
		}
	})

	t.Run("content types", func(t *testing.T) {
		for _, name := range []string{"<html>", "<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>",
			"  <!DOCTYPE html><script>alert(1)</script>"} {
			if resp, b := w.upload("POST", "/v1/cases/"+cid+"/files", o.Lead.Token, "page.pdf", []byte(name),
				"Ward-Document-Type", "note"); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("active content %q stored: %d %s", name, resp.StatusCode, b)
			}
		}
		// What sniffing does not catch (an SVG without a prolog, HTML after
		// a byte-order mark) is stored, and served so no browser runs it.
		for _, data := range [][]byte{[]byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`),
			append([]byte("\xef\xbb\xbf"), "<html><script>alert(1)</script>"...)} {
			resp, b := w.upload("POST", "/v1/cases/"+cid+"/files", o.Lead.Token, "image.svg", data, "Ward-Document-Type", "note",
				"Content-Type", "image/svg+xml")
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("upload: %d %s", resp.StatusCode, b)
			}
			var d docJSON
			_ = json.Unmarshal(b, &d)
			resp, _, _ = w.download("/v1/documents/"+d.ID.String()+"/content", o.Lead.Token)
			ct := resp.Header.Get("Content-Type")
			if strings.Contains(ct, "svg") || strings.Contains(ct, "html") || strings.Contains(ct, "xml") ||
				resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Security-Policy") != "sandbox" ||
				!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
				t.Errorf("active content served as %q: %v", ct, resp.Header)
			}
		}
	})

	t.Run("file names", func(t *testing.T) {
		// Quotes, semicolons and any Unicode come back percent-encoded in
		// filename*, never breaking the header.
		for _, name := range []string{`a"b; filename=evil.exe.pdf`, "résumé 😀 'x'.pdf", `..\..\boot.ini`} {
			enc := rfc8187(name)
			req, _ := http.NewRequest("POST", w.srv.URL+"/v1/cases/"+cid+"/files", bytes.NewReader([]byte("%PDF-1.7\n")))
			w.authorize(req, o.Lead.Token)
			req.Header.Set("Ward-Document-Type", "note")
			req.Header.Set("Content-Disposition", "attachment; filename*=UTF-8''"+enc)
			resp, err := w.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(name, `\`) {
				if resp.StatusCode != http.StatusBadRequest {
					t.Errorf("name %q: %d %s", name, resp.StatusCode, b)
				}
				continue
			}
			if resp.StatusCode != http.StatusCreated {
				t.Errorf("name %q: %d %s", name, resp.StatusCode, b)
				continue
			}
			var d docJSON
			_ = json.Unmarshal(b, &d)
			resp, _, _ = w.download("/v1/documents/"+d.ID.String()+"/content", o.Lead.Token)
			cd := resp.Header.Get("Content-Disposition")
			disp, params, err := mime.ParseMediaType(cd)
			_, value, _ := strings.Cut(cd, "filename*=")
			if err != nil || disp != "attachment" || params["filename"] != name || len(params) != 1 ||
				strings.ContainsAny(value, "\"\r\n ;") {
				t.Errorf("name %q served as %q (%v %v)", name, cd, params, err)
			}
		}
		// Control characters and direction overrides (which show
		// "invoice\u202Efdp.exe" as "invoiceexe.pdf") are refused.
		for _, enc := range []string{"a%0D%0AX-Evil:%201.pdf", "a%00.pdf", "invoice%E2%80%AEfdp.exe",
			"a%E2%80%8Bb.pdf", "a%C2%85b.pdf"} {
			resp, b := w.upload("POST", "/v1/cases/"+cid+"/files", o.Lead.Token, "", []byte("%PDF-1.7\n"),
				"Ward-Document-Type", "note", "Content-Disposition", "attachment; filename*=UTF-8''"+enc)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("file name %s: %d %s", enc, resp.StatusCode, b)
			}
		}
	})

	t.Run("ranges", func(t *testing.T) {
		// Many tiny, overlapping ranges would each read and decrypt a whole
		// segment: past a few, the range is ignored and the body served once.
		many := "bytes=" + strings.TrimSuffix(strings.Repeat("0-0,", 200), ",")
		resp, got, err := w.download(docPath, attorney.Token, "Range", many)
		if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
			t.Fatalf("200 one-byte ranges: %v %d, %d bytes", err, resp.StatusCode, len(got))
		}
		resp, got, err = w.download(docPath, attorney.Token, "Range", "bytes=0-9,150000-150010,299000-299005")
		if err != nil || resp.StatusCode != http.StatusPartialContent ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/byteranges") ||
			!bytes.Contains(got, body[299000:299006]) {
			t.Fatalf("three ranges: %v %d %s", err, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		for _, r := range []string{"bytes=0-99999999999999999999999", "bytes=-99999999999999999999", "bytes=5-1",
			"bytes=99999999999-", "bytes=0-0,-1,0-", "items=0-1"} {
			resp, _, _ := w.download(docPath, attorney.Token, "Range", r)
			if resp.StatusCode >= 500 {
				t.Errorf("Range %q: %d", r, resp.StatusCode)
			}
		}
		// A viewer's If-None-Match learns nothing (no 304 without access).
		etag := resp.Header.Get("ETag")
		if resp, _, _ := w.download(docPath, viewer.Token, "If-None-Match", etag); resp.StatusCode != http.StatusNotFound {
			t.Errorf("viewer's conditional download: %d", resp.StatusCode)
		}
	})

	t.Run("size limit", func(t *testing.T) {
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.orgs set document_max_bytes = 1000 where id = $1`, o.ID); err != nil {
			t.Fatal(err)
		}
		defer w.env.Super.Pool.Exec(ctx, `update app.orgs set document_max_bytes = default where id = $1`, o.ID)
		var before int
		_ = w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.document_versions where org_id = $1`, o.ID).Scan(&before)
		// A chunked body (no Content-Length) over the limit.
		req, _ := http.NewRequest("POST", w.srv.URL+"/v1/cases/"+cid+"/files",
			io.MultiReader(bytes.NewReader(bytes.Repeat([]byte("A"), 2400))))
		w.authorize(req, o.Lead.Token)
		req.Header.Set("Ward-Document-Type", "note")
		req.Header.Set("Content-Disposition", "attachment; filename=big.txt")
		resp, err := w.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("chunked upload over the limit: %d", resp.StatusCode)
		}
		var after int
		_ = w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.document_versions where org_id = $1`, o.ID).Scan(&after)
		if after != before {
			t.Fatalf("a refused upload left a version")
		}
	})

	t.Run("deleted documents", func(t *testing.T) {
		resp, b := w.upload("POST", "/v1/cases/"+cid+"/files", o.Lead.Token, "gone.pdf", []byte("%PDF-1.7\ngone"),
			"Ward-Document-Type", "note")
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload: %d %s", resp.StatusCode, b)
		}
		var d docJSON
		_ = json.Unmarshal(b, &d)
		path := "/v1/documents/" + d.ID.String()
		resp, _, _ = w.download(path+"/content", attorney.Token)
		etag := resp.Header.Get("ETag")
		w.do("DELETE", path, o.Admin.Token, nil, http.StatusNoContent, nil)
		for _, tok := range []string{attorney.Token, o.Admin.Token} {
			for _, hdr := range [][]string{nil, {"If-None-Match", etag}, {"Range", "bytes=0-3"}} {
				if resp, _, _ := w.download(path+"/content", tok, hdr...); resp.StatusCode != http.StatusNotFound {
					t.Errorf("deleted document downloaded (%v): %d", hdr, resp.StatusCode)
				}
			}
			w.do("GET", path, tok, nil, http.StatusNotFound, nil)
			w.do("GET", path+"/comments", tok, nil, http.StatusNotFound, nil)
		}
		if resp, _ := w.upload("PUT", path+"/content", o.Admin.Token, "again.pdf", []byte("%PDF-1.7\n")); resp.StatusCode != http.StatusNotFound {
			t.Errorf("a version of a deleted document: %d", resp.StatusCode)
		}
	})

	t.Run("audit", func(t *testing.T) {
		// The attorney's download names C1 and is a disclosure; the refused
		// reach into C2 names no case of its own.
		w.download(docPath, attorney.Token)
		w.download("/v1/documents/"+doc2.ID.String()+"/content", attorney.Token)
		w.do("GET", "/v1/cases/"+cid+"/invites", o.Lead.Token, nil, http.StatusOK, nil)
		w.do("GET", "/v1/cases/"+cid+"/documents", o.Lead.Token, nil, http.StatusOK, nil)
		w.do("GET", "/v1/documents/"+reqDoc.ID.String()+"/comments", o.Lead.Token, nil, http.StatusOK, nil)
		var named, wrong int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) filter (where case_id = $2 and disclosure is not null),
		    count(*) filter (where case_id is distinct from $2 and outcome = 'success')
		    from audit.events where org_id = $1 and action = 'document.download' and actor_id = $3`,
			o.ID, c1.ID, attorney.ID).Scan(&named, &wrong); err != nil || named == 0 || wrong != 0 {
			t.Fatalf("attorney's downloads: %d naming C1, %d another case (%v)", named, wrong, err)
		}
		var refusedCase int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1
		    and action = 'document.download' and outcome = 'denied' and actor_id = $2 and case_id is not null`,
			o.ID, attorney.ID).Scan(&refusedCase); err != nil || refusedCase != 0 {
			t.Fatalf("a refused download names a case: %d %v", refusedCase, err)
		}
		// Each read has its event: view, list with ids, comments.
		for _, action := range []string{"case.view", "case.list", "document.list", "document.view", "document.comment.list",
			"case.member.list", "case.invite.list", "document.comment", "document.upload", "case.invite.accept"} {
			if w.auditCount(o.ID, action, "success") == 0 {
				t.Errorf("no %s event", action)
			}
		}
		// No canary in the log, in any audit row, or in the invitation URL.
		var rows string
		if err := w.env.Super.Pool.QueryRow(ctx, `select coalesce(string_agg(convert_from(canonical, 'UTF8'), E'\n'), '')
		    from audit.events where org_id = $1`, o.ID).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		for _, canary := range []string{canaryTitle, canaryRef, canaryDesc, canaryFile, "zebulon-mri", canaryComment,
			canaryEmail, "Zebulon"} {
			if strings.Contains(w.logs.String(), canary) {
				t.Errorf("the log holds %q", canary)
			}
			if strings.Contains(rows, canary) {
				t.Errorf("an audit event holds %q", canary)
			}
		}
	})
}

// The jobs do not serve people who lost their access: no reminder to a
// revoked or expired stakeholder or to someone who never reached the case,
// and a grant extended after its expiry was recorded expires (and is
// recorded) again.
func TestCaseJobsAttack(t *testing.T) {
	dir := t.TempDir()
	w := newWorld(t, withBlobStore(func(t testing.TB) blob.Store {
		d, err := blob.NewDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}))
	o := w.createOrg("Jobs Attack")
	w.populate(o, "ja")
	ctx := context.Background()
	var kase caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "claim"}, http.StatusCreated, &kase)
	cid := kase.ID.String()
	revoked := w.joined(o.Lead.Token, cid, "revoked@employer.test", "employer", "view", "upload")
	expired := w.joined(o.Lead.Token, cid, "expired@clinic.test", "clinic", "view", "upload")
	live := w.joined(o.Lead.Token, cid, "live@clinic.test", "clinic", "view", "upload")
	request := func(from uuid.UUID) {
		w.do("POST", "/v1/cases/"+cid+"/documents", o.Lead.Token, map[string]any{"type": "report",
			"due_at": time.Now().Add(3 * time.Hour), "requested_from": from}, http.StatusCreated, nil)
	}
	for _, id := range []uuid.UUID{revoked.ID, expired.ID, o.Prov2.ID, o.PatUser2.ID, live.ID} {
		request(id)
	}
	w.do("DELETE", "/v1/cases/"+cid+"/members/"+revoked.ID.String(), o.Lead.Token, nil, http.StatusNoContent, nil)
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.case_members set access_expires_at = now() - interval '1 second'
	    where user_id = $1`, expired.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := w.caseJobs.Remind(ctx); err != nil || n != 1 {
		t.Errorf("reminders: %d %v (want only the live stakeholder's)", n, err)
	}
	for _, addr := range []string{"revoked@employer.test", "expired@clinic.test", o.Prov2.Email, o.PatUser2.Email} {
		if strings.Contains(w.outbox.String(), "To: "+addr+"\nSubject: A document requested") {
			t.Errorf("a reminder went to %s", addr)
		}
	}

	// Expiry, extension, expiry again: two events.
	if n, err := w.caseJobs.RecordExpiries(ctx); err != nil || n != 1 {
		t.Fatalf("first expiry: %d %v", n, err)
	}
	w.do("PUT", "/v1/cases/"+cid+"/members/"+expired.ID.String(), o.Lead.Token, map[string]any{"kind": "clinic",
		"permissions": []string{"view"}, "access_expires_at": time.Now().Add(time.Hour)}, http.StatusOK, nil)
	w.do("GET", "/v1/cases/"+cid, expired.Token, nil, http.StatusOK, nil)
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.case_members set access_expires_at = now() - interval '1 second'
	    where user_id = $1`, expired.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := w.caseJobs.RecordExpiries(ctx); err != nil || n != 1 {
		t.Fatalf("the extended grant's expiry: %d %v", n, err)
	}
	if got := w.auditCount(o.ID, "case.member.expire", "success"); got != 2 {
		t.Fatalf("expiry events %d, want 2", got)
	}
	// A grant's kind changes with the grant (a payer re-classed as an
	// attorney is recorded as one on the next disclosure); a stakeholder's
	// grant never becomes a staff grant.
	var m struct {
		Kind string `json:"kind"`
	}
	w.do("PUT", "/v1/cases/"+cid+"/members/"+live.ID.String(), o.Lead.Token, map[string]any{"kind": "attorney",
		"permissions": []string{"view"}, "access_expires_at": time.Now().Add(time.Hour)}, http.StatusOK, &m)
	var kind string
	if err := w.env.Super.Pool.QueryRow(ctx, `select kind from app.case_members where user_id = $1`, live.ID).Scan(&kind); err != nil ||
		m.Kind != "attorney" || kind != "attorney" {
		t.Errorf("kind after the change: answered %q, stored %q (%v)", m.Kind, kind, err)
	}
	w.do("PUT", "/v1/cases/"+cid+"/members/"+live.ID.String(), o.Lead.Token, map[string]any{"kind": "staff",
		"permissions": []string{"view"}}, http.StatusBadRequest, nil)

	// The sweeper and an upload that completes "old" (an S3 multipart
	// object carries its upload's start time): the sweep sees the object
	// before its row commits, the row commits, the object must stay.
	resp, b := w.upload("POST", "/v1/cases/"+cid+"/files", o.Lead.Token, "late.pdf", []byte("%PDF-1.7\nlate"),
		"Ward-Document-Type", "note")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	var d docJSON
	_ = json.Unmarshal(b, &d)
	var key string
	if err := w.env.Super.Pool.QueryRow(ctx, `select storage_key from app.document_versions where document_id = $1`,
		d.ID).Scan(&key); err != nil {
		t.Fatal(err)
	}
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.document_versions set storage_key = $2 where document_id = $1`,
		d.ID, blob.ObjectKey(o.ID, uuid.New())); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-3 * time.Hour)
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			_ = os.Chtimes(p, old, old)
		}
		return nil
	})
	if _, err := w.caseJobs.Sweep(ctx); err != nil { // the upload's row is not committed yet
		t.Fatal(err)
	}
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.document_versions set storage_key = $2 where document_id = $1`,
		d.ID, key); err != nil { // now it is
		t.Fatal(err)
	}
	w.caseJobs.Confirm = 0
	if _, err := w.caseJobs.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if resp, got, err := w.download("/v1/documents/"+d.ID.String()+"/content", o.Lead.Token); err != nil ||
		resp.StatusCode != http.StatusOK || string(got) != "%PDF-1.7\nlate" {
		t.Fatalf("the sweeper removed a committed document: %v %q", err, got)
	}
}

// An invitation the mail server refuses is logged without the address
// (the server's reply text, which often repeats it, is dropped).
func TestCaseInviteMailRefused(t *testing.T) {
	mp := mailtest.Start(t, mailtest.WithArgs("--smtp-allowed-recipients", "^allowed@"))
	w := newWorld(t, withMailer(mail.NewSMTP(mail.SMTPConfig{Addr: mp.SMTPAddr(), From: "ward@ward.example"})))
	o := w.createOrg("Mail Refused")
	var kase caseJSON
	w.do("POST", "/v1/cases", o.Admin.Token, map[string]any{"title": "claim"}, http.StatusCreated, &kase)
	w.do("POST", "/v1/cases/"+kase.ID.String()+"/invites", o.Admin.Token, map[string]any{"email": canaryEmail,
		"kind": "attorney", "permissions": []string{"view"}, "access_expires_at": time.Now().Add(time.Hour)},
		http.StatusCreated, nil)
	logs := w.logs.String()
	if !strings.Contains(logs, "case invitation not delivered") {
		t.Fatalf("the refusal was not logged: %s", logs)
	}
	if strings.Contains(strings.ToLower(logs), "canary.zebulon") {
		t.Fatalf("the log holds the invitee's address")
	}
}
