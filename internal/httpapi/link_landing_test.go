package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// inviteLink adds email to o as a patient with an invitation mailed, and
// returns the link's token from the outbox.
func (w *world) inviteLink(o *org, email string) string {
	w.t.Helper()
	before := w.outbox.String()
	w.do("POST", "/v1/members", o.Admin.Token, map[string]any{"email": email, "role": "patient", "invite": true},
		http.StatusCreated, nil)
	return w.nextLink(before, email)
}

// nextLink waits for the first sign-in link mailed after the outbox held
// before (invitations and links are mailed after the answer).
func (w *world) nextLink(before, to string) string {
	w.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if m := linkRE.FindStringSubmatch(strings.TrimPrefix(w.outbox.String(), before)); m != nil {
			return m[1]
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("no sign-in link mailed to %s", to)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// An invitation link works in any browser, so an admin of any org can
// mail one for an address they control to somebody else (login CSRF).
// Its landing page names the account and the org before anything is
// spent, and says when continuing signs another account out of the
// browser; a link bound to the browser that asked for it names nobody.
func TestLinkLandingNamesTheAccount(t *testing.T) {
	w := newWorld(t)
	harbor := w.createOrg("Harbor Dietetics")
	mallory := w.createOrg("Mallory Wellness")

	// The victim is signed in to their own account in this browser.
	b := w.browser(t)
	if resp, body := b.postForm("/v1/auth/magic", w.inviteLink(harbor, "vic@harbor.test")); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the victim's own sign-in: %d %s", resp.StatusCode, body)
	}
	victim := b.session()
	if _, live := w.sessionLive(victim); victim == "" || !live {
		t.Fatal("the victim's browser holds no session")
	}

	// The other org's admin mails the victim a link to an account they control.
	evil := w.inviteLink(mallory, "eve@mallory.test")
	landing := "/v1/auth/magic?token=" + evil

	// Opened from a web mail: cross-site, no cookie; the page reloads
	// itself from Ward before it says anything.
	resp, body := w.browse("GET", landing, http.Header{"Sec-Fetch-Site": {"cross-site"}}, "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Refresh"), "again=1") ||
		strings.Contains(string(body), "eve@") || strings.Contains(string(body), `method="post"`) {
		t.Fatalf("cross-site landing: %d %q %s", resp.StatusCode, resp.Header.Get("Refresh"), body)
	}
	resp, body = b.send("GET", landing+"&again=1", "", "")
	page := string(body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "eve@mallory.test") ||
		!strings.Contains(page, "Mallory Wellness") || !strings.Contains(page, "signed in to another account") ||
		!strings.Contains(page, "Sign out and continue as eve@mallory.test") {
		t.Fatalf("landing in the victim's browser: %d %s", resp.StatusCode, page)
	}
	if _, live := w.sessionLive(victim); !live {
		t.Fatal("opening the landing ended the victim's session")
	}

	// In a browser signed in to nobody: the account and the org, and Continue.
	resp, body = w.browse("GET", landing, http.Header{"Sec-Fetch-Site": {"none"}}, "")
	page = string(body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "eve@mallory.test") ||
		!strings.Contains(page, "Mallory Wellness") || strings.Contains(page, "another account") ||
		!strings.Contains(page, ">Continue</button>") {
		t.Fatalf("landing signed out: %d %s", resp.StatusCode, page)
	}

	// A link the victim asked for is bound to their browser: its landing
	// names nobody.
	before := w.outbox.String()
	requestLink(t, w, "vic@harbor.test")
	bound := w.nextLink(before, "vic@harbor.test")
	resp, body = w.browse("GET", "/v1/auth/magic?token="+bound, http.Header{"Sec-Fetch-Site": {"none"}}, "")
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), "vic@") ||
		strings.Contains(string(body), "Harbor") || !strings.Contains(string(body), `method="post"`) {
		t.Fatalf("a bound link's landing: %d %s", resp.StatusCode, body)
	}

	// Spent, the link says so; a token nobody issued is not valid.
	if resp, body := b.postForm("/v1/auth/magic", evil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("continuing: %d %s", resp.StatusCode, body)
	}
	if resp, body := w.browse("GET", landing, http.Header{"Sec-Fetch-Site": {"none"}}, ""); resp.StatusCode != http.StatusGone ||
		strings.Contains(string(body), "eve@") || strings.Contains(string(body), `method="post"`) {
		t.Fatalf("a spent link's landing: %d %s", resp.StatusCode, body)
	}
	if resp, _ := w.browse("GET", "/v1/auth/magic?token="+strings.Repeat("A", 43), http.Header{"Sec-Fetch-Site": {"none"}}, ""); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("an unknown token's landing: %d", resp.StatusCode)
	}
	// A link cut short (a mail client that wrapped it, a partial copy) is
	// a browser's page like an unknown one, not a problem document: the
	// page says to open the whole link.
	for _, tok := range []string{strings.Repeat("A", 30), strings.Repeat("A", 44), ""} {
		resp, body := w.browse("GET", "/v1/auth/magic?token="+tok, http.Header{"Sec-Fetch-Site": {"none"}}, "")
		if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(string(body), "whole link") || strings.Contains(string(body), `method="post"`) {
			t.Errorf("the landing of a token of %d characters: %d %s %s", len(tok), resp.StatusCode,
				resp.Header.Get("Content-Type"), body)
		}
	}
}
