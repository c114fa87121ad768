package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestNoPHIInJSONErrors: a request body's keys are the caller's text as
// much as its values: a misplaced name, date of birth or address given as
// a key (a client that nests a record by its name, a form posted whole) is
// not repeated in the problem document of the 400, on any of the JSON
// decoders (decode, the merge patch, strictUnmarshal).
func TestNoPHIInJSONErrors(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Echo Org")
	w.populate(o, "e")
	phi := []string{"jane.doe@example.com", "Jane Q Doe 1970-03-04", "12 Elm St, Springfield"}
	for _, key := range phi {
		P := "/v1/patients/" + o.P1.String()
		full := map[string]any{"name": "A", "dob": "", "phone": "", "email": "", "address": "", "mrn": "", "identifiers": map[string]string{}}
		full[key] = "x"
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/v1/patients", map[string]any{"name": "A", key: "x"}},
			{"POST", "/v1/patients/search", map[string]any{"mrn": "x", key: "x"}},
			{"PATCH", P, map[string]any{key: "x"}},
			{"PUT", P, full},
			{"POST", "/v1/auth/magic-link", map[string]any{"email": "a@example.test", key: "x"}},
		} {
			resp, b := w.request(c.method, c.path, o.Lead.Token, c.body)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s %s with key %q: status %d: %s", c.method, c.path, key, resp.StatusCode, b)
			}
			if strings.Contains(string(b), key) || strings.Contains(string(b), "jane") || strings.Contains(string(b), "Elm") {
				t.Errorf("%s %s: the problem repeats the body's key %q: %s", c.method, c.path, key, b)
			}
		}
	}
}
