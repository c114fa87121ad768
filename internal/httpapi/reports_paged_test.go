package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"filippo.io/age"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
)

// A report of more than a page (audit.MaxReportPage entries) comes out
// whole and in log order in the access export (accesses and disclosures)
// and in GET /v1/patients/{id}/disclosures, each entry's recipient address
// opened, and the SQL functions they read count every row. The export and
// the accounting read each report in one statement, not a page at a time:
// audit.access_report_page's keyset cannot follow an index in seq order for
// one patient, so each page reads all of the patient's events after its
// cursor, and reading a report whole through it costs O(n²/page) (measured:
// 10,000 events 0.3 s against 0.05 s in one statement, 30,000 events
// 1.5-2.1 s against 0.21-0.26 s). This test keeps any such change honest.
func TestReportsBeyondOnePage(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Paged Reports")
	w.populate(o, "rp")
	ctx := context.Background()
	// 1,500 reads of P1 and 2,100 disclosures of it to an outside party,
	// made by the lead (whose address the accounting names).
	if _, err := w.env.Super.Pool.Exec(ctx, `select audit.append_as($1, 'patient.read', 'success', 'patient', $2, $2)
	    from generate_series(1, 1500)`, o.ID, o.P1); err != nil {
		t.Fatal(err)
	}
	if _, err := w.env.Super.Pool.Exec(ctx, `select audit.append_as($1, 'patient.read', 'success', 'patient', $2, $2,
	    p_actor => $3, p_disclosure => jsonb_build_object('recipient', 'insurer ' || i, 'purpose', 'claim review'))
	    from generate_series(1, 2100) i`, o.ID, o.P1, o.Lead.ID); err != nil {
		t.Fatal(err)
	}
	w.integrate()

	seqs := func(q string) []int64 {
		t.Helper()
		rows, err := w.env.Super.Pool.Query(ctx, q, o.ID, o.P1)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	const disclosed = `select l.seq from audit.events e join audit.leaves l on l.org_id = e.org_id and l.qid = e.qid
	    where e.org_id = $1 and e.patient_id = $2 and e.outcome = 'success' and e.disclosure is not null order by l.seq`
	checkDisclosures := func(what string, got []audit.Disclosed) {
		t.Helper()
		want := seqs(disclosed)
		gotSeqs := make([]int64, len(got))
		for i, d := range got {
			gotSeqs[i] = d.Seq
			if d.Purpose != "claim review" || d.ActorEmail != o.Lead.Email {
				t.Fatalf("%s: disclosure %d: purpose %q, recipient's address %q", what, i, d.Purpose, d.ActorEmail)
			}
		}
		if len(want) <= 2*audit.MaxReportPage || !slices.Equal(gotSeqs, want) {
			t.Fatalf("%s: %d disclosures, want the %d of the log in its order", what, len(got), len(want))
		}
	}

	// The accounting.
	var acc struct {
		Disclosures []audit.Disclosed `json:"disclosures"`
	}
	w.do("GET", "/v1/patients/"+o.P1.String()+"/disclosures", o.PatUser.Token, nil, http.StatusOK, &acc)
	checkDisclosures("accounting", acc.Disclosures)

	// The export: every event about P1 before the export's own.
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	resp, sealed := w.request("POST", "/v1/patients/"+o.P1.String()+"/export", o.PatUser.Token,
		map[string]any{"recipient": id.Recipient().String()})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: %d %s", resp.StatusCode, sealed)
	}
	r, err := age.Decrypt(bytes.NewReader(sealed), id)
	if err != nil {
		t.Fatal(err)
	}
	var x struct {
		Accesses    []audit.Access    `json:"accesses"`
		Disclosures []audit.Disclosed `json:"disclosures"`
	}
	if err := json.NewDecoder(r).Decode(&x); err != nil {
		t.Fatal(err)
	}
	w.integrate()
	want := seqs(`select l.seq from audit.events e join audit.leaves l on l.org_id = e.org_id and l.qid = e.qid
	    where e.org_id = $1 and (e.patient_id = $2 or e.result_ids @> array[$2]) and e.action <> 'patient.export'
	    order by l.seq`)
	got := make([]int64, len(x.Accesses))
	for i, a := range x.Accesses {
		got[i] = a.Seq
	}
	if len(want) <= 3*audit.MaxReportPage || !slices.Equal(got, want) {
		t.Fatalf("export: %d accesses, want the %d of the log in its order", len(got), len(want))
	}
	checkDisclosures("export", x.Disclosures)

	// The whole reports in SQL.
	var accesses, disclosures int
	if err := w.env.App.InTenantTx(ctx, w.cred(o.PatUser.Token), func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, `select (select count(*) from audit.access_report($1, $2) where seq <= $3),
		    (select count(*) from audit.disclosure_accounting($1, $2))`, o.ID, o.P1, want[len(want)-1]).Scan(&accesses, &disclosures)
	}); err != nil {
		t.Fatal(err)
	}
	if accesses != len(want) || disclosures != len(x.Disclosures) {
		t.Fatalf("audit.access_report counts %d, audit.disclosure_accounting %d; want %d and %d", accesses, disclosures,
			len(want), len(x.Disclosures))
	}
}
