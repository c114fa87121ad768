package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// docVersionsWorld is an org with a case on P1 and a clinic that may
// upload to it.
func docVersionsWorld(t *testing.T, prefix string) (*world, *org, string, stakeholder) {
	w := newWorld(t)
	o := w.createOrg("Versions Clinic " + prefix)
	w.populate(o, prefix)
	var c caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Claim"}, http.StatusCreated, &c)
	clinic := w.joined(o.Lead.Token, c.ID.String(), "doc@clinic-"+prefix+".test", "clinic", "view", "upload")
	return w, o, c.ID.String(), clinic
}

// objects counts the org's objects in the blob store.
func (w *world) objects(org uuid.UUID) int {
	w.t.Helper()
	n := 0
	if err := w.blobs.List(context.Background(), "orgs/"+org.String()+"/", func(string, time.Time) error {
		n++
		return nil
	}); err != nil {
		w.t.Fatal(err)
	}
	return n
}

// versionCount counts the org's document versions (as superuser).
func (w *world) versionCount(org uuid.UUID) int {
	w.t.Helper()
	var n int
	if err := w.env.Super.Pool.QueryRow(context.Background(),
		`select count(*) from app.document_versions where org_id = $1`, org).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

// TestDocumentAcceptNamesVersion: an acceptance names the version the
// manager reviewed; one uploaded since is not accepted in its place.
func TestDocumentAcceptNamesVersion(t *testing.T) {
	w, o, cid, clinic := docVersionsWorld(t, "av")
	var d docJSON
	w.do("POST", "/v1/cases/"+cid+"/documents", o.Lead.Token, map[string]any{"type": "medical_report",
		"requested_from": clinic.ID}, http.StatusCreated, &d)
	doc := "/v1/documents/" + d.ID.String()
	genuine, altered := []byte("%PDF-1.7\nGENUINE report"), []byte("%PDF-1.7\nALTERED report")
	if resp, b := w.upload("PUT", doc+"/content", clinic.Token, "r.pdf", genuine); resp.StatusCode != http.StatusCreated {
		t.Fatalf("v1: %d %s", resp.StatusCode, b)
	}
	resp, _, _ := w.download(doc+"/content", o.Lead.Token)
	reviewed := resp.Header.Get("ETag")
	// The party swaps the file between the review and the acceptance.
	resp, _ = w.upload("PUT", doc+"/content", clinic.Token, "r.pdf", altered)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("v2: %d", resp.StatusCode)
	}
	latest := resp.Header.Get("ETag")

	accept := doc + "/accept"
	resp, b := w.request("POST", accept, o.Lead.Token, nil)
	if resp.StatusCode != http.StatusPreconditionRequired || problemCode(t, b) != "precondition_required" {
		t.Errorf("accept naming no version: %d %s", resp.StatusCode, b)
	}
	resp, b = w.request("POST", accept, o.Lead.Token, nil, "If-Match", "*")
	if resp.StatusCode != http.StatusPreconditionRequired {
		t.Errorf("accept with If-Match *: %d %s", resp.StatusCode, b)
	}
	resp, b = w.request("POST", accept, o.Lead.Token, nil, "If-Match", reviewed)
	if resp.StatusCode != http.StatusPreconditionFailed || problemCode(t, b) != "precondition_failed" {
		t.Errorf("accept with the reviewed (older) version's ETag: %d %s", resp.StatusCode, b)
	}
	resp, b = w.request("POST", accept, o.Lead.Token, map[string]any{"version": 1})
	if resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("accept of version 1 of 2: %d %s", resp.StatusCode, b)
	}
	resp, b = w.request("POST", accept, o.Lead.Token, map[string]any{"version": 2}, "If-Match", reviewed)
	if resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("accept of version 2 with version 1's ETag: %d %s", resp.StatusCode, b)
	}
	var got struct {
		AcceptedAt      *time.Time `json:"accepted_at"`
		AcceptedVersion *int       `json:"accepted_version"`
	}
	w.do("GET", doc, o.Lead.Token, nil, http.StatusOK, &got)
	if got.AcceptedAt != nil || got.AcceptedVersion != nil {
		t.Fatalf("refused acceptances accepted: %+v", got)
	}

	// The manager reviews version 2 and accepts it by its ETag.
	if resp, b := w.request("POST", accept, o.Lead.Token, nil, "If-Match", `"nope", `+latest); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("accept by the latest version's ETag: %d %s", resp.StatusCode, b)
	}
	w.do("GET", doc, o.Lead.Token, nil, http.StatusOK, &got)
	if got.AcceptedAt == nil || got.AcceptedVersion == nil || *got.AcceptedVersion != 2 {
		t.Fatalf("accepted: %+v", got)
	}
	var version int
	if err := w.env.Super.Pool.QueryRow(t.Context(), `select (details->>'version')::int from audit.events
	    where org_id = $1 and action = 'document.accept' and outcome = 'success'`, o.ID).Scan(&version); err != nil || version != 2 {
		t.Errorf("document.accept event names version %d (%v)", version, err)
	}

	// A manager's later version does not replace the accepted one in a
	// download that names no version.
	third := []byte("%PDF-1.7\nmanager's annotated copy")
	if resp, b := w.upload("PUT", doc+"/content", o.Lead.Token, "r.pdf", third); resp.StatusCode != http.StatusCreated {
		t.Fatalf("v3 by the lead: %d %s", resp.StatusCode, b)
	}
	if _, body, _ := w.download(doc+"/content", o.Lead.Token); string(body) != string(altered) {
		t.Errorf("download with no version serves %q, want the accepted version 2", body)
	}
	if _, body, _ := w.download(doc+"/content?version=3", o.Lead.Token); string(body) != string(third) {
		t.Errorf("download of version 3 serves %q", body)
	}

	t.Run("the database accepts only the latest version", func(t *testing.T) {
		var d2 docJSON
		resp, b := w.upload("POST", "/v1/cases/"+cid+"/files", o.Lead.Token, "n.pdf", genuine, "Ward-Document-Type", "note")
		_ = json.Unmarshal(b, &d2)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload: %d %s", resp.StatusCode, b)
		}
		if resp, b := w.upload("PUT", "/v1/documents/"+d2.ID.String()+"/content", o.Lead.Token, "n.pdf", altered); resp.StatusCode != http.StatusCreated {
			t.Fatalf("v2: %d %s", resp.StatusCode, b)
		}
		cred := w.cred(o.Lead.Token)
		cred.Org = o.ID.String()
		set := func(v int) error {
			return w.env.App.InTenantTx(t.Context(), cred, func(ctx context.Context, tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `update app.documents set accepted_at = now(), accepted_by = $3, accepted_version = $4
				    where org_id = $1 and id = $2`, o.ID, d2.ID, o.Lead.ID, v)
				return err
			})
		}
		var pe *pgconn.PgError
		if err := set(1); !errors.As(err, &pe) || pe.Hint != "not_latest_version" {
			t.Errorf("accepting version 1 of 2 in SQL: %v", err)
		}
		if err := w.env.App.InTenantTx(t.Context(), cred, func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `update app.documents set accepted_at = now(), accepted_by = $3
			    where org_id = $1 and id = $2`, o.ID, d2.ID, o.Lead.ID)
			return err
		}); err == nil {
			t.Error("an acceptance naming no version in SQL was taken")
		}
		if err := set(2); err != nil {
			t.Errorf("accepting the latest version in SQL: %v", err)
		}
	})
}

