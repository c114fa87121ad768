package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"

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

type commentPage struct {
	Comments []struct {
		ID   uuid.UUID `json:"id"`
		Body string    `json:"body"`
	} `json:"comments"`
	NextCursor *string `json:"next_cursor"`
}

// TestDocumentCommentsPaged: the comment list is paged (limit, default
// 50, at most 200; an opaque next_cursor, absent on the last page), pages
// follow each other oldest first with no gap or repeat, bad paging is 400
// invalid_query, and each list's audit event names only the comments it
// returned.
func TestDocumentCommentsPaged(t *testing.T) {
	w, o, d, attorney := commentsWorld(t, "cp")
	path := "/v1/documents/" + d.ID.String() + "/comments"
	var posted []uuid.UUID
	for i := range 55 {
		var c struct {
			ID uuid.UUID `json:"id"`
		}
		w.do("POST", path, attorney.Token, map[string]any{"body": fmt.Sprintf("note %d", i)}, http.StatusCreated, &c)
		posted = append(posted, c.ID)
	}

	// No limit: the first 50, and a cursor.
	var p commentPage
	w.do("GET", path, attorney.Token, nil, http.StatusOK, &p)
	if len(p.Comments) != 50 || p.NextCursor == nil || *p.NextCursor == "" {
		t.Fatalf("default page: %d comments, cursor %v", len(p.Comments), p.NextCursor)
	}

	// Pages of 20 walk all 55 in order; the last has no cursor.
	var got []uuid.UUID
	cursor, pages := "", 0
	for {
		q := url.Values{"limit": {"20"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var p commentPage
		w.do("GET", path+"?"+q.Encode(), attorney.Token, nil, http.StatusOK, &p)
		pages++
		var ids []uuid.UUID
		for _, c := range p.Comments {
			ids = append(ids, c.ID)
		}
		got = append(got, ids...)
		// The page's audit event names exactly the comments it returned.
		var results []uuid.UUID
		if err := w.env.Super.Pool.QueryRow(t.Context(), `select result_ids from audit.events
		    where org_id = $1 and action = 'document.comment.list' and actor_id = $2 order by at desc, qid desc limit 1`,
			o.ID, attorney.ID).Scan(&results); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(results, ids) {
			t.Errorf("page %d: audited %d ids, returned %d", pages, len(results), len(ids))
		}
		if p.NextCursor == nil {
			break
		}
		if pages > 5 {
			t.Fatal("the pages do not end")
		}
		cursor = *p.NextCursor
	}
	if pages != 3 || !slices.Equal(got, posted) {
		t.Errorf("%d pages, %d comments, in order: %v", pages, len(got), slices.Equal(got, posted))
	}

	// At most 200 at once.
	var all commentPage
	w.do("GET", path+"?limit=200", attorney.Token, nil, http.StatusOK, &all)
	if len(all.Comments) != 55 || all.NextCursor != nil {
		t.Errorf("limit=200: %d comments, cursor %v", len(all.Comments), all.NextCursor)
	}

	for _, q := range []string{"limit=0", "limit=-1", "limit=201", "limit=abc", "cursor=not-a-cursor",
		"cursor=" + url.QueryEscape(cursor+"x"), "cursor=AAAA", "cursor=f_________8QcYQRefBND6qO1LMQH7Yz", "order=desc"} {
		b := w.do("GET", path+"?"+q, attorney.Token, nil, http.StatusBadRequest, nil)
		if code := problemCode(t, b); code != "invalid_query" {
			t.Errorf("%s: code %q", q, code)
		}
	}
}

// TestDocumentCommentLimit: a document holds at most 1,000 comments; the
// next is 409 comment_limit, writes nothing and is audited as a denied
// comment (as the storage quota's refusals are), and concurrent comments
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
	// The ten refusals (nine in the race, the lead's), each naming the
	// document, in the actor's name.
	var refused, named, attorneys int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*), count(*) filter (where object_id = $2),
	        count(*) filter (where actor_id = $3)
	      from audit.events where org_id = $1 and action = 'document.comment' and outcome = 'denied'
	       and details->>'reason' = 'comment_limit'`, o.ID, d.ID, attorney.ID).Scan(&refused, &named, &attorneys); err != nil ||
		refused != 10 || named != 10 || attorneys != 9 {
		t.Errorf("comment_limit refusals audited: %d, %d naming the document, %d the attorney's (want 10, 10, 9) %v",
			refused, named, attorneys, err)
	}

	// Another document of the case is not affected.
	var other docJSON
	w.do("POST", "/v1/cases/"+d.CaseID.String()+"/documents", o.Lead.Token, map[string]any{"type": "wage_statement"},
		http.StatusCreated, &other)
	w.do("POST", "/v1/documents/"+other.ID.String()+"/comments", attorney.Token, map[string]any{"body": "fine"},
		http.StatusCreated, nil)
}

// TestDocumentVersionsCapped: reading a document returns its newest 100
// versions, in version order, and the count of all of them.
func TestDocumentVersionsCapped(t *testing.T) {
	w, o, d, _ := commentsWorld(t, "vc")
	doc := "/v1/documents/" + d.ID.String()
	for i := range 103 {
		if resp, b := w.upload("PUT", doc+"/content", o.Lead.Token, fmt.Sprintf("r%d.pdf", i),
			fmt.Appendf(nil, "%%PDF-1.7\nversion %d", i)); resp.StatusCode != http.StatusCreated {
			t.Fatalf("version %d: %d %s", i+1, resp.StatusCode, b)
		}
	}
	var got struct {
		docJSON
		VersionCount int `json:"version_count"`
	}
	w.do("GET", doc, o.Lead.Token, nil, http.StatusOK, &got)
	if len(got.Versions) != 100 || got.VersionCount != 103 {
		t.Fatalf("%d versions of %d", len(got.Versions), got.VersionCount)
	}
	if first, last := got.Versions[0].Version, got.Versions[99].Version; first != 4 || last != 103 {
		t.Errorf("versions %d..%d, want 4..103", first, last)
	}
}
