package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/httpapi"
	"github.com/wardhq/ward/internal/identity"
)

var instanceLog = uuid.MustParse("ffffffff-ffff-ffff-ffff-ffffffffffff")

// Flooding a known address from one source does not lock its owner out at
// another source: attempts count per address and source, and the refused
// ones do not count at all. Unknown and rate-limited requests land in the
// instance log, so enumeration leaves a trace.
func TestSignInLockoutAndEnumerationAudit(t *testing.T) {
	w := newWorld(t, withPolicy(func(c *auth.InstancePolicy) { c.MaxPerAddress = 3; c.MaxPerSource = 1000 }),
		withAPIConfig(func(c *httpapi.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} }))
	o := w.createOrg("Lockout Org")
	victim := w.addMember(o, "victim@example.test", identity.RoleProvider)
	ask := func(email, from string) int {
		resp, _ := w.request("POST", "/v1/auth/magic-link", "", map[string]string{"email": email}, "X-Forwarded-For", from)
		return resp.StatusCode
	}
	limited := 0
	for range 20 {
		if ask(victim.Email, "203.0.113.66") == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited != 17 {
		t.Fatalf("attacker source: %d of 20 requests limited, want 17", limited)
	}
	if st := ask(victim.Email, "198.51.100.7"); st != http.StatusAccepted {
		t.Fatalf("the owner at another source was locked out: %d", st)
	}
	var attempts int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from app.auth_attempts where kind = 'pair'`).
		Scan(&attempts); err != nil {
		t.Fatal(err)
	}
	if attempts != 4 {
		t.Errorf("%d counted attempts, want 4 (refusals are not counted)", attempts)
	}
	if n := w.auditCount(instanceLog, "auth.link.request", "denied"); n != 17 {
		t.Errorf("%d rate-limited requests audited in the instance log, want 17", n)
	}
	if st := ask("nobody-here@example.test", "192.0.2.5"); st != http.StatusAccepted {
		t.Fatalf("unknown address: %d", st)
	}
	var reason string
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select details->>'reason' from audit.events
		where org_id = $1 order by qid desc limit 1`, instanceLog).Scan(&reason); err != nil || reason != "unknown_address" {
		t.Errorf("last instance event reason %q (%v), want unknown_address", reason, err)
	}
}

// The link goes to the address the member registered, not to the spelling
// typed into the form.
func TestSignInMailGoesToStoredAddress(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Mail Case Org")
	w.addMember(o, "casey@example.test", identity.RolePatient)
	before := w.outbox.String()
	if _, st := requestLink(t, w, "CASEY@Example.TEST"); st != http.StatusAccepted {
		t.Fatalf("request: %d", st)
	}
	var sent string
	for range 200 {
		if sent = strings.TrimPrefix(w.outbox.String(), before); strings.Contains(sent, "/v1/auth/magic?token=") {
			break
		}
		waitABit()
	}
	if !strings.Contains(sent, "casey@example.test") || strings.Contains(sent, "CASEY@Example.TEST") {
		t.Fatalf("mail was not addressed to the stored address:\n%s", sent)
	}
}

