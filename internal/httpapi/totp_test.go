package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// totpCode is what an authenticator app shows for secret at t.
func totpCode(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix,
		Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrolTOTP enrols a TOTP factor through a pending session and confirms it
// with the code of the previous step (leaving the current and next steps
// for later verifications); it returns the secret, and replaces *token
// with the session's rotated token.
func (w *world) enrolTOTP(token *string) string {
	w.t.Helper()
	// The previous step's code is accepted only while the server is in the
	// step after it: near a step's end, wait for the next step, so that the
	// request does not reach the server two steps later.
	return w.enrolTOTPAt(token, previousStep())
}

// wrongTOTPCode is a code that no step the server may accept during the
// test matches: the server takes the step before the current one, the
// current and the next (a code equal to one of them would be accepted,
// about once in a million runs for a fixed "wrong" code), and the test
// runs for minutes, so every step from ten minutes ago to ten minutes on
// is avoided.
func wrongTOTPCode(t testing.TB, secret string) string {
	t.Helper()
	now := time.Now()
	valid := map[string]bool{}
	for d := -20; d <= 20; d++ {
		valid[totpCode(t, secret, now.Add(time.Duration(d)*30*time.Second))] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333", "444444", "555555", "666666", "777777", "888888", "999999"} {
		if !valid[c] {
			return c
		}
	}
	t.Fatal("no wrong code: each of ten candidates matches a step (a broken totpCode?)")
	return ""
}

// previousStep is a time in the TOTP step before the current one, taken
// at least 5 s before the current step ends (it waits for the next step
// when fewer are left): its code is accepted while the server is in the
// step after it.
func previousStep() time.Time {
	if left := 30*time.Second - time.Duration(time.Now().UnixNano()%int64(30*time.Second)); left < 5*time.Second {
		time.Sleep(left + 100*time.Millisecond)
	}
	return time.Now().Add(-30 * time.Second)
}

// enrolTOTPAt is enrolTOTP confirming with the code of the step at.
func (w *world) enrolTOTPAt(token *string, at time.Time) string {
	w.t.Helper()
	var e struct {
		URI    string `json:"otpauth_uri"`
		Secret string `json:"secret"`
	}
	w.do("POST", "/v1/auth/totp/enrol", *token, nil, http.StatusCreated, &e)
	if !strings.HasPrefix(e.URI, "otpauth://totp/") || !strings.Contains(e.URI, "secret="+e.Secret) {
		w.t.Fatalf("enrolment URI %q", e.URI)
	}
	w.verifyTOTP(token, totpCode(w.t, e.Secret, at))
	return e.Secret
}

// verifyTOTP presents code for *token's session, requires success, and
// replaces *token with the rotated token.
func (w *world) verifyTOTP(token *string, code string) {
	w.t.Helper()
	var r struct {
		Token string `json:"token"`
		AAL   int    `json:"aal"`
	}
	w.do("POST", "/v1/auth/totp/verify", *token, map[string]string{"code": code}, http.StatusOK, &r)
	if r.AAL != 2 || len(r.Token) != 43 || r.Token == *token {
		w.t.Fatalf("step-up answer %+v", r)
	}
	*token = r.Token
}

// rotatedAAL2 signs email in to org, enrols TOTP (AAL2) and steps up
// again: old is the AAL2 token the second step-up rotated away from, in
// its grace (it resolves as it did, AAL2), and tok the session's current
// token.
func (w *world) rotatedAAL2(email string, org uuid.UUID) (old, tok string) {
	w.t.Helper()
	tok = w.signInAAL1(email, org)
	secret := w.enrolTOTP(&tok)
	old = tok
	w.verifyTOTP(&tok, totpCode(w.t, secret, time.Now()))
	return old, tok
}

// TOTP end to end: enrolment from a pending admin session, confirmation by a
// first code, AAL2, replay refused, lockout after five failures.
func TestTOTP(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("TOTP Org")
	w.populate(o, "totp")
	tok := w.signInAAL1(o.Admin.Email, o.ID)

	// Not enrolled yet; a wrong first code does not confirm.
	resp, b := w.request("POST", "/v1/auth/totp/verify", tok, map[string]string{"code": "123456"})
	if resp.StatusCode != http.StatusNotFound || problemCode(t, b) != "factor_not_enrolled" {
		t.Fatalf("verify before enrolment: %d %s", resp.StatusCode, b)
	}
	enrolled := previousStep()
	secret := w.enrolTOTPAt(&tok, enrolled)
	var me struct {
		AAL     int      `json:"aal"`
		AMR     []string `json:"amr"`
		Pending *string  `json:"pending"`
	}
	w.do("GET", "/v1/me", tok, nil, http.StatusOK, &me)
	if me.AAL != 2 || me.Pending != nil || strings.Join(me.AMR, ",") != "email,totp" {
		t.Fatalf("after TOTP: %+v", me)
	}
	w.do("GET", "/v1/patients", tok, nil, http.StatusOK, nil)
	if n := w.phiRows(tok); n != 2 {
		t.Fatalf("the admin's TOTP session reads %d patient rows, want 2", n)
	}
	// A confirmed factor is replaced only from a session that presented a
	// second factor within the last 10 minutes (TestTOTPReplace): a
	// session of one factor enrols nothing over it.
	tok2 := w.signInAAL1(o.Admin.Email, o.ID)
	resp, b = w.request("POST", "/v1/auth/totp/enrol", tok2, nil)
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "step_up_required" {
		t.Fatalf("enrolment over a confirmed factor from a one-factor session: %d %s", resp.StatusCode, b)
	}
	// The code just accepted is refused on another session: each step
	// once. (The enrolment's code itself, not the code of "now less a
	// step": once the step has turned since the enrolment, that is the
	// enrolment's next step, a code never presented, and accepted.)
	resp, b = w.request("POST", "/v1/auth/totp/verify", tok2,
		map[string]string{"code": totpCode(t, secret, enrolled)})
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "factor_invalid" {
		t.Fatalf("replayed code: %d %s", resp.StatusCode, b)
	}
	w.do("GET", "/v1/patients", tok2, nil, http.StatusForbidden, nil)
	// The current step is still good once.
	cur := totpCode(t, secret, time.Now())
	w.verifyTOTP(&tok2, cur)
	w.do("GET", "/v1/patients", tok2, nil, http.StatusOK, nil)

	// Lockout: five failures lock the factor for 15 minutes, even for the
	// right code.
	tok3 := w.signInAAL1(o.Admin.Email, o.ID)
	wrong := wrongTOTPCode(t, secret)
	for i := 1; i <= 5; i++ {
		resp, b = w.request("POST", "/v1/auth/totp/verify", tok3, map[string]string{"code": wrong})
		want, code := http.StatusForbidden, "factor_invalid"
		if i == 5 {
			want, code = http.StatusTooManyRequests, "factor_locked"
		}
		if resp.StatusCode != want || problemCode(t, b) != code {
			t.Fatalf("failure %d: %d %s", i, resp.StatusCode, b)
		}
	}
	retryAfter := func(resp *http.Response) int {
		t.Helper()
		n, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if err != nil {
			t.Fatalf("Retry-After %q: %v", resp.Header.Get("Retry-After"), err)
		}
		return n
	}
	if n := retryAfter(resp); n < 890 || n > 900 {
		t.Errorf("first lockout: Retry-After %d, want the lock's 900 seconds", n)
	}
	// the member hears of the lock, once (the mail leaves beside the answer)
	lockMails := func(want int) int {
		n := 0
		for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			if n = strings.Count(w.outbox.String(), "locked after wrong codes"); n >= want {
				break
			}
		}
		return n
	}
	if n := lockMails(1); n != 1 {
		t.Errorf("%d lockout mails after the first lockout, want 1", n)
	}
	resp, b = w.request("POST", "/v1/auth/totp/verify", tok3,
		map[string]string{"code": totpCode(t, secret, time.Now().Add(30*time.Second))})
	if resp.StatusCode != http.StatusTooManyRequests || problemCode(t, b) != "factor_locked" {
		t.Fatalf("right code while locked: %d %s", resp.StatusCode, b)
	}
	w.do("GET", "/v1/patients", tok3, nil, http.StatusForbidden, nil)
	// Each lockout since the last accepted code doubles the next: five
	// more failures once the first has passed lock it for 30 minutes.
	lock := func() (lockouts int, left time.Duration) {
		t.Helper()
		var secs float64
		if err := w.env.Super.Pool.QueryRow(context.Background(), `select f.lockouts, extract(epoch from f.locked_until - now())
		    from app.totp_factors f where f.org_id = $1`, o.ID).Scan(&lockouts, &secs); err != nil {
			t.Fatal(err)
		}
		return lockouts, time.Duration(secs * float64(time.Second))
	}
	if n, left := lock(); n != 1 || left < 14*time.Minute || left > 15*time.Minute {
		t.Fatalf("first lockout: %d, %v left", n, left)
	}
	if _, err := w.env.Super.Pool.Exec(context.Background(), `update app.totp_factors set locked_until = now() - interval '1 second'
	    where org_id = $1`, o.ID); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		resp, b = w.request("POST", "/v1/auth/totp/verify", tok3, map[string]string{"code": wrong})
		if i == 5 && (resp.StatusCode != http.StatusTooManyRequests || problemCode(t, b) != "factor_locked") {
			t.Fatalf("second lockout: %d %s", resp.StatusCode, b)
		}
	}
	if n, left := lock(); n != 2 || left < 29*time.Minute || left > 30*time.Minute {
		t.Fatalf("second lockout: %d, %v left", n, left)
	}
	if n := retryAfter(resp); n < 1790 || n > 1800 {
		t.Errorf("second lockout: Retry-After %d, want the lock's 1800 seconds", n)
	}
	resp, _ = w.request("POST", "/v1/auth/totp/verify", tok3, map[string]string{"code": wrong})
	if n := retryAfter(resp); resp.StatusCode != http.StatusTooManyRequests || n < 1790 || n > 1800 {
		t.Errorf("while locked: %d, Retry-After %d, want 429 and what is left of 1800 seconds", resp.StatusCode, n)
	}
	if n := lockMails(2); n != 2 {
		t.Errorf("%d lockout mails after two lockouts, want 2", n)
	}

	if n := w.auditCount(o.ID, "auth.mfa.verify", "success"); n != 2 {
		t.Errorf("%d successful verifications audited, want 2", n)
	}
	// The replay, five failures, the right code while locked, five
	// failures more and one while locked.
	if n := w.auditCount(o.ID, "auth.mfa.verify", "denied"); n != 13 {
		t.Errorf("%d refused verifications audited, want 12", n)
	}
	if n := w.auditCount(o.ID, "auth.mfa.enrol", "success"); n != 1 {
		t.Errorf("%d enrolments audited, want 1", n)
	}
	// The code as a number of its own ("code":"123456", code=123456), not
	// six digits inside a longer run of digits and lower-case hex letters:
	// the log's random hex ids hold about two hundred runs of six digits,
	// and one of them was the code once in five thousand runs.
	if strings.Contains(w.logs.String(), secret) ||
		regexp.MustCompile(`(^|[^0-9a-f])`+cur+`($|[^0-9a-f])`).MatchString(w.logs.String()) {
		t.Error("a TOTP secret or code reached the log")
	}
}

