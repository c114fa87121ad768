package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/cases"
	"github.com/wardhq/ward/internal/vault/blob"
)

// pausingStore holds each Put of a document object, once the object is
// durable, until the test lets it go: the moment between an upload's
// object and its commit, which a stalled process or a long wait for the
// pool can stretch.
type pausingStore struct {
	blob.Store
	stored  chan string
	proceed chan struct{}
}

func (s *pausingStore) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	n, err := s.Store.Put(ctx, key, r)
	if err == nil && strings.Contains(key, "/obj/") {
		s.stored <- key
		<-s.proceed
	}
	return n, err
}

// ageObjects makes every object of dir three hours old, as an S3 object
// made by a multipart upload that started three hours ago is.
func ageObjects(t *testing.T, dir string) {
	t.Helper()
	old := time.Now().Add(-3 * time.Hour)
	if err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			err = os.Chtimes(p, old, old)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// TestSweepSparesUploadInFlight: an upload claims its object's key before
// storing it (migration 00186). An object that is durable but not yet
// committed, and already older than the sweeper's grace period (a long
// S3 multipart upload), survives sweeps past the confirmation delay while
// its claim is fresh, and its upload commits a readable document. A claim
// gone stale (the upload held up for over an hour) is reclaimed with its
// object, and that upload's commit is refused with 409 upload_expired,
// leaving no version.
func TestSweepSparesUploadInFlight(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "blobs")
	ps := &pausingStore{stored: make(chan string), proceed: make(chan struct{})}
	w := newWorld(t, withBlobStore(func(t testing.TB) blob.Store {
		d, err := blob.NewDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		ps.Store = d
		return ps
	}))
	o := w.createOrg("Claims Clinic")
	ctx := context.Background()
	var c caseJSON
	w.do("POST", "/v1/cases", o.Admin.Token, map[string]any{"title": "claim"}, http.StatusCreated, &c)
	w.caseJobs.Grace, w.caseJobs.Confirm = time.Hour, 0
	type answer struct {
		status int
		body   []byte
	}
	upload := func(name, content string) chan answer {
		out := make(chan answer, 1)
		go func() {
			resp, b := w.upload("POST", "/v1/cases/"+c.ID.String()+"/files", o.Admin.Token, name, []byte(content),
				"Ward-Document-Type", "note")
			out <- answer{resp.StatusCode, b}
		}()
		return out
	}
	sweep := func() int {
		t.Helper()
		n, err := w.caseJobs.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// 1. A fresh claim: two sweeps, the object stays, the upload commits.
	done := upload("slow.pdf", "%PDF-1.7\nstreamed for hours")
	key := <-ps.stored
	ageObjects(t, dir)
	if n := sweep() + sweep(); n != 0 {
		t.Errorf("the sweeps removed %d objects of an upload in flight", n)
	}
	if _, err := w.blobs.Size(ctx, key); err != nil {
		t.Errorf("the object of an upload in flight: %v", err)
	}
	ps.proceed <- struct{}{}
	a := <-done
	if a.status != http.StatusCreated {
		t.Fatalf("the upload: %d %s", a.status, a.body)
	}
	var d docJSON
	_ = json.Unmarshal(a.body, &d)
	if resp, got, err := w.download("/v1/documents/"+d.ID.String()+"/content", o.Admin.Token); err != nil ||
		resp.StatusCode != http.StatusOK || string(got) != "%PDF-1.7\nstreamed for hours" {
		t.Fatalf("the committed document: %v %q", err, got)
	}
	var claims int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.document_uploads`).Scan(&claims); err != nil ||
		claims != 0 {
		t.Errorf("%d claims left after the commit (%v)", claims, err)
	}

	// 2. A claim untouched for two hours: reclaimed with its object, and
	// the upload that then commits is refused.
	versions := w.versionCount(o.ID)
	done = upload("stalled.pdf", "%PDF-1.7\nheld up")
	key = <-ps.stored
	ageObjects(t, dir)
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.document_uploads set touched_at = now() - interval '2 hours'
	    where storage_key = $1`, key); err != nil {
		t.Fatal(err)
	}
	if n := sweep() + sweep(); n != 1 {
		t.Errorf("the sweeps removed %d objects, want the reclaimed one", n)
	}
	if _, err := w.blobs.Size(ctx, key); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("the reclaimed object: %v", err)
	}
	ps.proceed <- struct{}{}
	a = <-done
	if a.status != http.StatusConflict || problemCode(t, a.body) != "upload_expired" {
		t.Errorf("the upload whose claim was reclaimed: %d %s; want 409 upload_expired", a.status, a.body)
	}
	if n := w.versionCount(o.ID); n != versions {
		t.Errorf("versions %d -> %d: a version without its object was committed", versions, n)
	}
}

