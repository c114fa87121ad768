package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/httpapi"
)

// TestPatientsPaged: GET /v1/patients is read a page at a time, newest
// first (limit, and cursor from the page before's next_cursor, absent on
// the last page), and the pages hold every patient the caller may see once,
// in the list's order, ties in creation time included: all of the org's for
// a lead, only their care team's for a provider (the policy decides on
// every page, whatever the cursor). Before, the list had no cursor: it
// answered the newest 200 at most, and older patients were reached only by
// search or id. A cursor the API did not make, or another parameter, is 400.
func TestPatientsPaged(t *testing.T) {
	w := newWorld(t, withAPIConfig(func(c *httpapi.Config) { c.RateLimit = -1 }))
	o := w.createOrg("Patients Paged")
	w.populate(o, "pp")
	ctx := context.Background()
	// 60 more patients (62 in all); the provider is on every third one's
	// care team (and P1's, from populate).
	for i := range 60 {
		id := w.createPatient(o.Lead.Token, map[string]any{"name": fmt.Sprintf("pp Paged %d", i)})
		if i%3 == 0 {
			w.do("PUT", "/v1/patients/"+id.String()+"/care-team/"+o.Prov.ID.String(), o.Lead.Token, nil,
				http.StatusNoContent, nil)
		}
	}
	// Three patients to a creation time, so page boundaries fall inside a
	// tie.
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.patients p set created_at = timestamptz '2026-01-01' + n.i / 3 * interval '1 minute'
	    from (select id, row_number() over (order by id) as i from app.patients where org_id = $1) n
	    where p.org_id = $1 and p.id = n.id`, o.ID); err != nil {
		t.Fatal(err)
	}
	expect := func(sql string, args ...any) []uuid.UUID {
		t.Helper()
		rows, err := w.env.Super.Pool.Query(ctx, sql, args...)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	all := expect(`select id from app.patients where org_id = $1 order by created_at desc, id`, o.ID)
	mine := expect(`select id from app.patients where org_id = $1
	    and id in (select patient_id from app.care_team where org_id = $1 and provider_id = $2)
	    order by created_at desc, id`, o.ID, o.Prov.ID)
	if len(all) != 62 || len(mine) != 21 {
		t.Fatalf("seeded %d patients, %d on the provider's care team; want 62 and 21", len(all), len(mine))
	}
	const base = "/v1/patients?limit=7"
	type page struct {
		Patients []struct {
			ID uuid.UUID `json:"id"`
		} `json:"patients"`
		Next string `json:"next_cursor"`
	}
	read := func(tok, cursor string) ([]uuid.UUID, int) {
		t.Helper()
		var got []uuid.UUID
		pages := 0
		for {
			var p page
			path := base
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			w.do("GET", path, tok, nil, http.StatusOK, &p)
			for _, e := range p.Patients {
				got = append(got, e.ID)
			}
			pages++
			if p.Next == "" || pages > 20 {
				return got, pages
			}
			cursor = p.Next
		}
	}
	for _, c := range []struct {
		who, tok string
		want     []uuid.UUID
		pages    int
	}{{"lead", o.Lead.Token, all, 9}, {"provider", o.Prov.Token, mine, 3}} {
		got, pages := read(c.tok, "")
		if pages != c.pages || !slices.Equal(got, c.want) {
			t.Fatalf("%s: %d pages of %d patients, want %d pages of the %d they see in the list's order",
				c.who, pages, len(got), c.pages, len(c.want))
		}
	}
	// The lead's cursor in the provider's hands reads on from that point in
	// the provider's own list, nothing more.
	var first page
	w.do("GET", base, o.Lead.Token, nil, http.StatusOK, &first)
	got, _ := read(o.Prov.Token, first.Next)
	last := first.Patients[len(first.Patients)-1].ID
	cut := slices.IndexFunc(mine, func(id uuid.UUID) bool { return slices.Index(all, id) > slices.Index(all, last) })
	if !slices.Equal(got, mine[cut:]) {
		t.Fatalf("the provider after the lead's cursor read %d patients, want their %d after it", len(got), len(mine)-cut)
	}
	// A cursor this API did not make is refused (not base64, a nil id, cut
	// short, a time past year 9999 that wrapped around on its way to the
	// database and answered a page), and so is another parameter.
	for _, q := range []string{"&cursor=not-a-cursor", "&cursor=" + url.QueryEscape("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		"&cursor=" + first.Next[:len(first.Next)-2], "&cursor=f_________8QcYQRefBND6qO1LMQH7Yz", "&before=x"} {
		if resp, body := w.request("GET", base+q, o.Lead.Token, nil); resp.StatusCode != http.StatusBadRequest ||
			problemCode(t, body) != "invalid_query" {
			t.Errorf("GET %s: %d %s, want 400 invalid_query", base+q, resp.StatusCode, body)
		}
	}
}
