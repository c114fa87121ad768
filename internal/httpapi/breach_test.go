package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/scim"
)

type breachScopeJSON struct {
	Events   int `json:"events"`
	Timeline []struct {
		Action  string        `json:"action"`
		Actor   uuid.NullUUID `json:"actor_id"`
		Session uuid.NullUUID `json:"session_id"`
	} `json:"timeline"`
	TimelineTruncated bool `json:"timeline_truncated"`
	Individuals       []struct {
		Patient uuid.UUID `json:"patient_id"`
		State   string    `json:"state"`
		Actions []string  `json:"actions"`
		Listed  bool      `json:"listed"`
		Events  int       `json:"events"`
	} `json:"individuals"`
	States []struct {
		State       string `json:"state"`
		Individuals int    `json:"individuals"`
		MediaNotice bool   `json:"media_notice"`
	} `json:"states"`
	CasesWithoutPatient []uuid.UUID `json:"cases_without_patient"`
	Changes             struct {
		Count     int  `json:"count"`
		Truncated bool `json:"truncated"`
		Groups    []struct {
			Group   string `json:"group"`
			Changes []struct {
				Seq        int64         `json:"seq"`
				Action     string        `json:"action"`
				Actor      uuid.NullUUID `json:"actor_id"`
				Session    uuid.NullUUID `json:"session_id"`
				ObjectType string        `json:"object_type"`
				Object     uuid.NullUUID `json:"object_id"`
				IP         string        `json:"ip"`
			} `json:"changes"`
		} `json:"groups"`
	} `json:"changes"`
	Notices struct {
		IndividualsBy string   `json:"individuals_by"`
		HHSBy         string   `json:"hhs_by"`
		HHSAnnual     bool     `json:"hhs_annual_log"`
		MediaStates   []string `json:"media_states"`
		UnknownStates int      `json:"unknown_states"`
	} `json:"notices"`
}

// sessionOf returns the id of token's session.
func (w *world) sessionOf(token string) uuid.UUID {
	w.t.Helper()
	var id uuid.UUID
	if err := w.env.Super.Pool.QueryRow(context.Background(),
		`select id from app.sessions where token_hash = sha256($1::bytea)`, []byte(token)).Scan(&id); err != nil {
		w.t.Fatal(err)
	}
	return id
}

