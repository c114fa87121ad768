package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"filippo.io/age"
)

// TestPatientExportSaysWhatItLeavesOut: one patient export carries at most
// 100,000 entries, the newest by observation time (a glucose monitor's
// readings every five minutes reach that in a year). A record with more
// says in the export (entries_omitted) and in its patient.export event how
// many older ones it left out. Before, the oldest went missing without a
// word, where the documents promise every entry (helper-119's review).
func TestPatientExportSaysWhatItLeavesOut(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Export Omits")
	w.populate(o, "eo")
	ctx := context.Background()
	// One export carries at most 100,000 entries, the newest; this
	// record has 100,003, the 3 oldest a decade before the rest.
	const carried, more = 100_000, 3
	if _, err := w.env.Super.Pool.Exec(ctx, `insert into app.clinical_entries (org_id, patient_id, kind, name, value,
	    unit, observed_at, created_by)
	    select $1, $2, 'biomarker', 'Glucose', 90 + i % 40, 'mg/dL',
	           case when i <= $4 then timestamptz '2015-01-01' + i * interval '1 minute'
	                else timestamptz '2025-01-01' + i * interval '5 minutes' end, $3
	      from generate_series(1, $5::int) i`, o.ID, o.P1, o.Prov.ID, more, carried+more); err != nil {
		t.Fatal(err)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	resp, sealed := w.request("POST", "/v1/patients/"+o.P1.String()+"/export", o.PatUser.Token,
		map[string]any{"recipient": id.Recipient().String()})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: %d %.300s", resp.StatusCode, sealed)
	}
	r, err := age.Decrypt(bytes.NewReader(sealed), id)
	if err != nil {
		t.Fatal(err)
	}
	var x struct {
		Entries []struct {
			ObservedAt string `json:"observed_at"`
		} `json:"entries"`
		EntriesOmitted *int `json:"entries_omitted"`
	}
	if err := json.NewDecoder(r).Decode(&x); err != nil {
		t.Fatal(err)
	}
	if len(x.Entries) != carried {
		t.Fatalf("the export carries %d entries, want %d", len(x.Entries), carried)
	}
	for _, e := range x.Entries {
		if strings.HasPrefix(e.ObservedAt, "2015") {
			t.Fatalf("the export carries an entry of 2015 (%s), not the newest", e.ObservedAt)
		}
	}
	if x.EntriesOmitted == nil || *x.EntriesOmitted != more {
		t.Fatalf("the export says it leaves out %v entries, want %d", x.EntriesOmitted, more)
	}
	var omitted int
	if err := w.env.Super.Pool.QueryRow(ctx, `select coalesce((details->>'entries_omitted')::int, 0) from audit.events
	    where org_id = $1 and action = 'patient.export' and patient_id = $2 and outcome = 'success'`,
		o.ID, o.P1).Scan(&omitted); err != nil || omitted != more {
		t.Fatalf("patient.export records %d entries left out (%v), want %d", omitted, err, more)
	}
	// A record that fits says nothing of it.
	resp, sealed = w.request("POST", "/v1/patients/"+o.P2.String()+"/export", o.PatUser2.Token,
		map[string]any{"recipient": id.Recipient().String()})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export of P2: %d %.300s", resp.StatusCode, sealed)
	}
	if r, err = age.Decrypt(bytes.NewReader(sealed), id); err != nil {
		t.Fatal(err)
	}
	var all map[string]json.RawMessage
	if err := json.NewDecoder(r).Decode(&all); err != nil {
		t.Fatal(err)
	}
	if _, ok := all["entries_omitted"]; ok {
		t.Fatal("a whole export says it leaves entries out")
	}
}
