package httpapi_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/wardhq/ward/internal/audit"
)

// A patient's access report is read a page at a time: at most 1,000
// entries, in seq order, each with its inclusion proof, and next_after
// naming the next page until the last. Before migration 00203 it was one
// answer of every event about the record with a proof each (10,000 events:
// 0.57 s and 11.5 MB a request), for the lowest role that may ask, 100 at
// once.
func TestAccessReportPaged(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Paged Report")
	w.populate(o, "pr")
	// 2,500 reads of P1, as the log would hold them after years of lists.
	if _, err := w.env.Super.Pool.Exec(context.Background(), `select audit.append_as($1, 'patient.read', 'success',
		'patient', $2, $2) from generate_series(1, 2500)`, o.ID, o.P1); err != nil {
		t.Fatal(err)
	}
	w.integrate()
	type page struct {
		Checkpoint audit.Checkpoint `json:"checkpoint"`
		Accesses   []audit.Access   `json:"accesses"`
		NextAfter  *int64           `json:"next_after"`
	}
	base := "/v1/patients/" + o.P1.String() + "/access-report"
	seen := map[int64]bool{}
	after, pages := int64(0), 0
	for {
		var p page
		w.do("GET", base+"?after="+strconv.FormatInt(after, 10), o.PatUser.Token, nil, http.StatusOK, &p)
		pages++
		if len(p.Accesses) > audit.MaxReportPage {
			t.Fatalf("a page of %d entries, want at most %d", len(p.Accesses), audit.MaxReportPage)
		}
		last := after
		for i, a := range p.Accesses {
			if a.Seq == 0 {
				if p.NextAfter != nil {
					t.Fatal("an entry not yet sequenced on a page with a next page")
				}
				continue
			}
			if a.Seq <= last || seen[a.Seq] {
				t.Fatalf("page %d entry %d: seq %d after %d", pages, i, a.Seq, last)
			}
			seen[a.Seq], last = true, a.Seq
			if i%250 == 0 && a.LeafHash != nil {
				b := audit.Inclusion{Checkpoint: p.Checkpoint, Seq: a.Seq, LeafHash: *a.LeafHash, Proof: a.Inclusion}
				if _, err := b.Verify(w.vkey); err != nil {
					t.Fatalf("seq %d: %v", a.Seq, err)
				}
			}
		}
		if p.NextAfter == nil {
			break
		}
		if *p.NextAfter != last || pages > 10 {
			t.Fatalf("next_after %d after a page ending at %d (page %d)", *p.NextAfter, last, pages)
		}
		after = *p.NextAfter
	}
	if len(seen) < 2500 || pages < 3 {
		t.Fatalf("%d entries in %d pages, want the 2,500 reads and more in 3 or more", len(seen), pages)
	}
	// A smaller page, and the bounds.
	var small page
	w.do("GET", base+"?limit=10", o.Admin.Token, nil, http.StatusOK, &small)
	if len(small.Accesses) != 10 || small.NextAfter == nil || *small.NextAfter != small.Accesses[9].Seq {
		t.Fatalf("limit=10: %d entries, next %v", len(small.Accesses), small.NextAfter)
	}
	for _, q := range []string{"?limit=1001", "?limit=-1", "?after=-1", "?after=abc", "?limit=1e3",
		"?after=99999999999999999999", "?after=9007199254740993"} {
		resp, body := w.request("GET", base+q, o.PatUser.Token, nil)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %.200s, want 400", q, resp.StatusCode, body)
		}
	}
}