// Refusals on the member, session and policy routes are audited, and a
// session-policy value beyond 32 bits is a 400, not a 500.
func TestRefusalsAreAudited(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Refusal Org")
	w.populate(o, "ref")
	cases := []struct {
		name, method, path, token string
		body                      any
		want                      int
		action                    string
	}{
		{"lead adds a member", "POST", "/v1/members", o.Lead.Token, map[string]any{"email": "x@example.test", "role": "admin"},
			http.StatusForbidden, "membership.add"},
		{"provider changes a role", "PATCH", "/v1/members/" + o.Admin.ID.String(), o.Prov.Token, map[string]any{"role": "patient"},
			http.StatusForbidden, "membership.update"},
		{"admin revokes a stranger", "DELETE", "/v1/members/" + uuid.NewString(), o.Admin.Token, nil,
			http.StatusNotFound, "membership.revoke"},
		{"revoke someone else's session", "DELETE", "/v1/sessions/" + uuid.NewString(), o.Prov.Token, nil,
			http.StatusNotFound, "session.revoke"},
		{"lead sets the session policy", "PUT", "/v1/org/session-policy", o.Lead.Token,
			map[string]any{"session_idle_timeout_min": 30, "session_absolute_max_min": 600}, http.StatusForbidden,
			"org.session_policy.update"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := w.auditCount(o.ID, c.action, "denied")
			resp, body := w.request(c.method, c.path, c.token, c.body)
			if resp.StatusCode != c.want {
				t.Fatalf("%d %s, want %d", resp.StatusCode, body, c.want)
			}
			if after := w.auditCount(o.ID, c.action, "denied"); after != before+1 {
				t.Fatalf("denied %s events: %d → %d, want one more", c.action, before, after)
			}
		})
	}
	// A refusal at the route (the role) names the route it was refused at.
	var route string
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select details->>'route' from audit.events
		where org_id = $1 and action = 'membership.add' and outcome = 'denied' order by qid desc limit 1`, o.ID).
		Scan(&route); err != nil || route != "POST /v1/members" {
		t.Errorf("route of the refusal: %q, %v", route, err)
	}
	resp, body := w.request("PUT", "/v1/org/session-policy", o.Admin.Token,
		map[string]any{"session_idle_timeout_min": 1 << 40, "session_absolute_max_min": 600})
	if resp.StatusCode != http.StatusBadRequest || problemCode(t, body) != "bad_json" {
		t.Fatalf("policy beyond 32 bits: %d %s", resp.StatusCode, body)
	}
	resp, body = w.request("PUT", "/v1/org/session-policy", o.Admin.Token,
		map[string]any{"session_idle_timeout_min": 1000, "session_absolute_max_min": 43200})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "480") {
		t.Fatalf("policy beyond the instance caps: %d %s, want 400 naming the cap", resp.StatusCode, body)
	}
}

// A person in two orgs sees, through one org's session, only that org's
// sessions, and cannot revoke the other's.
func TestSessionsStayInTheirOrg(t *testing.T) {
	w := newWorld(t)
	a := w.createOrg("Org Alpha")
	b := w.createOrg("Org Beta")
	email := "two-orgs@example.test"
	inA := w.addMember(a, email, identity.RoleProvider)
	w.addMember(b, email, identity.RoleProvider)
	tokenB := w.operatorSignIn(email, b.ID)
	var mine struct {
		Sessions []auth.SessionInfo `json:"sessions"`
	}
	w.do("GET", "/v1/sessions", tokenB, nil, http.StatusOK, &mine)
	var inB uuid.UUID
	for _, s := range mine.Sessions {
		if s.OrgID != b.ID {
			t.Fatalf("a session of org %s is listed through a session of %s", s.OrgID, b.ID)
		}
		inB = s.ID
	}
	var listA struct {
		Sessions []auth.SessionInfo `json:"sessions"`
	}
	w.do("GET", "/v1/sessions", inA.Token, nil, http.StatusOK, &listA)
	if len(listA.Sessions) == 0 || inB == uuid.Nil {
		t.Fatalf("sessions: %d in A, B's %s", len(listA.Sessions), inB)
	}
	w.do("DELETE", "/v1/sessions/"+inB.String(), inA.Token, nil, http.StatusNotFound, nil)
	w.do("GET", "/v1/me", tokenB, nil, http.StatusOK, nil)
}

// waitABit lets the background mail sender run.
func waitABit() { time.Sleep(10 * time.Millisecond) }

// The database resolves a session to its kind, assurance level, methods and
// time of authentication, and says what a session below its bar still
// needs; /v1/me reports them.
func TestMeReportsAssurance(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Assurance Org")
	before := time.Now().Add(-time.Minute)
	var me struct {
		Kind     string    `json:"credential_kind"`
		AAL      int       `json:"aal"`
		AMR      []string  `json:"amr"`
		Pending  *string   `json:"pending"`
		AuthTime time.Time `json:"auth_time"`
	}
	w.do("GET", "/v1/me", w.signInAAL1(o.Admin.Email, o.ID), nil, http.StatusOK, &me)
	if me.Kind != "session" || me.AAL != 1 || me.Pending == nil || *me.Pending != "mfa" ||
		strings.Join(me.AMR, ",") != "email" ||
		me.AuthTime.Before(before) || me.AuthTime.After(time.Now().Add(time.Minute)) {
		t.Fatalf("me: %+v", me)
	}
}

// Problem details are written for the client: no package names, and a
// conflict or a refusal says what happened and what to do.
func TestProblemDetailsSayWhatToDo(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Detail Org")
	w.populate(o, "det")
	detail := func(method, path, token string, body any, want int) string {
		t.Helper()
		resp, b := w.request(method, path, token, body)
		var p httpapi.Problem
		if resp.StatusCode != want || json.Unmarshal(b, &p) != nil {
			t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
		}
		if strings.Contains(p.Detail, "auth:") || strings.Contains(p.Detail, "records:") || strings.Contains(p.Detail, "audit:") {
			t.Errorf("%s %s: a package name leaks into the detail: %q", method, path, p.Detail)
		}
		return p.Detail
	}
	if d := detail("POST", "/v1/members", o.Admin.Token, map[string]any{"email": "nope", "role": "admin"}, 400); !strings.Contains(d, "email") {
		t.Errorf("bad email: %q", d)
	}
	if d := detail("POST", "/v1/members", o.Admin.Token, map[string]any{"email": "det-prov@example.test", "role": "provider"}, 409); !strings.Contains(d, "already a member") {
		t.Errorf("duplicate member: %q", d)
	}
	if d := detail("DELETE", "/v1/members/"+o.Admin.ID.String(), o.Admin.Token, nil, 409); !strings.Contains(d, "last admin") {
		t.Errorf("last admin: %q", d)
	}
	if d := detail("PUT", "/v1/org/session-policy", o.Prov.Token,
		map[string]any{"session_idle_timeout_min": 30, "session_absolute_max_min": 600}, 403); d == "" {
		t.Error("a bare 403: say why")
	}
	if d := detail("DELETE", "/v1/sessions/"+uuid.NewString(), o.Prov.Token, nil, 404); !strings.Contains(d, "sessions") {
		t.Errorf("unknown session: %q", d)
	}
}

// A client looping over random ids is audited, but its refusals collapse
// into counted events after the first few, so the flood does not become a
// flood of audit writes.
func TestDenialFloodCollapses(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Flood Org")
	w.populate(o, "flood")
	const probes = 90
	for range probes {
		resp, _ := w.request("GET", "/v1/patients/"+uuid.NewString(), o.PatUser.Token, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("probe: %d", resp.StatusCode)
		}
	}
	var events, counted int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*), sum(coalesce((details->>'collapsed')::int, 1))
		from audit.events where org_id = $1 and action = 'patient.read' and outcome = 'denied'`, o.ID).Scan(&events, &counted); err != nil {
		t.Fatal(err)
	}
	// 30 one by one, then two events of 25; 10 wait for the next window.
	if events != 32 || counted != 80 {
		t.Fatalf("%d probes: %d events counting %d, want 32 counting 80", probes, events, counted)
	}
}

