package httpapi_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// The audit page never says verified when it is not. A checkpoint row
// whose size is not its signed note's makes the proof fail: the banner is
// red and no event is shown as in the checkpoint. And the instance's key
// signs every org's log, so another org's signed note planted in this
// org's checkpoints (by whoever can write the database, the party the log
// is kept against) verifies by its signature alone: the page must name it
// as not this org's log, on a page with no event to prove as on any other.
func TestConsoleAuditCheckpointNotThisLog(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Ledger Clinic")
	w.populate(o, "ldg")
	other := w.createOrg("Other Ledger Clinic")
	w.populate(other, "oldg")
	adm, _ := w.consoleAdmin(o.Admin.Email)
	w.do("GET", "/v1/me", other.Admin.Token, nil, http.StatusOK, nil)
	w.integrate()
	if resp, body := w.consolePage("GET", "/audit", adm, nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="checkpoint-ok"`) {
		t.Fatalf("audit page before: %d %s", resp.StatusCode, body)
	}
	plant := func(from uuid.UUID, grow int64) {
		t.Helper()
		if _, err := w.env.Super.Pool.Exec(context.Background(),
			`insert into audit.checkpoints (org_id, size, root_hash, note)
			 select $1, c.size + $3, c.root_hash, c.note from audit.checkpoints c where c.org_id = $2 order by c.size desc limit 1`,
			o.ID, from, grow); err != nil {
			t.Fatal(err)
		}
	}
	unverified := func(path string) {
		t.Helper()
		resp, body := w.consolePage("GET", path, adm, nil)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, `id="checkpoint-ok"`) || !strings.Contains(body, `id="checkpoint-bad"`) ||
			strings.Contains(body, "<td>yes</td>") {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
	}
	plant(o.ID, 1000000) // this org's own note, under a size it does not sign
	unverified("/audit")
	plant(other.ID, 2000000) // another org's note
	unverified("/audit")
	unverified("/audit?after=900000")
}

// The inclusion proof the audit page checks is of the leaf the tree
// stores; the event the page shows must hash to it. A row rewritten under
// the log (its outcome flipped, by whoever can write the database with
// the immutability triggers off) is not "proved included".
func TestConsoleAuditProofBindsTheShownEvent(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Rewritten Clinic")
	w.populate(o, "rwr")
	adm, _ := w.consoleAdmin(o.Admin.Email)
	w.integrate()
	resp, body := w.consolePage("GET", "/audit", adm, nil)
	m := regexp.MustCompile(`Event (\d+) was proved included`).FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="checkpoint-ok"`) || m == nil {
		t.Fatalf("audit page before: %d %s", resp.StatusCode, body)
	}
	ctx := context.Background()
	tx, err := w.env.Super.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tx.Exec(ctx, `set local session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	if tag, err := tx.Exec(ctx, `update audit.events e set outcome = case when e.outcome = 'success' then 'denied' else 'success' end
		from audit.leaves l where l.org_id = $1 and l.seq = $2 and e.org_id = l.org_id and e.qid = l.qid`, o.ID, m[1]); err != nil ||
		tag.RowsAffected() != 1 {
		t.Fatalf("rewrite event %s: %v %v", m[1], tag, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	resp, body = w.consolePage("GET", "/audit", adm, nil)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, `id="checkpoint-ok"`) || strings.Contains(body, "proved included") ||
		!strings.Contains(body, "does not hash to the leaf") {
		t.Fatalf("audit page after the rewrite: %d %s", resp.StatusCode, body)
	}
}

// The upload form is a type and then a file: parts before the file that
// are not the one type (many of them, or a type padded far past any type)
// are refused, not read and thrown away up to the route's 64 GiB, and
// nothing is stored.
func TestConsoleUploadFormShape(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Upload Shape Clinic")
	w.populate(o, "ush")
	var kase struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Upload shape claim"}, http.StatusCreated, &kase)
	prov := w.consoleSignIn(o.Prov.Email)
	send := func(build func(mw *multipart.Writer)) (*http.Response, string) {
		t.Helper()
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		build(mw)
		fw, _ := mw.CreateFormFile("file", "n.txt")
		_, _ = fw.Write([]byte("shape"))
		_ = mw.Close()
		h := http.Header{"Sec-Fetch-Site": {"same-origin"}, "Cookie": {"ward_session=" + prov}, "Content-Type": {mw.FormDataContentType()}}
		resp, b := w.browse("POST", "/cases/"+kase.ID.String()+"/upload", h, buf.String())
		return resp, string(b)
	}
	docs := w.objects(o.ID)
	for name, build := range map[string]func(mw *multipart.Writer){
		"many parts": func(mw *multipart.Writer) {
			for i := range 2000 {
				_ = mw.WriteField("x"+strconv.Itoa(i), strings.Repeat("y", 512))
			}
			_ = mw.WriteField("type", "note")
		},
		"a padded type": func(mw *multipart.Writer) { _ = mw.WriteField("type", "note"+strings.Repeat(" ", 1<<20)) },
		"two types":     func(mw *multipart.Writer) { _ = mw.WriteField("type", "note"); _ = mw.WriteField("type", "note") },
	} {
		if resp, body := send(build); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "bad_form") {
			t.Fatalf("%s: %d %s", name, resp.StatusCode, body)
		}
	}
	if n := w.objects(o.ID); n != docs {
		t.Fatalf("refused forms stored %d objects", n-docs)
	}
	if resp, body := send(func(mw *multipart.Writer) { _ = mw.WriteField("type", "note") }); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the page's form: %d %s", resp.StatusCode, body)
	}
}
