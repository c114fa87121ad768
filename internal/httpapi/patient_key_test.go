package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/records"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// sealedCell is one value sealed for a patient, as the superuser reads it.
type sealedCell struct {
	table, column string
	row           uuid.UUID
	sealed        []byte
}

func (c sealedCell) ad(org uuid.UUID) envelope.AD {
	return envelope.AD{Table: c.table, Column: c.column, Org: org, Row: c.row}
}

// sealedCells reads every value sealed for patient (the record's sealed
// columns, the entries' notes, the amendments' texts) through q.
func sealedCells(t testing.TB, ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, org, patient uuid.UUID) []sealedCell {
	t.Helper()
	rows, err := q.Query(ctx, `select tbl, row_id, col, sealed from private.patient_sealed_cells($1, $2)
		order by tbl, row_id, col`, org, patient)
	if err != nil {
		t.Fatal(err)
	}
	cells, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (sealedCell, error) {
		var c sealedCell
		return c, r.Scan(&c.table, &c.row, &c.column, &c.sealed)
	})
	if err != nil {
		t.Fatal(err)
	}
	return cells
}

// unkey makes patient a patient of before migration 00275, as the
// records written then are: every value sealed for them opened under
// their keyset and sealed again under the org's keys, and the keyset null.
// The superuser writes with the triggers off (the rows were written
// before the guards of what may change).
func (w *world) unkey(org, patient uuid.UUID) {
	w.t.Helper()
	ctx := context.Background()
	k, err := w.keys.OpsOrg(ctx, w.env.Super, org)
	if err != nil {
		w.t.Fatal(err)
	}
	err = w.env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `set local session_replication_role = replica`); err != nil {
			return err
		}
		var wrapped []byte
		if err := tx.QueryRow(ctx, `select keyset from app.patients where org_id = $1 and id = $2`, org, patient).
			Scan(&wrapped); err != nil {
			return err
		}
		pk, err := k.PatientKeys(patient, wrapped)
		if err != nil {
			return err
		}
		for _, c := range sealedCells(w.t, ctx, tx, org, patient) {
			pt, err := pk.Open(c.sealed, c.ad(org))
			if err != nil {
				return err
			}
			ct, err := k.Seal(pt, c.ad(org))
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, fmt.Sprintf(`update app.%s set %s_enc = $1 where org_id = $2 and id = $3`,
				pgx.Identifier{c.table}.Sanitize(), c.column), ct, org, c.row); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `update app.patients set keyset = null where org_id = $1 and id = $2`, org, patient)
		return err
	})
	if err != nil {
		w.t.Fatalf("unkey: %v", err)
	}
}

