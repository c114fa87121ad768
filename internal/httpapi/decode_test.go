package httpapi_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", for goose
	"github.com/pressly/goose/v3"

	"github.com/wardhq/ward/internal/postgres"
)

// Bodies encoding/json would accept but Ward refuses: each is a 400 that
// names the field and echoes nothing of the value, and writes nothing.
func TestStrictJSON(t *testing.T) {
	w := newWorld(t, withUnboundOrgs()) // plain bearer tokens in hand-made requests
	o := w.createOrg("JSON Org")
	w.populate(o, "j")
	entries := "/v1/patients/" + o.P1.String() + "/entries"
	entry := func(note string) string {
		return `{"kind":"symptom","name":"cough","observed_at":"2024-01-02T03:04:05Z","note":"` + note + `"}`
	}
	cases := []struct {
		name, path, body string
		status           int
		code             string
		names            string
	}{
		{"duplicate key", "/v1/patients", `{"name":"Zed Secretname","name":"Other"}`, 400, "bad_json", `"name" is given more than once`},
		{"duplicate key in another case", "/v1/patients", `{"name":"Zed Secretname","NAME":"Other"}`, 400, "bad_json", `"NAME" is given more than once`},
		{"duplicate nested key", "/v1/patients", `{"name":"Zed","identifiers":{"insurance":"SECRET-1","insurance":"SECRET-2"}}`,
			400, "bad_json", `"identifiers.insurance" is given more than once`},
		{"duplicate key deeper", "/v1/patients", `{"name":"Zed","identifiers":{"a":"1"},"x":[{"k":1,"k":2}]}`,
			400, "bad_json", `"x[0].k" is given more than once`},
		{"invalid UTF-8", "/v1/patients", "{\"name\":\"Zed Secret\xff\xfename\"}", 400, "bad_json", `"name" is not valid UTF-8`},
		{"invalid UTF-8 in a key", "/v1/patients", "{\"na\xffme\":\"Zed\"}", 400, "bad_json", "a key of the body is not valid UTF-8"},
		{"lone high surrogate", "/v1/patients", `{"name":"Zed Secret\ud800name"}`, 400, "bad_json", `"name" holds a lone surrogate`},
		{"lone low surrogate", "/v1/patients", `{"name":"Zed Secret\udc00name"}`, 400, "bad_json", `"name" holds a lone surrogate`},
		{"high surrogate then letter", "/v1/patients", `{"name":"Zed \ud800\u0041"}`, 400, "bad_json", `"name" holds a lone surrogate`},
		{"escaped NUL", "/v1/patients", `{"name":"Zed Secret\u0000name"}`, 400, "bad_json", `"name" holds a NUL`},
		{"raw NUL", "/v1/patients", "{\"name\":\"Zed Secret\x00name\"}", 400, "bad_json", `"name" holds a NUL`},
		{"NUL in a map value", "/v1/patients", `{"name":"Zed","identifiers":{"insurance":"SECRET\u0000"}}`, 400, "bad_json",
			`"identifiers.insurance" holds a NUL`},
		{"NUL in a key", "/v1/patients", `{"name":"Zed","identifiers":{"ins\u0000":"x"}}`, 400, "bad_json",
			`a key in "identifiers" holds a NUL`},
		{"NUL in a clinical note", entries, entry(`felt SECRET\u0000 dizzy`), 400, "bad_json", `"note" holds a NUL`},
		{"lone surrogate in a clinical note", entries, entry(`felt \udfff dizzy`), 400, "bad_json", `"note" holds a lone surrogate`},
		{"too deep", "/v1/patients", `{"name":"Zed","identifiers":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
			400, "bad_json", "deeper than"},
		{"two values", "/v1/patients", `{"name":"Zed"} {"name":"Zed"}`, 400, "bad_json", "exactly one"},
		{"policy beyond int", "/v1/org/session-policy", `{"session_idle_timeout_min":5,"session_absolute_max_min":1000000000000}`,
			400, "bad_json", `"session_absolute_max_min" must be a whole number`},
		{"policy as exponent", "/v1/org/session-policy", `{"session_idle_timeout_min":1e12,"session_absolute_max_min":60}`,
			400, "bad_json", `"session_idle_timeout_min" must be a whole number`},
		// Accepted: a surrogate pair, escaped and raw non-ASCII.
		{"surrogate pair", "/v1/patients", `{"name":"Zed \ud83d\ude00"}`, 201, "", ""},
		{"non-ASCII", "/v1/patients", `{"name":"Zoë Ürsula 山田"}`, 201, "", ""},
		{"different keys", "/v1/patients", `{"name":"Zed","identifiers":{"a":"1","b":"1"}}`, 201, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := "POST"
			if strings.HasSuffix(c.path, "session-policy") {
				method = "PUT"
			}
			tok := o.Lead.Token
			if method == "PUT" {
				tok = o.Admin.Token
			}
			resp, body := w.send(method, c.path, http.Header{"Content-Type": {"application/json"},
				"Authorization": {"Bearer " + tok}}, strings.NewReader(c.body))
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			if c.code == "" {
				return
			}
			code, detail := problemOf(t, body)
			if code != c.code || !strings.Contains(detail, c.names) {
				t.Fatalf("problem %s %q, want %s with %q", code, detail, c.code, c.names)
			}
			for _, secret := range []string{"Secret", "SECRET", "dizzy", "1000000000000"} {
				if strings.Contains(string(body), secret) {
					t.Fatalf("the problem echoes the value: %s", body)
				}
			}
		})
	}
	// JSON is UTF-8 (RFC 8259 §8.1): a body declared in another charset is
	// refused, not misread; utf-8 in any case is fine.
	for ct, want := range map[string]int{"application/json; charset=utf-16": 415, "application/json; charset=latin1": 415,
		"application/json; charset=UTF-8": 201, "application/json;charset=utf-8": 201} {
		resp, body := w.send("POST", "/v1/patients", http.Header{"Content-Type": {ct}, "Authorization": {"Bearer " + o.Lead.Token}},
			strings.NewReader(`{"name":"Zed Charset"}`))
		if resp.StatusCode != want {
			t.Errorf("%s: %d %s, want %d", ct, resp.StatusCode, body, want)
		}
	}
	var n int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from app.clinical_entries`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d entries written by refused requests (%v)", n, err)
	}
}

// The nil UUID is not an id: refused before any service sees it.
func TestNilPathID(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Nil Org")
	nilID := "00000000-0000-0000-0000-000000000000"
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/patients/" + nilID, nil},
		{"PUT", "/v1/patients/" + nilID, map[string]any{"name": "Zed"}},
		{"POST", "/v1/patients/" + nilID + "/entries", map[string]any{"kind": "food", "name": "x", "observed_at": "2024-01-02T03:04:05Z"}},
		{"PUT", "/v1/patients/" + nilID + "/care-team/" + o.Admin.ID.String(), nil},
		{"DELETE", "/v1/sessions/" + nilID, nil},
		{"DELETE", "/v1/members/" + nilID, nil},
		{"GET", "/v1/patients/" + strings.ReplaceAll(o.Admin.ID.String(), "-", ""), nil},
	} {
		resp, body := w.request(c.method, c.path, o.Admin.Token, c.body)
		if resp.StatusCode != http.StatusBadRequest || problemCode(t, body) != "invalid_id" {
			t.Errorf("%s %s: %d %s, want 400 invalid_id", c.method, c.path, resp.StatusCode, body)
		}
	}
}

