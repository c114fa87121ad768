package records

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// keyingPage is how many unkeyed patients one round trip of KeyPatients
// lists.
const keyingPage = 500

// Keyed is what KeyPatients did: how many patients it gave a keyset of
// their own, by org.
type Keyed struct {
	Patients int
	Orgs     map[uuid.UUID]int
}

// KeyPatients gives every patient created before the per-patient key tier
// (migration 00275: app.patients.keyset null), not shredded, of an org not
// shredded (of org alone when org is set), a keyset of their own and seals
// again under it every value sealed for the patient under the org's keys:
// the record's sealed columns, each clinical entry's note and each
// amendment request's texts (migration 00288). Blind indexes stay the
// org's. Each patient is one transaction through ops (ward_ops or a
// superuser, as `ward migrate` connects): app.ops_patient_key_cells locks
// the patient's row and reads the cells, app.ops_patient_key stores the
// wrapped keyset and the new ciphertexts only if the cells are still
// exactly those read; so a patient is either wholly as before or wholly
// keyed. Then each org's keyings are recorded as one patient.key event
// with the count (app.ops_patient_key_record), a killed run's too. A
// patient keyed or shredded meanwhile by someone else is passed over.
// Running it again keys nothing more. A patient that cannot be keyed (a value that does not open
// under the org's keys) is left as it was and the run goes on, up to ten
// such patients. Errors: the database's, one wrapping keystore.ErrNoKeys
// naming an org, or one counting the patients not keyed and wrapping each
// failure (envelope.ErrDecrypt naming a patient and a cell, never a
// value); the patients keyed before the error stay keyed and are recorded.
func KeyPatients(ctx context.Context, ops *postgres.DB, keys *keystore.Store, org uuid.NullUUID) (Keyed, error) {
	out := Keyed{Orgs: map[uuid.UUID]int{}}
	orgKeys := map[uuid.UUID]*envelope.OrgKeys{}
	// Every org with keyings not recorded yet is recorded, whatever
	// happens: this run's, and those of a run killed before it recorded
	// its own.
	record := func(err error) (Keyed, error) {
		if _, rerr := ops.Pool.Exec(context.WithoutCancel(ctx), `select app.ops_patient_key_record(null)`); rerr != nil {
			err = errors.Join(err, fmt.Errorf("records: record the keying: %w", rerr))
		}
		return out, err
	}
	var failed []error
	var afterOrg, afterID uuid.NullUUID
	for {
		rows, err := ops.Pool.Query(ctx, `select org_id, id from app.ops_unkeyed_patients($1, $2, $3, $4)`,
			org, afterOrg, afterID, keyingPage)
		if err != nil {
			return record(fmt.Errorf("records: list the patients without a keyset: %w", err))
		}
		type pid struct{ org, id uuid.UUID }
		page, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pid, error) {
			var p pid
			return p, r.Scan(&p.org, &p.id)
		})
		if err != nil {
			return record(fmt.Errorf("records: list the patients without a keyset: %w", err))
		}
		for _, p := range page {
			k, ok := orgKeys[p.org]
			if !ok {
				if k, err = keys.OpsOrg(ctx, ops, p.org); err != nil {
					return record(fmt.Errorf("records: key the patients of org %s: %w", p.org, err))
				}
				orgKeys[p.org] = k
			}
			keyed, err := keyPatient(ctx, ops, k, p.org, p.id)
			if err != nil {
				// One patient's failure (a value that does not open) leaves
				// the others to key; past maxKeyingFailures, or when the
				// run is cancelled, it stops.
				failed = append(failed, err)
				if len(failed) >= maxKeyingFailures || ctx.Err() != nil {
					return record(keyingError(failed))
				}
				continue
			}
			if keyed {
				out.Patients++
				out.Orgs[p.org]++
			}
		}
		if len(page) < keyingPage {
			return record(keyingError(failed))
		}
		last := page[len(page)-1]
		afterOrg, afterID = uuid.NullUUID{UUID: last.org, Valid: true}, uuid.NullUUID{UUID: last.id, Valid: true}
	}
}

// maxKeyingFailures is how many patients KeyPatients fails to key before
// it stops.
const maxKeyingFailures = 10

// keyingError is nil for no failure, else one error naming how many
// patients were not keyed and each failure (ids, never a value).
func keyingError(failed []error) error {
	if len(failed) == 0 {
		return nil
	}
	return fmt.Errorf("records: %d patient(s) could not be keyed (the others were): %w", len(failed), errors.Join(failed...))
}

// keyPatient keys one patient in one transaction (KeyPatientTx), trying
// again once when the record changed between the read and the write. It
// returns false for a patient keyed or shredded meanwhile, or gone.
func keyPatient(ctx context.Context, ops *postgres.DB, k *envelope.OrgKeys, org, patient uuid.UUID) (bool, error) {
	var err error
	for try := 0; try < 3; try++ {
		err = ops.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			return KeyPatientTx(ctx, tx, k, org, patient)
		})
		var pe *pgconn.PgError
		switch {
		case err == nil:
			return true, nil
		case errors.As(err, &pe) && (pe.Code == "55000" && (pe.Hint == "patient_keyed" || pe.Hint == "patient_shredded") ||
			pe.Code == "P0002"):
			return false, nil
		case errors.As(err, &pe) && pe.Code == "40001":
			continue
		}
		break
	}
	return false, fmt.Errorf("records: key patient %s of org %s: %w", patient, org, err)
}

// KeyPatientTx keys one patient in tx (ward_ops or a superuser), k being
// the org's keys: it locks the patient's row and reads every value sealed
// for them (app.ops_patient_key_cells), opens each under k, seals it again
// under a new keyset of the patient's own and stores the wrapped keyset
// with the new values (app.ops_patient_key), which refuses unless the
// cells are still exactly those read. KeyPatients runs it one patient a
// transaction; the caller commits. Errors: the database's (55000 with hint
// patient_keyed or patient_shredded, P0002 for no such patient or org),
// or one wrapping envelope.ErrDecrypt naming the cell, never its value.
func KeyPatientTx(ctx context.Context, tx pgx.Tx, k *envelope.OrgKeys, org, patient uuid.UUID) error {
	rows, err := tx.Query(ctx, `select tbl, row_id, col, sealed from app.ops_patient_key_cells($1, $2)`, org, patient)
	if err != nil {
		return err
	}
	type cell struct {
		table, column string
		row           uuid.UUID
		sealed        []byte
	}
	cells, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (cell, error) {
		var c cell
		return c, r.Scan(&c.table, &c.row, &c.column, &c.sealed)
	})
	if err != nil {
		return err
	}
	wrapped, pk, err := k.NewPatientKeys(patient)
	if err != nil {
		return err
	}
	n := len(cells)
	tables, columns := make([]string, n), make([]string, n)
	ids := make([]uuid.UUID, n)
	old, sealed := make([][]byte, n), make([][]byte, n)
	for i, c := range cells {
		ad := envelope.AD{Table: c.table, Column: c.column, Org: org, Row: c.row}
		pt, err := k.Open(c.sealed, ad)
		if err != nil {
			return fmt.Errorf("open %s.%s of row %s under the org's keys: %w", c.table, c.column, c.row, err)
		}
		if sealed[i], err = pk.Seal(pt, ad); err != nil {
			return err
		}
		tables[i], columns[i], ids[i], old[i] = c.table, c.column, c.row, c.sealed
	}
	_, err = tx.Exec(ctx, `select app.ops_patient_key($1, $2, $3, $4, $5, $6, $7, $8)`,
		org, patient, wrapped, tables, ids, columns, old, sealed)
	return err
}
