package httpapi_test

import (
	"context"
	"net/http"
	"testing"
)

// The right-of-access export is the widest door PHI leaves by: an admin,
// who may export any patient's record and documents, steps up first (a
// second factor within 10 minutes, as for the audit export); a patient
// exporting their own record does not need to.
func TestPatientExportStepUpForStaff(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Export Step-up Clinic")
	w.populate(o, "xs")
	age := func(token string) {
		t.Helper()
		if _, err := w.env.Super.Pool.Exec(context.Background(), `update app.sessions
			set authenticated_at = now() - interval '20 hours' where token_hash = sha256($1::bytea)`, []byte(token)); err != nil {
			t.Fatal(err)
		}
	}
	body := map[string]any{"passphrase": "correct horse battery staple export"}
	export := "/v1/patients/" + o.P1.String() + "/export"
	if resp, b := w.request("POST", export, o.Admin.Token, body); resp.StatusCode != http.StatusOK {
		t.Fatalf("a fresh admin's export: %d %s", resp.StatusCode, b)
	}
	age(o.Admin.Token)
	if resp, b := w.request("POST", export, o.Admin.Token, body); resp.StatusCode != http.StatusForbidden ||
		problemCode(t, b) != "step_up_required" {
		t.Fatalf("an admin's export 20 hours after their sign-in: %d %s", resp.StatusCode, b)
	}
	age(o.PatUser.Token)
	if resp, b := w.request("POST", export, o.PatUser.Token, body); resp.StatusCode != http.StatusOK {
		t.Fatalf("the patient's own export: %d %s", resp.StatusCode, b)
	}
}
