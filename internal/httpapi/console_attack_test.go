package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/httpapi"
)

// The audit page never says verified when it is not. A checkpoint row
// whose size is not its signed note's makes the proof fail: the banner is
// red and no event is shown as in the checkpoint. And the instance's key
// signs every org's log, so another org's signed note planted in this
// org's checkpoints (by whoever can write the database, the party the log
// is kept against) verifies by its signature alone: the page must name it
// as not this org's log, on a page with no event to prove as on any other.
func TestConsoleAuditCheckpointNotThisLog(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Ledger Clinic")
	w.populate(o, "ldg")
	other := w.createOrg("Other Ledger Clinic")
	w.populate(other, "oldg")
	adm, _ := w.consoleAdmin(o.Admin.Email)
	w.do("GET", "/v1/me", other.Admin.Token, nil, http.StatusOK, nil)
	w.integrate()
	if resp, body := w.consolePage("GET", "/audit", adm, nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="checkpoint-ok"`) {
		t.Fatalf("audit page before: %d %s", resp.StatusCode, body)
	}
	plant := func(from uuid.UUID, grow int64) {
		t.Helper()
		if _, err := w.env.Super.Pool.Exec(context.Background(),
			`insert into audit.checkpoints (org_id, size, root_hash, note)
			 select $1, c.size + $3, c.root_hash, c.note from audit.checkpoints c where c.org_id = $2 order by c.size desc limit 1`,
			o.ID, from, grow); err != nil {
			t.Fatal(err)
		}
	}
	unverified := func(path string) {
		t.Helper()
		resp, body := w.consolePage("GET", path, adm, nil)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, `id="checkpoint-ok"`) || !strings.Contains(body, `id="checkpoint-bad"`) ||
			strings.Contains(body, "<td>yes</td>") {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
	}
	plant(o.ID, 1000000) // this org's own note, under a size it does not sign
	unverified("/audit")
	plant(other.ID, 2000000) // another org's note
	unverified("/audit")
	unverified("/audit?after=900000")
}

// The inclusion proofs the audit page checks are of the leaves the tree
// stores; each event the page shows as in the checkpoint must hash to its
// leaf. A row rewritten under the log (its outcome flipped, by whoever can
// write the database with the immutability triggers off), here an older
// one of the page's and not its newest, is not shown as proved or covered.
func TestConsoleAuditProofBindsTheShownEvent(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Rewritten Clinic")
	w.populate(o, "rwr")
	adm, _ := w.consoleAdmin(o.Admin.Email)
	w.integrate()
	resp, body := w.consolePage("GET", "/audit", adm, nil)
	m := regexp.MustCompile(`Event (\d+) was proved included in it, as was each of the \d+ events`).FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="checkpoint-ok"`) || m == nil {
		t.Fatalf("audit page before: %d %s", resp.StatusCode, body)
	}
	ctx := context.Background()
	tx, err := w.env.Super.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tx.Exec(ctx, `set local session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	if tag, err := tx.Exec(ctx, `update audit.events e set outcome = case when e.outcome = 'success' then 'denied' else 'success' end
		from audit.leaves l where l.org_id = $1 and l.seq = $2 - 2 and e.org_id = l.org_id and e.qid = l.qid`, o.ID, m[1]); err != nil ||
		tag.RowsAffected() != 1 {
		t.Fatalf("rewrite event %s: %v %v", m[1], tag, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	resp, body = w.consolePage("GET", "/audit", adm, nil)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, `id="checkpoint-ok"`) || strings.Contains(body, "proved included") ||
		!strings.Contains(body, "does not hash to the leaf") || strings.Contains(body, "<td>yes</td>") {
		t.Fatalf("audit page after the rewrite: %d %s", resp.StatusCode, body)
	}
}

// soon is an invitation form's access_until a month ahead.
var soon = time.Now().AddDate(0, 1, 0).UTC().Format(time.DateOnly)

// Every post the console takes is refused unless it comes from Ward's own
// pages, whatever a browser or a forger sends: no Origin and no
// Sec-Fetch-Site, another site's, a sibling subdomain's (same-site:
// SameSite=Strict cookies go along), an opaque origin, and the content
// types a cross-site form may send without a preflight. Nothing is written,
// mailed, rotated or shown.
func TestConsoleCrossSitePosts(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Forgery Clinic")
	w.populate(o, "frg")
	var kase, dsr struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Forged claim"}, http.StatusCreated, &kase)
	w.do("POST", "/v1/compliance/dsr", o.PatUser.Token, map[string]any{"kind": "amendment", "patient_id": o.P1}, http.StatusCreated, &dsr)
	var doc struct {
		ID uuid.UUID `json:"id"`
	}
	if resp, b := w.upload("POST", "/v1/cases/"+kase.ID.String()+"/files", o.Lead.Token, "r.txt", []byte("report"),
		"Ward-Document-Type", "report"); resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &doc) != nil {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	counts := func() string {
		var out string
		if err := w.env.Super.Pool.QueryRow(context.Background(), `select concat_ws(' ',
			(select count(*) from app.cases where org_id = $1), (select count(*) from app.patients where org_id = $1),
			(select count(*) from app.clinical_entries where org_id = $1), (select count(*) from app.memberships where org_id = $1),
			(select count(*) from app.document_comments where org_id = $1),
			(select count(*) from app.documents where org_id = $1 and accepted_at is not null),
			(select string_agg(role || revoked_at::text, ',') from app.memberships where org_id = $1 and user_id = $2),
			(select session_idle_timeout_min::text || require_passkey::text from app.orgs where id = $1))`, o.ID, o.Prov.ID).Scan(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	adm, _ := w.consoleAdmin(o.Admin.Email)
	prov := w.consoleSignIn(o.Prov.Email)
	pend := w.consoleSignIn(o.Lead.Email) // a lead owes a second factor
	u, _ := url.Parse(w.base)
	sibling := u.Scheme + "://evil." + u.Hostname()

	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("type", "note")
	fw, _ := mw.CreateFormFile("file", "n.txt")
	_, _ = fw.Write([]byte("forged"))
	_ = mw.Close()
	type post struct {
		path, session, ctype, body string
	}
	form := "application/x-www-form-urlencoded"
	posts := []post{
		{"/sign-in", "", form, url.Values{"email": {o.Prov.Email}}.Encode()},
		{"/sign-out", prov, form, ""},
		{"/second-factor", pend, form, url.Values{"kind": {"totp"}, "code": {"123456"}}.Encode()},
		{"/second-factor/enrol", pend, form, ""},
		{"/dsr/" + dsr.ID.String() + "/extend", adm, form, url.Values{"reason": {"volume"}}.Encode()},
		{"/dsr/" + dsr.ID.String() + "/close", adm, form, url.Values{"outcome": {"denied"}}.Encode()},
		{"/break-glass/" + uuid.NewString() + "/review", adm, form, url.Values{"note": {"forged"}}.Encode()},
		{"/cases/" + kase.ID.String() + "/invites", prov, form, url.Values{"email": {"forged@evil.example"}, "kind": {"payer"},
			"permission": {"view"}, "access_until": {soon}}.Encode()},
		{"/cases/" + kase.ID.String() + "/upload", prov, mw.FormDataContentType(), mp.String()},
		{"/cases", prov, form, url.Values{"title": {"Forged case"}}.Encode()},
		{"/documents/" + doc.ID.String() + "/accept", adm, form, url.Values{"version": {"1"}}.Encode()},
		{"/documents/" + doc.ID.String() + "/comments", prov, form, url.Values{"body": {"forged"}}.Encode()},
		{"/patients", adm, form, url.Values{"name": {"Forged Patient"}}.Encode()},
		{"/patients/" + o.P1.String() + "/entries", prov, form, url.Values{"kind": {"symptom"}, "name": {"forged"},
			"observed_at": {time.Now().UTC().Format("2006-01-02T15:04")}}.Encode()},
		{"/policies/session", adm, form, url.Values{"session_idle_timeout_min": {"1"}, "session_absolute_max_min": {"5"}}.Encode()},
		{"/policies/assurance", adm, form, url.Values{"require_passkey": {"yes"}}.Encode()},
		{"/security/sessions/" + uuid.NewString() + "/end", prov, form, ""},
		{"/security/passkeys/" + uuid.NewString() + "/delete", adm, form, ""},
		{"/security/recovery-codes", adm, form, ""},
		{"/members", adm, form, url.Values{"email": {"forged@evil.example"}, "role": {"admin"}}.Encode()},
		{"/members/" + o.Prov.ID.String() + "/role", adm, form, url.Values{"role": {"admin"}}.Encode()},
		{"/members/" + o.Prov.ID.String() + "/remove", adm, form, ""},
		{"/dsr", prov, form, url.Values{"kind": {"ccpa_delete"}}.Encode()},
		{"/security/passkeys/" + uuid.NewString() + "/rename", adm, form, url.Values{"name": {"forged"}}.Encode()},
	}
	variants := []struct {
		name string
		hdr  http.Header
	}{
		{"no origin headers", http.Header{}},
		{"cross-site", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}},
		{"same-site sibling", http.Header{"Sec-Fetch-Site": {"same-site"}, "Origin": {sibling}}},
		{"foreign Origin only", http.Header{"Origin": {"https://evil.example"}}},
		{"opaque Origin", http.Header{"Origin": {"null"}}},
		{"Origin differing by scheme", http.Header{"Origin": {strings.Replace(w.base, "http://", "https://", 1)}}},
	}
	mails, docs, before := w.outbox.String(), w.objects(o.ID), counts()
	for _, p := range posts {
		for _, v := range variants {
			for _, ctype := range []string{p.ctype, "text/plain"} {
				h := v.hdr.Clone()
				h.Set("Content-Type", ctype)
				if p.session != "" {
					h.Set("Cookie", "ward_session="+p.session)
				}
				resp, b := w.browse("POST", p.path, h, p.body)
				if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "cross_site_request") ||
					len(resp.Header.Values("Set-Cookie")) != 0 || totpSecretRE.Match(b) {
					t.Fatalf("POST %s, %s, %s: %d %v %s", p.path, v.name, ctype, resp.StatusCode, resp.Header.Values("Set-Cookie"), b)
				}
			}
		}
	}
	if w.outbox.String() != mails {
		t.Fatalf("forged posts mailed: %s", strings.TrimPrefix(w.outbox.String(), mails))
	}
	if n := w.objects(o.ID); n != docs {
		t.Fatalf("forged uploads stored %d objects", n-docs)
	}
	if after := counts(); after != before {
		t.Fatalf("forged posts changed cases, patients, entries, members, comments, acceptance or policies: %s, was %s", after, before)
	}
	var status string
	var extended bool
	if err := w.env.Super.Pool.QueryRow(context.Background(),
		`select status, extended_at is not null from app.dsr_requests where id = $1`, dsr.ID).Scan(&status, &extended); err != nil ||
		status != "open" || extended {
		t.Fatalf("after forged posts the request is %q, extended %v (%v)", status, extended, err)
	}
	// Every session the forgeries carried still works: none was signed out.
	for _, s := range []string{prov, adm} {
		if resp, _ := w.consolePage("GET", "/", s, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("a session after forged posts: %d", resp.StatusCode)
		}
	}
}

// A session still owing its second factor reaches the factor's pages and
// sign-out, nothing else: every page sends it to the factor, every other
// form is refused and writes nothing; the page showing a new TOTP secret
// is never cached, and neither the secret nor the session token reaches
// the server's log.
func TestConsolePendingSessionReachesOnlyTheFactor(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Pending Clinic")
	w.populate(o, "pnd")
	var kase, dsr struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Pending claim"}, http.StatusCreated, &kase)
	w.do("POST", "/v1/compliance/dsr", o.PatUser.Token, map[string]any{"kind": "amendment", "patient_id": o.P1}, http.StatusCreated, &dsr)
	adm := w.consoleSignIn(o.Admin.Email)
	for _, path := range []string{"/cases", "/cases/" + kase.ID.String(), "/audit", "/dsr", "/break-glass", "/compliance"} {
		for _, method := range []string{"GET", "HEAD"} {
			resp, body := w.consolePage(method, path, adm, nil)
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/" || strings.Contains(body, "Pending claim") {
				t.Fatalf("pending %s %s: %d %q %s", method, path, resp.StatusCode, resp.Header.Get("Location"), body)
			}
		}
	}
	mails, docs := w.outbox.String(), w.objects(o.ID)
	for path, form := range map[string]url.Values{
		"/dsr/" + dsr.ID.String() + "/extend":          {"reason": {"volume"}},
		"/dsr/" + dsr.ID.String() + "/close":           {"outcome": {"denied"}},
		"/break-glass/" + uuid.NewString() + "/review": {"note": {"x"}},
		"/cases/" + kase.ID.String() + "/invites": {"email": {"x@payer.example"}, "kind": {"payer"}, "permission": {"view"},
			"access_until": {soon}},
	} {
		if resp, body := w.consolePage("POST", path, adm, form); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "mfa_required") {
			t.Fatalf("pending POST %s: %d %s", path, resp.StatusCode, body)
		}
	}
	if resp, body := w.consoleUploadForm(adm, kase.ID.String(), "note", "n.txt", "x"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("pending upload: %d %s", resp.StatusCode, body)
	}
	if w.outbox.String() != mails || w.objects(o.ID) != docs {
		t.Fatalf("a pending session's forms mailed or stored")
	}
	var status string
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select status from app.dsr_requests where id = $1`, dsr.ID).Scan(&status); err != nil ||
		status != "open" {
		t.Fatalf("a pending session's forms changed the request: %q %v", status, err)
	}
	resp, body := w.consolePage("POST", "/second-factor/enrol", adm, url.Values{})
	m := totpSecretRE.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil || resp.Header.Get("Cache-Control") != "no-store" ||
		resp.Header.Get("Location") != "" {
		t.Fatalf("enrolment page: %d %v", resp.StatusCode, resp.Header)
	}
	if logs := w.logs.String(); strings.Contains(logs, m[1]) || strings.Contains(logs, adm) {
		t.Fatalf("the TOTP secret or the session token reached the log")
	}
}

