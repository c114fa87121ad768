package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

func TestPatientRecordFlow(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Flow Org")
	w.populate(o, "f")

	// The assigned provider reads and updates; the patient reads their own
	// record and logs food; the lead sees everything.
	var p struct {
		ID   uuid.UUID `json:"id"`
		Name string    `json:"name"`
		DOB  string    `json:"dob"`
		MRN  string    `json:"mrn"`
	}
	w.do("GET", "/v1/patients/"+o.P1.String(), o.Prov.Token, nil, http.StatusOK, &p)
	if p.Name != "f Patient One" || p.DOB != "1970-03-04" || p.MRN != "f-MRN-1" {
		t.Fatalf("provider read %+v", p)
	}
	w.do("PATCH", "/v1/patients/"+o.P1.String(), o.Prov.Token, map[string]any{"phone": "555-0100"}, http.StatusOK, nil)
	w.do("GET", "/v1/patients/"+o.P1.String(), o.PatUser.Token, nil, http.StatusOK, &p)
	w.do("POST", "/v1/patients/"+o.P1.String()+"/entries", o.PatUser.Token, map[string]any{
		"kind": "food", "name": "lentil soup", "kcal": 320, "protein_g": 18, "carbs_g": 40, "fat_g": 6,
		"observed_at": time.Now().UTC().Format(time.RFC3339), "note": "felt bloated after"}, http.StatusCreated, nil)
	w.do("POST", "/v1/patients/"+o.P1.String()+"/entries", o.Prov.Token, map[string]any{
		"kind": "biomarker", "name": "HbA1c", "value": 5.9, "unit": "%",
		"observed_at": time.Now().UTC().Format(time.RFC3339)}, http.StatusCreated, nil)
	var entries struct {
		Entries []struct {
			Name string  `json:"name"`
			Note string  `json:"note"`
			Kcal float64 `json:"kcal"`
		} `json:"entries"`
	}
	w.do("GET", "/v1/patients/"+o.P1.String()+"/entries", o.Lead.Token, nil, http.StatusOK, &entries)
	if len(entries.Entries) != 2 {
		t.Fatalf("entries: %+v", entries)
	}
	var lentil bool
	for _, e := range entries.Entries {
		lentil = lentil || (e.Name == "lentil soup" && e.Note == "felt bloated after" && e.Kcal == 320)
	}
	if !lentil {
		t.Fatalf("food entry not read back: %+v", entries)
	}

	// Lists: the lead sees both patients, the provider one, the patient
	// themself; search by MRN uses the blind index.
	for _, c := range []struct {
		who  *member
		want int
	}{{o.Lead, 2}, {o.Admin, 2}, {o.Prov, 1}, {o.Prov2, 0}, {o.PatUser, 1}} {
		var l struct {
			Patients []struct {
				ID uuid.UUID `json:"id"`
			} `json:"patients"`
		}
		w.do("GET", "/v1/patients", c.who.Token, nil, http.StatusOK, &l)
		if len(l.Patients) != c.want {
			t.Fatalf("%s lists %d patients, want %d", c.who.Email, len(l.Patients), c.want)
		}
	}
	var found struct {
		Patients []struct {
			ID uuid.UUID `json:"id"`
		} `json:"patients"`
	}
	w.do("POST", "/v1/patients/search", o.Lead.Token, map[string]string{"mrn": "F-MRN-2"}, http.StatusOK, &found)
	if len(found.Patients) != 1 || found.Patients[0].ID != o.P2 {
		t.Fatalf("MRN search (normalised) = %+v", found)
	}
	// The provider searches only among the patients they may see.
	w.do("POST", "/v1/patients/search", o.Prov.Token, map[string]string{"mrn": "f-MRN-2"}, http.StatusOK, &found)
	if len(found.Patients) != 0 {
		t.Fatalf("provider found an unassigned patient: %+v", found)
	}
	w.do("POST", "/v1/patients/search", o.Lead.Token, map[string]any{"mrn": "f-MRN-1", "limit": 1}, http.StatusOK, &found)
	if len(found.Patients) != 1 || found.Patients[0].ID != o.P1 {
		t.Fatalf("MRN search with a limit = %+v", found)
	}
	if w.auditCount(o.ID, "patient.list", "success") < 3 {
		t.Fatal("searches not audited as lists")
	}

	// The patient reads who accessed their record: the provider's read
	// and update and the lead's list are there, with actors.
	var rep struct {
		Accesses []struct {
			Actor  uuid.UUID `json:"actor_id"`
			Action string    `json:"action"`
			Listed bool      `json:"listed"`
		} `json:"accesses"`
	}
	w.do("GET", "/v1/patients/"+o.P1.String()+"/access-report", o.PatUser.Token, nil, http.StatusOK, &rep)
	has := func(actor uuid.UUID, action string) bool {
		return slices.ContainsFunc(rep.Accesses, func(a struct {
			Actor  uuid.UUID `json:"actor_id"`
			Action string    `json:"action"`
			Listed bool      `json:"listed"`
		}) bool {
			return a.Actor == actor && a.Action == action
		})
	}
	for _, c := range []struct {
		actor  uuid.UUID
		action string
	}{{o.Prov.ID, "patient.read"}, {o.Prov.ID, "patient.update"}, {o.Lead.ID, "patient.list"},
		{o.Lead.ID, "entry.list"}, {o.PatUser.ID, "entry.create"}, {o.Lead.ID, "patient.create"}} {
		if !has(c.actor, c.action) {
			t.Errorf("access report lacks %s by %s: %+v", c.action, c.actor, rep.Accesses)
		}
	}
	// ... and nothing about the other patient.
	var rep2 struct {
		Accesses []json.RawMessage `json:"accesses"`
	}
	w.do("GET", "/v1/patients/"+o.P1.String()+"/access-report", o.Admin.Token, nil, http.StatusOK, &rep2)
	if len(rep2.Accesses) <= len(rep.Accesses)-1 {
		t.Errorf("admin's report shorter than the patient's: %d vs %d", len(rep2.Accesses), len(rep.Accesses))
	}

	// A denied read shows in the patient's access report.
	w.request("GET", "/v1/patients/"+o.P1.String(), o.Prov2.Token, nil)
	var rep3 struct {
		Accesses []struct {
			Actor   uuid.UUID `json:"actor_id"`
			Outcome string    `json:"outcome"`
		} `json:"accesses"`
	}
	w.do("GET", "/v1/patients/"+o.P1.String()+"/access-report", o.PatUser.Token, nil, http.StatusOK, &rep3)
	if !slices.ContainsFunc(rep3.Accesses, func(a struct {
		Actor   uuid.UUID `json:"actor_id"`
		Outcome string    `json:"outcome"`
	}) bool {
		return a.Actor == o.Prov2.ID && a.Outcome == "denied"
	}) {
		t.Errorf("the denied read is not in the access report: %+v", rep3.Accesses)
	}

	// Identifiers are the org's to assign: the patient and the provider may
	// change the rest of the record, not the MRN.
	w.do("PATCH", "/v1/patients/"+o.P1.String(), o.PatUser.Token, map[string]any{"mrn": "f-MRN-2"}, http.StatusForbidden, nil)
	w.do("PUT", "/v1/patients/"+o.P1.String(), o.Prov.Token,
		map[string]any{"name": "f Patient One", "dob": "1970-03-04", "mrn": "f-MRN-9", "phone": "", "email": "",
			"address": "", "identifiers": nil}, http.StatusForbidden, nil)
	w.do("PATCH", "/v1/patients/"+o.P1.String(), o.PatUser.Token, map[string]any{"phone": "555-0199"}, http.StatusOK, nil)

	// The admin reads the org log, paging by seq.
	var log1, log2 struct {
		Events []struct {
			Seq int64 `json:"seq"`
		} `json:"events"`
	}
	w.do("GET", "/v1/audit/events?limit=5", o.Admin.Token, nil, http.StatusOK, &log1)
	if len(log1.Events) != 5 || log1.Events[0].Seq != 1 {
		t.Fatalf("first page: %+v", log1)
	}
	w.do("GET", "/v1/audit/events?limit=5&after=5", o.Admin.Token, nil, http.StatusOK, &log2)
	if len(log2.Events) == 0 || log2.Events[0].Seq != 6 {
		t.Fatalf("second page: %+v", log2)
	}
	// Every PHI access above is in the log as the same transaction wrote it.
	for _, a := range []string{"patient.read", "patient.update", "patient.list", "entry.create", "entry.list"} {
		if w.auditCount(o.ID, a, "success") == 0 {
			t.Errorf("no %s event", a)
		}
	}
}

