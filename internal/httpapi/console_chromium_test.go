package httpapi_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
)

// chromium starts a headless Chromium (Debian's package, which
// scripts/deps.sh installs; $WARD_CHROMIUM names another) for one test and
// returns a browser context. A missing browser fails the test: a console
// test that skips proves nothing.
func chromium(t *testing.T) context.Context {
	t.Helper()
	bin := os.Getenv("WARD_CHROMIUM")
	if bin == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				bin = p
				break
			}
		}
	}
	if bin == "" {
		t.Fatal("chromium: no browser found; run scripts/deps.sh browser (Debian package chromium) or set WARD_CHROMIUM")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox, // the tests may run as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("chromium: start %s: %v", bin, err)
	}
	return bctx
}

// do runs browser steps and fails the test with what the page showed.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	step, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(step, steps...); err != nil {
		pageFailed(t, ctx, what, err)
	}
}

// read runs one browser action and returns its value.
func read[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	step, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(step, a)
	if err != nil {
		pageFailed(t, ctx, what, err)
	}
	return v
}

func pageFailed(t *testing.T, ctx context.Context, what string, err error) {
	t.Helper()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	t.Fatalf("%s: %v\nat %s:\n%s", what, err, loc, html)
}

// The console in a real browser, as the three kinds of people who use it
// there: an attorney who accepts a case invitation from a mail and
// downloads the claim's document, a provider who signs in with a link, and
// an admin who sets up a second factor and checks the audit log. Cookies,
// SameSite, the CSP, redirects and forms are Chromium's own.
func TestConsoleInChromium(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Browser Claims Clinic")
	w.populate(o, "brw")
	var kase struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Wrist fracture at the plant",
		"reference": "WC-2026-0415"}, http.StatusCreated, &kase)
	const report = "First report of injury: synthetic test document"
	if resp, body := w.upload("POST", "/v1/cases/"+kase.ID.String()+"/files", o.Lead.Token, "first-report.txt",
		[]byte(report), "Ward-Document-Type", "first_report"); resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	_, invite := w.inviteOutbox(o.Lead.Token, kase.ID.String(), "counsel@law.example", "attorney",
		[]string{"view", "download"}, time.Now().Add(30*24*time.Hour))

	ctx := chromium(t)

	// 1. The attorney opens the invitation from the mail, accepts it, and
	// lands in the console.
	do(t, ctx, "invitation landing",
		chromedp.Navigate(w.root+"/v1/case-invites/accept?token="+invite),
		chromedp.WaitVisible(chromedp.ID("invitee")),
		chromedp.Click(chromedp.CSS(`form[action="/v1/case-invites/accept"] button`)),
		chromedp.WaitVisible(chromedp.ID("role")))
	if role := read(t, ctx, "role", chromedp.Text(chromedp.ID("role"))); role != "stakeholder" {
		t.Fatalf("after accepting, the console shows role %q", role)
	}
	do(t, ctx, "cases",
		chromedp.Click(chromedp.ID("to-cases")),
		chromedp.WaitVisible(chromedp.ID("cases")),
		chromedp.Click(chromedp.CSS("#cases a")),
		chromedp.WaitVisible(chromedp.ID("documents")))
	ref := read(t, ctx, "reference", chromedp.Text(chromedp.ID("reference")))
	href := read(t, ctx, "download link", chromedp.AttributeValue(chromedp.CSS("#documents a[download]"), "href")).Value
	if ref != "WC-2026-0415" || !strings.HasPrefix(href, "/v1/documents/") {
		t.Fatalf("case page: reference %q, download link %q", ref, href)
	}
	// The download link serves the document to this browser's session.
	got := read(t, ctx, "download", chromedp.Evaluate[string](
		`fetch(`+jsString(href)+`).then(r => r.ok ? r.text() : "status " + r.status)`, chromedp.EvalAwaitPromise))
	if got != report {
		t.Fatalf("download through the console's link: %q", got)
	}
	// An attorney has no audit log: the page is refused.
	do(t, ctx, "audit refused", chromedp.Navigate(w.root+"/audit"))
	if h := read(t, ctx, "audit heading", chromedp.Text(chromedp.CSS("h1"))); h != "Forbidden" {
		t.Fatalf("the attorney's audit page: %q", h)
	}
	do(t, ctx, "sign out",
		chromedp.Navigate(w.root+"/"),
		chromedp.Click(chromedp.ID("sign-out")),
		chromedp.WaitVisible(chromedp.ID("send-link")))
	if loc := read(t, ctx, "location", chromedp.Location()); loc != w.root+"/sign-in" {
		t.Fatalf("after sign-out: %s", loc)
	}

	// 2. A provider signs in with the form; the mailed link opens in the
	// same browser (its verifier cookie), and Continue signs in.
	before := len(linkRE.FindAllString(w.outbox.String(), -1))
	do(t, ctx, "sign-in form",
		chromedp.SendKeys(chromedp.ID("email"), o.Prov.Email),
		chromedp.Click(chromedp.ID("send-link")),
		chromedp.WaitVisible(chromedp.ID("link-sent")))
	link := w.waitLink(before)
	do(t, ctx, "provider link",
		chromedp.Navigate(w.root+"/v1/auth/magic?token="+link),
		chromedp.Click(chromedp.CSS(`form[action="/v1/auth/magic"] button`)),
		chromedp.WaitVisible(chromedp.ID("role")))
	if role := read(t, ctx, "role", chromedp.Text(chromedp.ID("role"))); role != "provider" {
		t.Fatalf("provider signed in as %q", role)
	}
	do(t, ctx, "provider cases", chromedp.Click(chromedp.ID("to-cases")), chromedp.WaitVisible(chromedp.ID("cases")))
	if list := read(t, ctx, "cases", chromedp.Text(chromedp.ID("cases"))); !strings.Contains(list, "Wrist fracture at the plant") {
		t.Fatalf("provider's cases: %q", list)
	}
	// The provider adds a document from the page (the browser's own
	// multipart upload) and invites the employer's HR by mail.
	file := filepath.Join(t.TempDir(), "work-status.txt")
	if err := os.WriteFile(file, []byte("Work status: light duty, synthetic"), 0o600); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "upload",
		chromedp.Click(chromedp.CSS("#cases a")),
		chromedp.WaitVisible(chromedp.ID("documents")),
		chromedp.SendKeys(chromedp.ID("doc-type"), "work_status"),
		chromedp.SetUploadFiles(chromedp.ID("doc-file"), []string{file}),
		chromedp.Click(chromedp.ID("upload")),
		chromedp.WaitVisible(chromedp.ID("done-uploaded")))
	if docs := read(t, ctx, "documents", chromedp.Text(chromedp.ID("documents"))); !strings.Contains(docs, "work_status") {
		t.Fatalf("documents after the upload: %q", docs)
	}
	do(t, ctx, "invite",
		chromedp.SendKeys(chromedp.ID("invite-email"), "hr@plant.example"),
		chromedp.SetValue(chromedp.ID("invite-kind"), "employer"),
		chromedp.Click(chromedp.ID("invite")),
		chromedp.WaitVisible(chromedp.ID("done-invited")))
	if n := w.auditCount(o.ID, "case.invite.create", "success"); n != 2 {
		t.Fatalf("invitations created: %d", n)
	}
	do(t, ctx, "provider sign out", chromedp.Click(chromedp.ID("sign-out")), chromedp.WaitVisible(chromedp.ID("send-link")))

	// 3. An admin: the link, then the second factor the role needs (an
	// authenticator app set up from the page), then the audit log with
	// its checkpoint verified.
	before = len(linkRE.FindAllString(w.outbox.String(), -1))
	do(t, ctx, "admin sign-in form",
		chromedp.SendKeys(chromedp.ID("email"), o.Admin.Email),
		chromedp.Click(chromedp.ID("send-link")),
		chromedp.WaitVisible(chromedp.ID("link-sent")))
	link = w.waitLink(before)
	do(t, ctx, "admin link and enrolment",
		chromedp.Navigate(w.root+"/v1/auth/magic?token="+link),
		chromedp.Click(chromedp.CSS(`form[action="/v1/auth/magic"] button`)),
		chromedp.WaitVisible(chromedp.ID("factor-needed")),
		chromedp.Click(chromedp.CSS("summary")),
		chromedp.Click(chromedp.ID("enrol-totp")),
		chromedp.WaitVisible(chromedp.ID("totp-secret")))
	secret := read(t, ctx, "secret", chromedp.Text(chromedp.ID("totp-secret")))
	do(t, ctx, "admin code",
		chromedp.SendKeys(chromedp.ID("code"), totpCode(t, secret, time.Now())),
		chromedp.Click(chromedp.ID("verify")),
		chromedp.WaitVisible(chromedp.ID("aal")))
	if aal := read(t, ctx, "aal", chromedp.Text(chromedp.ID("aal"))); !strings.HasPrefix(aal, "AAL2") {
		t.Fatalf("admin after the code: %q", aal)
	}
	w.integrate()
	do(t, ctx, "audit log", chromedp.Click(chromedp.ID("to-audit")), chromedp.WaitVisible(chromedp.ID("events")))
	if v := read(t, ctx, "verification", chromedp.Text(chromedp.ID("verification"))); !strings.Contains(v, "Signed checkpoint verified") ||
		!strings.Contains(v, "proved included") {
		t.Fatalf("audit verification: %q", v)
	}
	events := read(t, ctx, "events", chromedp.Text(chromedp.ID("events")))
	for _, action := range []string{"case.invite.accept", "document.download", "auth.mfa.enrol"} {
		if !strings.Contains(events, action) {
			t.Errorf("the audit page lacks %s", action)
		}
	}
}

