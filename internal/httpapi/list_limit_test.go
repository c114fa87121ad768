package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/wardhq/ward/internal/httpapi"
)

// TestListLimits: every list route reads its page size the same way. An
// absent limit is the route's default and its documented maximum is
// served; a limit of 0, below 1, above the maximum, empty or not an
// integer is 400 invalid_query naming limit and its range, never clamped
// to the range nor taken for the default. A search body's limit out of
// range is 400 invalid_input.
func TestListLimits(t *testing.T) {
	w, o, d, attorney := commentsWorld(t, "lim")
	routes := []struct {
		path, token string
		max         int
	}{
		{"/v1/patients", o.Lead.Token, 200},
		{"/v1/patients/" + o.P1.String() + "/entries", o.Lead.Token, 500},
		{"/v1/patients/" + o.P1.String() + "/access-report", o.PatUser.Token, 1000},
		{"/v1/audit/events", o.Admin.Token, 1000},
		{"/v1/cases", o.Lead.Token, 200},
		{"/v1/cases/" + d.CaseID.String() + "/documents", o.Lead.Token, 200},
		{"/v1/documents/" + d.ID.String() + "/comments", attorney.Token, 200},
	}
	for _, rt := range routes {
		t.Run(strings.TrimPrefix(rt.path, "/v1/"), func(t *testing.T) {
			w.do("GET", rt.path, rt.token, nil, http.StatusOK, nil)
			w.do("GET", rt.path+"?limit=1", rt.token, nil, http.StatusOK, nil)
			w.do("GET", rt.path+"?limit="+strconv.Itoa(rt.max), rt.token, nil, http.StatusOK, nil)
			want := "limit must be an integer in 1.." + strconv.Itoa(rt.max)
			for _, v := range []string{"0", "-1", strconv.Itoa(rt.max + 1), "99999999999999999999", "abc", "1e2", ""} {
				resp, b := w.request("GET", rt.path+"?limit="+v, rt.token, nil)
				var p httpapi.Problem
				_ = json.Unmarshal(b, &p)
				if resp.StatusCode != http.StatusBadRequest || p.Code != "invalid_query" || p.Detail != want {
					t.Errorf("limit=%q: %d %s, want 400 invalid_query %q", v, resp.StatusCode, b, want)
				}
			}
		})
	}

	// The search bodies: out of range is refused, not clamped.
	for _, c := range []struct {
		path string
		body map[string]any
	}{
		{"/v1/cases/search", map[string]any{"reference": "none", "limit": 201}},
		{"/v1/cases/search", map[string]any{"reference": "none", "limit": -1}},
		{"/v1/patients/search", map[string]any{"mrn": "none", "limit": 201}},
	} {
		b := w.do("POST", c.path, o.Lead.Token, c.body, http.StatusBadRequest, nil)
		if code := problemCode(t, b); code != "invalid_input" || !strings.Contains(string(b), "limit must be 1..200") {
			t.Errorf("POST %s %v: %s", c.path, c.body, b)
		}
	}
	w.do("POST", "/v1/cases/search", o.Lead.Token, map[string]any{"reference": "none", "limit": 200}, http.StatusOK, nil)
}