// A session with a 1-minute idle timeout stays alive while it is used, and
// a session that stopped working says why to its holder.
func TestSessionActivityAndWhyItEnded(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Idle Org")
	w.populate(o, "idle")
	ctx := context.Background()
	w.do("PUT", "/v1/org/session-policy", o.Admin.Token,
		map[string]any{"session_idle_timeout_min": 1, "session_absolute_max_min": 60}, http.StatusOK, nil)
	token := w.operatorSignIn("idle-prov@example.test", o.ID)
	var sid uuid.UUID
	if err := w.env.Super.Pool.QueryRow(ctx, `select id from app.sessions where org_id = $1 order by created_at desc limit 1`,
		o.ID).Scan(&sid); err != nil {
		t.Fatal(err)
	}
	age := func(d string) {
		t.Helper()
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set last_seen_at = last_seen_at - $2::interval,
			created_at = created_at - $2::interval where id = $1`, sid, d); err != nil {
			t.Fatal(err)
		}
	}
	// Requests 50 seconds apart, three times: each is within the minute.
	for i := range 3 {
		age("50 seconds")
		if resp, body := w.request("GET", "/v1/me", token, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d, 50 s after the previous one: %d %s", i, resp.StatusCode, body)
		}
	}
	age("61 seconds")
	if resp, body := w.request("GET", "/v1/me", token, nil); resp.StatusCode != http.StatusUnauthorized ||
		problemCode(t, body) != "session_idle" {
		t.Fatalf("after 61 s idle: %d %s, want 401 session_idle", resp.StatusCode, body)
	}

	other := w.operatorSignIn("idle-lead@example.test", o.ID)
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set absolute_expires_at = now() - interval '1 second'
		where token_hash = sha256(convert_to($1, 'UTF8'))`, other); err != nil {
		t.Fatal(err)
	}
	if resp, body := w.request("GET", "/v1/me", other, nil); problemCode(t, body) != "session_expired" {
		t.Fatalf("past its lifetime: %d %s, want session_expired", resp.StatusCode, body)
	}
	third := w.operatorSignIn("idle-pat@example.test", o.ID)
	w.do("POST", "/v1/auth/logout", third, nil, http.StatusNoContent, nil)
	if resp, body := w.request("GET", "/v1/me", third, nil); problemCode(t, body) != "session_revoked" {
		t.Fatalf("after logout: %d %s, want session_revoked", resp.StatusCode, body)
	}
	if resp, body := w.request("GET", "/v1/me", strings.Repeat("A", 43), nil); problemCode(t, body) != "unauthenticated" {
		t.Fatalf("an unknown token: %d %s, want unauthenticated", resp.StatusCode, body)
	}
}