func TestSessions(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Session Org")
	second := w.operatorSignIn(o.Admin.Email, o.ID)
	ctx := context.Background()

	var list struct {
		Sessions []struct {
			ID      uuid.UUID `json:"id"`
			Current bool      `json:"current"`
		} `json:"sessions"`
	}
	w.do("GET", "/v1/sessions", o.Admin.Token, nil, http.StatusOK, &list)
	if len(list.Sessions) != 2 {
		t.Fatalf("sessions: %+v", list)
	}
	var other uuid.UUID
	for _, s := range list.Sessions {
		if !s.Current {
			other = s.ID
		}
	}
	// Revoke the other session: it stops working at once.
	w.do("DELETE", "/v1/sessions/"+other.String(), o.Admin.Token, nil, http.StatusNoContent, nil)
	resp, _ := w.request("GET", "/v1/me", second, nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked session answered %d", resp.StatusCode)
	}
	w.do("DELETE", "/v1/sessions/"+other.String(), o.Admin.Token, nil, http.StatusNotFound, nil)
	// Its device may still be forgotten (a lost phone, a session the
	// member does not recognise): it and every session of theirs with its
	// user agent stop vouching for the device in the sign-in risk score
	// (00155; TestForgetSessionDevice has the score). Only the member's own
	// sessions.
	var forgot struct {
		Sessions int  `json:"sessions_forgotten"`
		Ended    bool `json:"ended"`
	}
	w.do("POST", "/v1/sessions/"+other.String()+"/forget-device", o.Admin.Token, nil, http.StatusOK, &forgot)
	var forgotten bool
	if err := w.env.Super.Pool.QueryRow(ctx, `select device_forgotten_at is not null from app.sessions where id = $1`,
		other).Scan(&forgotten); err != nil || !forgotten || forgot.Sessions < 1 || forgot.Ended {
		t.Fatalf("forget-device answered %+v; stored %v (%v)", forgot, forgotten, err)
	}
	var listed struct {
		Sessions []struct {
			ID              uuid.UUID `json:"id"`
			DeviceForgotten bool      `json:"device_forgotten"`
		} `json:"sessions"`
	}
	w.do("GET", "/v1/sessions", o.Admin.Token, nil, http.StatusOK, &listed)
	for _, s := range listed.Sessions {
		if s.ID == other && !s.DeviceForgotten {
			t.Errorf("the list does not show %s's device as forgotten", s.ID)
		}
	}
	w.do("POST", "/v1/sessions/"+uuid.NewString()+"/forget-device", o.Admin.Token, nil, http.StatusNotFound, nil)
	w.do("POST", "/v1/sessions/"+other.String()+"/forget-device", w.createOrg("Other Org").Admin.Token, nil,
		http.StatusNotFound, nil)
	w.do("POST", "/v1/sessions/not-an-id/forget-device", o.Admin.Token, nil, http.StatusBadRequest, nil)
	// An API key forgets no device (the route admits sessions only), and
	// the refusal is audited with the session it named.
	key := w.createKey(o, "members")
	w.do("POST", "/v1/sessions/"+other.String()+"/forget-device", key.Key, nil, http.StatusForbidden, nil)
	var refused int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and action = 'request.denied'
	    and outcome = 'denied' and object_type = 'session' and object_id = $2`, o.ID, other).Scan(&refused); err != nil || refused != 1 {
		t.Fatalf("an API key's forget-device audited %d times as denied (%v)", refused, err)
	}

	// Idle expiry and absolute expiry are checked by the database.
	third := w.operatorSignIn(o.Admin.Email, o.ID)
	w.do("GET", "/v1/me", third, nil, http.StatusOK, nil)
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set last_seen_at = now() - interval '31 minutes'
		where revoked_at is null and id <> (select id from app.sessions order by created_at limit 1)`); err != nil {
		t.Fatal(err)
	}
	if resp, _ := w.request("GET", "/v1/me", third, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("idle-expired session answered %d", resp.StatusCode)
	}
	fourth := w.operatorSignIn(o.Admin.Email, o.ID)
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set absolute_expires_at = now() - interval '1 second'
		where created_at = (select max(created_at) from app.sessions)`); err != nil {
		t.Fatal(err)
	}
	if resp, _ := w.request("GET", "/v1/me", fourth, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("expired session answered %d", resp.StatusCode)
	}

	// Session policy: only admins set it, within the instance caps, and
	// tightening it shortens live sessions.
	prov := w.addMember(o, "p@example.test", "provider")
	w.do("PUT", "/v1/org/session-policy", prov.Token, map[string]int{"session_idle_timeout_min": 5, "session_absolute_max_min": 60},
		http.StatusForbidden, nil)
	w.do("PUT", "/v1/org/session-policy", o.Admin.Token, map[string]int{"session_idle_timeout_min": 0, "session_absolute_max_min": 60},
		http.StatusBadRequest, nil)
	w.do("PUT", "/v1/org/session-policy", o.Admin.Token, map[string]int{"session_idle_timeout_min": 5, "session_absolute_max_min": 99999999},
		http.StatusBadRequest, nil)
	w.do("PUT", "/v1/org/session-policy", o.Admin.Token, map[string]int{"session_idle_timeout_min": 5, "session_absolute_max_min": 60},
		http.StatusOK, nil)
	var idle int
	var left time.Duration
	if err := w.env.Super.Pool.QueryRow(ctx, `select idle_timeout_min, absolute_expires_at - now() from app.sessions
		where user_id = $1 and revoked_at is null`, prov.ID).Scan(&idle, &left); err != nil {
		t.Fatal(err)
	}
	if idle != 5 || left > time.Hour {
		t.Fatalf("tightened policy not applied to live session: idle %d, left %s", idle, left)
	}
	if w.auditCount(o.ID, "org.session_policy.update", "success") != 1 {
		t.Fatal("policy change not audited")
	}

	// A role change ends the member's sessions; revoking a member too.
	w.do("PATCH", "/v1/members/"+prov.ID.String(), o.Admin.Token, map[string]string{"role": "lead"}, http.StatusOK, nil)
	if resp, _ := w.request("GET", "/v1/me", prov.Token, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("session survived a role change: %d", resp.StatusCode)
	}
	again := w.operatorSignIn(prov.Email, o.ID)
	w.do("DELETE", "/v1/members/"+prov.ID.String(), o.Admin.Token, nil, http.StatusNoContent, nil)
	if resp, _ := w.request("GET", "/v1/me", again, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("session survived membership revocation: %d", resp.StatusCode)
	}
	// The last admin cannot be removed.
	w.do("DELETE", "/v1/members/"+o.Admin.ID.String(), o.Admin.Token, nil, http.StatusConflict, nil)

	// Logout ends the current session, and the event names who logged out.
	w.do("GET", "/v1/members", o.Admin.Token, nil, http.StatusOK, nil)
	w.do("POST", "/v1/auth/logout", o.Admin.Token, nil, http.StatusNoContent, nil)
	if resp, _ := w.request("GET", "/v1/me", o.Admin.Token, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("session survived logout: %d", resp.StatusCode)
	}
	var kind string
	var actor uuid.UUID
	if err := w.env.Super.Pool.QueryRow(ctx, `select actor_kind, actor_id from audit.events
		where org_id = $1 and action = 'session.revoke' and details->>'reason' = 'logout'`, o.ID).Scan(&kind, &actor); err != nil {
		t.Fatal(err)
	}
	if kind != "user" || actor != o.Admin.ID {
		t.Fatalf("logout audited as %s %s", kind, actor)
	}
	if w.auditCount(o.ID, "member.list", "success") != 1 {
		t.Fatal("member list (decrypted emails) not audited")
	}
	for _, a := range []string{"session.revoke", "membership.update", "membership.revoke", "auth.signin"} {
		if w.auditCount(o.ID, a, "success") == 0 {
			t.Errorf("no %s event", a)
		}
	}
}

func TestProblemDetails(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Problem Org")
	big := strings.Repeat("x", 2<<20)
	cases := []struct {
		name, method, path, token string
		body                      any
		hdr                       []string
		status                    int
		code                      string
	}{
		{"no credential", "GET", "/v1/patients", "", nil, nil, 401, "unauthenticated"},
		{"garbage credential", "GET", "/v1/patients", "not-a-token", nil, nil, 401, "unauthenticated"},
		{"unknown route", "GET", "/v1/nothing", o.Admin.Token, nil, nil, 404, "no_route"},
		{"wrong method", "DELETE", "/v1/patients", o.Admin.Token, nil, nil, 405, "method_not_allowed"},
		{"bad id", "GET", "/v1/patients/123", o.Admin.Token, nil, nil, 400, "invalid_id"},
		{"unknown field", "POST", "/v1/patients", o.Admin.Token, map[string]any{"name": "A", "ssn": "x"}, nil, 400, "bad_json"},
		{"invalid input", "POST", "/v1/patients", o.Admin.Token, map[string]any{"name": ""}, nil, 400, "invalid_input"},
		{"bad date", "POST", "/v1/patients", o.Admin.Token, map[string]any{"name": "A", "dob": "1970-13-45"}, nil, 400, "invalid_input"},
		{"too large", "POST", "/v1/patients", o.Admin.Token, map[string]any{"name": big}, nil, 413, "body_too_large"},
		{"bad limit", "GET", "/v1/patients?limit=abc", o.Admin.Token, nil, nil, 400, "invalid_query"},
		{"bad email", "POST", "/v1/auth/magic-link", "", map[string]any{"email": "nope"}, nil, 400, "invalid_input"},
		{"bad link", "POST", "/v1/auth/magic", "", map[string]any{"token": "short"}, nil, 401, "link_invalid"},
		{"MRN hidden in identifiers", "POST", "/v1/patients", o.Admin.Token,
			map[string]any{"name": "A", "identifiers": map[string]string{"MRN": "x"}}, nil, 400, "invalid_input"},
		{"PHI in the query: mrn", "GET", "/v1/patients?mrn=x", o.Admin.Token, nil, nil, 400, "invalid_query"},
		{"PHI in the query: email", "GET", "/v1/patients?limit=5&email=a@example.test", o.Admin.Token, nil, nil, 400, "invalid_query"},
		{"unknown query parameter", "GET", "/v1/patients?name=x", o.Admin.Token, nil, nil, 400, "invalid_query"},
		{"search without criteria", "POST", "/v1/patients/search", o.Admin.Token, map[string]any{"limit": 5}, nil, 400, "invalid_input"},
		{"search by name", "POST", "/v1/patients/search", o.Admin.Token, map[string]any{"name": "x"}, nil, 400, "bad_json"},
		{"search, bad limit", "POST", "/v1/patients/search", o.Admin.Token, map[string]any{"mrn": "x", "limit": 500}, nil, 400, "invalid_input"},
		{"huge audit cursor", "GET", "/v1/audit/events?after=9007199254740993", o.Admin.Token, nil, nil, 400, "invalid_input"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := w.request(c.method, c.path, c.token, c.body, c.hdr...)
			if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d (%s), want %d: %s", resp.StatusCode, resp.Header.Get("Content-Type"), c.status, body)
			}
			if got := problemCode(t, body); got != c.code {
				t.Fatalf("code %q, want %q", got, c.code)
			}
		})
	}
	// The refusal of PHI in the query names the route to use instead.
	if _, body := w.request("GET", "/v1/patients?mrn=x", o.Admin.Token, nil); !strings.Contains(string(body), "POST /v1/patients/search") {
		t.Fatalf("mrn in the query: %s", body)
	}
	// Nothing half-written: the refused creates left no patient.
	var n int
	_ = w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from app.patients`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d patients written by refused requests", n)
	}
	// A JSON route takes JSON only, whoever sends it (cross-site requests
	// are TestCSRF's).
	req, _ := http.NewRequest("POST", w.srv.URL+"/v1/patients", strings.NewReader("name=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w.authorize(req, o.Admin.Token)
	resp, err := w.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("form post: %d", resp.StatusCode)
	}
}

