package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/gateway"
	"github.com/wardhq/ward/internal/gateway/phi"
)

// An attacker's spellings of the seeded patient's identifiers, sent by a
// provider naming the patient (Ward-Patient): digits of other scripts and
// styled digits, a dash Ward did not read as one, a middle dot between a
// phone number's groups, and numbers written with an exponent. None may
// reach the upstream in any spelling: the upstream's body is checked as
// Ward's own normalization reads it, so a digit of any script counts.
func TestGatewayAttackSpellings(t *testing.T) {
	g := newGW(t)
	hdr := []string{"Ward-Patient", g.patient.String()}
	text, _ := json.Marshal("Call her on \u0666\u0661\u0667-\u0665\u0665\u0665-\u0660\u0661\u0664\u0662 or " +
		"\U0001d7d4\U0001d7cf\U0001d7d5-\U0001d7d3\U0001d7d3\U0001d7d3-\U0001d7ce\U0001d7cf\U0001d7d2\U0001d7d0 or " +
		"617\u00b7555\u00b70142; born \u00b9\u2079\u2076\u00b2-\u2070\u2077-\u00b9\u2074, or 1962\u205307\u205314.")
	body := json.RawMessage(`{"model":"` + model + `","max_tokens":64,"messages":[` +
		`{"role":"user","content":` + string(text) + `},` +
		`{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"lookup",` +
		`"input":{"phone":6.175550142e9,"dob":1.9620714E7,"mrn":884213.0}}]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"ok"}]}]}`)
	resp, rb := g.request("POST", "/llm/v1/messages", g.o.Prov.Token, body, hdr...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, rb)
	}
	up := g.up.calls()
	if len(up) != 1 {
		t.Fatalf("%d upstream calls", len(up))
	}
	for _, c := range []string{"\u0665\u0665\u0665", "\U0001d7d3\U0001d7d3\U0001d7d3", "\u00b9\u2079\u2076\u00b2", "555\u00b70142",
		"6.175550142e9", "1.9620714E7"} {
		if holdsCanary(string(up[0].Body), c) {
			t.Errorf("the upstream request holds %q", c)
		}
	}
	sent := phi.Normalize(string(up[0].Body))
	noCanary(t, "the upstream request (normalized)", sent)
	for _, c := range []string{"555.0142", "6175550142", "19620714", "07-14", "07\u205314"} {
		if holdsCanary(sent, c) {
			t.Errorf("the upstream request holds %q: %s", c, sent)
		}
	}

	// A field Ward sends as it is refuses the record's phone number
	// written with an exponent, before anything leaves.
	for _, n := range []string{`6.175550142e9`, `1.9620714E7`} {
		resp, rb = g.request("POST", "/llm/v1/messages", g.o.Prov.Token, json.RawMessage(`{"model":"`+model+
			`","max_tokens":64,"x_ref":`+n+`,"messages":[{"role":"user","content":"hi"}]}`), hdr...)
		if resp.StatusCode != http.StatusBadRequest || gatewayErr(t, rb) != "invalid_request_error" {
			t.Errorf("x_ref %s: %d %s", n, resp.StatusCode, rb)
		}
	}
	if n := len(g.up.calls()); n != 1 {
		t.Errorf("a refused call reached the upstream (%d calls)", n)
	}
}

// The named patient's identity hidden where Ward sends strings as they
// are: joined into a container id or a tool's name, or inside what the
// org's policy lets pass unread (an image's URL, an MCP server's address).
// Each call is refused (400, the field named, not the value) before
// anything reaches the upstream; the same calls without Ward-Patient pass,
// since Ward cannot know the name then.
func TestGatewayAttackRecordInSentAsIs(t *testing.T) {
	g := newGW(t)
	g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}, Allow: []string{gateway.AllowImages, gateway.AllowMCP}})
	hdr := []string{"Ward-Patient", g.patient.String()}
	msgs := `"messages":[{"role":"user","content":"Summarise the chart."}]`
	for _, b := range []string{
		`{"model":"` + model + `","max_tokens":64,"container":"rosalind_vantongeren",` + msgs + `}`,
		`{"model":"` + model + `","max_tokens":64,"tools":[{"name":"chart_RosalindVantongeren","input_schema":{"type":"object"}}],` + msgs + `}`,
		`{"model":"` + model + `","max_tokens":64,"messages":[{"role":"user","content":[{"type":"image",` +
			`"source":{"type":"url","url":"https://img.example.org/scan?who=Rosalind%20Vantongeren"}}]}]}`,
		`{"model":"` + model + `","max_tokens":64,"mcp_servers":[{"type":"url","name":"chart",` +
			`"url":"https://mcp.example.org/p/617-555-0142"}],` + msgs + `}`,
	} {
		resp, rb := g.request("POST", "/llm/v1/messages", g.o.Prov.Token, json.RawMessage(b), hdr...)
		if resp.StatusCode != http.StatusBadRequest || gatewayErr(t, rb) != "invalid_request_error" {
			t.Errorf("%s: %d %s", b, resp.StatusCode, rb)
		}
		noCanary(t, "the error", string(rb))
	}
	if n := len(g.up.calls()); n != 0 {
		t.Fatalf("a refused call reached the upstream: %s", g.up.all())
	}
}

// Credentials of other kinds on the Messages and count_tokens routes: a
// session pending its second factor, a DPoP-bound session as a bearer
// token or without its proof, a SCIM token, an API key without the gateway
// scope, and a browser's session cookie sent cross-site. Each is refused
// before anything reaches the upstream.
func TestGatewayAttackOtherCredentials(t *testing.T) {
	g := newGW(t)
	pending := g.signInAAL1(g.o.Admin.Email, g.o.ID)
	scimTok := g.createSCIMToken(g.o, "").Secret
	members := g.createKey(g.o, auth.ScopeMembers).Key
	body := map[string]any{"model": model, "max_tokens": 16,
		"messages": []any{map[string]any{"role": "user", "content": "Rosalind Vantongeren, 617-555-0142"}}}
	for _, path := range []string{"/llm/v1/messages", "/llm/v1/messages/count_tokens"} {
		for _, c := range []struct {
			what  string
			token string
			hdr   []string
		}{
			{"a session pending its second factor", pending, nil},
			{"a bound session as a bearer token", "", []string{"Authorization", "Bearer " + g.o.Prov.Token}},
			{"a bound session without its proof", "", []string{"Authorization", "DPoP " + g.o.Prov.Token}},
			{"a SCIM token", "", []string{"Authorization", "Bearer " + scimTok}},
			{"an API key without the gateway scope", members, nil},
			{"a session cookie sent cross-site", "", []string{"Cookie", "ward_session=" + g.o.PatUser.Token,
				"Sec-Fetch-Site", "cross-site", "Origin", "https://attacker.example"}},
		} {
			resp, rb := g.request("POST", path, c.token, body, c.hdr...)
			if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s, %s: %d %s", c.what, path, resp.StatusCode, rb)
			}
			noCanary(t, "the error", string(rb))
		}
	}
	if n := len(g.up.calls()); n != 0 {
		t.Fatalf("a refused caller reached the upstream (%d calls)", n)
	}
}
