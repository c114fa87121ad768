package httpapi_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"
)

// TestPatientExportDocuments: with "documents": true the right-of-access
// export is an age-encrypted tar archive of the JSON document and every
// version of every live document of the patient's cases, each byte for
// byte as uploaded, at a path that stays in its folder; nothing of another
// patient's cases, of a case with no patient or of a deleted document; the
// downloads are recorded in the export's transaction;
// a file the store lost is left out and listed at the end of a whole archive,
// and a file that fails after its first bytes cuts the archive so that it
// does not decrypt.
func TestPatientExportDocuments(t *testing.T) {
	const mib = 1 << 20
	w := newWorld(t)
	o := w.createOrg("Export Docs Org")
	w.populate(o, "expd")
	ctx := context.Background()

	newCase := func(patient *uuid.UUID, title string) uuid.UUID {
		t.Helper()
		body := map[string]any{"title": title}
		if patient != nil {
			body["patient_id"] = *patient
		}
		var c caseJSON
		w.do("POST", "/v1/cases", o.Lead.Token, body, http.StatusCreated, &c)
		return c.ID
	}
	upload := func(method, path, name string, data []byte) docJSON {
		t.Helper()
		resp, b := w.upload(method, path, o.Lead.Token, name, data, "Ward-Document-Type", "medical_report")
		var d docJSON
		if resp.StatusCode/100 != 2 || json.Unmarshal(b, &d) != nil {
			t.Fatalf("upload %s: %d %s", name, resp.StatusCode, b)
		}
		return d
	}
	claim := newCase(&o.P1, "Claim 2026-114")
	second := newCase(&o.P1, "Follow-up")
	otherPatient := newCase(&o.P2, "Another patient's claim")
	noPatient := newCase(nil, "Employer policy")

	report := upload("POST", "/v1/cases/"+claim.String()+"/files", "Lab results May.pdf", []byte("%PDF-1.7\nv1 of the report"))
	upload("PUT", "/v1/documents/"+report.ID.String()+"/content", "Lab results May.pdf", []byte("%PDF-1.7\nv2, corrected"))
	history := upload("POST", "/v1/cases/"+second.String()+"/files", "work history.txt", []byte("work history"))
	big := randomBytes(3*mib/2, 7) // two of the store's segments, many of age's chunks
	scan := upload("POST", "/v1/cases/"+claim.String()+"/files", "scan.bin", big)
	gone := upload("POST", "/v1/cases/"+second.String()+"/files", "withdrawn.txt", []byte("withdrawn"))
	w.do("DELETE", "/v1/documents/"+gone.ID.String(), o.Lead.Token, nil, http.StatusNoContent, nil)
	upload("POST", "/v1/cases/"+otherPatient.String()+"/files", "other.txt", []byte("not P1's"))
	upload("POST", "/v1/cases/"+noPatient.String()+"/files", "policy.txt", []byte("no patient's"))
	want := map[string][]byte{ // by version: what P1's export must carry
		"v1 of the report": []byte("%PDF-1.7\nv1 of the report"),
		"v2, corrected":    []byte("%PDF-1.7\nv2, corrected"),
		"work history":     []byte("work history"),
		string(big):        big,
	}

	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	p1 := "/v1/patients/" + o.P1.String() + "/export"
	export := func(token string) (*http.Response, []byte) {
		t.Helper()
		return w.request("POST", p1, token, map[string]any{"recipient": id.Recipient().String(), "documents": true})
	}
	type manifest struct {
		Format    string `json:"format"`
		Documents []struct {
			Path        string    `json:"path"`
			CaseID      uuid.UUID `json:"case_id"`
			CaseTitle   string    `json:"case_title"`
			DocumentID  uuid.UUID `json:"document_id"`
			VersionID   uuid.UUID `json:"version_id"`
			Version     int       `json:"version"`
			FileName    string    `json:"file_name"`
			Size        int64     `json:"size"`
			SHA256      string    `json:"sha256"`
			ContentType string    `json:"content_type"`
		} `json:"documents"`
	}
	open := func(sealed []byte) (manifest, map[string][]byte) {
		t.Helper()
		r, err := age.Decrypt(bytes.NewReader(sealed), id)
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(r)
		var m manifest
		files := map[string][]byte{}
		for i := 0; ; i++ {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				if h.Name != "export.json" || json.Unmarshal(b, &m) != nil {
					t.Fatalf("the archive opens with %q, not export.json", h.Name)
				}
				continue
			}
			files[h.Name] = b
		}
		return m, files
	}
	for _, who := range []struct {
		name  string
		token string
	}{{"the patient", o.PatUser.Token}, {"an admin", o.Admin.Token}} {
		resp, sealed := export(who.token)
		if resp.StatusCode != http.StatusOK || !strings.HasSuffix(resp.Header.Get("Content-Disposition"), `.tar.age"`) ||
			bytes.Contains(sealed, []byte("work history")) {
			t.Fatalf("%s: %d %q, or in the clear: %.200s", who.name, resp.StatusCode, resp.Header.Get("Content-Disposition"), sealed)
		}
		m, files := open(sealed)
		if m.Format != "ward.patient-export/1" || len(m.Documents) != len(want) || len(files) != len(want) {
			t.Fatalf("%s: format %q, %d documents listed, %d files, want %d", who.name, m.Format, len(m.Documents), len(files), len(want))
		}
		for _, d := range m.Documents {
			got, ok := files[d.Path]
			sum := sha256.Sum256(got)
			if !ok || !bytes.Equal(got, want[strings.TrimPrefix(string(got), "%PDF-1.7\n")]) ||
				hex.EncodeToString(sum[:]) != d.SHA256 || int64(len(got)) != d.Size {
				t.Fatalf("%s: %s: %q (listed sha256 %s, size %d)", who.name, d.Path, got, d.SHA256, d.Size)
			}
			if d.CaseID != claim && d.CaseID != second {
				t.Fatalf("%s: a document of case %s", who.name, d.CaseID)
			}
			prefix := "documents/" + d.CaseID.String() + "/" + d.DocumentID.String() + "/v"
			if !strings.HasPrefix(d.Path, prefix) || strings.Contains(d.Path[len(prefix):], "/") ||
				strings.Contains(d.Path, "..") {
				t.Fatalf("%s: path %q leaves its folder", who.name, d.Path)
			}
		}
		if _, ok := files["documents/"+claim.String()+"/"+report.ID.String()+"/v2-Lab_results_May.pdf"]; !ok {
			t.Fatalf("%s: the report's second version is not at its path: %v", who.name, m.Documents)
		}
	}

	// Without "documents" the export is the JSON document as before, with
	// no documents in it.
	resp, sealed := w.request("POST", p1, o.PatUser.Token, map[string]any{"recipient": id.Recipient().String()})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export without documents: %d %s", resp.StatusCode, sealed)
	}
	r, err := age.Decrypt(bytes.NewReader(sealed), id)
	if err != nil {
		t.Fatal(err)
	}
	var plain map[string]any
	if err := json.NewDecoder(r).Decode(&plain); err != nil {
		t.Fatalf("export without documents is not JSON: %v", err)
	}
	if _, ok := plain["documents"]; ok || plain["format"] != "ward.patient-export/1" {
		t.Fatalf("export without documents: %v", plain["documents"])
	}

	// Audited in the export's transaction: the export lists every version,
	// and each was recorded as a download by the same request.
	var events, downloads, listed int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*), sum((select count(*) from audit.events d
		  where d.org_id = e.org_id and d.request_id = e.request_id and d.action = 'document.download'
		    and d.actor_id = e.actor_id and d.details->>'via' = 'patient.export')), sum((e.details->>'documents')::int)
		from audit.events e where e.org_id = $1 and e.action = 'patient.export' and e.outcome = 'success'
		  and e.details ? 'documents'`, o.ID).Scan(&events, &downloads, &listed); err != nil {
		t.Fatal(err)
	}
	if events != 2 || downloads != 2*len(want) || listed != 2*len(want) {
		t.Fatalf("%d exports with documents, %d downloads in their requests, %d documents listed; want 2, %d, %d",
			events, downloads, listed, 2*len(want), 2*len(want))
	}

	// Another org's admin with P1's id finds nothing; a malformed flag is
	// a 400 before anything is read.
	other := w.createOrg("Export Docs Other Org")
	if resp, b := export(other.Admin.Token); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another org's export: %d %s", resp.StatusCode, b)
	}
	if resp, b := w.request("POST", p1, o.Admin.Token, map[string]any{"recipient": id.Recipient().String(), "documents": "yes"}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), `"status":400`) {
		t.Fatalf("documents: \"yes\": %d %s", resp.StatusCode, b)
	}
	// Neither another patient nor a provider may export P1's documents.
	if resp, b := export(o.PatUser2.Token); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another patient's export: %d %s", resp.StatusCode, b)
	}
	if resp, b := export(o.Prov.Token); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a provider's export: %d %s", resp.StatusCode, b)
	}

	// A stored object the store lost: the archive leaves it out, ends
	// whole and says so at its end (unavailable.json); the export's
	// manifest still lists it, and what did not arrive is recorded.
	var lostKey string
	var lostVersion uuid.UUID
	if err := w.env.Super.Pool.QueryRow(ctx, `select storage_key, id from app.document_versions
		where document_id = $1 and version = 1`, history.ID).Scan(&lostKey, &lostVersion); err != nil {
		t.Fatal(err)
	}
	rc, err := w.blobs.Open(ctx, lostKey, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	kept, _ := io.ReadAll(rc)
	rc.Close()
	if err := w.blobs.Delete(ctx, lostKey); err != nil {
		t.Fatal(err)
	}
	resp, sealed = export(o.PatUser.Token)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export with a lost object: %d %s", resp.StatusCode, sealed)
	}
	m, files := open(sealed) // fails the test unless age and tar end cleanly
	var lost struct {
		Files []struct {
			Path      string    `json:"path"`
			VersionID uuid.UUID `json:"version_id"`
			Reason    string    `json:"reason"`
		} `json:"files"`
	}
	if err := json.Unmarshal(files["unavailable.json"], &lost); err != nil || len(lost.Files) != 1 ||
		lost.Files[0].VersionID != lostVersion || lost.Files[0].Reason != "unreadable" {
		t.Fatalf("unavailable.json: %s (%v)", files["unavailable.json"], err)
	}
	if _, ok := files[lost.Files[0].Path]; ok || len(files) != len(want) || len(m.Documents) != len(want) {
		t.Fatalf("export with a lost object: %d files (unavailable.json included), %d listed, want %d", len(files), len(m.Documents), len(want))
	}
	var short int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1
		and action = 'patient.export' and outcome = 'failure' and patient_id = $2
		and details->>'reason' = 'files_unavailable' and result_ids = array[$3::uuid]
		and (details->>'files_written')::int = $4`, o.ID, o.P1, lostVersion, len(want)-1).Scan(&short); err != nil {
		t.Fatal(err)
	}
	if short != 1 {
		t.Fatalf("%d exports with left-out files recorded, want 1", short)
	}
	if _, err := w.blobs.Put(ctx, lostKey, bytes.NewReader(kept)); err != nil {
		t.Fatal(err)
	}

	// A stored object that no longer decrypts (its second segment, so the
	// response has begun): the archive is cut before age's last chunk, so
	// it cannot be taken for a whole one.
	var key string
	if err := w.env.Super.Pool.QueryRow(ctx, `select storage_key from app.document_versions
		where document_id = $1 and version = 1`, scan.ID).Scan(&key); err != nil {
		t.Fatal(err)
	}
	rc, err = w.blobs.Open(ctx, key, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := io.ReadAll(rc)
	rc.Close()
	ct[mib+500] ^= 0x40
	if _, err := w.blobs.Put(ctx, key, bytes.NewReader(ct)); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", w.srv.URL+p1, strings.NewReader(`{"recipient":"`+id.Recipient().String()+`","documents":true}`))
	if err != nil {
		t.Fatal(err)
	}
	w.authorize(req, o.PatUser.Token)
	req.Header.Set("Content-Type", "application/json")
	cut, err := w.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("the cut export: %v (its first file and a segment of the second precede the cut)", err)
	}
	body, readErr := io.ReadAll(cut.Body)
	cut.Body.Close()
	if cut.StatusCode != http.StatusOK || len(body) < mib {
		t.Fatalf("the cut export: %d, %d bytes before the cut (read error %v)", cut.StatusCode, len(body), readErr)
	}
	// Whatever the transport saw of the end, age refuses the stream.
	if r, err := age.Decrypt(bytes.NewReader(body), id); err == nil {
		if _, err := io.Copy(io.Discard, r); err == nil {
			t.Fatal("an archive with a file that does not decrypt was served whole")
		}
	}
	if readErr == nil {
		t.Fatal("the cut export ended cleanly")
	}
	// The cut is recorded beside the export's success.
	var cuts int
	deadline := time.Now().Add(30 * time.Second)
	for cuts == 0 && time.Now().Before(deadline) {
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1
			and action = 'patient.export' and outcome = 'failure' and patient_id = $2
			and details->>'reason' = 'archive_cut' and (details->>'files_written')::int < (details->>'documents')::int`,
			o.ID, o.P1).Scan(&cuts); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if cuts != 1 {
		t.Fatalf("%d cut exports recorded, want 1", cuts)
	}
}