// TestOpenAPIMatchesRoutes keeps openapi.json in step with routes.go.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	src, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, m := range regexp.MustCompile(`api\.route\("([A-Z]+) ([^"]+)"`).FindAllStringSubmatch(string(src), -1) {
		routes = append(routes, m[1]+" "+m[2])
	}
	w := newWorld(t)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	w.do("GET", "/v1/openapi.json", "", nil, http.StatusOK, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(routes)
	slices.Sort(documented)
	if len(routes) < 20 {
		t.Fatalf("found only %d routes in routes.go", len(routes))
	}
	if diff := cmp.Diff(routes, documented); diff != "" {
		t.Fatalf("routes.go (-) and openapi.json (+) differ:\n%s", diff)
	}
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if dup := duplicateJSONKey(raw); dup != "" {
		t.Fatalf("openapi.json names %s twice in one object (a reader keeps only the last)", dup)
	}
}

// duplicateJSONKey returns the path of the first key that occurs twice in
// one object of doc, or "".
func duplicateJSONKey(doc []byte) string {
	dec := json.NewDecoder(bytes.NewReader(doc))
	type frame struct {
		keys   map[string]bool
		object bool
		key    bool // the next string token is a key
		path   string
	}
	stack := []*frame{{}}
	var last string
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		top := stack[len(stack)-1]
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				stack = append(stack, &frame{keys: map[string]bool{}, object: v == '{', key: v == '{', path: top.path + "/" + last})
				continue
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if top.object && top.key {
				if top.keys[v] {
					return top.path + "/" + v
				}
				top.keys[v], top.key, last = true, false, v
				continue
			}
		}
		if top := stack[len(stack)-1]; top.object {
			top.key = true
		}
	}
}

