package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// TestEveryRouteRefusesHostileInput sends every operation of openapi.json
// malformed and mistyped input, as an org's admin (a session at AAL2,
// stepped up): bodies that are not JSON, JSON of the wrong shape, every
// property of the operation's schema set to each wrong type, strings
// with NUL or broken UTF-8, nesting ten thousand deep, ids in the path that
// are not ids, and query parameters of the wrong type. Whatever a route
// makes of it, the answer is never a server error, and a refusal on the
// API is an RFC 9457 problem document (the routes that speak another
// protocol are named below, with the shape they answer in).
func TestEveryRouteRefusesHostileInput(t *testing.T) {
	w := newWorld(t, withLocalhost()) // a base URL passkeys accept
	o := w.createOrg("Hostile Input Clinic")
	w.populate(o, "h")
	var tok struct {
		Token string `json:"token"`
	}
	w.do("POST", "/v1/scim/tokens", o.Admin.Token, map[string]any{"name": "directory", "default_role": "provider"},
		http.StatusCreated, &tok)

	apiOps, schemas := openAPIOperations(t)

	// Operations that end the caller's own session or org standing are
	// sent last, so that the others run with a live admin.
	last := map[string]bool{"POST /v1/auth/logout": true, "POST /v1/case-invites/sign-out": true}

	type op struct {
		method, path string
		props        []string
		scim         bool // sent with the SCIM token
	}
	var ops []op
	// The SCIM and gateway routes are not in openapi.json (their protocols
	// document them); they answer in their own shapes.
	for _, path := range []string{"/scim/v2/Users", "/scim/v2/Users/{id}", "/scim/v2/Groups", "/scim/v2/Groups/{id}"} {
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			ops = append(ops, op{method: m, path: path, scim: true,
				props: []string{"schemas", "userName", "name", "emails", "active", "displayName", "members", "Operations"}})
		}
	}
	for _, path := range []string{"/llm/v1/messages", "/llm/v1/messages/count_tokens"} {
		ops = append(ops, op{method: "POST", path: path,
			props: []string{"model", "max_tokens", "messages", "system", "stream", "tools", "metadata", "stop_sequences"}})
	}
	for _, a := range apiOps {
		ops = append(ops, op{method: a.method, path: a.path, props: schemaProps(t, a.raw, schemas)})
	}
	sort.Slice(ops, func(i, j int) bool {
		ki, kj := ops[i].method+" "+ops[i].path, ops[j].method+" "+ops[j].path
		if last[ki] != last[kj] {
			return !last[ki]
		}
		return ki < kj
	})
	if len(ops) < 100 {
		t.Fatalf("openapi.json lists %d operations; the sweep expects the whole API", len(ops))
	}

	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	bodies := []string{
		``, `{`, `}`, `[]`, `null`, `"text"`, `12`, `{"a":1,"a":2}`, `{"x": "` + "\x00" + `"}`,
		"{\"name\": \"\xff\xfe\"}", deep, `{"nested": ` + deep + `}`, strings.Repeat(" ", 70000) + `{}`,
		`{"limit": 1e400}`,
	}
	wrong := []string{`-1`, `1.5`, `1e30`, `true`, `null`, `[]`, `{}`, `"` + strings.Repeat("A", 70000) + `"`,
		`"\u0000"`, `"` + "\u202e\u200b" + `"`, `"0000-00-00"`, `"not-a-uuid"`, `-9223372036854775809`}
	ids := []string{uuid.NewString(), "not-a-uuid", "%00", "..%2F..%2Fetc", strings.Repeat("9", 400),
		o.P1.String()}
	queries := []string{"", "?limit=-1&cursor=%00&from=yesterday&to=2026-13-45&since=x&until=x",
		"?limit=99999999999999999999&offset=-5&patient_id=not-a-uuid&page_size=0"}

	admin := o.Admin
	live := func() {
		// A refused route may have ended the session (a policy tightened,
		// a factor removed): sign the admin in again so the sweep goes on.
		resp, _ := w.request("GET", "/v1/me", admin.Token, nil)
		if resp.StatusCode != http.StatusOK {
			admin.Token = w.operatorSignIn(admin.Email, o.ID)
		}
	}

	var failures []string
	sent := 0
	send := func(scimOp bool, method, path, ctype, body string) {
		req, err := http.NewRequest(method, w.srv.URL+path, strings.NewReader(body))
		if err != nil {
			// A path net/http itself will not send is no test of the server.
			return
		}
		if body != "" || method != "GET" && method != "DELETE" {
			req.Header.Set("Content-Type", ctype)
		}
		if scimOp {
			req.Header.Set("Authorization", "Bearer "+tok.Token)
		} else {
			w.authorize(req, admin.Token)
		}
		resp, err := w.srv.Client().Do(req)
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s %s: %v", method, path, err))
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		sent++
		ct := resp.Header.Get("Content-Type")
		switch {
		case resp.StatusCode >= 500:
			failures = append(failures, fmt.Sprintf("%s %s (%s, %d-byte body): %d %s", method, shortPath(path),
				ctype, len(body), resp.StatusCode, shorten(b)))
		case resp.StatusCode >= 400 && !refusalShapeOK(method, path, ct, b):
			failures = append(failures, fmt.Sprintf("%s %s: %d refused as %q, not a problem document: %s",
				method, shortPath(path), resp.StatusCode, ct, shorten(b)))
		}
	}

	for _, o := range ops {
		paths := []string{o.path}
		if strings.Contains(o.path, "{") {
			paths = nil
			for _, id := range ids {
				paths = append(paths, fillParams(o.path, id))
			}
		}
		for _, p := range paths {
			for _, q := range queries {
				if o.method == "GET" || o.method == "DELETE" {
					send(o.scim, o.method, p+q, "application/json", "")
				}
			}
			if o.method == "GET" || o.method == "DELETE" {
				continue
			}
			for _, ctype := range []string{"application/json", "text/plain", "application/x-www-form-urlencoded"} {
				send(o.scim, o.method, p, ctype, `{}`)
			}
			for _, b := range bodies {
				send(o.scim, o.method, p, "application/json", b)
			}
			for _, v := range wrong {
				// Every property holds the value, a long one in a few
				// properties a request: a body refused before it is read
				// stays under the 256 KiB net/http takes in before it
				// answers (beyond, it may close on a client still
				// writing, which is HTTP, not a wrong answer).
				per := len(o.props)
				if len(v) > 1000 {
					per = 3
				}
				for start := 0; start < len(o.props); start += per {
					var sb strings.Builder
					sb.WriteString("{")
					for i, name := range o.props[start:min(start+per, len(o.props))] {
						if i > 0 {
							sb.WriteString(",")
						}
						fmt.Fprintf(&sb, "%q:%s", name, v)
					}
					sb.WriteString("}")
					send(o.scim, o.method, p, "application/json", sb.String())
				}
			}
		}
		live()
	}
	if sent < 3000 {
		t.Errorf("the sweep sent %d requests; it should send thousands", sent)
	}
	if len(failures) > 0 {
		t.Errorf("%d of %d hostile requests were answered wrongly:\n%s", len(failures), sent,
			strings.Join(failures, "\n"))
	}
}

