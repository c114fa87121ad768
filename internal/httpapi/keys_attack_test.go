package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestAttackMovedCiphertextDoesNotOpen: someone who can write the
// database but holds no key (a superuser's session, a restored dump
// edited by hand) moves sealed bytes: a patient's phone into another
// patient's row of the same org, with or without that patient's keyset;
// into another column of the same row; another org's patient's keyset and
// phone into this org's patient. The associated data binds each value to
// its table, column, org and row, and each patient keyset to its org and
// patient, so the API never answers the moved plaintext; put back, the
// record reads again (the reads did reach the moved bytes).
func TestAttackMovedCiphertextDoesNotOpen(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Moved Bytes Org")
	w.populate(o, "mb")
	other := w.createOrg("Moved Bytes Other Org")
	w.populate(other, "mo")
	ctx := context.Background()
	w.do("PATCH", "/v1/patients/"+o.P1.String(), o.Lead.Token, map[string]any{"phone": "555-0101"}, http.StatusOK, nil)
	w.do("PATCH", "/v1/patients/"+o.P2.String(), o.Lead.Token, map[string]any{"phone": "555-0202"}, http.StatusOK, nil)
	w.do("PATCH", "/v1/patients/"+other.P1.String(), other.Lead.Token, map[string]any{"phone": "555-0303"}, http.StatusOK, nil)

	// move runs sql as the superuser with the row guards off, as someone
	// editing the database under them would.
	move := func(sql string, args ...any) {
		t.Helper()
		err := w.env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `set local session_replication_role = replica`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, sql, args...)
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// Every patient's sealed columns and keyset as they are now.
	move(`create table public.moved_backup as select org_id, id, keyset, phone_enc, email_enc from app.patients`)
	restore := func() {
		move(`update app.patients p set keyset = b.keyset, phone_enc = b.phone_enc, email_enc = b.email_enc
			from public.moved_backup b where b.org_id = p.org_id and b.id = p.id`)
	}
	read := func(token, patient string) (int, string) {
		resp, body := w.request("GET", "/v1/patients/"+patient, token, nil)
		return resp.StatusCode, string(body)
	}
	for _, c := range []struct {
		name, sql, planted string
		args               []any
	}{
		{"other patient's phone", `update app.patients set phone_enc = (select phone_enc from app.patients where id = $1) where id = $2`,
			"555-0101", []any{o.P1, o.P2}},
		{"other patient's phone and keyset", `update app.patients set (phone_enc, keyset) = (select phone_enc, keyset from app.patients where id = $1)
			where id = $2`, "555-0101", []any{o.P1, o.P2}},
		{"same row, other column", `update app.patients set email_enc = phone_enc where id = $1`, "555-0202", []any{o.P2}},
		{"other org's patient", `update app.patients set (phone_enc, keyset) = (select phone_enc, keyset from app.patients where id = $1)
			where id = $2`, "555-0303", []any{other.P1, o.P2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			move(c.sql, c.args...)
			status, body := read(o.Lead.Token, o.P2.String())
			restore()
			if strings.Contains(body, c.planted) {
				t.Errorf("the moved value opened in patient two's record: %d %s", status, body)
			}
			if status == http.StatusOK {
				t.Errorf("patient two's record read %d with a value that does not open: %s", status, body)
			}
			if status, body := read(o.Lead.Token, o.P2.String()); status != http.StatusOK || !strings.Contains(body, "555-0202") {
				t.Fatalf("restored, patient two's record reads %d %s", status, body)
			}
		})
	}
}
