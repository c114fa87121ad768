package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/vault/blob"
)

// A document takes new versions only from whoever created it, the party
// it was requested from, or those who manage its case (migration 00125;
// an attacker's review, MEDIUM: an employer with the upload permission
// replaced the clinic's medical report, and the attorney downloaded the
// employer's file).
func TestDocumentVersionParties(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Parties Clinic")
	w.populate(o, "dp")
	var c caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Claim"}, http.StatusCreated, &c)
	cid := c.ID.String()
	employer := w.joined(o.Lead.Token, cid, "hr@employer.test", "employer", "view", "upload", "download")
	attorney := w.joined(o.Lead.Token, cid, "att@law.test", "attorney", "view", "upload", "download")

	// The clinic's report: nobody else's version replaces it.
	resp, b := w.upload("POST", "/v1/cases/"+cid+"/files", o.Lead.Token, "report.pdf", []byte("%PDF-1.7\nreport"),
		"Ward-Document-Type", "medical_report")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("clinic upload: %d %s", resp.StatusCode, b)
	}
	var report docJSON
	_ = json.Unmarshal(b, &report)
	content := "/v1/documents/" + report.ID.String() + "/content"
	if resp, b := w.upload("PUT", content, employer.Token, "forged.pdf", []byte("%PDF-1.7\nFORGED")); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("the employer replaces the clinic's report: %d %s", resp.StatusCode, b)
	}
	if _, got, err := w.download(content, attorney.Token); err != nil || !bytes.Contains(got, []byte("report")) {
		t.Fatalf("the attorney's download after the refused replacement: %v %q", err, got)
	}
	// Those who manage the case still add versions.
	if resp, b := w.upload("PUT", content, o.Prov.Token, "report-v3.pdf", []byte("%PDF-1.7\nreport v3")); resp.StatusCode != http.StatusCreated {
		t.Fatalf("a care-team provider's new version: %d %s", resp.StatusCode, b)
	}

	// A document requested from the employer: the employer provides it
	// (and corrects it), the attorney cannot.
	var req docJSON
	w.do("POST", "/v1/cases/"+cid+"/documents", o.Lead.Token, map[string]any{"type": "wage_statement",
		"due_at": time.Now().Add(72 * time.Hour), "requested_from": employer.ID}, http.StatusCreated, &req)
	reqContent := "/v1/documents/" + req.ID.String() + "/content"
	if resp, b := w.upload("PUT", reqContent, attorney.Token, "wages.pdf", []byte("%PDF-1.7\nnot mine")); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("the attorney provides what was asked of the employer: %d %s", resp.StatusCode, b)
	}
	for _, v := range []string{"wages", "wages corrected"} {
		if resp, b := w.upload("PUT", reqContent, employer.Token, "wages.pdf", []byte("%PDF-1.7\n"+v)); resp.StatusCode != http.StatusCreated {
			t.Fatalf("the employer provides the requested document (%s): %d %s", v, resp.StatusCode, b)
		}
	}
	// The attorney's own filing takes the attorney's versions.
	resp, b = w.upload("POST", "/v1/cases/"+cid+"/files", attorney.Token, "brief.pdf", []byte("%PDF-1.7\nbrief"),
		"Ward-Document-Type", "legal_brief")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("attorney upload: %d %s", resp.StatusCode, b)
	}
	var brief docJSON
	_ = json.Unmarshal(b, &brief)
	briefContent := "/v1/documents/" + brief.ID.String() + "/content"
	if resp, b := w.upload("PUT", briefContent, attorney.Token, "brief-v2.pdf", []byte("%PDF-1.7\nbrief v2")); resp.StatusCode != http.StatusCreated {
		t.Fatalf("the attorney's new version of their own filing: %d %s", resp.StatusCode, b)
	}
	if resp, b := w.upload("PUT", briefContent, employer.Token, "brief-x.pdf", []byte("%PDF-1.7\nx")); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("the employer replaces the attorney's filing: %d %s", resp.StatusCode, b)
	}

	// Only those who manage the case request documents (00126): a
	// stakeholder cannot ask the admin, a patient or an unknown id for
	// one, and the answer is the same for each (no membership oracle).
	for _, from := range []string{o.Admin.ID.String(), o.PatUser2.ID.String(), uuid.NewString()} {
		resp, b := w.request("POST", "/v1/cases/"+cid+"/documents", employer.Token, map[string]any{"type": "anything",
			"due_at": time.Now().Add(72 * time.Hour), "requested_from": from})
		if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "forbidden" {
			t.Fatalf("a stakeholder's document request: %d %s", resp.StatusCode, b)
		}
	}

	// The database refuses too: a version row into the clinic's report
	// under the employer's credential, past the server's check.
	cred := w.cred(employer.Token)
	cred.Org = o.ID.String()
	err := w.env.App.InTenantTx(t.Context(), cred, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `insert into app.document_versions (org_id, case_id, document_id, version, storage_key,
		    data_key, size, sha256, content_type, filename_enc, uploaded_by)
		  values ($1, $2, $3, 99, $4, '\x00', 1, sha256('x'), 'application/pdf', '\x00', $5)`,
			o.ID, c.ID, report.ID, blob.ObjectKey(o.ID, uuid.New()), employer.ID)
		return err
	})
	if !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
		t.Fatalf("a version row into another party's document under the employer's credential: %v", err)
	}
}
