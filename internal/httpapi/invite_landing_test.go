package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// landingCase opens a case (its title is a PHI canary that no landing may
// show) in o and returns its id.
func (w *world) landingCase(o *org, title string) string {
	w.t.Helper()
	var kase caseJSON
	w.do("POST", "/v1/cases", o.Admin.Token, map[string]any{"title": title}, http.StatusCreated, &kase)
	return kase.ID.String()
}

// send makes a request from one of Ward's own pages in b: its cookies go
// with it, and it says it is same-origin.
func (b *browser) send(method, path, contentType, body string) (*http.Response, []byte) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.w.srv.URL+path, strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", b.w.srv.URL)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

// postForm posts the landing's form (token=tok) to path.
func (b *browser) postForm(path, tok string) (*http.Response, []byte) {
	b.t.Helper()
	return b.send("POST", path, "application/x-www-form-urlencoded", "token="+tok)
}

// inviteState is the invitation's accepted and revoked flags (as superuser).
func (w *world) inviteState(id uuid.UUID) (accepted, revoked bool) {
	w.t.Helper()
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select accepted_at is not null, revoked_at is not null
	    from app.case_invites where id = $1`, id).Scan(&accepted, &revoked); err != nil {
		w.t.Fatal(err)
	}
	return accepted, revoked
}

// sessionLive reports whether the session whose token is tok is live (as
// superuser), and its id.
func (w *world) sessionLive(tok string) (uuid.UUID, bool) {
	w.t.Helper()
	var id uuid.UUID
	var live bool
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select id, revoked_at is null from app.sessions
	    where token_hash = sha256($1::bytea)`, []byte(tok)).Scan(&id, &live); err != nil {
		w.t.Fatal(err)
	}
	return id, live
}