// Signing out ends the session, not only the token in the cookie: the
// token the second factor rotated away (which lives a few seconds more for
// a racing tab) is refused after it too, on the console and on the API.
func TestConsoleSignOutEndsRotatedTokens(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Sign Out Clinic")
	w.populate(o, "sgo")
	first := w.consoleSignIn(o.Admin.Email)
	resp, body := w.consolePage("POST", "/second-factor/enrol", first, url.Values{})
	m := totpSecretRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("enrolment page: %d %s", resp.StatusCode, body)
	}
	resp, _ = w.consolePage("POST", "/second-factor", first, url.Values{"kind": {"totp"}, "code": {totpCode(t, m[1], time.Now())}})
	rotated := cookieValue(setCookie(resp, "ward_session"))
	if rotated == "" || rotated == first {
		t.Fatalf("no rotation: %d", resp.StatusCode)
	}
	// The rotated-away token is at most what it was: a pending session.
	if resp, _ := w.consolePage("GET", "/audit", first, nil); resp.StatusCode == http.StatusOK {
		t.Fatalf("the token before the second factor reads the audit page")
	}
	if resp, _ := w.consolePage("POST", "/sign-out", rotated, url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	for _, tok := range []string{first, rotated} {
		if resp, _ := w.consolePage("GET", "/", tok, nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/sign-in" {
			t.Fatalf("a token after sign-out: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, b := w.browse("GET", "/v1/me", http.Header{"Cookie": {"ward_session=" + tok}}, ""); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a token after sign-out on the API: %d %s", resp.StatusCode, b)
		}
	}
	// Signed in again by a link alone (whoever reads the mail), the
	// session owes the factor it has: it may not set up another one in
	// its place from the page.
	again := w.consoleSignIn(o.Admin.Email)
	resp, body = w.consolePage("POST", "/second-factor/enrol", again, url.Values{})
	if resp.StatusCode != http.StatusForbidden || totpSecretRE.MatchString(body) || strings.Contains(body, "otpauth://") {
		t.Fatalf("a link-only session replacing its TOTP: %d %s", resp.StatusCode, body)
	}
}