// A date-time JSON cannot carry back (outside years 0001 to 9999 once in
// UTC, as the database returns it) is refused on the way in; one already
// stored makes its answers a 500 problem, never a 200 with an empty body.
func TestDateTimeRange(t *testing.T) {
	w := newWorld(t, withUnboundOrgs())
	o := w.createOrg("Time Org")
	w.populate(o, "tr")
	entries := "/v1/patients/" + o.P1.String() + "/entries"
	for _, at := range []string{"0000-01-01T00:00:00+23:59", "0000-06-01T00:00:00Z", "9999-12-31T23:59:59-23:59"} {
		resp, body := w.send("POST", entries, http.Header{"Content-Type": {"application/json"},
			"Authorization": {"Bearer " + o.Lead.Token}},
			strings.NewReader(`{"kind":"food","name":"x","observed_at":"`+at+`"}`))
		if code, detail := problemOf(t, body); resp.StatusCode != http.StatusBadRequest || code != "invalid_input" ||
			!strings.Contains(detail, `"observed_at"`) {
			t.Errorf("observed_at %s: %d %s, want 400 invalid_input naming observed_at", at, resp.StatusCode, body)
		}
	}
	var n int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from app.clinical_entries`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d entries written by refused requests (%v)", n, err)
	}
	w.do("POST", entries, o.Lead.Token, map[string]any{"kind": "food", "name": "x", "observed_at": "1900-01-01T00:00:00Z"},
		http.StatusCreated, nil)

	// No writer stores such a time, SQL by hand included (00207).
	_, err := w.env.Super.Pool.Exec(context.Background(),
		`update app.clinical_entries set observed_at = '0002-06-01 00:00:00+00 BC'`)
	if pe := (*pgconn.PgError)(nil); !errors.As(err, &pe) || pe.Code != "23514" {
		t.Fatalf("an entry in year 2 BC written by SQL: %v, want a check violation", err)
	}

	// A row from before 00207 (or the API's check) in year 2 BC (Go's year
	// -1): the migration clamps it, and the entries read again.
	db, err := sql.Open("pgx", w.env.SuperURL())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	migrations, err := goose.NewProvider(goose.DialectPostgres, db, postgres.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := migrations.ApplyVersion(ctx, 207, false); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `
		alter table app.clinical_entries drop constraint clinical_entries_observed_at_representable;
		alter table app.documents drop constraint documents_due_at_representable;
		alter table app.case_members drop constraint case_members_access_expires_at_representable;
		alter table app.case_invites drop constraint case_invites_access_expires_at_representable;
		alter table app.api_keys drop constraint api_keys_expires_at_representable;
		update app.clinical_entries set observed_at = '0002-06-01 00:00:00+00 BC'`); err != nil {
		t.Fatal(err)
	}
	resp, body := w.request("GET", entries, o.Lead.Token, nil)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("entries holding year 2 BC before 00207: %d %q, want the 500 it fixes", resp.StatusCode, body)
	}
	if !strings.Contains(w.logs.String(), "httpapi.unencodable") {
		t.Error("the unencodable answer is not logged")
	}
	if _, err := migrations.ApplyVersion(ctx, 207, true); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Entries []struct {
			ObservedAt string `json:"observed_at"`
		} `json:"entries"`
	}
	w.do("GET", entries, o.Lead.Token, nil, http.StatusOK, &got)
	if len(got.Entries) != 1 || got.Entries[0].ObservedAt != "0001-01-01T00:00:00Z" {
		t.Errorf("entries after 00207: %+v, want the one entry clamped to 0001-01-01T00:00:00Z", got)
	}
	// Every column a client sets a time in has the check.
	var checks []string
	rows, err := db.QueryContext(ctx, `select conname from pg_constraint where conname like '%\_representable' order by 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		checks = append(checks, c)
	}
	if want := "api_keys_expires_at_representable case_invites_access_expires_at_representable " +
		"case_members_access_expires_at_representable clinical_entries_observed_at_representable " +
		"documents_due_at_representable"; strings.Join(checks, " ") != want {
		t.Errorf("checks %v, want %s", checks, want)
	}
}