// logoutEvents counts the session.revoke events of org with reason logout
// for session (the way a logout is audited).
func (w *world) logoutEvents(org, session uuid.UUID) int {
	w.t.Helper()
	var n int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from audit.events
	    where org_id = $1 and action = 'session.revoke' and outcome = 'success' and object_id = $2
	      and details->>'reason' = 'logout' and actor_id = (select user_id from app.sessions where id = $2)`,
		org, session).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

// An invitation link opened in a browser that holds another member's
// session: an attorney, signed in as themselves, opens the link a clinic
// mailed to a colleague. The landing shows whom the invitation is for and
// what it grants, says who is signed in, and offers to sign out or to
// cancel; accepting inside the attorney's session is refused and spends
// nothing; signing out ends the attorney's session as a logout (audited);
// then the colleague accepts. Before, the landing was a bare button and the
// acceptance put the colleague's session in the cookie over the
// attorney's, which stayed live and unaudited.
func TestInviteLandingOtherMember(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Harbor Occupational")
	const canary = "Canary Title Hernia Zq7"
	kase := w.landingCase(o, canary)

	// The attorney accepts their own invitation in this browser.
	b := w.browser(t)
	_, own := w.inviteOutbox(o.Admin.Token, kase, "amy@smith-law.test", "attorney", []string{"view", "download"},
		time.Now().Add(30*24*time.Hour))
	if resp, body := b.postForm("/v1/case-invites/accept", own); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the attorney's own acceptance: %d %s", resp.StatusCode, body)
	}
	amy := b.session()
	amySession, live := w.sessionLive(amy)
	if amy == "" || !live {
		t.Fatal("the attorney's browser holds no session")
	}

	// The colleague's invitation, opened in the attorney's browser.
	inv, tok := w.inviteOutbox(o.Admin.Token, kase, "bob@smith-law.test", "attorney", []string{"view", "comment"},
		time.Now().Add(30*24*time.Hour))
	landing := "/v1/case-invites/accept?token=" + tok

	// From a web mail the navigation is cross-site: the browser sends no
	// SameSite=Strict cookie, and the page loads itself again from Ward.
	resp, body := w.browse("GET", landing, http.Header{"Sec-Fetch-Site": {"cross-site"}}, "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Refresh"), "again=1") ||
		strings.Contains(string(body), "bob@") {
		t.Fatalf("cross-site landing: %d %q %s", resp.StatusCode, resp.Header.Get("Refresh"), body)
	}
	resp, body = b.send("GET", landing+"&again=1", "", "")
	page := string(body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "bob@smith-law.test") ||
		!strings.Contains(page, "Harbor Occupational") || !strings.Contains(page, "comment on documents") ||
		!strings.Contains(page, `id="signed-in-as-other"`) || !strings.Contains(page, "amy@smith-law.test") ||
		!strings.Contains(page, `action="/v1/case-invites/sign-out"`) ||
		strings.Contains(page, `action="/v1/case-invites/accept"`) || strings.Contains(page, canary) {
		t.Fatalf("landing in the attorney's browser: %d %s", resp.StatusCode, page)
	}
	if accepted, _ := w.inviteState(inv); accepted {
		t.Fatal("the landing spent the invitation")
	}

	// Accepting anyway (the form of a page loaded before, JSON from Ward's
	// own pages) is refused: nothing is spent, nobody is signed out.
	resp, body = b.postForm("/v1/case-invites/accept", tok)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), `id="signed-in-as-other"`) {
		t.Fatalf("form acceptance in another member's session: %d %s", resp.StatusCode, body)
	}
	resp, body = b.send("POST", "/v1/case-invites/accept", "application/json", `{"token":"`+tok+`"}`)
	if resp.StatusCode != http.StatusConflict || problemCode(t, body) != "invite_other_account" {
		t.Fatalf("JSON acceptance in another member's session: %d %s", resp.StatusCode, body)
	}
	if accepted, _ := w.inviteState(inv); accepted {
		t.Fatal("a refused acceptance spent the invitation")
	}
	if b.session() != amy {
		t.Fatal("a refused acceptance changed the browser's session")
	}
	if _, live := w.sessionLive(amy); !live {
		t.Fatal("a refused acceptance ended the attorney's session")
	}

	// Sign out and continue: the attorney's session ends as a logout, and
	// the browser is back on the landing, signed out, which offers the
	// acceptance.
	resp, body = b.postForm("/v1/case-invites/sign-out", tok)
	if page := string(body); resp.StatusCode != http.StatusOK || resp.Request.URL.RequestURI() != landing ||
		strings.Contains(page, "signed-in-as") || !strings.Contains(page, `action="/v1/case-invites/accept"`) {
		t.Fatalf("sign out and continue: %d at %v: %s", resp.StatusCode, resp.Request.URL, page)
	}
	if _, live := w.sessionLive(amy); live || b.session() != "" {
		t.Fatalf("the attorney's session survived signing out (cookie %q)", b.session())
	}
	if n := w.logoutEvents(o.ID, amySession); n != 1 {
		t.Fatalf("%d logout events for the attorney's session, want 1", n)
	}
	if accepted, _ := w.inviteState(inv); accepted {
		t.Fatal("signing out spent the invitation")
	}

	// The colleague accepts.
	if resp, body = b.postForm("/v1/case-invites/accept", tok); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the colleague's acceptance: %d %s", resp.StatusCode, body)
	}
	bob := b.session()
	var me struct {
		UserID uuid.UUID `json:"user_id"`
	}
	w.do("GET", "/v1/me", bob, nil, http.StatusOK, &me)
	var accepter uuid.UUID
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select accepted_by from app.case_invites where id = $1`,
		inv).Scan(&accepter); err != nil || accepter != me.UserID {
		t.Fatalf("accepted by %v, the browser is %v (%v)", accepter, me.UserID, err)
	}

	// The spent link's landing says so, and offers nothing.
	resp, body = b.send("GET", landing, "", "")
	if resp.StatusCode != http.StatusGone || !strings.Contains(string(body), "already been used") ||
		strings.Contains(string(body), "<form") {
		t.Fatalf("landing of a spent link: %d %s", resp.StatusCode, body)
	}
}

