package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// consolePage is a browser's request to the console: same-origin for a
// post, the session cookie when one is given.
func (w *world) consolePage(method, path, session string, form url.Values) (*http.Response, string) {
	w.t.Helper()
	h := http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {w.base}}
	if session != "" {
		h.Set("Cookie", "ward_session="+session)
	}
	body := ""
	if form != nil {
		h.Set("Content-Type", "application/x-www-form-urlencoded")
		body = form.Encode()
	}
	resp, b := w.browse(method, path, h, body)
	return resp, string(b)
}

// consoleSignIn signs email in as a browser does through the console: the
// sign-in form, the mailed link's form, and the session in the cookie.
func (w *world) consoleSignIn(email string) string {
	w.t.Helper()
	before := len(linkRE.FindAllString(w.outbox.String(), -1))
	resp, body := w.consolePage("POST", "/sign-in", "", url.Values{"email": {email}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="link-sent"`) {
		w.t.Fatalf("sign-in form: %d %s", resp.StatusCode, body)
	}
	verifier := cookieValue(setCookie(resp, "ward_verifier"))
	var links [][]string
	for deadline := time.Now().Add(30 * time.Second); len(links) <= before && time.Now().Before(deadline); {
		if links = linkRE.FindAllStringSubmatch(w.outbox.String(), -1); len(links) <= before {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if len(links) <= before {
		w.t.Fatalf("no link mailed to %s", email)
	}
	h := http.Header{"Sec-Fetch-Site": {"same-origin"}, "Cookie": {"ward_verifier=" + verifier},
		"Content-Type": {"application/x-www-form-urlencoded"}}
	resp, b := w.browse("POST", "/v1/auth/magic", h, url.Values{"token": {links[len(links)-1][1]}}.Encode())
	if resp.StatusCode != http.StatusSeeOther {
		w.t.Fatalf("link form: %d %s", resp.StatusCode, b)
	}
	session := cookieValue(setCookie(resp, "ward_session"))
	if session == "" {
		w.t.Fatalf("no session cookie: %v", resp.Header.Values("Set-Cookie"))
	}
	return session
}

// consoleUploadForm posts the case page's upload form as a browser does.
func (w *world) consoleUploadForm(session, kase, typ, name, content string) (*http.Response, string) {
	w.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("type", typ)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = io.WriteString(fw, content)
	_ = mw.Close()
	h := http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {w.base}, "Cookie": {"ward_session=" + session},
		"Content-Type": {mw.FormDataContentType()}}
	resp, b := w.browse("POST", "/cases/"+kase+"/upload", h, buf.String())
	return resp, string(b)
}

// consoleAdmin signs an admin in through the console and sets up TOTP
// from its pages: the cookie's token after the second factor, and the
// secret.
func (w *world) consoleAdmin(email string) (session, secret string) {
	w.t.Helper()
	adm := w.consoleSignIn(email)
	resp, body := w.consolePage("POST", "/second-factor/enrol", adm, url.Values{})
	m := totpSecretRE.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		w.t.Fatalf("enrolment page: %d %s", resp.StatusCode, body)
	}
	resp, body = w.consolePage("POST", "/second-factor", adm, url.Values{"kind": {"totp"}, "code": {totpCode(w.t, m[1], time.Now())}})
	session = cookieValue(setCookie(resp, "ward_session"))
	if resp.StatusCode != http.StatusSeeOther || session == "" {
		w.t.Fatalf("second factor: %d %s", resp.StatusCode, body)
	}
	return session, m[1]
}

var totpSecretRE = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)

// The console's pages over HTTP: who may see which page, the forms'
// same-origin rule, the second factor, and that the pages show what the
// database lets the session read and nothing of another org.
func TestConsolePages(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Console Clinic")
	w.populate(o, "cons")
	other := w.createOrg("Other Console Clinic")
	w.populate(other, "ocons")

	var kase, foreign struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Shoulder strain on the loading dock",
		"reference": "WC-77"}, http.StatusCreated, &kase)
	w.do("POST", "/v1/cases", other.Lead.Token, map[string]any{"patient_id": other.P1, "title": "Foreign claim"},
		http.StatusCreated, &foreign)
	if resp, body := w.upload("POST", "/v1/cases/"+kase.ID.String()+"/files", o.Lead.Token, "first-report.pdf",
		[]byte("%PDF-1.4 report"), "Ward-Document-Type", "first_report"); resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}

	// Signed out: every page sends the browser to the sign-in form.
	for _, path := range []string{"/", "/cases", "/cases/" + kase.ID.String(), "/audit"} {
		resp, body := w.consolePage("GET", path, "", nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/sign-in" {
			t.Fatalf("GET %s signed out: %d %q %s", path, resp.StatusCode, resp.Header.Get("Location"), body)
		}
	}
	resp, body := w.consolePage("GET", "/sign-in", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `action="/sign-in"`) ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("sign-in page: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if resp, _ := w.consolePage("GET", "/assets/console.css", "", nil); resp.StatusCode != http.StatusOK ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("stylesheet: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, body := w.consolePage("GET", "/assets/console.js", "", nil); resp.StatusCode != http.StatusOK ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || !strings.Contains(body, "parseRequestOptionsFromJSON") {
		t.Fatalf("script: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, _ := w.consolePage("GET", "/assets/layout.html", "", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a template served as an asset: %d", resp.StatusCode)
	}
	// Another site's form may not ask for a link (login CSRF), and mails
	// nothing.
	mails := len(linkRE.FindAllString(w.outbox.String(), -1))
	resp, b := w.browse("POST", "/sign-in", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"},
		"Content-Type": {"application/x-www-form-urlencoded"}}, url.Values{"email": {o.Prov.Email}}.Encode())
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "cross_site_request") {
		t.Fatalf("cross-site sign-in form: %d %s", resp.StatusCode, b)
	}
	// An address nobody has gets the same page, and no mail.
	resp, body = w.consolePage("POST", "/sign-in", "", url.Values{"email": {"nobody@example.test"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="link-sent"`) {
		t.Fatalf("unknown address: %d %s", resp.StatusCode, body)
	}
	if n := len(linkRE.FindAllString(w.outbox.String(), -1)); n != mails {
		t.Fatalf("links mailed for a cross-site form or an unknown address: %d", n-mails)
	}
	if resp, body := w.consolePage("POST", "/sign-in", "", url.Values{"email": {"not an address"}}); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(body, `id="error"`) || !strings.Contains(body, `value="not an address"`) {
		t.Fatalf("bad address: %d %s", resp.StatusCode, body)
	}

	// A provider: the cases of their care-team patient, its documents, no
	// audit log, nothing of another org.
	prov := w.consoleSignIn(o.Prov.Email)
	resp, body = w.consolePage("GET", "/", prov, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="role">provider<`) || strings.Contains(body, `href="/audit"`) {
		t.Fatalf("provider home: %d %s", resp.StatusCode, body)
	}
	resp, body = w.consolePage("GET", "/cases", prov, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Shoulder strain on the loading dock") ||
		!strings.Contains(body, `href="/cases/`+kase.ID.String()+`"`) || strings.Contains(body, "Foreign claim") {
		t.Fatalf("provider cases: %d %s", resp.StatusCode, body)
	}
	resp, body = w.consolePage("GET", "/cases/"+kase.ID.String(), prov, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "first_report") || !strings.Contains(body, "WC-77") ||
		!regexp.MustCompile(`href="/v1/documents/[0-9a-f-]{36}/content"`).MatchString(body) {
		t.Fatalf("provider case page: %d %s", resp.StatusCode, body)
	}
	for _, path := range []string{"/cases/" + foreign.ID.String(), "/cases/not-a-case"} {
		if resp, body := w.consolePage("GET", path, prov, nil); resp.StatusCode != http.StatusNotFound ||
			strings.Contains(body, "Foreign claim") {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
	}
	// The page's forms: a file uploaded as a new document, streamed from a
	// multipart form; an outside party invited by mail.
	resp, body = w.consoleUploadForm(prov, kase.ID.String(), "wage_statement", "wages.csv", "week,amount\n1,100\n")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/cases/"+kase.ID.String()+"?done=uploaded" {
		t.Fatalf("upload form: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	resp, body = w.consolePage("GET", "/cases/"+kase.ID.String()+"?done=uploaded", prov, nil)
	if !strings.Contains(body, "wage_statement") || !strings.Contains(body, `id="done-uploaded"`) {
		t.Fatalf("case page after the upload: %d %s", resp.StatusCode, body)
	}
	resp, body = w.consolePage("POST", "/cases/"+kase.ID.String()+"/invites", prov, url.Values{"email": {"adjuster@payer.example"},
		"kind": {"payer"}, "permission": {"view", "download"}, "access_until": {time.Now().AddDate(0, 1, 0).Format(time.DateOnly)}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "?done=invited") {
		t.Fatalf("invite form: %d %s", resp.StatusCode, body)
	}
	if all := inviteRE.FindAllStringSubmatch(w.outbox.String(), -1); len(all) == 0 || !strings.Contains(w.outbox.String(), "adjuster@payer.example") {
		t.Fatalf("no invitation mailed: %s", w.outbox.String())
	}
	// Bad input is refused with the rule, nothing written: a type the
	// database refuses, a missing file, a kind that is not a party's.
	docs := w.objects(o.ID)
	if resp, body := w.consoleUploadForm(prov, kase.ID.String(), "Bad Type!", "x.txt", "x"); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(body, "lower-case") {
		t.Fatalf("bad type: %d %s", resp.StatusCode, body)
	}
	if resp, body := w.consoleUploadForm(prov, kase.ID.String(), "note", "", "x"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("no file: %d %s", resp.StatusCode, body)
	}
	if n := w.objects(o.ID); n != docs {
		t.Fatalf("a refused upload left %d objects", n-docs)
	}
	if resp, body := w.consolePage("POST", "/cases/"+kase.ID.String()+"/invites", prov, url.Values{"email": {"x@payer.example"},
		"kind": {"staff"}, "permission": {"view"}, "access_until": {"2099-01-01"}}); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(body, "kind is") {
		t.Fatalf("bad kind: %d %s", resp.StatusCode, body)
	}
	// The patient may read their case but not upload to it, and another
	// org's case takes no upload from this session.
	pat := w.consoleSignIn(o.PatUser.Email)
	if resp, body := w.consoleUploadForm(pat, kase.ID.String(), "note", "n.txt", "x"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("patient upload: %d %s", resp.StatusCode, body)
	}
	if resp, body := w.consoleUploadForm(prov, foreign.ID.String(), "note", "n.txt", "x"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("upload to another org's case: %d %s", resp.StatusCode, body)
	}
	if n := w.objects(o.ID); n != docs {
		t.Fatalf("refused uploads left %d objects", n-docs)
	}

	// Another provider, not on the patient's care team, sees no case.
	prov2 := w.consoleSignIn(o.Prov2.Email)
	if _, body := w.consolePage("GET", "/cases", prov2, nil); !strings.Contains(body, `id="no-cases"`) {
		t.Fatalf("provider off the care team: %s", body)
	}
	resp, body = w.consolePage("GET", "/audit", prov, nil)
	if resp.StatusCode != http.StatusForbidden || strings.Contains(body, `id="events"`) {
		t.Fatalf("provider audit page: %d %s", resp.StatusCode, body)
	}
	if n := w.auditCount(o.ID, "audit.read", "denied"); n != 1 {
		t.Fatalf("the refused audit page recorded %d denials", n)
	}
	// A cookie-borne post from another site is refused: sign-out included.
	resp, b = w.browse("POST", "/sign-out", http.Header{"Cookie": {"ward_session=" + prov}, "Sec-Fetch-Site": {"cross-site"},
		"Origin": {"https://evil.example"}}, "")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site sign-out: %d %s", resp.StatusCode, b)
	}
	resp, _ = w.consolePage("POST", "/sign-out", prov, url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/sign-in" ||
		!strings.Contains(setCookie(resp, "ward_session"), "Max-Age=0") {
		t.Fatalf("sign-out: %d %q %v", resp.StatusCode, resp.Header.Get("Location"), resp.Header.Values("Set-Cookie"))
	}
	if resp, _ := w.consolePage("GET", "/cases", prov, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the signed-out session still reads cases: %d", resp.StatusCode)
	}

	// An admin owes a second factor: every page but the factor's sends the
	// browser to it; a wrong code shows the form again; the right one
	// rotates the cookie's token and opens the console.
	adm := w.consoleSignIn(o.Admin.Email)
	resp, body = w.consolePage("GET", "/", adm, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="factor-needed"`) || strings.Contains(body, `href="/cases"`) {
		t.Fatalf("pending admin home: %d %s", resp.StatusCode, body)
	}
	for _, path := range []string{"/audit", "/cases"} {
		if resp, _ := w.consolePage("GET", path, adm, nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/" {
			t.Fatalf("pending admin GET %s: %d %q", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	resp, body = w.consolePage("POST", "/second-factor/enrol", adm, url.Values{})
	m := totpSecretRE.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil || !strings.Contains(body, `href="otpauth://totp/`) {
		t.Fatalf("enrolment page: %d %s", resp.StatusCode, body)
	}
	resp, body = w.consolePage("POST", "/second-factor", adm, url.Values{"kind": {"totp"}, "code": {"000000"}})
	if resp.StatusCode < 400 || !strings.Contains(body, `id="error"`) || setCookie(resp, "ward_session") != "" {
		t.Fatalf("wrong code: %d %s", resp.StatusCode, body)
	}
	resp, body = w.consolePage("POST", "/second-factor", adm, url.Values{"kind": {"totp"}, "code": {totpCode(t, m[1], time.Now())}})
	rotated := cookieValue(setCookie(resp, "ward_session"))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/" || rotated == "" || rotated == adm {
		t.Fatalf("right code: %d %q %v %s", resp.StatusCode, resp.Header.Get("Location"), resp.Header.Values("Set-Cookie"), body)
	}
	resp, body = w.consolePage("GET", "/", rotated, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="aal">AAL2`) || !strings.Contains(body, `href="/audit"`) {
		t.Fatalf("admin home after the factor: %d %s", resp.StatusCode, body)
	}

	// The audit log: the newest checkpoint verified with the published key,
	// an inclusion proof checked, the org's events and no other org's.
	w.integrate()
	resp, body = w.consolePage("GET", "/audit", rotated, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="checkpoint-ok"`) || !strings.Contains(body, "proved included") ||
		!strings.Contains(body, "case.create") || !strings.Contains(body, "document.upload") {
		t.Fatalf("audit page: %d %s", resp.StatusCode, body)
	}
	// (The provider's refused look at the foreign case is this org's event,
	// naming the id it asked for; the other org's own events are not here.)
	if strings.Contains(body, other.Lead.ID.String()) || strings.Contains(body, other.P1.String()) {
		t.Fatalf("another org's events on the audit page: %s", body)
	}
	if resp, _ := w.consolePage("GET", "/audit?after=-1", rotated, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("after=-1: %d", resp.StatusCode)
	}
	resp, body = w.consolePage("GET", "/audit?after=1", rotated, nil)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "<tr><td>1</td>") {
		t.Fatalf("after=1: %d %s", resp.StatusCode, body)
	}
}

// The admin's queues in the console: data-subject requests (the org's for
// an admin, one's own for anyone else; extend and close from the page) and
// emergency accesses to review, whose closing needs a fresh second factor:
// the page asks for it, and the change made again then passes.
func TestConsoleReviews(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Console Review Clinic")
	w.populate(o, "crv")
	const base = "/v1/compliance/dsr"
	var amend, access struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", base, o.PatUser.Token, map[string]any{"kind": "amendment", "patient_id": o.P1}, http.StatusCreated, &amend)
	w.do("POST", base, o.Admin.Token, map[string]any{"kind": "access", "patient_id": o.P2}, http.StatusCreated, &access)

	// An emergency access by a designated provider, to review.
	op := o.Prov2
	d1, d2 := w.newDevice(), w.newDevice()
	w.registerPasskey(&op.Token, d1, "laptop")
	w.registerPasskey(&op.Token, d2, "phone")
	w.do("PUT", "/v1/org/break-glass/users/"+op.ID.String(), o.Admin.Token, nil, http.StatusOK, nil)
	if resp, b := w.activate(d1, "Unresponsive patient brought in; the care team is not reachable"); resp.StatusCode != http.StatusOK {
		t.Fatalf("activation: %d %s", resp.StatusCode, b)
	}

	adm, secret := w.consoleAdmin(o.Admin.Email)
	resp, body := w.consolePage("GET", "/dsr", adm, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="dsr-`+amend.ID.String()+`"`) ||
		!strings.Contains(body, `id="dsr-`+access.ID.String()+`"`) || !strings.Contains(body, `action="/dsr/`+amend.ID.String()+`/close"`) {
		t.Fatalf("admin's queue: %d %s", resp.StatusCode, body)
	}
	// The patient sees their own request, without the admin's forms; a
	// provider sees none.
	pat := w.consoleSignIn(o.PatUser.Email)
	resp, body = w.consolePage("GET", "/dsr", pat, nil)
	if !strings.Contains(body, amend.ID.String()) || strings.Contains(body, access.ID.String()) || strings.Contains(body, "/close") {
		t.Fatalf("patient's queue: %d %s", resp.StatusCode, body)
	}
	if _, body := w.consolePage("GET", "/dsr", w.consoleSignIn(o.Prov.Email), nil); !strings.Contains(body, `id="no-requests"`) {
		t.Fatalf("provider's queue: %s", body)
	}
	if resp, _ := w.consolePage("POST", "/dsr/"+amend.ID.String()+"/close", pat, url.Values{"outcome": {"fulfilled"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("patient closing a request: %d", resp.StatusCode)
	}
	// Extend, then close; a bad value is refused with its rule.
	if resp, body := w.consolePage("POST", "/dsr/"+amend.ID.String()+"/extend", adm, url.Values{"reason": {"bored"}}); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(body, "reason is one of") {
		t.Fatalf("bad reason: %d %s", resp.StatusCode, body)
	}
	resp, _ = w.consolePage("POST", "/dsr/"+amend.ID.String()+"/extend", adm, url.Values{"reason": {"volume"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/dsr?done=reason" {
		t.Fatalf("extend: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = w.consolePage("POST", "/dsr/"+access.ID.String()+"/close", adm, url.Values{"outcome": {"fulfilled"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("close: %d", resp.StatusCode)
	}
	var status string
	var extended bool
	if err := w.env.Super.Pool.QueryRow(context.Background(),
		`select (select status from app.dsr_requests where id = $1), (select extended_at is not null from app.dsr_requests where id = $2)`,
		access.ID, amend.ID).Scan(&status, &extended); err != nil || status != "fulfilled" || !extended {
		t.Fatalf("after the forms: access %q, amendment extended %v (%v)", status, extended, err)
	}

	// Emergency access: listed with its reason and the review form.
	resp, body = w.consolePage("GET", "/break-glass", adm, nil)
	m := regexp.MustCompile(`action="/break-glass/([0-9a-f-]{36})/review"`).FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil || !strings.Contains(body, "Unresponsive patient brought in") {
		t.Fatalf("emergency access page: %d %s", resp.StatusCode, body)
	}
	if resp, _ := w.consolePage("GET", "/break-glass", pat, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("patient's emergency access page: %d", resp.StatusCode)
	}
	// Twenty minutes later the review needs the second factor again: the
	// page asks for it and nothing is closed; after it, the same form
	// closes the review.
	w.age(adm, 20*time.Minute)
	review := url.Values{"note": {"Reviewed with the attending; access was justified"}}
	resp, body = w.consolePage("POST", "/break-glass/"+m[1]+"/review", adm, review)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `id="step-up"`) || !strings.Contains(body, `action="/second-factor"`) {
		t.Fatalf("stale review: %d %s", resp.StatusCode, body)
	}
	resp, body = w.consolePage("POST", "/second-factor", adm, url.Values{"kind": {"totp"}, "code": {totpCode(t, secret, time.Now().Add(30*time.Second))}})
	fresh := cookieValue(setCookie(resp, "ward_session"))
	if resp.StatusCode != http.StatusSeeOther || fresh == "" {
		t.Fatalf("step-up: %d %s", resp.StatusCode, body)
	}
	resp, _ = w.consolePage("POST", "/break-glass/"+m[1]+"/review", fresh, review)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/break-glass?done=reviewed" {
		t.Fatalf("review: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body = w.consolePage("GET", "/break-glass?done=reviewed", fresh, nil); !strings.Contains(body, "access was justified") ||
		strings.Contains(body, `/review"`) {
		t.Fatalf("after the review: %s", body)
	}
}

// The record pages: the patients a session may read (RLS decides), a
// record with its entries and the form that adds one, and the access
// report, each access's inclusion proof checked against the signed
// checkpoint with the published key.
func TestConsoleRecords(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Console Records Clinic")
	w.populate(o, "crec")

	prov := w.consoleSignIn(o.Prov.Email)
	resp, body := w.consolePage("GET", "/patients", prov, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "crec Patient One") || strings.Contains(body, "crec Patient Two") ||
		!strings.Contains(body, `href="/patients/`+o.P1.String()+`"`) {
		t.Fatalf("provider's patients: %d %s", resp.StatusCode, body)
	}
	resp, body = w.consolePage("GET", "/patients/"+o.P1.String(), prov, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "crec-MRN-1") || !strings.Contains(body, `id="no-entries"`) {
		t.Fatalf("record page: %d %s", resp.StatusCode, body)
	}
	entry := url.Values{"kind": {"biomarker"}, "name": {"HbA1c"}, "value": {"6.1"}, "unit": {"%"},
		"observed_at": {time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")}, "note": {"fasting"}}
	resp, body = w.consolePage("POST", "/patients/"+o.P1.String()+"/entries", prov, entry)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/patients/"+o.P1.String()+"?done=entry" {
		t.Fatalf("entry form: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if _, body := w.consolePage("GET", "/patients/"+o.P1.String()+"?done=entry", prov, nil); !strings.Contains(body, "HbA1c") ||
		!strings.Contains(body, "6.1 %") || !strings.Contains(body, `id="notice"`) {
		t.Fatalf("record after the entry: %s", body)
	}
	// Bad input is refused with its rule and writes nothing.
	for _, c := range []struct {
		field, value, rule string
	}{
		{"value", "six", "value is a number"},
		{"observed_at", "yesterday", "observed at is a date"},
		{"observed_at", time.Now().UTC().Add(72 * time.Hour).Format("2006-01-02T15:04"), "future"},
		{"kind", "mood", "kind"},
	} {
		bad := url.Values{}
		for k, v := range entry {
			bad[k] = v
		}
		bad.Set(c.field, c.value)
		if resp, body := w.consolePage("POST", "/patients/"+o.P1.String()+"/entries", prov, bad); resp.StatusCode != http.StatusBadRequest ||
			!strings.Contains(body, c.rule) {
			t.Fatalf("%s=%q: %d %s", c.field, c.value, resp.StatusCode, body)
		}
	}
	if resp, _ := w.consolePage("GET", "/patients/"+o.P1.String()+"?cursor=garbage", prov, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad cursor: %d", resp.StatusCode)
	}
	// The patient list pages as GET /v1/patients does: after the newest
	// (P2), a lead's next page holds P1.
	var newest struct {
		Next string `json:"next_cursor"`
	}
	w.do("GET", "/v1/patients?limit=1", o.Lead.Token, nil, http.StatusOK, &newest)
	lead, _ := w.consoleAdmin(o.Lead.Email) // a lead owes a second factor
	if resp, body := w.consolePage("GET", "/patients?cursor="+url.QueryEscape(newest.Next), lead, nil); resp.StatusCode != http.StatusOK ||
		!strings.Contains(body, "crec Patient One") || strings.Contains(body, "crec Patient Two") {
		t.Fatalf("the lead's patients after the newest: %d %s", resp.StatusCode, body)
	}
	if resp, _ := w.consolePage("GET", "/patients?cursor=garbage", lead, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad patient list cursor: %d", resp.StatusCode)
	}
	// A patient outside the care team: not found, and no entry written.
	if resp, _ := w.consolePage("GET", "/patients/"+o.P2.String(), prov, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("provider reading P2: %d", resp.StatusCode)
	}
	if resp, _ := w.consolePage("POST", "/patients/"+o.P2.String()+"/entries", prov, entry); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("provider writing to P2: %d", resp.StatusCode)
	}
	var entries int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from app.clinical_entries where org_id = $1`, o.ID).Scan(&entries); err != nil || entries != 1 {
		t.Fatalf("entries stored: %d %v", entries, err)
	}

	// The patient: their own record, and who read it, proved.
	pat := w.consoleSignIn(o.PatUser.Email)
	if _, body := w.consolePage("GET", "/patients", pat, nil); !strings.Contains(body, "crec Patient One") || strings.Contains(body, "crec Patient Two") {
		t.Fatalf("patient's own records: %s", body)
	}
	w.integrate()
	resp, body = w.consolePage("GET", "/patients/"+o.P1.String()+"/access-report", pat, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="report-ok"`) || !strings.Contains(body, o.Prov.Email) ||
		!strings.Contains(body, "proved") || strings.Contains(body, "PROOF FAILED") {
		t.Fatalf("access report: %d %s", resp.StatusCode, body)
	}
	if resp, _ := w.consolePage("GET", "/patients/"+o.P2.String()+"/access-report", pat, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another patient's access report: %d", resp.StatusCode)
	}
}

// The account pages: one's own sessions (ending another), recovery codes
// (shown once, after a fresh second factor), and an admin's members page
// (add, change a role, remove; not one's own row; a lead reads it, a
// provider does not).
func TestConsoleAccount(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Console Account Clinic")
	w.populate(o, "cacc")
	adm, _ := w.consoleAdmin(o.Admin.Email)
	other := w.consoleSignIn(o.Admin.Email) // a second browser, still owing its factor

	resp, body := w.consolePage("GET", "/security", adm, nil)
	ends := regexp.MustCompile(`action="/security/sessions/([0-9a-f-]{36})/end"`).FindAllStringSubmatch(body, -1)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "this one") || len(ends) == 0 {
		t.Fatalf("security page: %d %s", resp.StatusCode, body)
	}
	// Ending the other browser's session: it is signed out.
	for _, m := range ends {
		if resp, _ := w.consolePage("POST", "/security/sessions/"+m[1]+"/end", adm, url.Values{}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("end session: %d", resp.StatusCode)
		}
	}
	if resp, _ := w.consolePage("GET", "/", other, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the ended session still reaches the console: %d", resp.StatusCode)
	}
	if resp, _ := w.consolePage("GET", "/", adm, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the current session ended too: %d", resp.StatusCode)
	}
	resp, body = w.consolePage("POST", "/security/recovery-codes", adm, url.Values{})
	if resp.StatusCode != http.StatusOK || len(regexp.MustCompile(`<li><code>[^<]+</code></li>`).FindAllString(body, -1)) != 10 {
		t.Fatalf("recovery codes: %d %s", resp.StatusCode, body)
	}

	resp, body = w.consolePage("GET", "/members", adm, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, o.Prov.Email) ||
		strings.Contains(body, `action="/members/`+o.Admin.ID.String()+`/remove"`) {
		t.Fatalf("members page: %d %s", resp.StatusCode, body)
	}
	resp, body = w.consolePage("POST", "/members", adm, url.Values{"email": {"new-rd@example.test"}, "role": {"provider"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/members?done=added" {
		t.Fatalf("add member: %d %s", resp.StatusCode, body)
	}
	if resp, body := w.consolePage("POST", "/members", adm, url.Values{"email": {"x@example.test"}, "role": {"owner"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a role that is none: %d %s", resp.StatusCode, body)
	}
	if resp, _ := w.consolePage("POST", "/members/"+o.Prov2.ID.String()+"/role", adm, url.Values{"role": {"lead"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change role: %d", resp.StatusCode)
	}
	var role string
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select role from app.memberships where org_id = $1 and user_id = $2`,
		o.ID, o.Prov2.ID).Scan(&role); err != nil || role != "lead" {
		t.Fatalf("role after the form: %q %v", role, err)
	}
	if resp, _ := w.consolePage("POST", "/members/"+o.Prov2.ID.String()+"/remove", adm, url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", resp.StatusCode)
	}
	if _, body := w.consolePage("GET", "/members", adm, nil); strings.Contains(body, o.Prov2.Email) || !strings.Contains(body, "new-rd@example.test") {
		t.Fatalf("members after the forms: %s", body)
	}
	// A lead reads the list but may not change it; a provider may not read it.
	lead := w.consoleSignIn(o.Lead.Email)
	if resp, _ := w.consolePage("GET", "/members", lead, nil); resp.StatusCode == http.StatusForbidden {
		t.Fatalf("lead's members page: %d", resp.StatusCode)
	}
	if resp, _ := w.consolePage("GET", "/members", w.consoleSignIn(o.Prov.Email), nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("provider's members page: %d", resp.StatusCode)
	}
	// Twenty minutes on, new codes need the second factor again.
	w.age(adm, 20*time.Minute)
	if resp, body := w.consolePage("POST", "/security/recovery-codes", adm, url.Values{}); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(body, `id="step-up"`) {
		t.Fatalf("stale recovery codes: %d %s", resp.StatusCode, body)
	}
}

// Creating from the console, and a document's page: a lead creates a
// patient record and opens a case for it, uploads a file, accepts the
// version the page shows (a newer upload since makes it 412) and comments.
func TestConsoleDocuments(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Console Documents Clinic")
	w.populate(o, "cdoc")
	lead, _ := w.consoleAdmin(o.Lead.Email) // a lead owes a second factor too

	resp, body := w.consolePage("POST", "/patients", lead, url.Values{"name": {"Rosalind Example"}, "dob": {"1969-07-20"}, "mrn": {"CDOC-9"}})
	m := regexp.MustCompile(`/patients/([0-9a-f-]{36})\?done=created$`).FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("create patient: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	patient := m[1]
	if _, body := w.consolePage("GET", "/patients/"+patient+"?done=created", lead, nil); !strings.Contains(body, "Rosalind Example") ||
		!strings.Contains(body, "CDOC-9") {
		t.Fatalf("new record: %s", body)
	}
	if resp, body := w.consolePage("POST", "/patients", lead, url.Values{"name": {"X"}, "dob": {"20th of July"}}); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(body, "dob") {
		t.Fatalf("bad dob: %d %s", resp.StatusCode, body)
	}
	if resp, _ := w.consolePage("POST", "/patients", w.consoleSignIn(o.Prov.Email), url.Values{"name": {"Y"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("provider creating a patient: %d", resp.StatusCode)
	}

	resp, body = w.consolePage("POST", "/cases", lead, url.Values{"title": {"Knee strain, warehouse"}, "reference": {"WC-9"}, "patient_id": {patient}})
	m = regexp.MustCompile(`/cases/([0-9a-f-]{36})\?done=created$`).FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("open case: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	kase := m[1]
	if resp, _ := w.consolePage("POST", "/cases", lead, url.Values{"title": {"x"}, "patient_id": {"not-an-id"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad patient id: %d", resp.StatusCode)
	}
	for _, name := range []string{"report.txt", "x-ray.txt"} {
		if resp, body := w.consoleUploadForm(lead, kase, "medical_report", name, "synthetic "+name); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("upload %s: %d %s", name, resp.StatusCode, body)
		}
	}
	_, body = w.consolePage("GET", "/cases/"+kase, lead, nil)
	docs := regexp.MustCompile(`href="/documents/([0-9a-f-]{36})"`).FindAllStringSubmatch(body, -1)
	if len(docs) != 2 {
		t.Fatalf("document links: %s", body)
	}
	doc, stale := docs[0][1], docs[1][1]
	resp, body = w.consolePage("GET", "/documents/"+doc, lead, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="accept"`) || !strings.Contains(body, `name="version" value="1"`) ||
		!strings.Contains(body, "/v1/documents/"+doc+"/content?version=1") {
		t.Fatalf("document page: %d %s", resp.StatusCode, body)
	}
	if resp, _ := w.consolePage("POST", "/documents/"+doc+"/accept", lead, url.Values{"version": {"1"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept: %d", resp.StatusCode)
	}
	resp, body = w.consolePage("POST", "/documents/"+doc+"/comments", lead, url.Values{"body": {"Reviewed; matches the clinic's notes."}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("comment: %d %s", resp.StatusCode, body)
	}
	if _, body := w.consolePage("GET", "/documents/"+doc+"?done=commented", lead, nil); !strings.Contains(body, "version 1 accepted") ||
		strings.Contains(body, `id="accept"`) || !strings.Contains(body, "Reviewed; matches the clinic&#39;s notes.") {
		t.Fatalf("document after accept and comment: %s", body)
	}
	// The page showed version 1 of the other document; a second upload
	// since: accepting what the page showed is refused, nothing accepted.
	if resp, body := w.upload("PUT", "/v1/documents/"+stale+"/content", o.Lead.Token, "x-ray-2.txt", []byte("second")); resp.StatusCode != http.StatusCreated {
		t.Fatalf("second version: %d %s", resp.StatusCode, body)
	}
	if resp, body := w.consolePage("POST", "/documents/"+stale+"/accept", lead, url.Values{"version": {"1"}}); resp.StatusCode != http.StatusPreconditionFailed {
		t.Fatalf("accepting a superseded version: %d %s", resp.StatusCode, body)
	}
	if resp, _ := w.consolePage("GET", "/documents/"+doc+"?cursor=nonsense", lead, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad comment cursor: %d", resp.StatusCode)
	}
	if resp, _ := w.consolePage("GET", "/documents/"+doc, w.consoleSignIn(o.Prov2.Email), nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a provider off the case reading the document: %d", resp.StatusCode)
	}
}

// The org's policies page: members read them; an admin saves the session
// and assurance policies (a fresh second factor, as on the API), the
// database holding the bounds; tightening the assurance policy ends the
// sessions that no longer meet it.
func TestConsolePolicies(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Console Policy Clinic")
	w.populate(o, "cpol")
	adm, _ := w.consoleAdmin(o.Admin.Email)
	prov := w.consoleSignIn(o.Prov.Email)

	resp, body := w.consolePage("GET", "/policies", prov, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="session-policy"`) || strings.Contains(body, `action="/policies/session"`) {
		t.Fatalf("provider's policies page: %d %s", resp.StatusCode, body)
	}
	if resp, _ := w.consolePage("POST", "/policies/session", prov, url.Values{"session_idle_timeout_min": {"5"}, "session_absolute_max_min": {"60"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("provider saving a policy: %d", resp.StatusCode)
	}
	resp, body = w.consolePage("GET", "/policies", adm, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `action="/policies/session"`) || !strings.Contains(body, `action="/policies/assurance"`) {
		t.Fatalf("admin's policies page: %d %s", resp.StatusCode, body)
	}
	resp, _ = w.consolePage("POST", "/policies/session", adm, url.Values{"session_idle_timeout_min": {"12"}, "session_absolute_max_min": {"480"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/policies?done=saved" {
		t.Fatalf("save session policy: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := w.consolePage("GET", "/policies", prov, nil); !strings.Contains(body, "after 12 minutes") {
		t.Fatalf("the saved policy: %s", body)
	}
	for _, bad := range []url.Values{
		{"session_idle_timeout_min": {"ten"}, "session_absolute_max_min": {"480"}},
		{"session_idle_timeout_min": {"0"}, "session_absolute_max_min": {"480"}},
	} {
		if resp, body := w.consolePage("POST", "/policies/session", adm, bad); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("bad session policy %v: %d %s", bad, resp.StatusCode, body)
		}
	}
	// Every member needs a second factor now: the provider's one-factor
	// session ends with the save.
	resp, _ = w.consolePage("POST", "/policies/assurance", adm, url.Values{"require_mfa": {"yes"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save assurance policy: %d", resp.StatusCode)
	}
	if resp, _ := w.consolePage("GET", "/cases", prov, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the provider's one-factor session after require_mfa: %d", resp.StatusCode)
	}
	if _, body := w.consolePage("GET", "/policies", adm, nil); !strings.Contains(body, `id="require-mfa" name="require_mfa" value="yes" checked`) {
		t.Fatalf("the saved assurance policy: %s", body)
	}
}

// Filing data-subject requests from the console (a HIPAA request from a
// record's page, a CCPA request about oneself from the queue's page), and
// renaming a passkey on the security page.
func TestConsoleFilingAndRenaming(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Console Filing Clinic")
	w.populate(o, "cfil")
	pat := w.consoleSignIn(o.PatUser.Email)
	_, body := w.consolePage("GET", "/patients/"+o.P1.String(), pat, nil)
	if !strings.Contains(body, `name="patient_id" value="`+o.P1.String()+`"`) {
		t.Fatalf("record page without the request form: %s", body)
	}
	resp, body := w.consolePage("POST", "/dsr", pat, url.Values{"kind": {"access"}, "patient_id": {o.P1.String()}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/dsr?done=filed" {
		t.Fatalf("file access: %d %s", resp.StatusCode, body)
	}
	resp, body = w.consolePage("POST", "/dsr", pat, url.Values{"kind": {"ccpa_know"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("file ccpa_know: %d %s", resp.StatusCode, body)
	}
	// Another patient's record, a kind that is none, a malformed id: refused,
	// nothing filed.
	for _, bad := range []url.Values{
		{"kind": {"access"}, "patient_id": {o.P2.String()}},
		{"kind": {"erase_everything"}, "patient_id": {o.P1.String()}},
		{"kind": {"access"}, "patient_id": {"P1"}},
	} {
		if resp, body := w.consolePage("POST", "/dsr", pat, bad); resp.StatusCode < 400 {
			t.Fatalf("filing %v: %d %s", bad, resp.StatusCode, body)
		}
	}
	var kinds string
	if err := w.env.Super.Pool.QueryRow(context.Background(),
		`select string_agg(kind, ',' order by kind) from app.dsr_requests where org_id = $1`, o.ID).Scan(&kinds); err != nil || kinds != "access,ccpa_know" {
		t.Fatalf("requests filed: %q %v", kinds, err)
	}
	if _, body := w.consolePage("GET", "/dsr?done=filed", pat, nil); !strings.Contains(body, "ccpa_know") || !strings.Contains(body, `id="notice"`) {
		t.Fatalf("queue after filing: %s", body)
	}

	// A passkey registered from an app, renamed on the console's page.
	d := w.newDevice()
	w.registerPasskey(&o.Prov.Token, d, "laptop")
	prov := w.consoleSignIn(o.Prov.Email)
	_, body = w.consolePage("GET", "/security", prov, nil)
	m := regexp.MustCompile(`action="/security/passkeys/([0-9a-f-]{36})/rename"`).FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, `value="laptop"`) {
		t.Fatalf("security page: %s", body)
	}
	if resp, _ := w.consolePage("POST", "/security/passkeys/"+m[1]+"/rename", prov, url.Values{"name": {"Work laptop"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("rename: %d", resp.StatusCode)
	}
	if _, body := w.consolePage("GET", "/security?done=renamed", prov, nil); !strings.Contains(body, `value="Work laptop"`) {
		t.Fatalf("after the rename: %s", body)
	}
	if resp, _ := w.consolePage("POST", "/security/passkeys/"+m[1]+"/rename", prov, url.Values{"name": {"  "}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("an empty name: %d", resp.StatusCode)
	}
	// Another member's session cannot rename it.
	if resp, _ := w.consolePage("POST", "/security/passkeys/"+m[1]+"/rename", pat, url.Values{"name": {"mine"}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another member renaming: %d", resp.StatusCode)
	}
}