// Clinical values are checked per kind, and a bad timestamp names its field
// and the format.
func TestEntryValidation(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Values Org")
	w.populate(o, "val")
	path := "/v1/patients/" + o.P1.String() + "/entries"
	at := "2026-11-30T08:15:00Z"
	for _, c := range []struct {
		body map[string]any
		want string // "" = accepted
	}{
		{map[string]any{"kind": "food", "name": "oats", "protein_g": -5, "observed_at": at}, "protein_g"},
		{map[string]any{"kind": "food", "name": "oats", "kcal": 1e9, "observed_at": at}, "kcal"},
		{map[string]any{"kind": "food", "name": "oats", "value": 40, "unit": "parsecs", "observed_at": at}, "unit"},
		{map[string]any{"kind": "food", "name": "oats", "value": 40, "unit": "g", "kcal": 150, "protein_g": 5, "observed_at": at}, ""},
		{map[string]any{"kind": "symptom", "name": "bloating", "value": 11, "observed_at": at}, "value"},
		{map[string]any{"kind": "symptom", "name": "bloating", "kcal": 10, "observed_at": at}, "food entries only"},
		{map[string]any{"kind": "symptom", "name": "bloating", "value": 4, "observed_at": at}, ""},
		{map[string]any{"kind": "biomarker", "name": "LDL", "unit": "mg/dL", "observed_at": at}, "value"},
		{map[string]any{"kind": "biomarker", "name": "LDL", "value": 130, "unit": "furlongs", "observed_at": at}, "unit"},
		{map[string]any{"kind": "biomarker", "name": "LDL", "value": 130, "unit": "mg/dL", "observed_at": at}, ""},
		{map[string]any{"kind": "food", "name": "oats", "observed_at": "2026-11-30"}, `observed_at\" must be an RFC 3339 date-time`},
	} {
		resp, body := w.request("POST", path, o.Lead.Token, c.body)
		if c.want == "" {
			if resp.StatusCode != http.StatusCreated {
				t.Errorf("%v: %d %s, want 201", c.body, resp.StatusCode, body)
			}
			continue
		}
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), c.want) {
			t.Errorf("%v: %d %s, want 400 naming %s", c.body, resp.StatusCode, body, c.want)
		}
	}
}

// PUT replaces the whole record and needs every field; PATCH is an RFC 7396
// merge patch that leaves what it does not name.
func TestPatientPutAndPatch(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Patch Org")
	id := w.createPatient(o.Admin.Token, map[string]any{"name": "Ada Merge", "dob": "1970-01-02", "phone": "555-0101",
		"email": "ada@example.test", "mrn": "M-1", "identifiers": map[string]string{"insurance": "I-1", "ssn": "123-45-6789"}})
	path := "/v1/patients/" + id.String()
	resp, body := w.request("PUT", path, o.Admin.Token, map[string]any{"name": "Ada Merge"})
	if resp.StatusCode != http.StatusBadRequest || problemCode(t, body) != "missing_field" {
		t.Fatalf("partial PUT: %d %s", resp.StatusCode, body)
	}
	var p struct {
		Name        string            `json:"name"`
		DOB         string            `json:"dob"`
		Phone       string            `json:"phone"`
		Email       string            `json:"email"`
		MRN         string            `json:"mrn"`
		Identifiers map[string]string `json:"identifiers"`
	}
	w.do("PATCH", path, o.Admin.Token, map[string]any{"phone": "555-0199", "email": nil,
		"identifiers": map[string]any{"ssn": nil, "member": "X-9"}}, http.StatusOK, &p)
	if p.Name != "Ada Merge" || p.DOB != "1970-01-02" || p.Phone != "555-0199" || p.Email != "" || p.MRN != "M-1" ||
		p.Identifiers["insurance"] != "I-1" || p.Identifiers["member"] != "X-9" || p.Identifiers["ssn"] != "" {
		t.Fatalf("after the patch: %+v", p)
	}
	if resp, body := w.request("PATCH", path, o.Admin.Token, map[string]any{"nmae": "typo"}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("patch with an unknown field: %d %s", resp.StatusCode, body)
	}
	if resp, body := w.request("PATCH", path, o.Admin.Token, map[string]any{"dob": "31/12/1970"}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("patch with a bad date: %d %s", resp.StatusCode, body)
	}
	p.DOB, p.Phone, p.Identifiers = "", "", nil // the answer leaves empty fields out
	w.do("PUT", path, o.Admin.Token, map[string]any{"name": "Ada Whole", "dob": "", "phone": "", "email": "",
		"address": "", "mrn": "M-1", "identifiers": map[string]string{}}, http.StatusOK, &p)
	if p.Name != "Ada Whole" || p.Phone != "" || p.DOB != "" || len(p.Identifiers) != 0 {
		t.Fatalf("after the full PUT: %+v", p)
	}
	if n := w.auditCount(o.ID, "patient.update", "success"); n != 2 {
		t.Errorf("%d patient.update events, want 2", n)
	}
}

