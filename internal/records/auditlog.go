package records

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// AccessReport returns a page of who accessed a patient's record: reads,
// changes, denials and lists that returned it, the events after seq after
// (0: from the start), at most limit (1..audit.MaxReportPage; 0 means the
// most), in seq order. The database decides who may read it (the patient
// themself, or an admin); for anyone else the report is refused with
// ErrNotFound, and the refusal is audited. Errors: also ErrInvalidInput
// for an after or limit out of range.
func (s *Service) AccessReport(ctx context.Context, patient uuid.UUID, after int64, limit int) (AccessReport, error) {
	if limit == 0 {
		limit = audit.MaxReportPage
	}
	out, cp, err := s.accessReport(ctx, patient, after, limit)
	if out == nil {
		out = []audit.Access{}
	}
	rep := AccessReport{PatientID: patient, Checkpoint: cp, Accesses: out}
	if err == nil && len(out) == limit && out[len(out)-1].Seq > 0 {
		next := out[len(out)-1].Seq
		rep.NextAfter = &next
	}
	return rep, err
}

// AccessReport is who accessed a patient's record, each access with its
// inclusion proof against Checkpoint (the org's newest signed checkpoint),
// so the patient's app can check offline that the entries are in the log
// everyone else sees. A report is read a page at a time: NextAfter, when
// set, is the after of the next page.
type AccessReport struct {
	PatientID  uuid.UUID         `json:"patient_id"`
	Checkpoint *audit.Checkpoint `json:"checkpoint,omitempty"`
	Accesses   []audit.Access    `json:"accesses"`
	NextAfter  *int64            `json:"next_after,omitempty"`
}

func (s *Service) accessReport(ctx context.Context, patient uuid.UUID, after int64, limit int) ([]audit.Access, *audit.Checkpoint, error) {
	c, err := begin(ctx)
	if err != nil {
		return nil, nil, err
	}
	if c.p.Role != identity.RolePatient && c.p.Role != identity.RoleAdmin {
		return nil, nil, s.denied(ctx, c, c.event("patient.access_report", "patient", patient), ErrForbidden)
	}
	if limit < 1 || limit > audit.MaxReportPage || after < 0 || after > 1<<53 {
		return nil, nil, errkind.Visiblef(ErrInvalidInput, "after must be 0..2^53 and limit 1..%d", audit.MaxReportPage)
	}
	if err := s.integrate(ctx, c); err != nil {
		return nil, nil, err
	}
	var out []audit.Access
	var cp *audit.Checkpoint
	err = s.db.InTenantTx(ctx, c.cred(), func(ctx context.Context, tx pgx.Tx) error {
		if err := patientLog(ctx, tx, c.p.OrgID, patient); err != nil {
			return err
		}
		var err error
		out, err = audit.AccessReportPage(ctx, tx, c.p.OrgID, patient, after, limit)
		if err != nil {
			return err
		}
		// Who looked, by address (staff, and the patient themself).
		if err := s.openActorEmails(ctx, out, nil); err != nil {
			return err
		}
		if c.p.Role == identity.RolePatient {
			hideOtherPatients(out, c.p.UserID)
		}
		// Each entry's inclusion proof against the newest checkpoint.
		if cp, err = audit.AttachProofs(ctx, tx, c.p.OrgID, out); err != nil {
			return err
		}
		e := c.event("patient.access_report", "patient", patient)
		e.Patient = uuid.NullUUID{UUID: patient, Valid: true}
		e.Details = map[string]any{"after": after, "count": len(out)}
		_, err = audit.Record(ctx, tx, e)
		return err
	})
	if err = mapErr("access report", err); err == ErrNotFound {
		return nil, nil, s.denied(ctx, c, c.event("patient.access_report", "patient", patient), err)
	}
	return out, cp, err
}

// staffRoles are the roles whose members a patient's own access report
// names by id: the org's staff and the case stakeholders its disclosures
// go to.
var staffRoles = []identity.Role{identity.RoleProvider, identity.RoleLead, identity.RoleAdmin, identity.RoleStakeholder}

// hideOtherPatients withholds, in a report a patient reads, the id of
// every actor who is neither the patient themself nor staff: another
// patient of the org who tried to read the record is shown by role and
// outcome only (migration 00010's rule, "another patient's identity never
// appears"; their address was already withheld, their user id was not).
// The entry's leaf hash and proof are unchanged: they commit to the
// event, not to what the report shows of it.
func hideOtherPatients(acc []audit.Access, self uuid.UUID) {
	for i := range acc {
		a := &acc[i]
		if a.Actor.Valid && a.Actor.UUID != self && !slices.Contains(staffRoles, identity.Role(a.ActorRole)) {
			a.Actor = uuid.NullUUID{}
		}
	}
}

// errAccountingRefused marks the database's refusal of the accounting
// itself, the only permission error audited as a denial of it.
var errAccountingRefused = errors.New("records: disclosure accounting refused")

