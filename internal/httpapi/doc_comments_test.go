package httpapi_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/wardhq/ward/internal/httpapi"
)

// commentsWorld is an org (no per-principal rate limit) with a case on
// P1, a requested document on it and an attorney who may comment.
func commentsWorld(t *testing.T, prefix string) (*world, *org, docJSON, stakeholder) {
	w := newWorld(t, withAPIConfig(func(c *httpapi.Config) { c.RateLimit = -1 }))
	o := w.createOrg("Comments Clinic " + prefix)
	w.populate(o, prefix)
	var c caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Claim"}, http.StatusCreated, &c)
	attorney := w.joined(o.Lead.Token, c.ID.String(), "counsel@law-"+prefix+".test", "attorney", "view", "comment")
	var d docJSON
	w.do("POST", "/v1/cases/"+c.ID.String()+"/documents", o.Lead.Token, map[string]any{"type": "medical_report"},
		http.StatusCreated, &d)
	return w, o, d, attorney
}

// TestDocumentCommentLimit: a document holds at most 1,000 comments; the
// next is 409 comment_limit and writes nothing, and concurrent comments
// on the last places cannot pass the cap (the database counts under a
// per-document lock).
func TestDocumentCommentLimit(t *testing.T) {
	w, o, d, attorney := commentsWorld(t, "cl")
	ctx := t.Context()
	path := "/v1/documents/" + d.ID.String() + "/comments"
	// 996 stored comments (as the superuser: the cap holds for it too).
	if _, err := w.env.Super.Pool.Exec(ctx, `insert into app.document_comments (org_id, case_id, document_id, body_enc, author_id)
	    select $1, $2, $3, '\x00', $4 from generate_series(1, 996)`, o.ID, d.CaseID, d.ID, attorney.ID); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.document_comments where document_id = $1`,
			d.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	w.do("POST", path, attorney.Token, map[string]any{"body": "the 997th"}, http.StatusCreated, nil)

	// Twelve at once for the last three places.
	var mu sync.Mutex
	status := map[int]int{}
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, b := w.request("POST", path, attorney.Token, map[string]any{"body": fmt.Sprintf("race %d", i)})
			mu.Lock()
			defer mu.Unlock()
			status[resp.StatusCode]++
			if resp.StatusCode == http.StatusConflict {
				if code := problemCode(t, b); code != "comment_limit" {
					t.Errorf("code %q", code)
				}
			}
		}()
	}
	wg.Wait()
	if status[http.StatusCreated] != 3 || status[http.StatusConflict] != 9 {
		t.Errorf("statuses %v: want 3 created, 9 refused", status)
	}
	if n := count(); n != 1000 {
		t.Errorf("%d comments stored", n)
	}

	b := w.do("POST", path, o.Lead.Token, map[string]any{"body": "one more"}, http.StatusConflict, nil)
	if code := problemCode(t, b); code != "comment_limit" {
		t.Errorf("code %q", code)
	}
	if n := count(); n != 1000 {
		t.Errorf("%d comments stored after a refusal", n)
	}
	var events int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events
	    where org_id = $1 and action = 'document.comment' and outcome = 'success'`, o.ID).Scan(&events); err != nil ||
		events != 4 {
		t.Errorf("%d comment events (want 4) %v", events, err)
	}

	// Another document of the case is not affected.
	var other docJSON
	w.do("POST", "/v1/cases/"+d.CaseID.String()+"/documents", o.Lead.Token, map[string]any{"type": "wage_statement"},
		http.StatusCreated, &other)
	w.do("POST", "/v1/documents/"+other.ID.String()+"/comments", attorney.Token, map[string]any{"body": "fine"},
		http.StatusCreated, nil)
}