// Breach scope: an admin who stepped up names what an incident involved
// (an actor, a session, a network, an object) within a window, and gets
// the matching events, the patients they used (read, listed, through a
// case's documents), counted by the State of their address, and the
// notices' deadlines; the scope is audited with those patients as its
// results; others are refused.
func TestBreachScope(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Breach Org")
	w.populate(o, "br")
	other := w.createOrg("Breach Other")
	w.populate(other, "bo")
	start := time.Now().Add(-time.Minute)

	il := w.createPatient(o.Lead.Token, map[string]any{"name": "Ines Lowry", "address": "12 Elm St, Springfield, IL 62704"})
	or := w.createPatient(o.Lead.Token, map[string]any{"name": "Owen Reyes", "address": "4 Pine Rd\nPortland, Oregon"})
	none := w.createPatient(o.Lead.Token, map[string]any{"name": "Nora Quill"})
	untouched := w.createPatient(o.Lead.Token, map[string]any{"name": "Ulla Tamm", "address": "9 Oak Ave, Austin TX 78701"})
	for _, p := range []uuid.UUID{il, or} {
		w.do("PUT", "/v1/patients/"+p.String()+"/care-team/"+o.Prov.ID.String(), o.Lead.Token, nil, http.StatusNoContent, nil)
	}
	// The suspect: the provider's session reads one record and lists its
	// patients (P1, il, or); a case of `none` and a case of nobody, each
	// with a document the lead uploads, reach it through the case.
	suspect := o.Prov.Token
	w.do("GET", "/v1/patients/"+il.String(), suspect, nil, http.StatusOK, nil)
	w.do("GET", "/v1/patients", suspect, nil, http.StatusOK, nil)
	var withPatient, orphan caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": none, "title": "Claim"}, http.StatusCreated, &withPatient)
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"title": "Unnamed claim"}, http.StatusCreated, &orphan)
	var docs []uuid.UUID
	for _, k := range []uuid.UUID{withPatient.ID, orphan.ID} {
		resp, body := w.upload("POST", "/v1/cases/"+k.String()+"/files", o.Lead.Token, "scan.txt", []byte("scan"),
			"Ward-Document-Type", "scan")
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload: %d %s", resp.StatusCode, body)
		}
		var d docJSON
		if err := json.Unmarshal(body, &d); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d.ID)
	}
	// A second session of the lead lists the documents of `none`'s case:
	// one event that reaches `none` through the case and the document.
	lister := w.operatorSignIn(o.Lead.Email, o.ID)
	w.do("GET", "/v1/cases/"+withPatient.ID.String()+"/documents", lister, nil, http.StatusOK, nil)
	// Someone else's reads, not the suspect's.
	w.do("GET", "/v1/patients/"+untouched.String(), o.Lead.Token, nil, http.StatusOK, nil)
	w.do("GET", "/v1/patients/"+other.P1.String(), other.Lead.Token, nil, http.StatusOK, nil)
	// A second, suspect session of the admin configures what an intruder
	// leaves behind (a member, an API key, a SCIM token, a laxer policy)
	// among reads; the admin's own session makes a key of its own.
	intruding := time.Now()
	intruder := w.operatorSignIn(o.Admin.Email, o.ID)
	var added struct {
		UserID uuid.UUID `json:"user_id"`
	}
	w.do("GET", "/v1/members", intruder, nil, http.StatusOK, nil)
	w.do("POST", "/v1/members", intruder, map[string]any{"email": "br-backdoor@example.test", "role": "admin", "invite": false},
		http.StatusCreated, &added)
	w.do("GET", "/v1/patients/"+il.String(), intruder, nil, http.StatusOK, nil)
	var key struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/api-keys", intruder, map[string]any{"name": "backup job", "scopes": []string{"members"}},
		http.StatusCreated, &key)
	var token scim.CreatedToken
	w.do("POST", "/v1/scim/tokens", intruder, map[string]any{"name": "directory", "default_role": "lead"},
		http.StatusCreated, &token)
	w.do("GET", "/v1/api-keys", intruder, nil, http.StatusOK, nil)
	w.do("PUT", "/v1/org/session-policy", intruder, map[string]int{"session_idle_timeout_min": 30, "session_absolute_max_min": 60},
		http.StatusOK, nil)
	kept := w.createKey(o, "members")

	window := map[string]any{"from": start, "to": time.Now().Add(time.Minute), "discovered": "2026-03-10T09:00:00Z"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{k: v}
		for k, v := range window {
			m[k] = v
		}
		return m
	}
	ids := func(s breachScopeJSON) []uuid.UUID {
		var out []uuid.UUID
		for _, a := range s.Individuals {
			out = append(out, a.Patient)
		}
		slices.SortFunc(out, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
		return out
	}
	sorted := func(list ...uuid.UUID) []uuid.UUID {
		slices.SortFunc(list, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
		return list
	}

	// By the suspect's session: the read and the list, nothing of the
	// lead's.
	var s breachScopeJSON
	w.do("POST", "/v1/compliance/breach/scope", o.Admin.Token,
		with("sessions", []uuid.UUID{w.sessionOf(suspect)}), http.StatusOK, &s)
	if s.Events != 2 || len(s.Timeline) != 2 || s.Timeline[0].Action != "patient.read" || s.Timeline[1].Action != "patient.list" {
		t.Fatalf("timeline of the session: %+v", s)
	}
	if got, want := ids(s), sorted(o.P1, il, or); !slices.Equal(got, want) {
		t.Fatalf("individuals %v, want %v", got, want)
	}
	for _, a := range s.Individuals {
		switch a.Patient {
		case il:
			if a.State != "IL" || !slices.Equal(a.Actions, []string{"patient.list", "patient.read"}) || !a.Listed || a.Events != 2 {
				t.Errorf("il: %+v", a)
			}
		case or:
			if a.State != "OR" || !slices.Equal(a.Actions, []string{"patient.list"}) || !a.Listed || a.Events != 1 {
				t.Errorf("or: %+v", a)
			}
		case o.P1:
			if a.State != "unknown" {
				t.Errorf("P1 has no address: %+v", a)
			}
		}
	}
	if len(s.States) != 3 || s.Notices.UnknownStates != 1 {
		t.Errorf("states %+v, notices %+v", s.States, s.Notices)
	}
	// Fewer than 500: individuals within 60 days of discovery, HHS in the
	// annual log, 60 days after the year's end; no media notice.
	if s.Notices.IndividualsBy != "2026-05-09" || s.Notices.HHSBy != "2027-03-01" || !s.Notices.HHSAnnual ||
		len(s.Notices.MediaStates) != 0 {
		t.Errorf("notices %+v", s.Notices)
	}
	// The scope is a PHI read of those patients: in each one's report.
	var results []uuid.UUID
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select result_ids from audit.events
		where org_id = $1 and action = 'breach.scope' and actor_id = $2`, o.ID, o.Admin.ID).Scan(&results); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sorted(results...), sorted(o.P1, il, or)) {
		t.Errorf("breach.scope results %v", results)
	}

	// By the intruder's session (and the admin's own key, as an object):
	// the changes are exactly the intruder's four, by kind, each with its
	// event's number and what it changed; the reads and the key the
	// admin's own session made (matched as an object only) are not.
	w.do("POST", "/v1/compliance/breach/scope", o.Admin.Token, with("sessions", []uuid.UUID{w.sessionOf(intruder)}),
		http.StatusOK, &s)
	var changed []string
	seqs := map[int64]bool{}
	for _, g := range s.Changes.Groups {
		for _, c := range g.Changes {
			changed = append(changed, g.Group+" "+c.Action+" "+c.Object.UUID.String())
			if c.Actor.UUID != o.Admin.ID || c.Session.UUID != w.sessionOf(intruder) || c.Seq == 0 || seqs[c.Seq] {
				t.Errorf("change %+v: want the intruder's session and a distinct seq", c)
			}
			seqs[c.Seq] = true
		}
	}
	want := []string{"members membership.add " + added.UserID.String(), "credentials auth.api_key.create " + key.ID.String(),
		"credentials scim.token.create " + token.ID.String(), "policies org.session_policy.update " + o.ID.String()}
	if !slices.Equal(changed, want) || s.Changes.Count != 4 || s.Changes.Truncated || s.Events < 7 {
		t.Errorf("the intruder's changes (of %d events):\n%v\nwant\n%v (%+v)", s.Events, changed, want, s.Changes)
	}
	// The admin's own key is in the timeline, matched by the object, and
	// is a change of the admin's session, not of the intruder's.
	req := with("sessions", []uuid.UUID{w.sessionOf(intruder)})
	req["objects"] = []uuid.UUID{kept.ID}
	var both breachScopeJSON
	w.do("POST", "/v1/compliance/breach/scope", o.Admin.Token, req, http.StatusOK, &both)
	if both.Events != s.Events+1 || both.Changes.Count != 4 {
		t.Errorf("by the session and the admin's key: %d events (%d without), %d changes", both.Events, s.Events,
			both.Changes.Count)
	}
	// By the admin, from the intruder's first event: the intruder's four
	// and the admin's own key.
	req = with("actors", []uuid.UUID{o.Admin.ID})
	req["from"] = intruding
	w.do("POST", "/v1/compliance/breach/scope", o.Admin.Token, req, http.StatusOK, &both)
	var theirs []uuid.UUID
	for _, g := range both.Changes.Groups {
		for _, c := range g.Changes {
			theirs = append(theirs, c.Object.UUID)
		}
	}
	if want := []uuid.UUID{added.UserID, key.ID, token.ID, kept.ID, o.ID}; !slices.Equal(theirs, want) || both.Changes.Count != 5 {
		t.Errorf("the admin's changes: %+v, want the intruder's four and the admin's key %v", both.Changes, want)
	}
	// The admin and their network: the same five, each once (found by
	// the actor, and again through the network's sessions).
	req["networks"] = []string{"127.0.0.1"}
	w.do("POST", "/v1/compliance/breach/scope", o.Admin.Token, req, http.StatusOK, &both)
	var again []uuid.UUID
	for _, g := range both.Changes.Groups {
		for _, c := range g.Changes {
			if c.Actor.UUID == o.Admin.ID {
				again = append(again, c.Object.UUID)
			}
		}
	}
	if !slices.Equal(again, theirs) {
		t.Errorf("the admin's changes with their network: %v, want %v once each", again, theirs)
	}

	// By the lead (an actor): the cases' documents stand for their case's
	// patient; the case of nobody is named for reading by hand.
	w.do("POST", "/v1/compliance/breach/scope", o.Admin.Token, with("actors", []uuid.UUID{o.Lead.ID}), http.StatusOK, &s)
	got := ids(s)
	for _, p := range []uuid.UUID{none, untouched, il, or} {
		if !slices.Contains(got, p) { // created, read, or given a care team
			t.Errorf("lead's individuals %v lack %v", got, p)
		}
	}
	if slices.Contains(got, other.P1) {
		t.Error("another org's patient among the individuals")
	}
	if !slices.Equal(s.CasesWithoutPatient, []uuid.UUID{orphan.ID}) {
		t.Errorf("cases without a patient %v, want %v", s.CasesWithoutPatient, orphan.ID)
	}

	// By an object: the document of `none`'s case names `none` alone.
	w.do("POST", "/v1/compliance/breach/scope", o.Admin.Token, with("objects", []uuid.UUID{docs[0]}), http.StatusOK, &s)
	if got := ids(s); !slices.Equal(got, []uuid.UUID{none}) {
		t.Errorf("by document: %v, want %v (%+v)", got, none, s.Timeline)
	}

	// By the lister's session: one event, counted once for `none`
	// however many of its ids (the case, the document) reach them.
	w.do("POST", "/v1/compliance/breach/scope", o.Admin.Token,
		with("sessions", []uuid.UUID{w.sessionOf(lister)}), http.StatusOK, &s)
	if s.Events != 1 || len(s.Individuals) != 1 || s.Individuals[0].Patient != none || s.Individuals[0].Events != 1 ||
		!s.Individuals[0].Listed || !slices.Equal(s.Individuals[0].Actions, []string{"document.list"}) {
		t.Errorf("by the lister's session: %+v", s)
	}

	// By network: the tests' loopback address matches every event of the
	// window; another network none.
	w.do("POST", "/v1/compliance/breach/scope", o.Admin.Token, with("networks", []string{"10.0.0.0/8"}), http.StatusOK, &s)
	if s.Events != 0 || len(s.Individuals) != 0 {
		t.Errorf("10/8: %+v", s)
	}
	w.do("POST", "/v1/compliance/breach/scope", o.Admin.Token, with("networks", []string{"127.0.0.1"}), http.StatusOK, &s)
	if got := ids(s); !slices.Contains(got, untouched) || !slices.Contains(got, il) || slices.Contains(got, other.P1) {
		t.Errorf("127.0.0.1: %v", got)
	}
	// The procedures that create a key or a token or change a policy
	// record the address bound with the credential (00270): the
	// network's changes are recorded from it.
	var fromLoopback []uuid.UUID
	for _, g := range s.Changes.Groups {
		for _, c := range g.Changes {
			fromLoopback = append(fromLoopback, c.Object.UUID)
			if c.IP != "127.0.0.1" {
				t.Errorf("127.0.0.1: change %s %v recorded address %q", c.Action, c.Object.UUID, c.IP)
			}
		}
	}
	for _, id := range []uuid.UUID{added.UserID, key.ID, token.ID, kept.ID, o.ID} {
		if !slices.Contains(fromLoopback, id) {
			t.Errorf("127.0.0.1: changes %+v lack %v", s.Changes, id)
		}
	}
	// The same network written as an IPv4-mapped IPv6 prefix or address,
	// or with host bits, matches the same events (TestBreachScope's
	// mapped prefix).
	loopback := s.Events
	for _, n := range []string{"::ffff:127.0.0.0/104", "::ffff:127.0.0.1/128", "::ffff:127.0.0.1", "127.0.0.1/8"} {
		w.do("POST", "/v1/compliance/breach/scope", o.Admin.Token, with("networks", []string{n}), http.StatusOK, &s)
		if got := ids(s); s.Events <= loopback || !slices.Contains(got, untouched) || !slices.Contains(got, il) {
			t.Errorf("%s: %d events (127.0.0.1: %d), %v", n, s.Events, loopback, got)
		}
		loopback = s.Events
	}

	// Refusals: a lead; a stale admin session; malformed windows and
	// selectors.
	resp, body := w.request("POST", "/v1/compliance/breach/scope", o.Lead.Token, with("all", true))
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("lead: %d %s", resp.StatusCode, body)
	}
	for name, req := range map[string]map[string]any{
		"no selector":   window,
		"inverted":      {"from": time.Now(), "to": start, "all": true},
		"no window":     {"all": true},
		"bad network":   with("networks", []string{"10.0.0.300"}),
		"future find":   with("all", true),
		"too long":      {"from": "2000-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z", "all": true},
		"unknown field": with("suspects", []string{"x"}),
	} {
		if name == "future find" {
			req["discovered"] = time.Now().Add(48 * time.Hour)
		}
		resp, body := w.request("POST", "/v1/compliance/breach/scope", o.Admin.Token, req)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
	}
	w.age(o.Admin.Token, 11*time.Minute)
	resp, body = w.request("POST", "/v1/compliance/breach/scope", o.Admin.Token, with("all", true))
	if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "step_up_required" {
		t.Errorf("stale admin: %d %s", resp.StatusCode, body)
	}
}

// Breach revocation: one call ends the sessions named, every session of
// the users named and the API keys they created, and the keys named; it is
// one breach.revoke event with the ended credentials as results; a second
// call ends nothing and records nothing; leads and stale admins are refused
// by the database as by the route.
func TestBreachRevoke(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Revoke Org")
	w.populate(o, "rv")
	other := w.createOrg("Revoke Other")
	w.populate(other, "ro")

	second := w.operatorSignIn(o.Prov.Email, o.ID) // the provider's second session
	admin2 := w.addMember(o, "rv-admin2@example.test", "admin")
	var key struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/api-keys", admin2.Token, map[string]any{"name": "suspect", "scopes": []string{"members"}},
		http.StatusCreated, &key)
	kept := w.createKey(o, "members")

	var got struct {
		Sessions   int `json:"sessions"`
		APIKeys    int `json:"api_keys"`
		SCIMTokens int `json:"scim_tokens"`
	}
	req := map[string]any{"users": []uuid.UUID{o.Prov.ID, admin2.ID}, "sessions": []uuid.UUID{w.sessionOf(o.Lead.Token),
		w.sessionOf(other.Lead.Token)}}
	w.do("POST", "/v1/compliance/breach/revoke", o.Admin.Token, req, http.StatusOK, &got)
	// Provider two sessions, admin2 one, the lead's one; not the other
	// org's lead; admin2's key.
	if got.Sessions != 4 || got.APIKeys != 1 || got.SCIMTokens != 0 {
		t.Fatalf("revoked %+v", got)
	}
	for _, tok := range []string{o.Prov.Token, second, admin2.Token, o.Lead.Token} {
		if resp, body := w.request("GET", "/v1/me", tok, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a revoked session still works: %d %s", resp.StatusCode, body)
		}
	}
	w.do("GET", "/v1/me", other.Lead.Token, nil, http.StatusOK, nil)
	w.do("GET", "/v1/me", o.Prov2.Token, nil, http.StatusOK, nil)
	w.do("GET", "/v1/members", kept.Key, nil, http.StatusOK, nil)
	var revokedAt *time.Time
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select revoked_at from app.api_keys where id = $1`,
		key.ID).Scan(&revokedAt); err != nil || revokedAt == nil {
		t.Errorf("admin2's key not revoked (%v)", err)
	}
	var results []uuid.UUID
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select result_ids from audit.events
		where org_id = $1 and action = 'breach.revoke'`, o.ID).Scan(&results); err != nil || len(results) != 5 ||
		!slices.Contains(results, key.ID) {
		t.Errorf("breach.revoke results %v (%v)", results, err)
	}

	// Again: nothing left to end, no second event.
	w.do("POST", "/v1/compliance/breach/revoke", o.Admin.Token, req, http.StatusOK, &got)
	if got.Sessions+got.APIKeys+got.SCIMTokens != 0 || w.auditCount(o.ID, "breach.revoke", "success") != 1 {
		t.Errorf("second revocation %+v, events %d", got, w.auditCount(o.ID, "breach.revoke", "success"))
	}

	// Refusals.
	if resp, body := w.request("POST", "/v1/compliance/breach/revoke", o.Admin.Token, map[string]any{}); resp.StatusCode !=
		http.StatusBadRequest {
		t.Errorf("empty: %d %s", resp.StatusCode, body)
	}
	lead := w.operatorSignIn(o.Lead.Email, o.ID)
	if resp, body := w.request("POST", "/v1/compliance/breach/revoke", lead, map[string]any{"users": []uuid.UUID{o.Prov2.ID}}); resp.StatusCode !=
		http.StatusForbidden {
		t.Errorf("lead: %d %s", resp.StatusCode, body)
	}
	// The database refuses on its own, as a server bug past the route
	// would call it: a lead, and a stale admin, end nothing.
	direct := func(token string) error {
		return w.env.App.InTenantTx(context.Background(), w.cred(token), func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `select app.breach_revoke('{}', $1, '{}', '{}')`, []uuid.UUID{o.Prov2.ID})
			return err
		})
	}
	if err := direct(lead); !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
		t.Errorf("a lead's call: %v", err)
	}
	w.age(o.Admin.Token, 11*time.Minute)
	var pe *pgconn.PgError
	if err := direct(o.Admin.Token); !errors.As(err, &pe) || pe.Hint != "step_up_required" {
		t.Errorf("a stale admin's call: %v", err)
	}
	resp, body := w.request("POST", "/v1/compliance/breach/revoke", o.Admin.Token, map[string]any{"users": []uuid.UUID{o.Prov2.ID}})
	if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "step_up_required" {
		t.Errorf("stale admin: %d %s", resp.StatusCode, body)
	}
	w.do("GET", "/v1/me", o.Prov2.Token, nil, http.StatusOK, nil)
}

// A network named beside another selector: an event the network matches
// but whose actor, session, patient or case is empty is still in the
// scope (the SQL's "another selector matched" is false, not NULL, for it),
// and the answer is the union of both selectors.
func TestBreachScopeNetworkBesideAnotherSelector(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Breach Union Org")
	w.populate(o, "bu")
	start := time.Now().Add(-time.Minute)
	p := w.createPatient(o.Lead.Token, map[string]any{"name": "Vera Lind", "address": "2 Ash St, Salem, OR 97301"})
	w.do("GET", "/v1/patients/"+p.String(), o.Lead.Token, nil, http.StatusOK, nil)
	window := map[string]any{"from": start, "to": time.Now().Add(time.Minute), "discovered": "2026-03-10T09:00:00Z"}
	var byNet, both breachScopeJSON
	w.do("POST", "/v1/compliance/breach/scope", o.Admin.Token,
		map[string]any{"from": window["from"], "to": window["to"], "networks": []string{"127.0.0.1"}}, http.StatusOK, &byNet)
	for k, v := range map[string]any{"networks": []string{"127.0.0.1"}, "actors": []uuid.UUID{o.Prov.ID},
		"patients": []uuid.UUID{p}, "sessions": []uuid.UUID{w.sessionOf(o.Prov.Token)}, "cases": []uuid.UUID{uuid.New()}} {
		window[k] = v
	}
	resp, body := w.request("POST", "/v1/compliance/breach/scope", o.Admin.Token, window)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("network beside other selectors: %d %s", resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, &both); err != nil {
		t.Fatal(err)
	}
	if byNet.Events == 0 || both.Events < byNet.Events || len(both.Individuals) == 0 {
		t.Errorf("by network %d events, with other selectors %d (%d individuals)", byNet.Events, both.Events, len(both.Individuals))
	}
}

// The notices' dates count from the calendar day of discovery where it
// was discovered (the offset `discovered` is given in): a breach found at
// 22:30 on New Year's Eve in New York is due by 1 March, and in the
// annual log of that year, not of the next (whose UTC day it already
// is); 60 days after the end of 2023 is 29 February 2024.
func TestBreachScopeDeadlines(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Breach Deadline Org")
	w.populate(o, "bd")
	from, to := time.Now().Add(-time.Minute), time.Now().Add(time.Minute)
	for _, c := range []struct{ discovered, individuals, hhs string }{
		{"2025-12-31T22:30:00-05:00", "2026-03-01", "2026-03-01"},
		{"2026-03-01T00:30:00+02:00", "2026-04-30", "2027-03-01"},
		{"2023-12-31T10:00:00Z", "2024-02-29", "2024-02-29"},
	} {
		var s breachScopeJSON
		w.do("POST", "/v1/compliance/breach/scope", o.Admin.Token,
			map[string]any{"from": from, "to": to, "all": true, "discovered": c.discovered}, http.StatusOK, &s)
		if s.Notices.IndividualsBy != c.individuals || s.Notices.HHSBy != c.hhs || !s.Notices.HHSAnnual {
			t.Errorf("discovered %s: notices %+v, want individuals by %s, HHS by %s", c.discovered, s.Notices,
				c.individuals, c.hhs)
		}
	}
}

// The caller's own session among those ended: the call answers with the
// counts, records its event, and the session is over after it.
func TestBreachRevokeOwnSession(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Revoke Self Org")
	w.populate(o, "rs")
	var got struct {
		Sessions int `json:"sessions"`
	}
	w.do("POST", "/v1/compliance/breach/revoke", o.Admin.Token, map[string]any{"users": []uuid.UUID{o.Admin.ID}},
		http.StatusOK, &got)
	if got.Sessions < 1 || w.auditCount(o.ID, "breach.revoke", "success") != 1 {
		t.Errorf("revoked %+v, events %d", got, w.auditCount(o.ID, "breach.revoke", "success"))
	}
	if resp, body := w.request("GET", "/v1/me", o.Admin.Token, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the caller's ended session still works: %d %s", resp.StatusCode, body)
	}
}

// A compromised member's pending case invitations end with their sessions:
// an attacker who invited an address of their own to a case cannot accept
// it after the revocation; an invitation of another member stays, and one
// already accepted is left to the case's members list.
func TestBreachRevokeInvites(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Revoke Invite Org")
	w.populate(o, "ri")
	var kase caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Claim"}, http.StatusCreated, &kase)
	until := time.Now().Add(30 * 24 * time.Hour)
	planted, tok := w.inviteOutbox(o.Lead.Token, kase.ID.String(), "mallory@attacker-ri.test", "attorney", []string{"view"}, until)
	_, keptTok := w.inviteOutbox(o.Admin.Token, kase.ID.String(), "payer@payer-ri.test", "payer", []string{"view"}, until)

	var got struct {
		Sessions    int `json:"sessions"`
		CaseInvites int `json:"case_invites"`
	}
	w.do("POST", "/v1/compliance/breach/revoke", o.Admin.Token, map[string]any{"users": []uuid.UUID{o.Lead.ID}},
		http.StatusOK, &got)
	if got.Sessions < 1 || got.CaseInvites != 1 {
		t.Fatalf("revoked %+v", got)
	}
	var results []uuid.UUID
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select result_ids from audit.events
		where org_id = $1 and action = 'breach.revoke'`, o.ID).Scan(&results); err != nil || !slices.Contains(results, planted) {
		t.Errorf("breach.revoke results %v (%v)", results, err)
	}
	if n := w.auditCount(o.ID, "case.invite.revoke", "success"); n != 1 {
		t.Errorf("case.invite.revoke events: %d", n)
	}
	if _, resp, body := w.accept(tok); resp.StatusCode == http.StatusOK {
		t.Errorf("the planted invitation was accepted after the revocation: %s", body)
	}
	if _, resp, body := w.accept(keptTok); resp.StatusCode != http.StatusOK {
		t.Errorf("another member's invitation: %d %s", resp.StatusCode, body)
	}
}