// TestDocumentUploadIfMatch: PUT content with If-Match replaces only the
// version the caller names as the latest.
func TestDocumentUploadIfMatch(t *testing.T) {
	w, o, cid, clinic := docVersionsWorld(t, "im")
	var d docJSON
	w.do("POST", "/v1/cases/"+cid+"/documents", o.Lead.Token, map[string]any{"type": "wage_statement",
		"requested_from": clinic.ID}, http.StatusCreated, &d)
	p := "/v1/documents/" + d.ID.String() + "/content"
	resp, b := w.upload("PUT", p, clinic.Token, "w.pdf", []byte("%PDF-1.7\nv1"), "If-Match", "*")
	if resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("If-Match * with no version yet: %d %s", resp.StatusCode, b)
	}
	resp, _ = w.upload("PUT", p, clinic.Token, "w.pdf", []byte("%PDF-1.7\nv1"))
	v1 := resp.Header.Get("ETag")
	resp, _ = w.upload("PUT", p, clinic.Token, "w.pdf", []byte("%PDF-1.7\nv2"), "If-Match", v1)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("If-Match of the latest version: %d", resp.StatusCode)
	}
	v2 := resp.Header.Get("ETag")
	objects, versions := w.objects(o.ID), w.versionCount(o.ID)
	resp, b = w.upload("PUT", p, clinic.Token, "w.pdf", []byte("%PDF-1.7\nv3 over a stale copy"), "If-Match", v1)
	if resp.StatusCode != http.StatusPreconditionFailed || problemCode(t, b) != "precondition_failed" {
		t.Errorf("If-Match of a replaced version: %d %s", resp.StatusCode, b)
	}
	resp, b = w.upload("PUT", p, clinic.Token, "w.pdf", []byte("%PDF-1.7\nv3"), "If-Match", "W/"+v2)
	if resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("a weak If-Match: %d %s", resp.StatusCode, b)
	}
	if o2, v2 := w.objects(o.ID), w.versionCount(o.ID); o2 != objects || v2 != versions {
		t.Errorf("refused uploads left objects %d -> %d, versions %d -> %d", objects, o2, versions, v2)
	}
}