// Accounting is a patient's accounting of disclosures (HIPAA §164.528):
// every disclosure of their record outside the covered entity in the six
// years before it was asked for.
type Accounting struct {
	PatientID   uuid.UUID         `json:"patient_id"`
	Since       time.Time         `json:"since"`
	Disclosures []audit.Disclosed `json:"disclosures"`
}

// DisclosureAccounting returns patient's accounting of disclosures. The
// caller must be an admin of the org or the patient themself (the database
// decides, audit.disclosure_accounting) and see the patient; the
// accounting given is audited (patient.disclosure_accounting), a refusal
// too. Errors: ErrForbidden, ErrNotFound.
func (s *Service) DisclosureAccounting(ctx context.Context, patient uuid.UUID) (Accounting, error) {
	c, err := begin(ctx)
	if err != nil {
		return Accounting{}, err
	}
	const action = "patient.disclosure_accounting"
	if c.p.Role != identity.RolePatient && c.p.Role != identity.RoleAdmin {
		return Accounting{}, s.denied(ctx, c, c.event(action, "patient", patient), ErrForbidden)
	}
	if err := s.integrate(ctx, c); err != nil {
		return Accounting{}, err
	}
	out := Accounting{PatientID: patient}
	err = s.db.InTenantTx(ctx, c.cred(), func(ctx context.Context, tx pgx.Tx) error {
		if err := patientLog(ctx, tx, c.p.OrgID, patient); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `select now() - interval '6 years'`).Scan(&out.Since); err != nil {
			return err
		}
		var err error
		if out.Disclosures, err = audit.DisclosureAccounting(ctx, tx, c.p.OrgID, patient); errors.Is(err, audit.ErrForbidden) {
			return errAccountingRefused // an admin's API key without the dsr scope
		} else if err != nil {
			return err
		}
		// Who received each disclosure, by address.
		if err := s.openActorEmails(ctx, nil, out.Disclosures); err != nil {
			return err
		}
		e := c.event(action, "patient", patient)
		e.Patient = uuid.NullUUID{UUID: patient, Valid: true}
		e.Details = map[string]any{"disclosures": len(out.Disclosures)}
		_, err = audit.Record(ctx, tx, e)
		return err
	})
	if errors.Is(err, errAccountingRefused) {
		return Accounting{}, s.denied(ctx, c, c.event(action, "patient", patient), ErrForbidden)
	}
	if err = mapErr("disclosure accounting", err); err == ErrNotFound {
		return Accounting{}, s.denied(ctx, c, c.event(action, "patient", patient), err)
	}
	return out, err
}

// patientLog checks that patient is visible to the caller (RLS: a patient
// sees only their own record; ErrNotFound otherwise). The caller has
// integrated the log first (integrate), so the freshest events have their
// place (a seq, for a proof) too.
func patientLog(ctx context.Context, tx pgx.Tx, org, patient uuid.UUID) error {
	visible, err := dbsqlc.New(tx).PatientVisible(ctx, dbsqlc.PatientVisibleParams{OrgID: org, ID: patient})
	if err != nil {
		return err
	}
	if !visible {
		return ErrNotFound
	}
	return nil
}

// integrate sequences the pending events of the caller's org in a short
// transaction of its own, as an audit export does: integration holds the
// org's integration lock to the end of its transaction, so inside a
// report's it held every other report, log read and export of the org, and
// the integrator's pass for every org after it, for as long as the report
// took to read (a patient's own reads make a long report).
func (s *Service) integrate(ctx context.Context, c call) error {
	return s.db.InTenantTx(ctx, c.cred(), func(ctx context.Context, tx pgx.Tx) error {
		_, _, err := audit.Integrate(ctx, tx, c.p.OrgID)
		return err
	})
}

// openActorEmails opens the sealed addresses the database released with an
// access report's and an accounting's entries (the instance keyset's AEAD,
// bound to the user's id).
func (s *Service) openActorEmails(ctx context.Context, accesses []audit.Access, disclosures []audit.Disclosed) error {
	inst, err := s.keys.Instance(ctx, s.db)
	if err != nil {
		return err
	}
	open := func(enc []byte, actor uuid.NullUUID) (string, error) {
		if enc == nil || !actor.Valid {
			return "", nil
		}
		pt, err := inst.Open(enc, keystore.UserEmailAD(actor.UUID))
		if err != nil {
			return "", fmt.Errorf("records: open actor %s address: %w", actor.UUID, err)
		}
		return string(pt), nil
	}
	for i := range accesses {
		if accesses[i].ActorEmail, err = open(accesses[i].ActorEmailEnc, accesses[i].Actor); err != nil {
			return err
		}
	}
	for i := range disclosures {
		if disclosures[i].ActorEmail, err = open(disclosures[i].ActorEmailEnc, disclosures[i].Actor); err != nil {
			return err
		}
	}
	return nil
}