// Adding a member mails them an invitation: a one-time sign-in link that
// works from any browser, at the address stored for them. invite:false
// sends nothing.
func TestMemberInvitation(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Invite Org")
	before := w.outbox.String()
	w.do("POST", "/v1/members", o.Admin.Token, map[string]any{"email": "Quiet@Example.test", "role": "provider", "invite": false},
		http.StatusCreated, nil)
	w.do("POST", "/v1/members", o.Admin.Token, map[string]any{"email": "New.Hire@Example.test", "role": "provider"},
		http.StatusCreated, nil)
	var sent string
	for range 200 {
		if sent = strings.TrimPrefix(w.outbox.String(), before); strings.Contains(sent, "/v1/auth/magic?token=") {
			break
		}
		waitABit()
	}
	if strings.Contains(strings.ToLower(sent), "quiet@example.test") {
		t.Fatalf("invite:false still mailed:\n%s", sent)
	}
	m := linkRE.FindStringSubmatch(sent)
	if m == nil || !strings.Contains(sent, "new.hire@example.test") || !strings.Contains(sent, "24h0m0s") {
		t.Fatalf("no invitation to the stored address:\n%s", sent)
	}
	var s struct {
		Token string `json:"token"`
	}
	// An app's sign-in, with a DPoP proof (a provider's sessions must be bound).
	resp, b := w.request("POST", "/v1/auth/magic", "", map[string]string{"token": m[1]}, w.signInProof("/v1/auth/magic")...)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &s) != nil || s.Token == "" {
		t.Fatalf("invitation sign-in: %d %s", resp.StatusCode, b)
	}
	var me struct {
		Role string `json:"role"`
	}
	w.do("GET", "/v1/me", s.Token, nil, http.StatusOK, &me)
	if me.Role != "provider" {
		t.Fatalf("signed in through the invitation as %q", me.Role)
	}
	w.do("POST", "/v1/auth/magic", "", map[string]string{"token": m[1]}, http.StatusUnauthorized, nil)
}

// A patient reads who looked at their record: the role and address of the
// staff who did, never another patient's identity.
func TestAccessReportNamesStaff(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Report Org")
	w.populate(o, "rep")
	w.do("GET", "/v1/patients/"+o.P1.String(), o.Prov.Token, nil, http.StatusOK, nil)
	w.do("GET", "/v1/patients/"+o.P1.String(), o.PatUser.Token, nil, http.StatusOK, nil)
	var rep struct {
		Accesses []struct {
			Action    string `json:"action"`
			ActorRole string `json:"actor_role"`
			Email     string `json:"actor_email"`
		} `json:"accesses"`
	}
	w.do("GET", "/v1/patients/"+o.P1.String()+"/access-report", o.PatUser.Token, nil, http.StatusOK, &rep)
	var prov, self bool
	for _, a := range rep.Accesses {
		switch {
		case a.ActorRole == "provider" && a.Email == "rep-prov@example.test":
			prov = true
		case a.ActorRole == "patient" && a.Email == "rep-pat@example.test":
			self = true
		case a.ActorRole == "patient" && a.Email != "":
			t.Errorf("another patient's address in the report: %+v", a)
		}
	}
	if !prov || !self {
		t.Fatalf("the report does not name the provider (%v) or the patient themself (%v): %+v", prov, self, rep.Accesses)
	}
}