// Ids of another org in every path of the console's forms, and the
// admin's pages and forms to a patient and an outside party: refused,
// nothing changed or mailed.
func TestConsoleFormsAcrossOrgsAndRoles(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Boundary Clinic")
	w.populate(o, "bnd")
	other := w.createOrg("Other Boundary Clinic")
	w.populate(other, "obnd")
	var kase, foreign, fdsr struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Boundary claim"}, http.StatusCreated, &kase)
	w.do("POST", "/v1/cases", other.Lead.Token, map[string]any{"patient_id": other.P1, "title": "Foreign boundary claim"},
		http.StatusCreated, &foreign)
	w.do("POST", "/v1/compliance/dsr", other.PatUser.Token, map[string]any{"kind": "amendment", "patient_id": other.P1},
		http.StatusCreated, &fdsr)
	adm, _ := w.consoleAdmin(o.Admin.Email)
	mails := w.outbox.String()
	for path, form := range map[string]url.Values{
		"/dsr/" + fdsr.ID.String() + "/extend": {"reason": {"volume"}},
		"/dsr/" + fdsr.ID.String() + "/close":  {"outcome": {"denied"}},
		"/cases/" + foreign.ID.String() + "/invites": {"email": {"x@payer.example"}, "kind": {"payer"}, "permission": {"view"},
			"access_until": {soon}},
	} {
		if resp, body := w.consolePage("POST", path, adm, form); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("admin POST %s of another org: %d %s", path, resp.StatusCode, body)
		}
	}
	var status string
	var extended bool
	if err := w.env.Super.Pool.QueryRow(context.Background(),
		`select status, extended_at is not null from app.dsr_requests where id = $1`, fdsr.ID).Scan(&status, &extended); err != nil ||
		status != "open" || extended {
		t.Fatalf("another org's request after the forms: %q %v (%v)", status, extended, err)
	}
	// A patient and an attorney invited to the case: no admin page or form.
	att := w.joined(o.Lead.Token, kase.ID.String(), "counsel@law.example", "attorney", "view", "upload")
	pat := w.consoleSignIn(o.PatUser.Email)
	mails = w.outbox.String()
	for name, s := range map[string]string{"patient": pat, "attorney": att.Token} {
		for _, path := range []string{"/audit", "/break-glass", "/compliance"} {
			if resp, body := w.consolePage("GET", path, s, nil); resp.StatusCode != http.StatusForbidden || strings.Contains(body, `id="events"`) ||
				strings.Contains(body, `id="controls"`) {
				t.Fatalf("%s GET %s: %d %s", name, path, resp.StatusCode, body)
			}
		}
		if resp, body := w.consolePage("GET", "/dsr", s, nil); resp.StatusCode != http.StatusOK || strings.Contains(body, fdsr.ID.String()) ||
			strings.Contains(body, "/close") {
			t.Fatalf("%s GET /dsr: %d %s", name, resp.StatusCode, body)
		}
		for path, form := range map[string]url.Values{
			"/dsr/" + fdsr.ID.String() + "/extend":         {"reason": {"volume"}},
			"/break-glass/" + uuid.NewString() + "/review": {"note": {"x"}},
			"/cases/" + kase.ID.String() + "/invites": {"email": {"y@payer.example"}, "kind": {"payer"}, "permission": {"view"},
				"access_until": {soon}},
		} {
			if resp, body := w.consolePage("POST", path, s, form); resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
				t.Fatalf("%s POST %s: %d %s", name, path, resp.StatusCode, body)
			}
		}
	}
	if w.outbox.String() != mails {
		t.Fatalf("refused invitations mailed: %s", strings.TrimPrefix(w.outbox.String(), mails))
	}
	// Odd methods: answered in the console's shape, with its headers.
	for _, c := range []struct {
		method, path string
		want         int
	}{{"OPTIONS", "/cases", http.StatusMethodNotAllowed}, {"PUT", "/sign-in", http.StatusMethodNotAllowed},
		{"GET", "/sign-out", http.StatusMethodNotAllowed}, {"TRACE", "/", http.StatusMethodNotAllowed},
		{"HEAD", "/cases", http.StatusOK}} {
		resp, body := w.consolePage(c.method, c.path, adm, nil)
		if resp.StatusCode != c.want || resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("Cache-Control") != "no-store" ||
			(c.method == "HEAD" && body != "") {
			t.Fatalf("%s %s: %d %v %q", c.method, c.path, resp.StatusCode, resp.Header, body)
		}
	}
}