// A query id that names nothing is a filter that matches nothing, or a 400
// for the nil UUID (which would read as no filter): never a 500, and no
// listing of everything.
func TestQueryIDs(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Query Ids")
	w.populate(o, "qi")
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"title": "Claim"}, http.StatusCreated, nil)
	w.do("POST", "/v1/compliance/dsr", o.Admin.Token, map[string]any{"kind": "access", "patient_id": o.P1}, http.StatusCreated, nil)
	nobody := uuid.New().String()
	var dsr struct {
		Requests []json.RawMessage `json:"requests"`
	}
	for _, tok := range []string{o.Admin.Token, o.PatUser.Token} {
		if w.do("GET", "/v1/compliance/dsr?patient_id="+nobody, tok, nil, http.StatusOK, &dsr); len(dsr.Requests) != 0 {
			t.Fatalf("requests about nobody: %+v", dsr)
		}
	}
	var cs struct {
		Cases []json.RawMessage `json:"cases"`
	}
	if w.do("GET", "/v1/cases?patient_id="+nobody, o.Lead.Token, nil, http.StatusOK, &cs); len(cs.Cases) != 0 {
		t.Fatalf("cases of nobody: %+v", cs)
	}
	for _, path := range []string{"/v1/compliance/dsr", "/v1/cases", "/v1/audit/events"} {
		for _, id := range []string{"00000000-0000-0000-0000-000000000000", strings.ReplaceAll(nobody, "-", "")} {
			resp, body := w.request("GET", path+"?patient_id="+id, o.Admin.Token, nil)
			if resp.StatusCode != http.StatusBadRequest || problemCode(t, body) != "invalid_query" {
				t.Errorf("%s?patient_id=%s: %d %s, want 400 invalid_query", path, id, resp.StatusCode, body)
			}
		}
	}
	// Listing a patient's requests is in their access report.
	if w.do("GET", "/v1/compliance/dsr?patient_id="+o.P1.String(), o.Admin.Token, nil, http.StatusOK, &dsr); len(dsr.Requests) != 1 {
		t.Fatalf("P1's requests: %+v", dsr)
	}
	var n int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from audit.events
	  where org_id = $1 and action = 'dsr.list' and outcome = 'success' and patient_id = $2`, o.ID, o.P1).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d dsr.list events about P1, want 1 (%v)", n, err)
	}
}