// An invitation opened in a browser signed in as the invited address:
// the landing says so and accepting is a click (a form post, never the
// GET). A member of the invitation's org keeps the session they have (the
// case is on their account at once); the address invited into another
// org gets a session there, and the one the cookie held before ends as a
// logout would, rather than living on unseen.
func TestInviteLandingInviteeSignedIn(t *testing.T) {
	w := newWorld(t)
	x := w.createOrg("Pacific Comp")
	y := w.createOrg("Harbor Occupational")
	b := w.browser(t)
	const cara = "cara@adjuster.test"
	until := time.Now().Add(30 * 24 * time.Hour)
	_, first := w.inviteOutbox(x.Admin.Token, w.landingCase(x, "first claim"), cara, "payer", []string{"view"}, until)
	if resp, body := b.postForm("/v1/case-invites/accept", first); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first acceptance: %d %s", resp.StatusCode, body)
	}
	inX := b.session()
	xSession, _ := w.sessionLive(inX)

	// A second case of the same org: the grant, and the same session.
	second := w.landingCase(x, "second claim")
	inv, tok := w.inviteOutbox(x.Admin.Token, second, cara, "payer", []string{"view", "download"}, until)
	resp, body := b.send("GET", "/v1/case-invites/accept?token="+tok, "", "")
	if page := string(body); resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="signed-in-as-invitee"`) ||
		!strings.Contains(page, `action="/v1/case-invites/accept"`) || strings.Contains(page, "sign-out") {
		t.Fatalf("landing signed in as the invitee: %d %s", resp.StatusCode, page)
	}
	if accepted, _ := w.inviteState(inv); accepted {
		t.Fatal("the landing spent the invitation")
	}
	if resp, body := b.postForm("/v1/case-invites/accept", tok); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("acceptance by the signed-in invitee: %d %s", resp.StatusCode, body)
	}
	if _, live := w.sessionLive(inX); !live || b.session() != inX {
		t.Fatal("an acceptance that starts no session changed the browser's")
	}
	w.do("GET", "/v1/cases/"+second, inX, nil, http.StatusOK, nil)
	// The acceptance is the invitee's by the token, not an act of the
	// browser's session: its event names no session.
	var kind string
	var sess *uuid.UUID
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select actor_kind, session_id from audit.events
	    where action = 'case.invite.accept' and outcome = 'success' and object_id = $1`, inv).Scan(&kind, &sess); err != nil ||
		kind != "system" || sess != nil {
		t.Fatalf("the acceptance's event: %q, session %v (%v)", kind, sess, err)
	}

	// Another org's invitation: a session there, and the old one ends.
	_, tok = w.inviteOutbox(y.Admin.Token, w.landingCase(y, "third claim"), cara, "payer", []string{"view"}, until)
	if resp, body := b.postForm("/v1/case-invites/accept", tok); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("acceptance into another org: %d %s", resp.StatusCode, body)
	}
	inY := b.session()
	var me struct {
		OrgID uuid.UUID `json:"org_id"`
	}
	w.do("GET", "/v1/me", inY, nil, http.StatusOK, &me)
	if inY == inX || me.OrgID != y.ID {
		t.Fatalf("the browser's session is in %v, want %v", me.OrgID, y.ID)
	}
	if _, live := w.sessionLive(inX); live {
		t.Fatal("the replaced session is still live")
	}
	if n := w.logoutEvents(x.ID, xSession); n != 1 {
		t.Fatalf("%d logout events for the replaced session, want 1", n)
	}
}

// A GET (or HEAD) of the link never spends it, whatever fetches it, and
// the landing of a link that is no longer pending says why and offers
// nothing.
func TestInviteLandingNeverSpends(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Harbor Occupational")
	kase := w.landingCase(o, "claim")
	until := time.Now().Add(30 * 24 * time.Hour)
	inv, tok := w.inviteOutbox(o.Admin.Token, kase, "dan@employer.test", "employer", []string{"view", "upload"}, until)
	for _, method := range []string{"GET", "HEAD", "GET"} {
		if resp, _ := w.browse(method, "/v1/case-invites/accept?token="+tok, nil, ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s landing: %d", method, resp.StatusCode)
		}
	}
	if accepted, _ := w.inviteState(inv); accepted {
		t.Fatal("fetching the link spent it")
	}
	if _, resp, body := w.accept(tok); resp.StatusCode != http.StatusOK {
		t.Fatalf("acceptance after the fetches: %d %s", resp.StatusCode, body)
	}

	revoked, rtok := w.inviteOutbox(o.Admin.Token, kase, "eve@employer.test", "employer", []string{"view"}, until)
	w.do("DELETE", "/v1/cases/"+kase+"/invites/"+revoked.String(), o.Admin.Token, nil, http.StatusNoContent, nil)
	for _, c := range []struct {
		token, want string
		status      int
	}{
		{rtok, "has been revoked", http.StatusGone},
		{strings.Repeat("A", 43), "not valid", http.StatusNotFound},
		{strings.Repeat("A", 42) + ".", "not valid", http.StatusNotFound}, // cut short or mangled: the same page
		{strings.Repeat("A", 20), "not valid", http.StatusNotFound},
	} {
		resp, body := w.browse("GET", "/v1/case-invites/accept?token="+c.token, nil, "")
		if resp.StatusCode != c.status || !strings.Contains(string(body), c.want) || strings.Contains(string(body), "<form") ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("landing of %q: %d %s", c.token, resp.StatusCode, body)
		}
	}
}