// TestLogsHoldNoPHI seeds PHI canaries, exercises the API (successes,
// denials, errors) and fails if any canary reaches the logs.
func TestLogsHoldNoPHI(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Canary Org")
	w.populate(o, "c")
	canaries := map[string]any{
		"name": "Quillon Canarywhistle", "dob": "1961-07-08", "phone": "555-867-5309",
		"email": "quillon.canary@example.test", "address": "742 Canary Terrace, Springfield",
		"mrn": "CANARY-MRN-77", "identifiers": map[string]string{"insurance": "CANARY-INS-9"},
	}
	id := w.createPatient(o.Lead.Token, canaries)
	w.do("GET", "/v1/patients/"+id.String(), o.Lead.Token, nil, http.StatusOK, nil)
	w.do("POST", "/v1/patients/search", o.Lead.Token, map[string]string{"mrn": "CANARY-MRN-77"}, http.StatusOK, nil)
	w.do("POST", "/v1/patients/search", o.Lead.Token, map[string]string{"email": "quillon.canary@example.test"}, http.StatusOK, nil)
	w.do("PUT", "/v1/patients/"+id.String(), o.Lead.Token, canaries, http.StatusOK, nil)
	w.do("POST", "/v1/patients/"+id.String()+"/entries", o.Lead.Token, map[string]any{"kind": "symptom", "name": "headache",
		"observed_at": time.Now().UTC().Format(time.RFC3339), "note": "Quillon says CANARY-NOTE-42"}, http.StatusCreated, nil)
	// Denials and errors with PHI in the input.
	w.request("GET", "/v1/patients/"+id.String(), o.Prov2.Token, nil)
	w.request("POST", "/v1/patients", o.Lead.Token, map[string]any{"name": "Quillon Canarywhistle", "dob": "CANARY-DOB"})
	w.request("POST", "/v1/patients", o.Lead.Token, map[string]any{"name": "Quillon Canarywhistle", "mrn": "CANARY-MRN-77"})
	w.request("POST", "/v1/auth/magic-link", "", map[string]string{"email": "quillon.canary@example.test"})
	// (invite:false: an invitation is mail to that address, which the console
	// outbox shows by design; the scan is about logs and other people's mail.)
	w.request("POST", "/v1/members", o.Admin.Token, map[string]any{"email": "quillon.canary@example.test", "role": "patient",
		"invite": false})
	w.request("GET", "/v1/patients?email=quillon.canary@example.test&limit=zzz", o.Lead.Token, nil)

	// Second factors and keys: secrets, codes and keys are canaries too, in
	// successes, refusals and malformed input.
	pend := w.signInAAL1(o.Admin.Email, o.ID)
	secret := w.enrolTOTP(&pend)
	var codes struct {
		Codes []string `json:"codes"`
	}
	w.do("POST", "/v1/auth/recovery-codes", pend, nil, http.StatusCreated, &codes)
	pend2 := w.signInAAL1(o.Admin.Email, o.ID)
	w.request("POST", "/v1/auth/recovery-codes/verify", pend2, map[string]string{"code": codes.Codes[0]})
	w.request("POST", "/v1/auth/recovery-codes/verify", pend2, map[string]string{"code": codes.Codes[0]})
	w.request("POST", "/v1/auth/totp/verify", pend2, map[string]string{"code": "CANARY-CODE"})
	key := w.createKey(o, "members")
	w.request("GET", "/v1/members", key.Key, nil)
	w.request("GET", "/v1/audit/events", key.Key, nil)
	w.request("GET", "/v1/members", mistype(key.Key, 30), nil)
	secrets := append([]string{secret, key.Key, key.Key[8:40], "CANARY-CODE"}, codes.Codes...)

	// Passkeys: credential ids, public keys, challenges, binders and
	// whole responses, in successes and refusals.
	d := w.newDevice()
	w.registerPasskey(&pend, d, "Quillon's laptop")
	ptok := w.passkeySignIn(d)
	pend3 := w.signInAAL1(o.Admin.Email, o.ID)
	w.passkeyVerify(&pend3, d)
	opts, binder := w.signInOptions()
	bad := *d
	bad.auth.Options.UserNotVerified = true
	refusedAnswer := virtualwebauthn.CreateAssertionResponse(bad.rp, bad.auth, bad.cred, *opts)
	w.request("POST", "/v1/auth/passkeys/signin/finish", "", map[string]any{"binder": binder,
		"credential": json.RawMessage(refusedAnswer)})
	w.request("POST", "/v1/auth/passkeys/signin/finish", "", map[string]any{"binder": binder,
		"credential": json.RawMessage(`{"id":"CANARY-CRED","rawId":"CANARY-CRED","type":"public-key"}`)})
	w.do("GET", "/v1/auth/passkeys", ptok, nil, http.StatusOK, nil)
	b64 := base64.RawURLEncoding.EncodeToString
	secrets = append(secrets, b64(d.cred.ID), b64(d.cred.Key.AttestationData()), b64(opts.Challenge), binder,
		"CANARY-CRED", ptok)

	// The 500 path: the database fails the write in a way no mapping
	// knows, so the error itself is logged; its line must hold no PHI.
	if _, err := w.env.Super.Pool.Exec(context.Background(), `
		create function app.canary_trip() returns trigger language plpgsql as $$
		begin raise exception 'tripwire on %', tg_table_name; end $$;
		create trigger canary_trip before insert or update on app.clinical_entries
			for each row execute function app.canary_trip();
		create trigger canary_trip before update on app.patients
			for each row execute function app.canary_trip();`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/v1/patients/" + id.String() + "/entries", map[string]any{"kind": "symptom", "name": "Quillon Canarywhistle",
			"observed_at": time.Now().UTC().Format(time.RFC3339), "note": "CANARY-NOTE-42 at 742 Canary Terrace"}},
		{"PUT", "/v1/patients/" + id.String(), canaries},
	} {
		if resp, body := w.request(c.method, c.path, o.Lead.Token, c.body); resp.StatusCode != http.StatusInternalServerError ||
			problemCode(t, body) != "internal" {
			t.Fatalf("%s %s with the tripwire: %d %s", c.method, c.path, resp.StatusCode, body)
		}
	}

	logs := w.logs.String() + w.outbox.String()
	if !strings.Contains(logs, `"route":"GET /v1/patients/{id}"`) {
		t.Fatalf("the log scan saw no request lines; logs:\n%s", logs)
	}
	var failed int
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `"msg":"request failed"`) && strings.Contains(line, "tripwire on") {
			failed++
		}
	}
	if failed != 2 {
		t.Fatalf("the log holds %d error lines from the 500s, want 2; logs:\n%s", failed, logs)
	}
	for _, c := range []string{"Quillon", "Canarywhistle", "1961-07-08", "867-5309", "quillon.canary", "Canary Terrace",
		"CANARY-MRN-77", "CANARY-INS-9", "CANARY-NOTE-42", "CANARY-DOB", "c Patient One"} {
		if strings.Contains(logs, c) {
			t.Errorf("canary %q found in logs", c)
		}
	}
	for _, c := range secrets {
		if strings.Contains(logs, c) || strings.Contains(logs, strings.ReplaceAll(c, "-", "")) {
			t.Errorf("a secret, code or key found in logs or mail: %.12s…", c)
		}
	}
}