// waitLink waits for a sign-in link mailed after the outbox held before
// links, and returns its token.
func (w *world) waitLink(before int) string {
	w.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if links := linkRE.FindAllStringSubmatch(w.outbox.String(), -1); len(links) > before {
			return links[len(links)-1][1]
		}
	}
	w.t.Fatal("no sign-in link mailed")
	return ""
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
}

// The console's passkey ceremonies in Chromium, with its virtual
// authenticator (a platform authenticator that verifies its user and keeps
// resident keys, driven over the DevTools protocol): an admin owing a
// second factor adds a passkey from the page, signs out, signs in with the
// passkey alone (discoverable, no address typed), and, signed in again by a
// link, presents the passkey as the second factor. The browser's own
// WebAuthn, the console's script and Ward's go-webauthn meet for real.
func TestConsolePasskeysInChromium(t *testing.T) {
	w := newWorld(t, withLocalhost()) // WebAuthn needs a domain for its RP ID
	o := w.createOrg("Passkey Browser Clinic")
	ctx := chromium(t)
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2,
			Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true},
	}); err != nil {
		t.Fatal(err)
	}
	signInByLink := func() {
		t.Helper()
		before := len(linkRE.FindAllString(w.outbox.String(), -1))
		do(t, ctx, "sign-in form",
			chromedp.Navigate(w.root+"/sign-in"),
			chromedp.SendKeys(chromedp.ID("email"), o.Admin.Email),
			chromedp.Click(chromedp.ID("send-link")),
			chromedp.WaitVisible(chromedp.ID("link-sent")))
		link := w.waitLink(before)
		do(t, ctx, "link",
			chromedp.Navigate(w.root+"/v1/auth/magic?token="+link),
			chromedp.Click(chromedp.CSS(`form[action="/v1/auth/magic"] button`)),
			chromedp.WaitVisible(chromedp.ID("factor-needed")))
	}
	assurance := func(what string) string {
		t.Helper()
		do(t, ctx, what, chromedp.WaitVisible(chromedp.ID("aal")))
		return read(t, ctx, what, chromedp.Text(chromedp.ID("aal")))
	}

	// 1. Pending after the link: the passkey added from the page is the
	// second factor.
	signInByLink()
	do(t, ctx, "add a passkey", chromedp.Click(chromedp.ID("passkey-register")), chromedp.WaitVisible(chromedp.ID("notice")))
	if aal := assurance("after adding"); aal != "AAL2 (email, passkey)" {
		t.Fatalf("after adding a passkey: %q", aal)
	}
	var n int
	if err := w.env.Super.Pool.QueryRow(context.Background(),
		`select count(*) from app.passkeys where user_id = $1`, o.Admin.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("stored passkeys: %d %v", n, err)
	}
	do(t, ctx, "sign out", chromedp.Click(chromedp.ID("sign-out")), chromedp.WaitVisible(chromedp.ID("passkey-signin")))

	// 2. The passkey alone signs in: AAL2 at once.
	do(t, ctx, "passkey sign-in", chromedp.Click(chromedp.ID("passkey-signin")))
	if aal := assurance("after the passkey sign-in"); aal != "AAL2 (passkey)" {
		t.Fatalf("after a passkey sign-in: %q", aal)
	}
	if role := read(t, ctx, "role", chromedp.Text(chromedp.ID("role"))); role != "admin" {
		t.Fatalf("passkey sign-in as %q", role)
	}
	do(t, ctx, "sign out again", chromedp.Click(chromedp.ID("sign-out")), chromedp.WaitVisible(chromedp.ID("passkey-signin")))

	// 3. A link, then the passkey as the second factor.
	signInByLink()
	do(t, ctx, "passkey as second factor", chromedp.Click(chromedp.ID("passkey-verify")))
	if aal := assurance("after the passkey verification"); aal != "AAL2 (email, passkey)" {
		t.Fatalf("after a passkey verification: %q", aal)
	}
	if n := w.auditCount(o.ID, "auth.passkey.register", "success"); n != 1 {
		t.Errorf("passkey registrations audited: %d", n)
	}
}

