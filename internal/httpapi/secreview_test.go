package httpapi_test

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var requestIDRE = regexp.MustCompile(`"request_id":"[0-9a-f]*"`)

// TestNoPHIInJSONErrors: a request body's keys are the caller's text as
// much as its values: a misplaced name, date of birth or address given as
// a key (a client that nests a record by its name, a form posted whole) is
// not repeated in the problem document of the 400, on any of the JSON
// decoders (decode, the merge patch, strictUnmarshal).
func TestNoPHIInJSONErrors(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Echo Org")
	w.populate(o, "e")
	// Keys of letters, digits and dashes alone too: a date, a phone
	// number, an SSN, a record number (they passed for field names).
	phi := []string{"jane.doe@example.com", "Jane Q Doe 1970-03-04", "12 Elm St, Springfield",
		"1970-03-04", "617-555-0142", "123-45-6789", "MRN884213", "dob19700304"}
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
			resp, raw := w.request(c.method, c.path, o.Lead.Token, c.body)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s %s with key %q: status %d: %s", c.method, c.path, key, resp.StatusCode, raw)
			}
			// The request id is random hex, which holds "0142" or "6789"
			// about once in 3,000 answers: the problem without it.
			b := requestIDRE.ReplaceAll(raw, nil)
			if strings.Contains(string(b), key) || strings.Contains(string(b), "jane") || strings.Contains(string(b), "Elm") ||
				strings.Contains(string(b), "0142") || strings.Contains(string(b), "6789") || strings.Contains(string(b), "884213") {
				t.Errorf("%s %s: the problem repeats the body's key %q: %s", c.method, c.path, key, b)
			}
		}
		// The JSON checks name a key's path: a repeated key, a NUL in
		// its value.
		for _, raw := range []string{`{"name":"A",` + strconv.Quote(key) + `:1,` + strconv.Quote(key) + `:2}`,
			`{"name":"A",` + strconv.Quote(key) + `:"a\u0000b"}`} {
			req, err := http.NewRequest("POST", w.srv.URL+"/v1/patients", strings.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			w.authorize(req, o.Lead.Token)
			resp, err := w.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || strings.Contains(string(b), key) {
				t.Errorf("POST /v1/patients %s: %d %s", raw, resp.StatusCode, b)
			}
		}
	}
}