// TestUploadClaimHeartbeat: an upload whose body keeps coming touches its
// claim every UploadHeartbeat, so a claim made stale comes back fresh; a
// claim the sweeper reclaimed ends the upload with 409 upload_expired,
// and nothing of it is kept.
func TestUploadClaimHeartbeat(t *testing.T) {
	w := newWorld(t, withCasesConfig(func(c *cases.Config) { c.UploadHeartbeat = 50 * time.Millisecond }))
	o := w.createOrg("Heartbeat Clinic")
	ctx := context.Background()
	var c caseJSON
	w.do("POST", "/v1/cases", o.Admin.Token, map[string]any{"title": "claim"}, http.StatusCreated, &c)
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", w.srv.URL+"/v1/cases/"+c.ID.String()+"/files", pr)
	if err != nil {
		t.Fatal(err)
	}
	w.authorize(req, o.Admin.Token)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Disposition", "attachment; filename=scan.pdf")
	req.Header.Set("Ward-Document-Type", "scan")
	type answer struct {
		status int
		body   []byte
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		resp, err := w.srv.Client().Do(req)
		if err != nil {
			done <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- answer{status: resp.StatusCode, body: b}
	}()
	// The body keeps coming, slowly, until the test ends it.
	stop := make(chan struct{})
	writing := make(chan struct{})
	go func() {
		defer close(writing)
		if _, err := pw.Write([]byte("%PDF-1.7\n" + strings.Repeat("x", 600))); err != nil {
			return
		}
		for {
			select {
			case <-stop:
				_, _ = pw.Write([]byte(strings.Repeat("y", 2<<20)))
				pw.Close()
				return
			case <-time.After(10 * time.Millisecond):
				if _, err := pw.Write([]byte("z")); err != nil {
					return
				}
			}
		}
	}()
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		// a write the server no longer reads returns
		pw.CloseWithError(errors.New("the test is over"))
		<-writing
	}()
	claim := func(q string) (n int) {
		t.Helper()
		for range 1200 { // 30 s
			if err := w.env.Super.Pool.QueryRow(ctx, q).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				return n
			}
			time.Sleep(25 * time.Millisecond)
		}
		return 0
	}
	if claim(`select count(*) from app.document_uploads where touched_at > claimed_at`) == 0 {
		t.Fatal("the upload's claim was never touched")
	}
	// Made stale, the next beat makes it fresh again.
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.document_uploads set touched_at = now() - interval '2 hours'`); err != nil {
		t.Fatal(err)
	}
	if claim(`select count(*) from app.document_uploads where touched_at > now() - interval '1 minute'`) == 0 {
		t.Fatal("a stale claim of a live upload was not touched again")
	}
	// Reclaimed (as app.reclaim_storage_keys does to a stale claim): the
	// upload ends refused, whether the beat or the commit finds it out.
	if _, err := w.env.Super.Pool.Exec(ctx, `delete from app.document_uploads`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	var a answer
	select {
	case a = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the upload did not end")
	}
	if a.err != nil || a.status != http.StatusConflict || problemCode(t, a.body) != "upload_expired" {
		t.Fatalf("the upload whose claim was reclaimed: %d %s %v; want 409 upload_expired", a.status, a.body, a.err)
	}
	if n := w.versionCount(o.ID); n != 0 {
		t.Errorf("%d versions committed", n)
	}
	if n := w.objects(o.ID); n != 0 {
		t.Errorf("%d objects kept", n)
	}
}
