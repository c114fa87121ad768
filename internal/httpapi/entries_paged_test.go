package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// TestEntriesPaged: a patient's entries are read a page at a time, newest
// first (limit, and cursor from the page before's next_cursor, absent on
// the last page), and the pages hold every entry once, in the order of the
// record, ties in observation time included. Before, the list had no
// cursor: only the newest 500 entries could be read at all (a glucose
// monitor writes 288 a day), and whoever may write entries (the patient,
// an assigned provider) could put older ones out of everyone's reach with
// 500 entries dated up to a day ahead (helper-119's review).
func TestEntriesPaged(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Entries Paged")
	w.populate(o, "ep")
	ctx := context.Background()
	// 1,203 readings; every third shares its time with the one before.
	if _, err := w.env.Super.Pool.Exec(ctx, `insert into app.clinical_entries (org_id, patient_id, kind, name, value,
	    unit, observed_at, created_by)
	    select $1, $2, 'biomarker', 'Glucose', 100, 'mg/dL', timestamptz '2026-01-01' + (i / 3 * 2 + i % 3 % 2) * interval '5 minutes', $3
	      from generate_series(1, 1203) i`, o.ID, o.P1, o.Prov.ID); err != nil {
		t.Fatal(err)
	}
	rows, err := w.env.Super.Pool.Query(ctx, `select id from app.clinical_entries where org_id = $1 and patient_id = $2
	    order by observed_at desc, id`, o.ID, o.P1)
	if err != nil {
		t.Fatal(err)
	}
	want, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		t.Fatal(err)
	}
	base := "/v1/patients/" + o.P1.String() + "/entries?limit=500"
	for who, tok := range map[string]string{"provider": o.Prov.Token, "patient": o.PatUser.Token} {
		var got []uuid.UUID
		cursor, pages := "", 0
		for {
			var page struct {
				Entries []struct {
					ID uuid.UUID `json:"id"`
				} `json:"entries"`
				Next string `json:"next_cursor"`
			}
			path := base
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			w.do("GET", path, tok, nil, http.StatusOK, &page)
			for _, e := range page.Entries {
				got = append(got, e.ID)
			}
			pages++
			if page.Next == "" || pages > 10 {
				break
			}
			cursor = page.Next
		}
		if pages != 3 || !slices.Equal(got, want) {
			t.Fatalf("%s: %d pages of %d entries, want 3 pages of the record's %d in its order", who, pages, len(got), len(want))
		}
	}
	// A cursor this API did not make is refused, and so is another
	// parameter.
	for _, q := range []string{"&cursor=not-a-cursor", "&cursor=" + url.QueryEscape("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		"&cursor=f_________8QcYQRefBND6qO1LMQH7Yz", "&before=x"} {
		if resp, body := w.request("GET", base+q, o.Prov.Token, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s: %d %s, want 400", base+q, resp.StatusCode, body)
		}
	}
	// A cursor names nothing another org or patient could use: P2's list
	// after P1's cursor is P2's own (empty) list, for whoever sees P2.
	var first struct {
		Next string `json:"next_cursor"`
	}
	w.do("GET", base, o.Prov.Token, nil, http.StatusOK, &first)
	var other struct {
		Entries []struct {
			PatientID uuid.UUID `json:"patient_id"`
		} `json:"entries"`
	}
	w.do("GET", "/v1/patients/"+o.P2.String()+"/entries?cursor="+url.QueryEscape(first.Next), o.PatUser2.Token, nil,
		http.StatusOK, &other)
	for _, e := range other.Entries {
		if e.PatientID != o.P2 {
			t.Fatalf("P2's page holds an entry of %s", e.PatientID)
		}
	}
}