// Each policy violation has its own message.
func TestPolicyMessages(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Policy Msg Org")
	for _, c := range []struct {
		idle, abs int
		want      string
	}{
		{0, 600, "session_idle_timeout_min must be 1..1440"},
		{30, 2, "session_absolute_max_min must be 5..43200"},
		{120, 60, "may not exceed"},
		{600, 600, "session_idle_timeout_min must be 1..480"},
		{30, 20000, "session_absolute_max_min must be 5..10080"},
	} {
		resp, body := w.request("PUT", "/v1/org/session-policy", o.Admin.Token,
			map[string]any{"session_idle_timeout_min": c.idle, "session_absolute_max_min": c.abs})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), c.want) {
			t.Errorf("idle %d abs %d: %d %s, want %q", c.idle, c.abs, resp.StatusCode, body, c.want)
		}
	}
}

// An address is limited across all sources: an attacker with many client
// addresses cannot send one inbox more links in a window than the
// instance's per-address cap, a member's address and an unknown one are
// answered alike, other addresses are not touched, concurrent requests
// from distinct sources cannot all count below the cap, and the cap has
// a hard ceiling.
func TestSignInAddressLimitAcrossSources(t *testing.T) {
	const capAll = 5
	w := newWorld(t, withPolicy(func(c *auth.InstancePolicy) {
		c.MaxPerAddress = 3
		c.MaxPerAddressAll = capAll
		c.MaxPerSource = 1000
	}), withAPIConfig(func(c *httpapi.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} }))
	o := w.createOrg("Bombing Org")
	victim := w.addMember(o, "inbox@example.test", identity.RoleProvider)
	countLinks := func() int {
		var n int
		if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from app.magic_links
			where user_id = $1`, victim.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := countLinks()
	source := 0
	ask := func(email string) *http.Response {
		source++
		resp, _ := w.request("POST", "/v1/auth/magic-link", "", map[string]string{"email": email},
			"X-Forwarded-For", fmt.Sprintf("203.0.%d.%d", source/250, source%250+1))
		return resp
	}
	for _, email := range []string{victim.Email, "nobody-at-all@example.test"} {
		for i := range capAll {
			if st := ask(email).StatusCode; st != http.StatusAccepted {
				t.Fatalf("%s, request %d from its own source: %d", email, i+1, st)
			}
		}
		resp := ask(email)
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("%s, request %d from a new source: %d, want 429", email, capAll+1, resp.StatusCode)
		}
		if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 890 || ra > 900 {
			t.Fatalf("Retry-After %q, want about 900 seconds", resp.Header.Get("Retry-After"))
		}
	}
	var limited int
	if links := countLinks() - before; links != capAll {
		t.Errorf("%d links minted for the member, want %d", links, capAll)
	}
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from audit.events
		where org_id = $1 and action = 'auth.link.request' and details->>'limit' = 'address_all'`, instanceLog).Scan(&limited); err != nil {
		t.Fatal(err)
	}
	if limited != 2 {
		t.Errorf("%d refusals audited with limit address_all, want 2", limited)
	}
	if st := ask("bystander@example.test").StatusCode; st != http.StatusAccepted {
		t.Fatalf("another address was limited: %d", st)
	}

	// Distinct sources at once: the database serialises per address.
	racer := w.addMember(o, "racer-inbox@example.test", identity.RoleProvider)
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for i := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := w.request("POST", "/v1/auth/magic-link", "", map[string]string{"email": racer.Email},
				"X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
			if resp.StatusCode == http.StatusAccepted {
				mu.Lock()
				accepted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if accepted != capAll {
		t.Fatalf("24 concurrent requests from 24 sources with a cap of %d: %d accepted", capAll, accepted)
	}

	// The cap's ceiling is the database's: nothing is written beyond it.
	err := auth.SetInstancePolicy(context.Background(), w.env.Super, auth.InstancePolicy{MaxPerAddressAll: 1001})
	if !errors.Is(err, auth.ErrInvalidInput) {
		t.Fatalf("a cap of 1001: %v, want invalid input", err)
	}
	pol, err := auth.GetInstancePolicy(context.Background(), w.env.Super)
	if err != nil || pol.MaxPerAddressAll != capAll {
		t.Fatalf("cap after the refused change: %d (%v), want %d", pol.MaxPerAddressAll, err, capAll)
	}
}