// readRecord is everything the API answers about patient: the record,
// its entries and its amendment requests, as the bodies read.
func (w *world) readRecord(token string, patient uuid.UUID) []string {
	w.t.Helper()
	var out []string
	for _, path := range []string{"", "/entries", "/amendments"} {
		resp, body := w.request("GET", "/v1/patients/"+patient.String()+path, token, nil)
		if resp.StatusCode != http.StatusOK {
			w.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		out = append(out, string(body))
	}
	return out
}

// TestPatientKeyLegacy: patients created before the per-patient key tier
// (their record sealed under the org's keys, no keyset), with entries and
// amendment requests whose every text is filled, are keyed by
// records.KeyPatients (what `ward migrate` and `ward patient key` run,
// migration 00288): every value reads back the same through the API,
// nothing stays under the org's keys, one patient.key event per org
// records the count, a second run keys nothing, and the patient can then
// be shredded, after which the ciphertexts the database held open under
// neither the org's keys nor anything the database keeps.
func TestPatientKeyLegacy(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Key Legacy Org")
	w.populate(o, "kl")
	other := w.createOrg("Key Legacy Other Org")
	w.populate(other, "ko")
	ctx := context.Background()
	p1 := "/v1/patients/" + o.P1.String()
	w.do("PATCH", p1, o.Lead.Token, map[string]any{"phone": "555-0142", "email": "kl-one@example.test",
		"address": "12 Alder Row, Springfield, IL 62704", "identifiers": map[string]string{"payer": "KL-PAYER-7"}},
		http.StatusOK, nil)
	now := time.Now().UTC().Format(time.RFC3339)
	w.do("POST", p1+"/entries", o.Prov.Token, map[string]any{"kind": "biomarker", "name": "Ferritin", "value": 41,
		"unit": "ng/mL", "observed_at": now, "note": "drawn after the morning walk"}, http.StatusCreated, nil)
	w.do("POST", p1+"/entries", o.Prov.Token, map[string]any{"kind": "food", "name": "Oat porridge",
		"observed_at": now}, http.StatusCreated, nil)
	var a struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", p1+"/amendments", o.PatUser.Token, map[string]any{"request": "The porridge was rice, not oats."},
		http.StatusCreated, &a)
	step := p1 + "/amendments/" + a.ID.String()
	w.do("POST", step+"/decision", o.Admin.Token, map[string]any{"outcome": "denied", "basis": "accurate_and_complete",
		"statement": "The diary entry matches the clinic's log."}, http.StatusOK, nil)
	w.do("POST", step+"/disagreement", o.PatUser.Token, map[string]any{"statement": "I kept the receipt for rice."},
		http.StatusOK, nil)
	w.do("POST", step+"/rebuttal", o.Admin.Token, map[string]any{"statement": "The receipt is dated the day after."},
		http.StatusOK, nil)

	before := w.readRecord(o.Lead.Token, o.P1)
	beforeP2 := w.readRecord(o.Lead.Token, o.P2)
	otherBefore := w.readRecord(other.Lead.Token, other.P1)
	w.unkey(o.ID, o.P1)
	w.unkey(o.ID, o.P2)
	legacy := sealedCells(t, ctx, w.env.Super.Pool, o.ID, o.P1)
	// 6 fields, one note, 4 amendment texts.
	if len(legacy) != 11 {
		t.Fatalf("%d sealed cells of the legacy patient, want 11", len(legacy))
	}
	org, err := w.keys.OpsOrg(ctx, w.env.Super, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range legacy {
		if _, err := org.Open(c.sealed, c.ad(o.ID)); err != nil {
			t.Fatalf("the legacy %s.%s does not open under the org's keys: %v", c.table, c.column, err)
		}
	}
	// The legacy record reads as before, and cannot be shredded alone.
	if got := w.readRecord(o.Lead.Token, o.P1); !equalStrings(got, before) {
		t.Fatalf("the legacy record reads\n%q\nwant\n%q", got, before)
	}
	resp, body := w.request("POST", p1+"/shred", o.Admin.Token, map[string]any{"confirm": o.P1.String()})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "per-patient key tier") {
		t.Fatalf("shred of the legacy patient: %d %s", resp.StatusCode, body)
	}
	// The keying.
	k, err := records.KeyPatients(ctx, w.env.Super, w.keys, uuid.NullUUID{})
	if err != nil {
		t.Fatal(err)
	}
	if k.Patients != 2 || k.Orgs[o.ID] != 2 || len(k.Orgs) != 1 {
		t.Fatalf("keyed %+v, want the org's 2 legacy patients", k)
	}
	var details map[string]any
	var n int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) over (), details from audit.events
		where org_id = $1 and action = 'patient.key' and outcome = 'success'`, o.ID).Scan(&n, &details); err != nil || n != 1 {
		t.Fatalf("%d patient.key events (%v)", n, err)
	}
	if details["patients"] != float64(2) || len(details) != 2 {
		t.Fatalf("the patient.key event's details: %v", details)
	}
	if got := w.auditCount(other.ID, "patient.key", "success"); got != 0 {
		t.Fatalf("%d patient.key events in the org with no legacy patient", got)
	}
	if again, err := records.KeyPatients(ctx, w.env.Super, w.keys, uuid.NullUUID{}); err != nil || again.Patients != 0 {
		t.Fatalf("a second run keyed %+v (%v)", again, err)
	}
	if got := w.auditCount(o.ID, "patient.key", "success"); got != 1 {
		t.Fatalf("%d patient.key events after a second run", got)
	}

	// Everything reads back the same.
	if got := w.readRecord(o.Lead.Token, o.P1); !equalStrings(got, before) {
		t.Fatalf("the keyed record reads\n%q\nwant\n%q", got, before)
	}
	if got := w.readRecord(o.Lead.Token, o.P2); !equalStrings(got, beforeP2) {
		t.Fatalf("the second keyed record reads\n%q\nwant\n%q", got, beforeP2)
	}
	if got := w.readRecord(other.Lead.Token, other.P1); !equalStrings(got, otherBefore) {
		t.Fatalf("the other org's record reads\n%q\nwant\n%q", got, otherBefore)
	}
	var search struct {
		Patients []struct {
			ID uuid.UUID `json:"id"`
		} `json:"patients"`
	}
	w.do("POST", "/v1/patients/search", o.Lead.Token, map[string]any{"mrn": "kl-MRN-1"}, http.StatusOK, &search)
	if len(search.Patients) != 1 || search.Patients[0].ID != o.P1 {
		t.Fatalf("the MRN's blind index after the keying finds %+v", search.Patients)
	}

	// Nothing stays under the org's keys: each cell is new, opens under
	// the patient's keyset and not the org's keys.
	var wrapped []byte
	if err := w.env.Super.Pool.QueryRow(ctx, `select keyset from app.patients where id = $1`, o.P1).Scan(&wrapped); err != nil ||
		wrapped == nil {
		t.Fatalf("no keyset after the keying (%v)", err)
	}
	pk, err := org.PatientKeys(o.P1, wrapped)
	if err != nil {
		t.Fatal(err)
	}
	keyed := sealedCells(t, ctx, w.env.Super.Pool, o.ID, o.P1)
	if len(keyed) != len(legacy) {
		t.Fatalf("%d sealed cells after the keying, %d before", len(keyed), len(legacy))
	}
	for i, c := range keyed {
		if bytes.Equal(c.sealed, legacy[i].sealed) {
			t.Fatalf("%s.%s of row %s kept its legacy ciphertext", c.table, c.column, c.row)
		}
		if _, err := org.Open(c.sealed, c.ad(o.ID)); !errors.Is(err, envelope.ErrDecrypt) {
			t.Fatalf("the org's keys open %s.%s after the keying: %v", c.table, c.column, err)
		}
		was, err := org.Open(legacy[i].sealed, c.ad(o.ID))
		if err != nil {
			t.Fatal(err)
		}
		if now, err := pk.Open(c.sealed, c.ad(o.ID)); err != nil || !bytes.Equal(now, was) {
			t.Fatalf("%s.%s under the patient's keyset: %v", c.table, c.column, err)
		}
	}

	// The shred, now allowed; the ciphertexts the database held before it
	// open under nothing it keeps.
	w.do("POST", p1+"/shred", o.Admin.Token, map[string]any{"confirm": o.P1.String()}, http.StatusOK, nil)
	resp, body = w.request("GET", p1, o.Lead.Token, nil)
	if resp.StatusCode != http.StatusGone {
		t.Fatalf("the shredded record: %d %s", resp.StatusCode, body)
	}
	var left []byte
	if err := w.env.Super.Pool.QueryRow(ctx, `select keyset from app.patients where id = $1`, o.P1).Scan(&left); err != nil ||
		left != nil {
		t.Fatalf("the keyset after the shred: %d bytes (%v)", len(left), err)
	}
	org, err = w.keys.OpsOrg(ctx, w.env.Super, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range keyed {
		if _, err := org.Open(c.sealed, c.ad(o.ID)); !errors.Is(err, envelope.ErrDecrypt) {
			t.Fatalf("the org's keys open the shredded %s.%s: %v", c.table, c.column, err)
		}
	}
	for _, c := range sealedCells(t, ctx, w.env.Super.Pool, o.ID, o.P1) {
		if len(c.sealed) == 0 { // the shred's empty name
			continue
		}
		if c.table != "record_amendments" {
			t.Fatalf("the shred left %s.%s", c.table, c.column)
		}
		if _, err := org.Open(c.sealed, c.ad(o.ID)); !errors.Is(err, envelope.ErrDecrypt) {
			t.Fatalf("the org's keys open the shredded amendment's %s: %v", c.column, err)
		}
	}
	w.do("GET", "/v1/patients/"+o.P2.String(), o.Lead.Token, nil, http.StatusOK, nil)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestPatientKeyGuards: the keying's functions are the operator's and
// check the row themselves, and the guards they pass keep refusing
// everyone else: ward_app changes no amendment text, and the superuser
// (any role but ward_definer's keying) changes a request's text no more
// than before. No patient row is inserted without a keyset (00289).
func TestPatientKeyGuards(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Key Guard Org")
	w.populate(o, "kg")
	ctx := context.Background()
	p1 := "/v1/patients/" + o.P1.String()
	var a struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", p1+"/amendments", o.PatUser.Token, map[string]any{"request": "My middle name is missing."},
		http.StatusCreated, &a)

	var pe *pgconn.PgError
	// A keyed patient is refused (patient_keyed), whoever asks.
	_, err := w.env.Super.Pool.Exec(ctx, `select * from app.ops_patient_key_cells($1, $2)`, o.ID, o.P1)
	if !errors.As(err, &pe) || pe.Code != "55000" || pe.Hint != "patient_keyed" {
		t.Fatalf("cells of a keyed patient: %v", err)
	}
	w.unkey(o.ID, o.P1)
	// ward_app may call none of them.
	for _, stmt := range []string{
		`select * from app.ops_patient_key_cells($1, $2)`,
		`select app.ops_patient_key($1, $2, '\x01', '{}', '{}', '{}', '{}', '{}')`,
	} {
		err := w.env.App.InTenantTx(ctx, w.cred(o.Admin.Token), func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, stmt, o.ID, o.P1)
			return err
		})
		if !errors.As(err, &pe) || pe.Code != "42501" {
			t.Fatalf("ward_app %s: %v", stmt, err)
		}
	}
	// The superuser's keying that leaves a cell out, or names one with
	// another value, writes nothing.
	cells := sealedCells(t, ctx, w.env.Super.Pool, o.ID, o.P1)
	tables, cols := make([]string, len(cells)), make([]string, len(cells))
	ids := make([]uuid.UUID, len(cells))
	old, next := make([][]byte, len(cells)), make([][]byte, len(cells))
	for i, c := range cells {
		tables[i], cols[i], ids[i], old[i], next[i] = c.table, c.column, c.row, c.sealed, append([]byte{9}, c.sealed...)
	}
	err = w.env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `select app.ops_patient_key($1, $2, '\x01', $3, $4, $5, $6, $7)`, o.ID, o.P1,
			tables[1:], ids[1:], cols[1:], old[1:], next[1:])
		return err
	})
	if !errors.As(err, &pe) || pe.Code != "40001" {
		t.Fatalf("a keying that leaves a cell out: %v", err)
	}
	stale := append([][]byte{}, old...)
	stale[0] = []byte{1, 2, 3}
	err = w.env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `select app.ops_patient_key($1, $2, '\x01', $3, $4, $5, $6, $7)`, o.ID, o.P1,
			tables, ids, cols, stale, next)
		return err
	})
	if !errors.As(err, &pe) || pe.Code != "40001" {
		t.Fatalf("a keying with a stale value: %v", err)
	}
	var keyset []byte
	if err := w.env.Super.Pool.QueryRow(ctx, `select keyset from app.patients where id = $1`, o.P1).Scan(&keyset); err != nil ||
		keyset != nil {
		t.Fatalf("a refused keying left a keyset (%v)", err)
	}

	// No patient is created without a keyset any more (00289), whoever
	// inserts it: a lead's transaction, the superuser.
	insert := `insert into app.patients (org_id, id, name_enc, created_by) values ($1, $2, '\x01', $3)`
	err = w.env.App.InTenantTx(ctx, w.cred(o.Lead.Token), func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, insert, o.ID, uuid.New(), o.Lead.ID)
		return err
	})
	if !errors.As(err, &pe) || pe.Code != "23502" || pe.Hint != "patient_keyset_required" {
		t.Fatalf("a lead inserts a patient without a keyset: %v", err)
	}
	_, err = w.env.Super.Pool.Exec(ctx, insert, o.ID, uuid.New(), o.Lead.ID)
	if !errors.As(err, &pe) || pe.Code != "23502" || pe.Hint != "patient_keyset_required" {
		t.Fatalf("the superuser inserts a patient without a keyset: %v", err)
	}

	// Keyed, the amendment's texts still take no change but the API's.
	if _, err := records.KeyPatients(ctx, w.env.Super, w.keys, uuid.NullUUID{UUID: o.ID, Valid: true}); err != nil {
		t.Fatal(err)
	}
	_, err = w.env.Super.Pool.Exec(ctx, `update app.record_amendments set request_enc = '\x0102' where id = $1`, a.ID)
	if !errors.As(err, &pe) || pe.Code != "42501" {
		t.Fatalf("the superuser changes a request's text: %v", err)
	}
	err = w.env.App.InTenantTx(ctx, w.cred(o.Admin.Token), func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `update app.record_amendments set request_enc = '\x0102' where id = $1`, a.ID)
		return err
	})
	if !errors.As(err, &pe) || pe.Code != "42501" {
		t.Fatalf("ward_app changes a request's text: %v", err)
	}
}

// TestPatientKeyConcurrentWriter: a new entry and an amendment request
// written while the patient is being keyed wait for the keying (their
// keyset read, for key share, conflicts with the keying's lock) and are
// sealed under the new keyset, never left under the org's keys, so the
// shred then destroys them too. A keying no run recorded (a killed run's)
// is recorded by the next run.
func TestPatientKeyConcurrentWriter(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Key Race Org")
	w.populate(o, "kr")
	ctx := context.Background()
	w.unkey(o.ID, o.P1)
	org, err := w.keys.OpsOrg(ctx, w.env.Super, o.ID)
	if err != nil {
		t.Fatal(err)
	}

	// The keying starts: the patient's row is locked.
	tx, err := w.env.Super.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `select * from app.ops_patient_key_cells($1, $2)`, o.ID, o.P1); err != nil {
		t.Fatal(err)
	}
	pid := tx.Conn().PgConn().PID()

	// The provider writes an entry with a note meanwhile, and the patient
	// asks for an amendment.
	type result struct {
		status int
		body   []byte
		err    error
	}
	post := func(path, token string, body map[string]any, out chan<- result) {
		b, _ := json.Marshal(body)
		req, err := http.NewRequest("POST", w.srv.URL+"/v1/patients/"+o.P1.String()+path, bytes.NewReader(b))
		if err != nil {
			out <- result{err: err}
			return
		}
		req.Header.Set("Content-Type", "application/json")
		w.authorize(req, token)
		resp, err := w.srv.Client().Do(req)
		if err != nil {
			out <- result{err: err}
			return
		}
		defer resp.Body.Close()
		rb, err := io.ReadAll(resp.Body)
		out <- result{resp.StatusCode, rb, err}
	}
	wrote, asked := make(chan result, 1), make(chan result, 1)
	go post("/entries", o.Prov.Token, map[string]any{"kind": "symptom", "name": "Headache",
		"observed_at": time.Now().UTC().Format(time.RFC3339), "note": "worse after the night shift"}, wrote)
	go post("/amendments", o.PatUser.Token, map[string]any{"request": "The headache started on Monday."}, asked)
	// Both writers wait on the keying's lock.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from pg_stat_activity
			 where datname = current_database() and $1 = any(pg_blocking_pids(pid)) and wait_event_type = 'Lock'`,
			int32(pid)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of the 2 writers waited for the keying within 30 s", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The keying ends, in the same transaction.
	if err := records.KeyPatientTx(ctx, tx, org, o.ID, o.P1); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-wrote
	if r.err != nil || r.status != http.StatusCreated {
		t.Fatalf("the entry written during the keying: %d %s (%v)", r.status, r.body, r.err)
	}
	var entry struct {
		ID   uuid.UUID `json:"id"`
		Note string    `json:"note"`
	}
	if err := json.Unmarshal(r.body, &entry); err != nil || entry.Note != "worse after the night shift" {
		t.Fatalf("the entry: %s (%v)", r.body, err)
	}

	var wrapped, note []byte
	if err := w.env.Super.Pool.QueryRow(ctx, `select keyset from app.patients where id = $1`, o.P1).Scan(&wrapped); err != nil ||
		wrapped == nil {
		t.Fatalf("no keyset after the keying (%v)", err)
	}
	if err := w.env.Super.Pool.QueryRow(ctx, `select note_enc from app.clinical_entries where id = $1`, entry.ID).
		Scan(&note); err != nil {
		t.Fatal(err)
	}
	ad := envelope.AD{Table: "clinical_entries", Column: "note", Org: o.ID, Row: entry.ID}
	if _, err := org.Open(note, ad); !errors.Is(err, envelope.ErrDecrypt) {
		t.Fatalf("the entry written during the keying is sealed under the org's keys (%v)", err)
	}
	pk, err := org.PatientKeys(o.P1, wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := pk.Open(note, ad); err != nil || string(pt) != entry.Note {
		t.Fatalf("the entry's note under the patient's keyset: %v", err)
	}
	r = <-asked
	var amendment struct {
		ID      uuid.UUID `json:"id"`
		Request string    `json:"request"`
	}
	if r.err != nil || r.status != http.StatusCreated || json.Unmarshal(r.body, &amendment) != nil {
		t.Fatalf("the amendment asked for during the keying: %d %s (%v)", r.status, r.body, r.err)
	}
	var request []byte
	if err := w.env.Super.Pool.QueryRow(ctx, `select request_enc from app.record_amendments where id = $1`, amendment.ID).
		Scan(&request); err != nil {
		t.Fatal(err)
	}
	rad := envelope.AD{Table: "record_amendments", Column: "request", Org: o.ID, Row: amendment.ID}
	if _, err := org.Open(request, rad); !errors.Is(err, envelope.ErrDecrypt) {
		t.Fatalf("the amendment asked for during the keying is sealed under the org's keys (%v)", err)
	}
	if pt, err := pk.Open(request, rad); err != nil || string(pt) != amendment.Request {
		t.Fatalf("the amendment's request under the patient's keyset: %v", err)
	}
	w.do("POST", "/v1/patients/"+o.P1.String()+"/amendments/"+amendment.ID.String()+"/decision", o.Admin.Token,
		map[string]any{"outcome": "accepted", "statement": "Onset date corrected."}, http.StatusOK, nil)
	var entries struct {
		Entries []struct {
			Note string `json:"note"`
		} `json:"entries"`
	}
	w.do("GET", "/v1/patients/"+o.P1.String()+"/entries", o.Lead.Token, nil, http.StatusOK, &entries)
	if len(entries.Entries) != 1 || entries.Entries[0].Note != entry.Note {
		t.Fatalf("the entries read %+v", entries.Entries)
	}
	// The keying above, not recorded by a run of its own (as a run killed
	// before its end), is recorded by the next run, which keys nothing.
	if k, err := records.KeyPatients(ctx, w.env.Super, w.keys, uuid.NullUUID{}); err != nil || k.Patients != 0 {
		t.Fatalf("the next run keyed %+v (%v)", k, err)
	}
	var events int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and action = 'patient.key'
		and outcome = 'success' and details->>'patients' = '1'`, o.ID).Scan(&events); err != nil || events != 1 {
		t.Fatalf("%d patient.key events for the keying left unrecorded (%v)", events, err)
	}
	w.do("POST", "/v1/patients/"+o.P1.String()+"/shred", o.Admin.Token, map[string]any{"confirm": o.P1.String()},
		http.StatusOK, nil)
}

// TestPatientKeyConcurrentReader: a read of a legacy patient's entries,
// of their amendments or of their export, whose statement reading the
// rows waits while the keying commits (a lock on the rows' table, held by
// the keying's transaction, taken before the read starts: the read's
// earlier statements see the patient unkeyed, its rows' statement sees
// them keyed), opens the rows under the keyset they are sealed under:
// 200 with the texts, not 500 once.
func TestPatientKeyConcurrentReader(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Key Read Race Org")
	w.populate(o, "krr")
	ctx := context.Background()
	p1 := "/v1/patients/" + o.P1.String()
	const note, request = "dizzy after standing up", "The dizziness began in June."
	w.do("POST", p1+"/entries", o.Prov.Token, map[string]any{"kind": "symptom", "name": "Dizziness",
		"observed_at": time.Now().UTC().Format(time.RFC3339), "note": note}, http.StatusCreated, nil)
	w.do("POST", p1+"/amendments", o.PatUser.Token, map[string]any{"request": request}, http.StatusCreated, nil)
	org, err := w.keys.OpsOrg(ctx, w.env.Super, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	identity, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name, method, path, token, table string
		body                             any
		want                             string
	}{
		{"entries", "GET", p1 + "/entries", o.Lead.Token, "clinical_entries", nil, note},
		{"amendments", "GET", p1 + "/amendments", o.PatUser.Token, "record_amendments", nil, request},
		{"export", "POST", p1 + "/export", o.Admin.Token, "clinical_entries",
			map[string]any{"recipient": identity.Recipient().String()}, note},
	} {
		t.Run(c.name, func(t *testing.T) {
			// Unkeyed again, and its keying forgotten (one a patient).
			w.unkey(o.ID, o.P1)
			if _, err := w.env.Super.Pool.Exec(ctx, `delete from private.patient_keyings where org_id = $1 and patient_id = $2`,
				o.ID, o.P1); err != nil {
				t.Fatal(err)
			}
			tx, err := w.env.Super.Pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback(ctx) }()
			if _, err := tx.Exec(ctx, `lock table app.`+c.table+` in access exclusive mode`); err != nil {
				t.Fatal(err)
			}
			pid := tx.Conn().PgConn().PID()
			type result struct {
				status int
				body   []byte
			}
			done := make(chan result, 1)
			go func() {
				var b []byte
				if c.body != nil {
					b, _ = json.Marshal(c.body)
				}
				req, _ := http.NewRequest(c.method, w.srv.URL+c.path, bytes.NewReader(b))
				req.Header.Set("Content-Type", "application/json")
				w.authorize(req, c.token)
				resp, err := w.srv.Client().Do(req)
				if err != nil {
					done <- result{body: []byte(err.Error())}
					return
				}
				defer resp.Body.Close()
				rb, _ := io.ReadAll(resp.Body)
				done <- result{resp.StatusCode, rb}
			}()
			// The read waits on the lock, past its read of the patient.
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				var n int
				if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from pg_stat_activity
					 where datname = current_database() and backend_type = 'client backend'
					   and $1 = any(pg_blocking_pids(pid))`, int32(pid)).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the read did not wait for the keying within 30 s")
				}
			}
			if err := records.KeyPatientTx(ctx, tx, org, o.ID, o.P1); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			r := <-done
			if r.status != http.StatusOK {
				t.Fatalf("%s %s during the keying: %d %s", c.method, c.path, r.status, r.body)
			}
			got := r.body
			if c.name == "export" {
				rd, err := age.Decrypt(bytes.NewReader(r.body), identity)
				if err != nil {
					t.Fatal(err)
				}
				if got, err = io.ReadAll(rd); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Contains(got, []byte(c.want)) {
				t.Fatalf("%s %s during the keying does not carry the text: %s", c.method, c.path, got)
			}
		})
	}
}