// Rotation on step-up: the old token works for a 30-second grace, at the
// assurance it was issued with (the step-up is the new token's holder's
// alone); after it, presenting the old token ends the whole session (every
// token of it) and is audited.
func TestSessionRotation(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Rotation Org")
	old := w.signInAAL1(o.Admin.Email, o.ID)
	tok := old
	secret := w.enrolTOTP(&tok)
	type whoami struct {
		SessionID string  `json:"session_id"`
		AAL       int     `json:"aal"`
		Pending   *string `json:"pending"`
	}
	var me1, me2 whoami
	w.do("GET", "/v1/me", old, nil, http.StatusOK, &me1) // in the grace: the same session, still AAL1
	w.do("GET", "/v1/me", tok, nil, http.StatusOK, &me2)
	if me1.SessionID != me2.SessionID || me1.AAL != 1 || me1.Pending == nil || *me1.Pending != "mfa" ||
		me2.AAL != 2 || me2.Pending != nil {
		t.Fatalf("old token in its grace: %+v, new: %+v", me1, me2)
	}
	// The old token is as pending as it was: the admin's routes refuse it.
	resp, b := w.request("GET", "/v1/members", old, nil)
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "mfa_required" {
		t.Fatalf("the AAL1 token in its grace on an admin route: %d %s", resp.StatusCode, b)
	}
	w.do("GET", "/v1/members", tok, nil, http.StatusOK, nil)

	// Eleven minutes on, the admin steps up again. The token that step-up
	// rotates away from keeps its own, older step-up: it still reads what
	// it could read, but a route that needs a fresh step-up refuses it.
	w.age(tok, 11*time.Minute)
	prev := tok
	w.verifyTOTP(&tok, totpCode(t, secret, time.Now()))
	key := map[string]any{"name": "rotation", "scopes": []string{"members"}}
	resp, b = w.request("POST", "/v1/api-keys", prev, key)
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "step_up_required" {
		t.Fatalf("a step-up route with the token rotated away from a new step-up: %d %s", resp.StatusCode, b)
	}
	w.do("GET", "/v1/members", prev, nil, http.StatusOK, nil)
	w.do("POST", "/v1/api-keys", tok, key, http.StatusCreated, nil)
	var me3 whoami
	w.do("GET", "/v1/me", old, nil, http.StatusOK, &me3)
	if me3.AAL != 1 || me3.Pending == nil {
		t.Fatalf("the first token after two step-ups: %+v", me3)
	}

	// The grace ends (moved back, as the superuser).
	if _, err := w.env.Super.Pool.Exec(context.Background(),
		`update app.session_tokens set retired_at = now() - interval '31 seconds'`); err != nil {
		t.Fatal(err)
	}
	w.do("GET", "/v1/members", tok, nil, http.StatusOK, nil) // the current token still works
	resp, b = w.request("GET", "/v1/me", old, nil)
	if resp.StatusCode != http.StatusUnauthorized || problemCode(t, b) != "session_revoked" {
		t.Fatalf("a rotated token after its grace: %d %s", resp.StatusCode, b)
	}
	resp, b = w.request("GET", "/v1/me", tok, nil)
	if resp.StatusCode != http.StatusUnauthorized || problemCode(t, b) != "session_revoked" {
		t.Fatalf("the current token after reuse of a rotated one: %d %s", resp.StatusCode, b)
	}
	if n := w.auditCount(o.ID, "auth.token_reuse", "denied"); n != 1 {
		t.Fatalf("%d token reuse events, want 1", n)
	}
}