// The upload form is a type and then a file: parts before the file that
// are not the one type (many of them, or a type padded far past any type)
// are refused, not read and thrown away up to the route's 64 GiB, and
// nothing is stored.
func TestConsoleUploadFormShape(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Upload Shape Clinic")
	w.populate(o, "ush")
	var kase struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Upload shape claim"}, http.StatusCreated, &kase)
	prov := w.consoleSignIn(o.Prov.Email)
	send := func(build func(mw *multipart.Writer)) (*http.Response, string) {
		t.Helper()
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		build(mw)
		fw, _ := mw.CreateFormFile("file", "n.txt")
		_, _ = fw.Write([]byte("shape"))
		_ = mw.Close()
		h := http.Header{"Sec-Fetch-Site": {"same-origin"}, "Cookie": {"ward_session=" + prov}, "Content-Type": {mw.FormDataContentType()}}
		resp, b := w.browse("POST", "/cases/"+kase.ID.String()+"/upload", h, buf.String())
		return resp, string(b)
	}
	docs := w.objects(o.ID)
	for name, build := range map[string]func(mw *multipart.Writer){
		"many parts": func(mw *multipart.Writer) {
			for i := range 2000 {
				_ = mw.WriteField("x"+strconv.Itoa(i), strings.Repeat("y", 512))
			}
			_ = mw.WriteField("type", "note")
		},
		"a padded type": func(mw *multipart.Writer) { _ = mw.WriteField("type", "note"+strings.Repeat(" ", 1<<20)) },
		"two types":     func(mw *multipart.Writer) { _ = mw.WriteField("type", "note"); _ = mw.WriteField("type", "note") },
	} {
		if resp, body := send(build); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "bad_form") {
			t.Fatalf("%s: %d %s", name, resp.StatusCode, body)
		}
	}
	if n := w.objects(o.ID); n != docs {
		t.Fatalf("refused forms stored %d objects", n-docs)
	}
	if resp, body := send(func(mw *multipart.Writer) { _ = mw.WriteField("type", "note") }); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the page's form: %d %s", resp.StatusCode, body)
	}
}