// TestDocumentConcurrentVersions: uploads racing to one document become
// consecutive versions; none is refused after streaming its body.
func TestDocumentConcurrentVersions(t *testing.T) {
	w, o, cid, _ := docVersionsWorld(t, "cv")
	var d docJSON
	w.do("POST", "/v1/cases/"+cid+"/documents", o.Lead.Token, map[string]any{"type": "wage_statement"}, http.StatusCreated, &d)
	body := append([]byte("%PDF-1.7\n"), randomBytes(1<<20, 4)...)
	const n = 6
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := w.upload("PUT", "/v1/documents/"+d.ID.String()+"/content", o.Lead.Token, "v.pdf", body)
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusCreated {
			t.Errorf("upload %d: %d", i, c)
		}
	}
	var got docJSON
	w.do("GET", "/v1/documents/"+d.ID.String(), o.Lead.Token, nil, http.StatusOK, &got)
	var vs []int
	for _, v := range got.Versions {
		vs = append(vs, v.Version)
	}
	sort.Ints(vs)
	if fmt.Sprint(vs) != "[1 2 3 4 5 6]" {
		t.Errorf("versions %v", vs)
	}
}

// TestDocumentStorageQuota: an org's versions and bytes are capped in the
// database; a refused upload leaves no row and no object, and is audited.
func TestDocumentStorageQuota(t *testing.T) {
	w, o, cid, clinic := docVersionsWorld(t, "sq")
	ctx := t.Context()
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.orgs set document_quota_versions = 3 where id = $1`, o.ID); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if resp, b := w.upload("POST", "/v1/cases/"+cid+"/files", clinic.Token, fmt.Sprintf("f%d.pdf", i),
			[]byte("%PDF-1.7\nfile"), "Ward-Document-Type", "note"); resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload %d: %d %s", i, resp.StatusCode, b)
		}
	}
	objects := w.objects(o.ID)
	resp, b := w.upload("POST", "/v1/cases/"+cid+"/files", clinic.Token, "f4.pdf", []byte("%PDF-1.7\nfile"),
		"Ward-Document-Type", "note")
	if resp.StatusCode != http.StatusRequestEntityTooLarge || problemCode(t, b) != "storage_quota_exceeded" {
		t.Errorf("the fourth version of an org allowed three: %d %s", resp.StatusCode, b)
	}
	if n := w.versionCount(o.ID); n != 3 {
		t.Errorf("%d versions stored", n)
	}
	var docs int
	_ = w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.documents where org_id = $1`, o.ID).Scan(&docs)
	if docs != 3 {
		t.Errorf("%d documents: the refused upload's document was kept", docs)
	}
	if n := w.objects(o.ID); n != objects {
		t.Errorf("objects %d -> %d after a refused upload", objects, n)
	}
	var reason string
	if err := w.env.Super.Pool.QueryRow(ctx, `select details->>'reason' from audit.events
	    where org_id = $1 and action = 'document.upload' and outcome = 'denied'`, o.ID).Scan(&reason); err != nil ||
		reason != "storage_quota_exceeded" {
		t.Errorf("refusal audited with reason %q (%v)", reason, err)
	}

	// Bytes: room for one more version but not for its size.
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.orgs set document_quota_versions = 100,
	    document_quota_bytes = (select sum(size) from app.document_versions where org_id = $1) + 100 where id = $1`, o.ID); err != nil {
		t.Fatal(err)
	}
	resp, b = w.upload("POST", "/v1/cases/"+cid+"/files", clinic.Token, "big.pdf",
		append([]byte("%PDF-1.7\n"), randomBytes(200, 1)...), "Ward-Document-Type", "note")
	if resp.StatusCode != http.StatusRequestEntityTooLarge || problemCode(t, b) != "storage_quota_exceeded" {
		t.Errorf("an upload over the byte quota: %d %s", resp.StatusCode, b)
	}

}

// TestDocumentUploadDeclaredTooLarge: a Content-Length over the org's
// document_max_bytes is refused before the body is read.
func TestDocumentUploadDeclaredTooLarge(t *testing.T) {
	w, o, cid, _ := docVersionsWorld(t, "cl")
	if _, err := w.env.Super.Pool.Exec(t.Context(), `update app.orgs set document_max_bytes = 1000 where id = $1`, o.ID); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	// The first bytes and nothing more: a server that reads the body waits.
	go pw.Write([]byte("%PDF-1.7\n"))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", w.srv.URL+"/v1/cases/"+cid+"/files", pr)
	req.ContentLength = 5000
	req.Close = true
	w.authorize(req, o.Lead.Token)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Disposition", "attachment; filename=big.pdf")
	req.Header.Set("Ward-Document-Type", "note")
	type answer struct {
		resp *http.Response
		err  error
	}
	done := make(chan answer, 1)
	go func() {
		resp, err := w.srv.Client().Do(req)
		done <- answer{resp, err}
	}()
	var resp *http.Response
	select {
	case a := <-done:
		if a.err != nil {
			t.Fatal(a.err)
		}
		resp = a.resp
	case <-time.After(5 * time.Second):
		cancel()
		pw.CloseWithError(errors.New("test over"))
		t.Fatal("no answer while the declared body was not sent: the server waited for it")
	}
	pw.CloseWithError(errors.New("test over"))
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || problemCode(t, b) != "too_large" {
		t.Errorf("declared 5000 bytes over a 1000-byte limit: %d %s", resp.StatusCode, b)
	}
}

// TestDocumentHeadIsNoDownload: a HEAD, and a GET answered 304 because the
// client's copy is current, send no content, so neither is recorded as a
// download (a disclosure to an outside party): each is one document.view.
// A GET whose copy is stale downloads and is recorded as before; a party
// without the download permission gets the same refusal on HEAD as on GET.
func TestDocumentHeadIsNoDownload(t *testing.T) {
	w, o, cid, clinic := docVersionsWorld(t, "hd")
	attorney := w.joined(o.Lead.Token, cid, "counsel@firm-hd.test", "attorney", "view", "download")
	viewer := w.joined(o.Lead.Token, cid, "adjuster@payer-hd.test", "payer", "view")
	var d docJSON
	w.do("POST", "/v1/cases/"+cid+"/documents", o.Lead.Token, map[string]any{"type": "medical_report",
		"requested_from": clinic.ID}, http.StatusCreated, &d)
	content := "/v1/documents/" + d.ID.String() + "/content"
	body := []byte("%PDF-1.7\nreport of the knee")
	resp, b := w.upload("PUT", content, clinic.Token, "knee.pdf", body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	etag := resp.Header.Get("ETag")
	count := func(action string) int {
		t.Helper()
		var n int
		if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from audit.events
			where org_id = $1 and action = $2 and outcome = 'success' and actor_id = $3 and disclosure is not null`,
			o.ID, action, attorney.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	dl0, view0 := count("document.download"), count("document.view")

	resp, b = w.request("HEAD", content, attorney.Token, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != etag || resp.ContentLength != int64(len(body)) || len(b) != 0 {
		t.Fatalf("HEAD: %d etag %q length %d body %d", resp.StatusCode, resp.Header.Get("ETag"), resp.ContentLength, len(b))
	}
	resp, b = w.request("GET", content, attorney.Token, nil, "If-None-Match", `"other", W/`+etag)
	if resp.StatusCode != http.StatusNotModified || len(b) != 0 {
		t.Fatalf("GET with the current copy: %d %s", resp.StatusCode, b)
	}
	if got := count("document.download") - dl0; got != 0 {
		t.Errorf("%d downloads recorded for a HEAD and a 304", got)
	}
	if got := count("document.view") - view0; got != 2 {
		t.Errorf("%d document.view disclosures for a HEAD and a 304, want 2", got)
	}
	resp, b = w.request("GET", content, attorney.Token, nil, "If-None-Match", `"stale"`)
	if resp.StatusCode != http.StatusOK || string(b) != string(body) {
		t.Fatalf("GET with a stale copy: %d %q", resp.StatusCode, b)
	}
	if got := count("document.download") - dl0; got != 1 {
		t.Errorf("%d downloads recorded for one GET", got)
	}
	for _, m := range []string{"HEAD", "GET"} {
		get, _ := w.request("GET", content, viewer.Token, nil)
		resp, _ := w.request(m, content, viewer.Token, nil, "If-None-Match", etag)
		if resp.StatusCode != get.StatusCode || resp.StatusCode < 400 {
			t.Errorf("%s by a party without download: %d, a plain GET %d", m, resp.StatusCode, get.StatusCode)
		}
	}
}

