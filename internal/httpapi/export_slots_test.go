package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/wardhq/ward/internal/identity"
)

// An export with documents reads, decrypts and records every version of
// every case document of the patient, so at most two of an org run at
// once, and one of each caller: while two are held open by clients that
// do not read, a third is
// 429 exports_busy with Retry-After; once they end it is served. An export
// of the record alone (no documents) is not counted, and another org's
// export with documents still gets a slot (export.Slots shares them
// fairly).
func TestPatientExportWithDocumentsCapped(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Export Slots Clinic")
	w.populate(o, "xq")
	var c caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Claim"}, http.StatusCreated, &c)
	// larger than the loopback's socket buffers, so an export whose client
	// reads nothing stays in its handler
	big := randomBytes(48<<20, 11)
	if resp, b := w.upload("POST", "/v1/cases/"+c.ID.String()+"/files", o.Lead.Token, "scan.bin", big,
		"Ward-Document-Type", "medical_report"); resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	path := "/v1/patients/" + o.P1.String() + "/export"
	body := func(docs bool) io.Reader {
		b, _ := json.Marshal(map[string]any{"passphrase": "correct horse battery staple export", "documents": docs})
		return bytes.NewReader(b)
	}
	var held []*http.Response
	second := w.addMember(o, "xq-admin2@example.test", identity.RoleAdmin)
	for i, token := range []string{o.Admin.Token, second.Token} {
		req, _ := http.NewRequest("POST", w.srv.URL+path, body(true))
		req.Header.Set("Content-Type", "application/json")
		w.authorize(req, token)
		resp, err := w.srv.Client().Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("held export: %v %v", err, resp)
		}
		held = append(held, resp)
		if i == 0 {
			// One caller holds one slot: the admin's second export waits,
			// though the org has a slot left.
			resp, b := w.request("POST", path, o.Admin.Token, map[string]any{
				"passphrase": "correct horse battery staple export", "documents": true})
			if resp.StatusCode != http.StatusTooManyRequests || problemCode(t, b) != "exports_busy" {
				t.Fatalf("a caller's second export with documents: %d %s", resp.StatusCode, b)
			}
		}
	}
	resp, b := w.request("POST", path, o.Admin.Token, map[string]any{"passphrase": "correct horse battery staple export",
		"documents": true})
	if resp.StatusCode != http.StatusTooManyRequests || problemCode(t, b) != "exports_busy" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a third export with documents: %d %s", resp.StatusCode, b)
	}
	if resp, b := w.request("POST", path, o.Admin.Token, map[string]any{"passphrase": "correct horse battery staple export"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("an export of the record alone: %d %.200s", resp.StatusCode, b)
	}
	// Another org's export with documents still gets a slot while this
	// org holds its maximum.
	x := w.createOrg("Export Slots Other")
	w.populate(x, "xr")
	if resp, b := w.request("POST", "/v1/patients/"+x.P1.String()+"/export", x.Admin.Token,
		map[string]any{"passphrase": "correct horse battery staple export", "documents": true}); resp.StatusCode != http.StatusOK {
		t.Fatalf("another org's export with documents: %d %.200s", resp.StatusCode, b)
	}
	for _, r := range held {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	if resp, b := w.request("POST", path, o.Admin.Token, map[string]any{"passphrase": "correct horse battery staple export",
		"documents": true}); resp.StatusCode != http.StatusOK {
		t.Fatalf("an export after the held ones ended: %d %.200s", resp.StatusCode, b)
	}
}