// A console upload whose form stalls before its file is answered as the
// stalled body it is (408 body_too_slow, as the API's upload), not as a
// form without a file, and nothing is stored.
func TestConsoleUploadStalledForm(t *testing.T) {
	w := newWorld(t, withAPIConfig(func(c *httpapi.Config) { c.StallWindow = time.Second }))
	o := w.createOrg("Stalled Form Clinic")
	w.populate(o, "stf")
	var kase struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Stalled form claim"}, http.StatusCreated, &kase)
	prov := w.consoleSignIn(o.Prov.Email)
	docs := w.objects(o.ID)
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() {
		_, _ = io.WriteString(pw, "--b\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nnote\r\n--b\r\nContent-Disp")
	}()
	req, err := http.NewRequest("POST", w.srv.URL+"/cases/"+kase.ID.String()+"/upload", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = http.Header{"Sec-Fetch-Site": {"same-origin"}, "Cookie": {"ward_session=" + prov},
		"Content-Type": {"multipart/form-data; boundary=b"}}
	resp, err := w.noRedirect().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), "body_too_slow") {
		t.Fatalf("stalled form: %d %s", resp.StatusCode, b)
	}
	if n := w.objects(o.ID); n != docs {
		t.Fatalf("a stalled form stored %d objects", n-docs)
	}
}

