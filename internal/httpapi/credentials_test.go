package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
)

// send sends a request with exactly the given headers (repeats kept) and
// returns the response with its body read.
func (w *world) send(method, path string, hdr http.Header, body io.Reader) (*http.Response, []byte) {
	w.t.Helper()
	req, err := http.NewRequest(method, w.srv.URL+path, body)
	if err != nil {
		w.t.Fatal(err)
	}
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := w.srv.Client().Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func problemOf(t *testing.T, b []byte) (code, detail string) {
	t.Helper()
	var p struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("not a problem document: %s", b)
	}
	return p.Code, p.Detail
}

func TestCredentialHeaders(t *testing.T) {
	w := newWorld(t, withUnboundOrgs()) // plain bearer tokens, as the headers under test carry
	o := w.createOrg("Cred Org")
	other := w.createOrg("Other Cred Org")
	tok := o.Admin.Token
	cases := []struct {
		name   string
		hdr    http.Header
		status int
		code   string
		names  string // the detail names this header
	}{
		{"bearer", http.Header{"Authorization": {"Bearer " + tok}}, 200, "", ""},
		{"bearer any case", http.Header{"Authorization": {"bEaReR " + tok}}, 200, "", ""},
		{"x-api-key", http.Header{"X-Api-Key": {tok}}, 200, "", ""},
		{"both, same value", http.Header{"Authorization": {"Bearer " + tok}, "X-Api-Key": {tok}}, 200, "", ""},
		{"both, different values", http.Header{"Authorization": {"Bearer " + tok}, "X-Api-Key": {other.Admin.Token}},
			400, "invalid_header", "x-api-key"},
		{"two Authorization", http.Header{"Authorization": {"Bearer " + tok, "Bearer " + tok}}, 400, "invalid_header", "Authorization"},
		{"two x-api-key", http.Header{"X-Api-Key": {tok, other.Admin.Token}}, 400, "invalid_header", "x-api-key"},
		{"basic scheme", http.Header{"Authorization": {"Basic " + tok}}, 401, "unauthenticated", "Authorization"},
		{"empty x-api-key", http.Header{"X-Api-Key": {""}}, 401, "unauthenticated", ""},
		{"Ward-Org, own org", http.Header{"X-Api-Key": {tok}, "Ward-Org": {o.ID.String()}}, 200, "", ""},
		{"Ward-Org, upper case", http.Header{"X-Api-Key": {tok}, "Ward-Org": {strings.ToUpper(o.ID.String())}}, 200, "", ""},
		{"Ward-Org, another org", http.Header{"X-Api-Key": {tok}, "Ward-Org": {other.ID.String()}}, 401, "unauthenticated", ""},
		{"Ward-Org, not a UUID", http.Header{"X-Api-Key": {tok}, "Ward-Org": {"acme"}}, 400, "invalid_header", "Ward-Org"},
		{"Ward-Org, braced", http.Header{"X-Api-Key": {tok}, "Ward-Org": {"{" + o.ID.String() + "}"}}, 400, "invalid_header", "Ward-Org"},
		{"Ward-Org, nil UUID", http.Header{"X-Api-Key": {tok}, "Ward-Org": {"00000000-0000-0000-0000-000000000000"}},
			400, "invalid_header", "Ward-Org"},
		{"Ward-Org, twice", http.Header{"X-Api-Key": {tok}, "Ward-Org": {o.ID.String(), o.ID.String()}}, 400, "invalid_header", "Ward-Org"},
		{"Ward-Org, invalid UTF-8", http.Header{"X-Api-Key": {tok}, "Ward-Org": {o.ID.String()[:34] + "\xff\xfe"}},
			400, "invalid_header", "Ward-Org"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := w.send("GET", "/v1/me", c.hdr, nil)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			if c.code == "" {
				var me struct {
					OrgID string `json:"org_id"`
				}
				if err := json.Unmarshal(body, &me); err != nil || me.OrgID != o.ID.String() {
					t.Fatalf("me: %s", body)
				}
				return
			}
			code, detail := problemOf(t, body)
			if code != c.code || !strings.Contains(detail, c.names) {
				t.Fatalf("problem %s %q, want %s naming %q", code, detail, c.code, c.names)
			}
			if strings.Contains(string(body), tok) || strings.Contains(string(body), "\xff") {
				t.Fatalf("the problem echoes the input: %s", body)
			}
		})
	}
}

// A User-Agent that is not UTF-8 is cleaned before it is stored; it never
// turns a request into a 500.
func TestUserAgentNotUTF8(t *testing.T) {
	w := newWorld(t, withUnboundOrgs()) // plain bearer tokens in hand-made requests
	o := w.createOrg("UA Org")
	w.populate(o, "ua")
	ua := "Mozilla/5.0 \xff\xfe\xc3(bad)"
	for _, c := range []struct {
		method, path string
		hdr          http.Header
		body         string
		want         int
	}{
		{"POST", "/v1/auth/magic-link", http.Header{"Content-Type": {"application/json"}},
			`{"email":"ua-admin@example.test"}`, http.StatusAccepted},
		{"GET", "/v1/me", http.Header{"Authorization": {"Bearer " + o.Lead.Token}}, "", http.StatusOK},
		{"GET", "/v1/patients/" + o.P1.String(), http.Header{"Authorization": {"Bearer " + o.Lead.Token}}, "", http.StatusOK},
		{"GET", "/v1/patients/" + o.P1.String(), http.Header{"Authorization": {"Bearer " + o.Prov2.Token}}, "", http.StatusNotFound},
		{"GET", "/v1/sessions", http.Header{"Authorization": {"Bearer " + o.Lead.Token}}, "", http.StatusOK},
	} {
		c.hdr.Set("User-Agent", ua)
		resp, body := w.send(c.method, c.path, c.hdr, strings.NewReader(c.body))
		if resp.StatusCode != c.want {
			t.Fatalf("%s %s with a non-UTF-8 User-Agent: %d, want %d: %s", c.method, c.path, resp.StatusCode, c.want, body)
		}
		if !utf8.Valid(body) {
			t.Fatalf("%s %s: the response is not UTF-8: %q", c.method, c.path, body)
		}
	}
	// Signing in stores the agent with the session: cleaned, and shown back
	// as valid UTF-8.
	link, err := w.ops.OperatorLink(context.Background(), w.env.Super, o.Prov.Email, uuid.NullUUID{UUID: o.ID, Valid: true})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := w.send("POST", "/v1/auth/magic", http.Header{"Content-Type": {"application/json"}, "User-Agent": {ua}},
		strings.NewReader(`{"token":"`+link[strings.LastIndex(link, "=")+1:]+`"}`))
	var sess struct {
		Token string `json:"token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &sess) != nil {
		t.Fatalf("sign-in with a non-UTF-8 User-Agent: %d %s", resp.StatusCode, body)
	}
	var list struct {
		Sessions []struct {
			UserAgent string `json:"user_agent"`
			Current   bool   `json:"current"`
		} `json:"sessions"`
	}
	w.do("GET", "/v1/sessions", sess.Token, nil, http.StatusOK, &list)
	for _, s := range list.Sessions {
		if s.Current && (!utf8.ValidString(s.UserAgent) || !strings.HasPrefix(s.UserAgent, "Mozilla/5.0 \uFFFD")) {
			t.Fatalf("stored user agent %q", s.UserAgent)
		}
	}
}