// TestDocumentUploadIfMatchNoHashOracle: an If-Match naming the latest
// version's SHA-256 holds only for a caller who may learn that hash
// (migration 00341). The clinic may view and upload, not download: after
// the lead replaced its file, the clinic's upload naming the lead's
// version by its hash (which it guessed: the lead's file is a template)
// is refused as stale, as any other guess is; before, it went through
// (201) where a wrong guess answered 412, confirming the lead's content.
// The clinic's own version's hash, which it knows, still holds.
func TestDocumentUploadIfMatchNoHashOracle(t *testing.T) {
	w, o, cid, clinic := docVersionsWorld(t, "iho")
	var d docJSON
	w.do("POST", "/v1/cases/"+cid+"/documents", o.Lead.Token, map[string]any{"type": "wage_statement",
		"requested_from": clinic.ID}, http.StatusCreated, &d)
	p := "/v1/documents/" + d.ID.String() + "/content"
	resp, b := w.upload("PUT", p, clinic.Token, "w.pdf", []byte("%PDF-1.7\nclinic's own"))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("the clinic's upload: %d %s", resp.StatusCode, b)
	}
	own := resp.Header.Get("ETag")
	lead := []byte("%PDF-1.7\nresult: NEGATIVE")
	if resp, b = w.upload("PUT", p, o.Lead.Token, "w.pdf", lead, "If-Match", own); resp.StatusCode != http.StatusCreated {
		t.Fatalf("the lead's upload over the clinic's: %d %s", resp.StatusCode, b)
	}
	sum := sha256.Sum256(lead)
	guess := `"` + hex.EncodeToString(sum[:]) + `"`
	if resp.Header.Get("ETag") != guess {
		t.Fatalf("the lead's version's ETag %s, want %s", resp.Header.Get("ETag"), guess)
	}
	resp, b = w.upload("PUT", p, clinic.Token, "w.pdf", []byte("%PDF-1.7\nclinic again"), "If-Match", guess)
	if resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("the clinic's upload naming the lead's version by its guessed hash: %d %s, want 412", resp.StatusCode, b)
	}
	// the lead reads its own version's hash
	var got docJSON
	w.do("GET", "/v1/documents/"+d.ID.String(), o.Lead.Token, nil, http.StatusOK, &got)
	if n := len(got.Versions); n != 2 || `"`+got.Versions[1].SHA256+`"` != guess {
		t.Errorf("the lead's view of the versions: %+v", got.Versions)
	}
}