// A sign-in link the suspect's account asked for before the revocation
// (the attacker holds the mailbox, or is the browser that asked) signs
// nobody in after it: the named user's unspent links end with their
// sessions, counted and listed in breach.revoke's results; another
// member's link still works.
func TestBreachRevokeEndsSignInLinks(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Revoke Link Org")
	w.populate(o, "rl")
	// askLink asks for a link on the console's sign-in form, as a browser
	// does, and returns the link's token and the browser's verifier.
	askLink := func(email string) (token, verifier string) {
		t.Helper()
		before := len(linkRE.FindAllString(w.outbox.String(), -1))
		resp, body := w.consolePage("POST", "/sign-in", "", url.Values{"email": {email}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("sign-in form: %d %s", resp.StatusCode, body)
		}
		verifier = cookieValue(setCookie(resp, "ward_verifier"))
		var links [][]string
		for deadline := time.Now().Add(30 * time.Second); len(links) <= before && time.Now().Before(deadline); {
			if links = linkRE.FindAllStringSubmatch(w.outbox.String(), -1); len(links) <= before {
				time.Sleep(10 * time.Millisecond)
			}
		}
		if len(links) <= before {
			t.Fatalf("no link mailed to %s", email)
		}
		return links[len(links)-1][1], verifier
	}
	spend := func(token, verifier string) *http.Response {
		h := http.Header{"Sec-Fetch-Site": {"same-origin"}, "Cookie": {"ward_verifier=" + verifier},
			"Content-Type": {"application/x-www-form-urlencoded"}}
		resp, _ := w.browse("POST", "/v1/auth/magic", h, url.Values{"token": {token}}.Encode())
		return resp
	}
	suspectLink, suspectVerifier := askLink(o.Prov.Email)
	otherLink, otherVerifier := askLink(o.Prov2.Email)

	var got struct {
		Sessions    int `json:"sessions"`
		SignInLinks int `json:"sign_in_links"`
	}
	w.do("POST", "/v1/compliance/breach/revoke", o.Admin.Token, map[string]any{"users": []uuid.UUID{o.Prov.ID}},
		http.StatusOK, &got)
	if got.Sessions != 1 || got.SignInLinks != 1 {
		t.Errorf("revoked %+v", got)
	}
	if resp := spend(suspectLink, suspectVerifier); resp.StatusCode == http.StatusSeeOther || setCookie(resp, "ward_session") != "" {
		t.Fatalf("the revoked user's link signed in after the revocation: %d", resp.StatusCode)
	}
	var link uuid.UUID
	var results []uuid.UUID
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select l.id, e.result_ids from app.magic_links l, audit.events e
		where l.token_hash = sha256($1::bytea) and e.org_id = $2 and e.action = 'breach.revoke'`,
		[]byte(suspectLink), o.ID).Scan(&link, &results); err != nil || !slices.Contains(results, link) {
		t.Errorf("breach.revoke results %v lack the link %v (%v)", results, link, err)
	}
	if resp := spend(otherLink, otherVerifier); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another member's link: %d", resp.StatusCode)
	}
}

// Two revocations of one user at once: the second waits for the first
// and then finds the user's credentials ended, so it counts nothing and
// records nothing; the log tells of one revocation of each credential,
// not two.
func TestBreachRevokeConcurrent(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Revoke Race Org")
	w.populate(o, "rr")
	ctx := context.Background()
	revoke := func(wait <-chan struct{}) (n [2]int, err error) {
		err = w.env.App.InTenantTx(ctx, w.cred(o.Admin.Token), func(ctx context.Context, tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `select sessions, api_keys from app.breach_revoke('{}', $1, '{}', '{}', 'race')`,
				[]uuid.UUID{o.Prov.ID}).Scan(&n[0], &n[1]); err != nil {
				return err
			}
			if wait != nil {
				<-wait
			}
			return nil
		})
		return n, err
	}
	type answer struct {
		n   [2]int
		err error
	}
	commit := make(chan struct{})
	first, second := make(chan answer, 1), make(chan answer, 1)
	go func() { n, err := revoke(commit); first <- answer{n, err} }()
	// The first has chosen and holds its rows; the second starts and waits
	// on one of them.
	waiting := func(n int) bool {
		var got int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from pg_stat_activity
			where query like '%app.breach_revoke%' and query not like '%pg_stat_activity%'
			  and (state = 'idle in transaction' or wait_event_type = 'Lock')`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		return got >= n
	}
	for deadline := time.Now().Add(10 * time.Second); !waiting(1); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first revocation never held its rows")
		}
	}
	go func() { n, err := revoke(nil); second <- answer{n, err} }()
	for deadline := time.Now().Add(10 * time.Second); !waiting(2); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the second revocation never waited for the first")
		}
	}
	close(commit)
	a, b := <-first, <-second
	if a.err != nil || b.err != nil {
		t.Fatalf("revocations: %v, %v", a.err, b.err)
	}
	if a.n[0] != 1 || b.n != [2]int{} {
		t.Errorf("the first ended %v, the second %v: the second counts what the first ended", a.n, b.n)
	}
	if n := w.auditCount(o.ID, "breach.revoke", "success"); n != 1 {
		t.Errorf("%d breach.revoke events for one revocation", n)
	}
	if resp, body := w.request("GET", "/v1/me", o.Prov.Token, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the revoked session still works: %d %s", resp.StatusCode, body)
	}
}

