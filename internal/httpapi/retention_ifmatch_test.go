package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/wardhq/ward/internal/identity"
)

// Two admins saving the retention policy at once do not overwrite each
// other unknowingly (migration 00250): GET and PUT send the policy's
// version as an ETag; a PUT with If-Match of a version replaced since is
// 412 and changes nothing (nor is it audited as a change), one with the
// current version or * succeeds, one without If-Match replaces whatever
// is there (as the org's other policies), the same policy always has the
// same version, and of two saves at once from one version exactly one
// succeeds.
func TestRetentionPolicyIfMatch(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Version Clinic")
	w.populate(o, "rtv")
	second := w.addMember(o, "rtv-admin2@example.test", identity.RoleAdmin)

	get := func(token string) (string, map[string]int) {
		t.Helper()
		resp, b := w.request("GET", "/v1/org/retention-policy", token, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("get: %d %s", resp.StatusCode, b)
		}
		var p struct {
			DocumentTypes map[string]int `json:"document_types"`
			Pending       map[string]struct {
				RetainDays int `json:"retain_days"`
			} `json:"pending"`
		}
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		// The policy as set: the days in force, or pending (00256).
		for k, v := range p.Pending {
			p.DocumentTypes[k] = v.RetainDays
		}
		return resp.Header.Get("ETag"), p.DocumentTypes
	}
	put := func(token string, types map[string]int, ifMatch string) (int, string) {
		t.Helper()
		var hdr []string
		if ifMatch != "" {
			hdr = []string{"If-Match", ifMatch}
		}
		resp, b := w.request("PUT", "/v1/org/retention-policy", token, map[string]any{"document_types": types}, hdr...)
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPreconditionFailed {
			t.Fatalf("put: %d %s", resp.StatusCode, b)
		}
		return resp.StatusCode, resp.Header.Get("ETag")
	}

	empty, _ := get(o.Prov.Token)
	if len(empty) != 66 || empty[0] != '"' {
		t.Fatalf("the empty policy's ETag %q", empty)
	}
	// Both admins read the same version; the first saves; the second's
	// save, made from the version it read, is refused and changes nothing.
	v0, _ := get(o.Admin.Token)
	if v, _ := get(second.Token); v != v0 || v0 != empty {
		t.Fatalf("two reads of one policy: %q %q %q", v0, v, empty)
	}
	code, v1 := put(o.Admin.Token, map[string]int{"wage_statement": 2555}, v0)
	if code != http.StatusOK || v1 == v0 || v1 == "" {
		t.Fatalf("the first admin's save: %d, ETag %q (was %q)", code, v1, v0)
	}
	events := w.auditCount(o.ID, "org.retention_policy.update", "success")
	if code, _ := put(second.Token, map[string]int{"lab_report": 3650}, v0); code != http.StatusPreconditionFailed {
		t.Fatalf("the second admin's save from a stale version: %d, want 412", code)
	}
	if v, p := get(o.Prov.Token); v != v1 || len(p) != 1 || p["wage_statement"] != 2555 {
		t.Fatalf("after the refused save: %q %v", v, p)
	}
	if n := w.auditCount(o.ID, "org.retention_policy.update", "success"); n != events {
		t.Fatalf("a refused save recorded a change (%d events, was %d)", n, events)
	}
	// Read again, the second admin saves on the current version (one of
	// several tags, a weak one never matching).
	code, v2 := put(second.Token, map[string]int{"wage_statement": 2555, "lab_report": 3650}, `W/`+v1+`, "0000", `+v1)
	if code != http.StatusOK || v2 == v1 {
		t.Fatalf("a save on the current version: %d %q", code, v2)
	}
	if code, _ := put(o.Admin.Token, map[string]int{"lab_report": 1}, `W/`+v2); code != http.StatusPreconditionFailed {
		t.Fatalf("a weak tag matched: %d", code)
	}
	// * and no If-Match: whatever the version.
	if code, v := put(o.Admin.Token, map[string]int{"wage_statement": 2555}, "*"); code != http.StatusOK || v != v1 {
		t.Fatalf("If-Match *: %d, ETag %q, want the version of the same policy %q", code, v, v1)
	}
	if code, v := put(o.Admin.Token, map[string]int{}, ""); code != http.StatusOK || v != empty {
		t.Fatalf("no If-Match: %d, ETag %q, want the empty policy's %q", code, v, empty)
	}

	// Two saves at once from the same version: one wins, the other is
	// refused (the version is compared under the lock that orders the
	// org's changes, not before it).
	codes := make(chan int, 2)
	for i, tok := range []string{o.Admin.Token, second.Token} {
		go func() {
			resp, _ := w.request("PUT", "/v1/org/retention-policy", tok,
				map[string]any{"document_types": map[string]int{"note": 10 + i}}, "If-Match", empty)
			codes <- resp.StatusCode
		}()
	}
	if a, b := <-codes, <-codes; a+b != http.StatusOK+http.StatusPreconditionFailed {
		t.Fatalf("two saves at once from one version: %d and %d, want one 200 and one 412", a, b)
	}
}