// schemaProps lists the property names of an operation's JSON request
// body, following one $ref.
func schemaProps(t *testing.T, rawOp json.RawMessage, schemas map[string]json.RawMessage) []string {
	var op struct {
		RequestBody struct {
			Content map[string]struct {
				Schema json.RawMessage `json:"schema"`
			} `json:"content"`
		} `json:"requestBody"`
	}
	if err := json.Unmarshal(rawOp, &op); err != nil {
		t.Fatal(err)
	}
	c, ok := op.RequestBody.Content["application/json"]
	if !ok {
		return nil
	}
	var s struct {
		Ref        string                     `json:"$ref"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(c.Schema, &s); err != nil {
		t.Fatal(err)
	}
	if s.Ref != "" {
		name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
		s.Properties = nil
		if err := json.Unmarshal(schemas[name], &s); err != nil {
			t.Fatalf("schema %s: %v", name, err)
		}
	}
	var names []string
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func fillParams(path, value string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(path, '{')
		if i < 0 {
			b.WriteString(path)
			return b.String()
		}
		j := strings.IndexByte(path[i:], '}')
		b.WriteString(path[:i])
		b.WriteString(value)
		path = path[i+j+1:]
	}
}

// refusalShapeOK: an API refusal is a problem document; the routes that
// speak another protocol answer in its shape.
func refusalShapeOK(method, path, ctype string, body []byte) bool {
	switch {
	case method == "GET" && (strings.HasPrefix(path, "/v1/auth/magic") || strings.HasPrefix(path, "/v1/case-invites/accept")):
		// the pages a link in an e-mail opens in a browser
		return strings.HasPrefix(ctype, "text/html")
	case strings.HasPrefix(path, "/llm/"):
		// the Anthropic error shape
		var e struct {
			Type  string `json:"type"`
			Error struct {
				Type string `json:"type"`
			} `json:"error"`
		}
		return json.Unmarshal(body, &e) == nil && e.Type == "error" && e.Error.Type != ""
	case strings.HasPrefix(path, "/scim/v2"):
		return strings.HasPrefix(ctype, "application/scim+json")
	}
	if !strings.HasPrefix(ctype, "application/problem+json") {
		return false
	}
	var p struct {
		Status int    `json:"status"`
		Title  string `json:"title"`
	}
	return json.Unmarshal(body, &p) == nil && p.Status >= 400 && p.Title != ""
}

func shortPath(p string) string {
	if len(p) > 120 {
		return p[:120] + "…"
	}
	return p
}

func shorten(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// TestPendingSessionReachesOnlyItsFactors sends every operation of
// openapi.json, with the org's real ids in the path and an empty object as
// the body, from an admin's session that a sign-in link alone made (AAL1,
// pending its second factor). Such a session may read /v1/me, enrol or
// present a second factor and sign out (DESIGN §4, issue #8 §1); every
// other route must refuse it, and nothing of the org may change: no route
// answers it with a success, and the audit log gains no event but refusals
// and the factor routes' own.
func TestPendingSessionReachesOnlyItsFactors(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Pending Sweep Clinic")
	w.populate(o, "ps")
	mal := w.signInAAL1(o.Admin.Email, o.ID)
	var me struct {
		SessionID uuid.UUID `json:"session_id"`
		Pending   *string   `json:"pending"`
	}
	w.do("GET", "/v1/me", mal, nil, http.StatusOK, &me)
	if me.Pending == nil {
		t.Fatal("a link's admin session is not pending")
	}
	pending := me.SessionID

	apiOps, _ := openAPIOperations(t)
	// What a pending session may do, and the routes that take no session
	// at all (sign-in, SSO, health, published keys and documents).
	allowed := map[string]bool{
		"GET /v1/me": true, "POST /v1/auth/logout": true,
		"POST /v1/auth/totp/enrol": true, "POST /v1/auth/totp/confirm": true, "POST /v1/auth/totp/verify": true,
		"POST /v1/auth/recovery-codes/verify":   true,
		"POST /v1/auth/passkeys/register/begin": true, "POST /v1/auth/passkeys/register/finish": true,
		"POST /v1/auth/passkeys/verify/begin": true, "POST /v1/auth/passkeys/verify/finish": true,
	}
	for r := range noSessionRoutes {
		allowed[r] = true
	}
	var wrong []string
	n := 0
	for _, a := range apiOps {
		if allowed[a.method+" "+a.path] {
			continue
		}
		resp, b := w.request(a.method, withRealIDs(o, a.path), mal, emptyBody(a.method))
		n++
		if resp.StatusCode < 300 || resp.StatusCode >= 500 {
			wrong = append(wrong, fmt.Sprintf("%s %s: %d %s", a.method, a.path, resp.StatusCode, shorten(b)))
		}
	}
	if n < 100 {
		t.Fatalf("only %d operations were tried", n)
	}
	slices.Sort(wrong)
	if len(wrong) > 0 {
		t.Errorf("a pending session was answered with a success or a server error on %d of %d routes:\n%s",
			len(wrong), n, strings.Join(wrong, "\n"))
	}
	// The session is still pending and the admin's own session still works.
	w.do("GET", "/v1/me", mal, nil, http.StatusOK, &me)
	if me.Pending == nil {
		t.Error("the sweep raised the pending session")
	}
	w.do("GET", "/v1/members", o.Admin.Token, nil, http.StatusOK, nil)
	// The log holds no success of the pending session's but its sign-in
	// and its own identity.
	rows, err := w.env.Super.Pool.Query(context.Background(),
		`select action from audit.events where org_id = $1 and session_id = $2 and outcome = 'success'
		  order by at`, o.ID, pending)
	if err != nil {
		t.Fatal(err)
	}
	actions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range actions {
		if !strings.HasPrefix(a, "auth.") && !strings.HasPrefix(a, "session.") {
			t.Errorf("the pending session's %q is in the log as a success", a)
		}
	}
}

// TestAPIKeyScopesEveryRoute sends every operation of openapi.json, with
// the org's real ids and an empty object as the body, with an admin API key
// of each scope. A key reaches the routes of its scope only
// (docs/authentication.md): `members` the member routes (not a member's
// factors), `audit:read` the audit log and its proofs, `dsr` the
// data-subject request queue, `gateway` nothing here (the gateway is under
// /llm). Every other route refuses it (401 or 403), and none answers 5xx.
func TestAPIKeyScopesEveryRoute(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Key Sweep Clinic")
	w.populate(o, "ks")

	apiOps, _ := openAPIOperations(t)
	// Routes that take no credential, or one of their own.
	public := map[string]bool{
		"GET /v1/case-invites/accept": true,
		// an invitation's token and an emergency sign-in (a passkey
		// assertion) are credentials of their own
		"POST /v1/case-invites/accept": true, "POST /v1/auth/break-glass/activate": true,
	}
	for r := range noSessionRoutes {
		public[r] = true
	}
	inScope := func(scope, method, path string) bool {
		switch scope {
		case "members":
			return path == "/v1/members" || path == "/v1/members/{user_id}"
		case "audit:read":
			return method == "GET" && (path == "/v1/audit/events" || path == "/v1/audit/checkpoint" ||
				strings.HasPrefix(path, "/v1/audit/proof/"))
		case "dsr":
			return strings.HasPrefix(path, "/v1/compliance/dsr")
		}
		return false
	}
	for _, scope := range []string{"members", "audit:read", "dsr", "gateway"} {
		t.Run(scope, func(t *testing.T) {
			k := w.createKey(o, scope)
			var wrong []string
			n := 0
			for _, a := range apiOps {
				if public[a.method+" "+a.path] {
					continue
				}
				resp, b := w.request(a.method, withRealIDs(o, a.path), "", emptyBody(a.method), "x-api-key", k.Key)
				n++
				switch {
				case resp.StatusCode >= 500:
					wrong = append(wrong, fmt.Sprintf("%s %s: %d %s", a.method, a.path, resp.StatusCode, shorten(b)))
				case inScope(scope, a.method, a.path):
				case resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden:
					wrong = append(wrong, fmt.Sprintf("%s %s: %d %s", a.method, a.path, resp.StatusCode, shorten(b)))
				}
			}
			if n < 100 {
				t.Fatalf("only %d operations were tried", n)
			}
			slices.Sort(wrong)
			if len(wrong) > 0 {
				t.Errorf("a %s key was answered outside its scope on %d of %d routes:\n%s",
					scope, len(wrong), n, strings.Join(wrong, "\n"))
			}
		})
	}
}

// apiOperation is one operation of openapi.json.
type apiOperation struct {
	method, path string
	raw          json.RawMessage
}

// openAPIOperations lists the GET, POST, PUT, PATCH and DELETE operations
// of openapi.json in a fixed order, and the document's schemas.
func openAPIOperations(t *testing.T) ([]apiOperation, map[string]json.RawMessage) {
	t.Helper()
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var ops []apiOperation
	for path, methods := range doc.Paths {
		for m, rawOp := range methods {
			method := strings.ToUpper(m)
			if slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, method) {
				ops = append(ops, apiOperation{method, path, rawOp})
			}
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		return ops[i].method+" "+ops[i].path < ops[j].method+" "+ops[j].path
	})
	return ops, doc.Components.Schemas
}

// noSessionRoutes take no credential at all: sign-in, SSO, health, the
// published key and documents.
var noSessionRoutes = map[string]bool{
	"POST /v1/auth/magic-link": true, "GET /v1/auth/magic": true, "POST /v1/auth/magic": true,
	"POST /v1/auth/passkeys/signin/begin": true, "POST /v1/auth/passkeys/signin/finish": true,
	"GET /healthz": true, "GET /readyz": true, "GET /v1/openapi.json": true, "GET /metrics": true,
	"GET /.well-known/ward-audit-key": true,
	"GET /v1/sso/start":               true, "GET /v1/sso/oidc/callback": true, "GET /v1/sso/saml/{id}/metadata": true,
	"POST /v1/sso/saml/{id}/acs": true,
}

// withRealIDs fills a path's parameters with o's ids (its first patient,
// its provider) and random ids where o has none to offer.
func withRealIDs(o *org, path string) string {
	return strings.NewReplacer(
		"{id}", o.P1.String(), "{user_id}", o.Prov.ID.String(), "{user}", o.Prov.ID.String(),
		"{invite_id}", uuid.NewString(), "{amendment_id}", uuid.NewString(), "{domain}", "example.test",
	).Replace(path)
}

// emptyBody is an empty object for a method that takes a body.
func emptyBody(method string) any {
	if method == "GET" || method == "DELETE" {
		return nil
	}
	return map[string]any{}
}