// TestBreachRevokeEndsCreatorsSCIMTokens: revoking a user ends the SCIM
// tokens they made, as it ends their API keys (migration 00251): a revoked
// admin's token provisioned members before, a lead's way back in. Another
// admin's token keeps working, and the counts and the event name it.
func TestBreachRevokeEndsCreatorsSCIMTokens(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Revoke SCIM Org")
	w.populate(o, "rs")
	suspect := w.addMember(o, "rs-admin2@example.test", identity.RoleAdmin)
	var theirs scim.CreatedToken
	w.do("POST", "/v1/scim/tokens", suspect.Token, map[string]any{"name": "suspect's", "default_role": "lead"},
		http.StatusCreated, &theirs)
	kept := w.createSCIMToken(o, "provider").Secret
	w.scim("GET", "/scim/v2/Users", theirs.Secret, "", http.StatusOK, nil)

	var got struct {
		Sessions   int `json:"sessions"`
		SCIMTokens int `json:"scim_tokens"`
	}
	w.do("POST", "/v1/compliance/breach/revoke", o.Admin.Token, map[string]any{"users": []uuid.UUID{suspect.ID}},
		http.StatusOK, &got)
	if got.Sessions != 1 || got.SCIMTokens != 1 {
		t.Fatalf("revoked %+v, want the suspect's session and SCIM token", got)
	}
	w.scimError("GET", "/scim/v2/Users", theirs.Secret, "", http.StatusUnauthorized, "")
	w.scim("GET", "/scim/v2/Users", kept, "", http.StatusOK, nil)
	var results []uuid.UUID
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select result_ids from audit.events
		where org_id = $1 and action = 'breach.revoke'`, o.ID).Scan(&results); err != nil ||
		!slices.Contains(results, theirs.ID) {
		t.Errorf("breach.revoke results %v lack the token (%v)", results, err)
	}
}