// A step-up writes the rotated token into the session cookie only when
// the request was authenticated by that cookie: a request authenticated by
// its Authorization header stepped up the header's session, and a session
// cookie it also carried (a browser's own session, another member's even)
// keeps its value: the header session's token never lands in it. The
// cookie's own step-up still rotates the cookie and puts no token in the
// body.
func TestStepUpRotatesOnlyTheCookieThatAuthenticated(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Cookie Rotation Org")
	pat := w.addMember(o, "pia@example.test", "patient")
	browserTok := w.signInAAL1(pat.Email, o.ID)
	secret := w.enrolTOTP(&browserTok)
	cookie := "ward_session=" + browserTok

	// Another session of the member, presented in the header, with the
	// browser's cookie beside it.
	header := w.signInAAL1(pat.Email, o.ID)
	resp, b := w.request("POST", "/v1/auth/totp/verify", header, map[string]string{"code": totpCode(t, secret, time.Now())},
		"Cookie", cookie)
	var r struct {
		Token string `json:"token"`
		AAL   int    `json:"aal"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &r) != nil || r.AAL != 2 || len(r.Token) != 43 {
		t.Fatalf("header step-up beside a cookie: %d %s", resp.StatusCode, b)
	}
	if line := setCookie(resp, "ward_session"); line != "" {
		t.Fatalf("a header step-up set the session cookie: %q", line)
	}
	// The browser's session is as it was, and the header's new token is
	// the header session's.
	var me struct {
		SessionID string `json:"session_id"`
	}
	resp, b = w.browse("GET", "/v1/me", http.Header{"Cookie": {cookie}}, "")
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &me) != nil {
		t.Fatalf("the browser's cookie after a header step-up: %d %s", resp.StatusCode, b)
	}
	browserSession := me.SessionID
	w.do("GET", "/v1/me", r.Token, nil, http.StatusOK, &me)
	if me.SessionID == browserSession || me.SessionID == "" {
		t.Fatalf("the header's new token resolves to session %q, the browser's is %q", me.SessionID, browserSession)
	}

	// The cookie's own step-up: the new token in the cookie only.
	resp, b = w.browse("POST", "/v1/auth/totp/verify", http.Header{"Cookie": {cookie}, "Sec-Fetch-Site": {"same-origin"},
		"Content-Type": {"application/json"}}, `{"code":"`+totpCode(t, secret, time.Now().Add(30*time.Second))+`"}`)
	line := setCookie(resp, "ward_session")
	if resp.StatusCode != http.StatusOK || line == "" || cookieValue(line) == browserTok || strings.Contains(string(b), `"token"`) {
		t.Fatalf("a cookie step-up: %d %s, Set-Cookie %q", resp.StatusCode, b, line)
	}
}