// TestDocumentIfMatchEmptyTagNamesNoVersion: a caller who may not learn
// the latest version's SHA-256 (app.version_sha256 gives them null,
// 00341) names it by no entity tag, the empty one ("") included. The
// comparison built the latest's tag from the null hash as "", so the
// clinic (view and upload, no download) that sent If-Match: "" had its
// upload over the lead's version go through as if it had named that
// version, where every real tag it could send was 412 (LOW, helper-180
// review: a precondition that held without naming anything).
func TestDocumentIfMatchEmptyTagNamesNoVersion(t *testing.T) {
	w, o, cid, clinic := docVersionsWorld(t, "iet")
	var d docJSON
	w.do("POST", "/v1/cases/"+cid+"/documents", o.Lead.Token, map[string]any{"type": "wage_statement",
		"requested_from": clinic.ID}, http.StatusCreated, &d)
	p := "/v1/documents/" + d.ID.String() + "/content"
	if resp, b := w.upload("PUT", p, o.Lead.Token, "w.pdf", []byte("%PDF-1.7\nthe lead's file")); resp.StatusCode != http.StatusCreated {
		t.Fatalf("the lead's upload: %d %s", resp.StatusCode, b)
	}
	resp, b := w.upload("PUT", p, clinic.Token, "w.pdf", []byte("%PDF-1.7\nthe clinic's"), "If-Match", `""`)
	if resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf(`the clinic's upload with If-Match: "": %d %s, want 412`, resp.StatusCode, b)
	}
	var got docJSON
	w.do("GET", "/v1/documents/"+d.ID.String(), o.Lead.Token, nil, http.StatusOK, &got)
	if n := len(got.Versions); n != 1 {
		t.Errorf("the document has %d versions after the refused upload, want 1", n)
	}
}