// otherAccountEvents are the denied case.invite.accept events on inv
// with reason invite_other_account (as superuser): each one's signed_in
// detail, its actor ("" none) and the whole row as text.
func (w *world) otherAccountEvents(inv uuid.UUID) (signedIn, actors, rows []string) {
	w.t.Helper()
	r, err := w.env.Super.Pool.Query(context.Background(), `select coalesce(details->>'signed_in', ''),
	    coalesce(actor_id::text, ''), e::text from audit.events e
	    where action = 'case.invite.accept' and outcome = 'denied' and object_id = $1
	      and details->>'reason' = 'invite_other_account'
	      and details - 'reason' - 'signed_in' = '{}'::jsonb
	    order by at`, inv)
	if err != nil {
		w.t.Fatal(err)
	}
	defer r.Close()
	for r.Next() {
		var s, a, row string
		if err := r.Scan(&s, &a, &row); err != nil {
			w.t.Fatal(err)
		}
		signedIn, actors, rows = append(signedIn, s), append(actors, a), append(rows, row)
	}
	if err := r.Err(); err != nil {
		w.t.Fatal(err)
	}
	return signedIn, actors, rows
}

// An acceptance refused because the browser holds another member's
// session (409 invite_other_account) is audited as a denied
// case.invite.accept in the invitation's org, reason invite_other_account,
// like the other refused acceptances: naming the signed-in member when
// they are of that org, not naming a member of another org, with no
// address or PHI, and spending nothing. Before, it wrote no event.
func TestInviteAcceptOtherAccountAudited(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Harbor Occupational")
	x := w.createOrg("Pacific Comp")
	const canary = "Canary Title Meniscus Qv3"
	kase := w.landingCase(o, canary)
	other := w.landingCase(x, "Canary Title Other Zr8")

	// An attorney of o's case, and an adjuster of x's, each signed in in
	// their own browser.
	signedIn := func(org *org, kase, email, kind string) (*browser, string) {
		b := w.browser(t)
		_, tok := w.inviteOutbox(org.Admin.Token, kase, email, kind, []string{"view"}, time.Now().Add(30*24*time.Hour))
		if resp, body := b.postForm("/v1/case-invites/accept", tok); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s's own acceptance: %d %s", email, resp.StatusCode, body)
		}
		var me struct {
			UserID uuid.UUID `json:"user_id"`
		}
		w.do("GET", "/v1/me", b.session(), nil, http.StatusOK, &me)
		return b, me.UserID.String()
	}
	amy, amyID := signedIn(o, kase, "amy@smith-law.test", "attorney")
	carl, _ := signedIn(x, other, "carl@adjusters.test", "payer")

	inv, tok := w.inviteOutbox(o.Admin.Token, kase, "bob@smith-law.test", "attorney", []string{"view", "comment"},
		time.Now().Add(30*24*time.Hour))
	resp, body := amy.postForm("/v1/case-invites/accept", tok)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), `id="signed-in-as-other"`) {
		t.Fatalf("form acceptance in o's member's session: %d %s", resp.StatusCode, body)
	}
	resp, body = carl.send("POST", "/v1/case-invites/accept", "application/json", `{"token":"`+tok+`"}`)
	if resp.StatusCode != http.StatusConflict || problemCode(t, body) != "invite_other_account" {
		t.Fatalf("JSON acceptance in x's member's session: %d %s", resp.StatusCode, body)
	}
	if accepted, _ := w.inviteState(inv); accepted {
		t.Fatal("a refused acceptance spent the invitation")
	}
	where, actors, rows := w.otherAccountEvents(inv)
	if len(where) != 2 || where[0] != "this_org" || actors[0] != amyID || where[1] != "other_org" || actors[1] != "" {
		t.Fatalf("events: signed_in %v, actors %v (want this_org by %s, other_org by nobody)", where, actors, amyID)
	}
	for _, row := range rows {
		for _, leak := range []string{canary, "smith-law", "adjusters", tok} {
			if strings.Contains(row, leak) {
				t.Fatalf("the refusal's event holds %q: %s", leak, row)
			}
		}
		if !strings.Contains(row, o.ID.String()) || !strings.Contains(row, kase) {
			t.Fatalf("the event is not in the invitation's org, on its case: %s", row)
		}
	}

	// The invitee accepts; the spent invitation's refusal is its own
	// (used), never invite_other_account.
	bob := w.browser(t)
	if resp, body := bob.postForm("/v1/case-invites/accept", tok); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the invitee's acceptance: %d %s", resp.StatusCode, body)
	}
	if resp, body := amy.postForm("/v1/case-invites/accept", tok); resp.StatusCode != http.StatusBadRequest &&
		resp.StatusCode != http.StatusGone {
		t.Fatalf("a spent invitation in another member's browser: %d %s", resp.StatusCode, body)
	}
	if where, _, _ := w.otherAccountEvents(inv); len(where) != 2 {
		t.Fatalf("%d invite_other_account events after the invitation was spent, want 2", len(where))
	}
}