// TestPatientValueUnderOrgKeysRefused: the database refuses, whoever
// writes it (here the superuser, as a server of the version before 00288
// or a bug would), an entry's note or an amendment's text sealed under
// the org's keys for a patient with a keyset of their own (00302: the
// Tink prefix names an org key); the same under the patient's keys goes
// in, and so does an org-sealed value of a patient not keyed yet.
func TestPatientValueUnderOrgKeysRefused(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Tier Check Org")
	w.populate(o, "tc")
	ctx := context.Background()
	org, err := w.keys.OpsOrg(ctx, w.env.Super, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	var wrapped []byte
	if err := w.env.Super.Pool.QueryRow(ctx, `select keyset from app.patients where id = $1`, o.P1).Scan(&wrapped); err != nil {
		t.Fatal(err)
	}
	pk, err := org.PatientKeys(o.P1, wrapped)
	if err != nil {
		t.Fatal(err)
	}
	w.unkey(o.ID, o.P2)

	type sealer interface {
		Seal([]byte, envelope.AD) ([]byte, error)
	}
	entry := func(patient uuid.UUID, k sealer) error {
		id := uuid.New()
		ct, err := k.Seal([]byte("swollen left ankle"), envelope.AD{Table: "clinical_entries", Column: "note", Org: o.ID, Row: id})
		if err != nil {
			t.Fatal(err)
		}
		_, err = w.env.Super.Pool.Exec(ctx, `insert into app.clinical_entries (org_id, id, patient_id, kind, name, observed_at, note_enc, created_by)
			values ($1, $2, $3, 'symptom', 'Swelling', now(), $4, $5)`, o.ID, id, patient, ct, o.Prov.ID)
		return err
	}
	amendment := func(patient uuid.UUID, k sealer) error {
		id := uuid.New()
		ct, err := k.Seal([]byte("The swelling is on the right."), envelope.AD{Table: "record_amendments", Column: "request", Org: o.ID, Row: id})
		if err != nil {
			t.Fatal(err)
		}
		_, err = w.env.Super.Pool.Exec(ctx, `insert into app.record_amendments (org_id, id, patient_id, dsr_id, request_enc, requested_by)
			values ($1, $2, $3, gen_random_uuid(), $4, $5)`, o.ID, id, patient, ct, o.Admin.ID)
		return err
	}
	refused := func(what string, err error) {
		t.Helper()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23514" || pe.Hint != "sealed_under_org_keys" {
			t.Errorf("%s sealed under the org's keys for a keyed patient: %v", what, err)
		}
	}
	refused("an entry's note", entry(o.P1, org))
	refused("an amendment's request", amendment(o.P1, org))
	if err := entry(o.P1, pk); err != nil {
		t.Errorf("an entry's note under the patient's keys: %v", err)
	}
	if err := amendment(o.P1, pk); err != nil {
		t.Errorf("an amendment's request under the patient's keys: %v", err)
	}
	if err := entry(o.P2, org); err != nil {
		t.Errorf("an entry's note under the org's keys for a patient not keyed yet: %v", err)
	}
	// The keying of that patient seals it again and passes the check.
	if k, err := records.KeyPatients(ctx, w.env.Super, w.keys, uuid.NullUUID{UUID: o.ID, Valid: true}); err != nil || k.Patients != 1 {
		t.Fatalf("the keying: %+v (%v)", k, err)
	}
	refused("an entry's note, after the keying", entry(o.P2, org))

	// Another org's admin writing that value for this org's keyed patient
	// is refused by the row's policy (42501), as for any row of another
	// org, not by the tier check, which would tell them the patient is
	// keyed and under which key (00312).
	b := w.createOrg("Tier Check Other Org")
	id := uuid.New()
	ct, err := org.Seal([]byte("swollen left ankle"), envelope.AD{Table: "clinical_entries", Column: "note", Org: o.ID, Row: id})
	if err != nil {
		t.Fatal(err)
	}
	err = w.env.App.InTenantTx(ctx, w.cred(b.Admin.Token), func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `insert into app.clinical_entries (org_id, id, patient_id, kind, name, observed_at, note_enc, created_by)
			values ($1, $2, $3, 'symptom', 'Swelling', now(), $4, $5)`, o.ID, id, o.P1, ct, b.Admin.ID)
		return err
	})
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42501" {
		t.Errorf("another org's admin writing an org-sealed note for this org's keyed patient: %v, want 42501", err)
	}
}