// The patient's access report page, like the audit page, verifies its
// checkpoint only as this org's log's: another org's signed note planted
// in this org's checkpoints is not called verified.
func TestConsoleAccessReportCheckpointNotThisLog(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Report Ledger Clinic")
	w.populate(o, "rlg")
	other := w.createOrg("Other Report Ledger Clinic")
	w.populate(other, "orlg")
	pat := w.consoleSignIn(o.PatUser.Email)
	w.do("GET", "/v1/me", other.Admin.Token, nil, http.StatusOK, nil)
	w.integrate()
	path := "/patients/" + o.P1.String() + "/access-report"
	if resp, body := w.consolePage("GET", path, pat, nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="report-ok"`) {
		t.Fatalf("access report before: %d %s", resp.StatusCode, body)
	}
	if _, err := w.env.Super.Pool.Exec(context.Background(),
		`insert into audit.checkpoints (org_id, size, root_hash, note)
		 select $1, c.size + 1000000, c.root_hash, c.note from audit.checkpoints c where c.org_id = $2 order by c.size desc limit 1`,
		o.ID, other.ID); err != nil {
		t.Fatal(err)
	}
	resp, body := w.consolePage("GET", path+"?after=900000", pat, nil)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, `id="report-ok"`) || !strings.Contains(body, `id="report-bad"`) {
		t.Fatalf("access report with another org's checkpoint: %d %s", resp.StatusCode, body)
	}
}