// Emergency access from the console in Chromium: a provider on no care
// team, designated by an admin, with two passkeys (the second factor
// designation needs), one of them synced to this browser (put into
// Chromium's virtual authenticator), opens the sign-in page's Emergency
// access, gives a reason and uses the passkey: the 60-minute session reads
// a record outside their care team, the header says so, and the activation
// is audited for the admins' review.
func TestConsoleBreakGlassInChromium(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Emergency Browser Clinic")
	w.populate(o, "ebc")
	op := o.Prov2 // on no care team
	synced, other := w.newDevice(), w.newDevice()
	w.registerPasskey(&op.Token, synced, "phone")
	w.registerPasskey(&op.Token, other, "security key")
	w.do("PUT", "/v1/org/break-glass/users/"+op.ID.String(), o.Admin.Token, nil, http.StatusOK, nil)
	// Without break-glass the provider reads no record of P1.
	if resp, _ := w.request("GET", "/v1/patients/"+o.P1.String(), op.Token, nil); resp.StatusCode == http.StatusOK {
		t.Fatal("the provider reads P1 without emergency access")
	}

	ctx := chromium(t)
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	va, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2,
			Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
			// (cdproto always sends generateCmtgKeyOnNextOperation, which
			// Chromium refuses unless the authenticator has the extension)
			HasCmtgKey: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, webauthn.AddCredential, webauthn.AddCredentialParams{AuthenticatorID: va.AuthenticatorID,
		Credential: &webauthn.Credential{CredentialID: synced.cred.ID, IsResidentCredential: true, RpID: "localhost",
			PrivateKey: synced.cred.Key.Data, UserHandle: synced.auth.Options.UserHandle, SignCount: 10,
			BackupEligibility: true}}); err != nil { // (a synced passkey, as registered)
		t.Fatal(err)
	}

	const reason = "Unresponsive patient in the emergency room; no one from the care team reachable"
	do(t, ctx, "emergency access",
		chromedp.Navigate(w.root+"/sign-in"),
		chromedp.Click(chromedp.ID("to-emergency")),
		chromedp.WaitVisible(chromedp.ID("reason")),
		chromedp.SendKeys(chromedp.ID("reason"), reason),
		chromedp.Click(chromedp.ID("break-glass")),
		chromedp.WaitVisible(chromedp.ID("aal")))
	if who := read(t, ctx, "header", chromedp.Text(chromedp.ID("whoami"))); !strings.Contains(who, "emergency access") {
		t.Fatalf("the header during emergency access: %q", who)
	}
	do(t, ctx, "a record outside the care team",
		chromedp.Navigate(w.root+"/patients/"+o.P1.String()),
		chromedp.WaitVisible(chromedp.ID("demographics")))
	if name := read(t, ctx, "record", chromedp.Text(chromedp.CSS("h1"))); name != "ebc Patient One" {
		t.Fatalf("emergency read of P1: %q", name)
	}
	var n int
	if err := w.env.Super.Pool.QueryRow(context.Background(),
		`select count(*) from app.break_glass_activations where org_id = $1 and user_id = $2`, o.ID, op.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("activations: %d %v", n, err)
	}
	if n := w.auditCount(o.ID, "auth.break_glass.activate", "success"); n != 1 {
		t.Fatalf("activation events: %d", n)
	}
}
