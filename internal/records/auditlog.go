package records

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// AccessReport returns who accessed a patient's record: reads, changes,
// denials and lists that returned it. The database decides who may read it
// (the patient themself, or an admin); for anyone else the report is
// refused with ErrNotFound, and the refusal is audited.
func (s *Service) AccessReport(ctx context.Context, patient uuid.UUID) (AccessReport, error) {
	out, cp, err := s.accessReport(ctx, patient)
	if out == nil {
		out = []audit.Access{}
	}
	return AccessReport{PatientID: patient, Checkpoint: cp, Accesses: out}, err
}

// AccessReport is who accessed a patient's record, each access with its
// inclusion proof against Checkpoint (the org's newest signed checkpoint),
// so the patient's app can check offline that the entries are in the log
// everyone else sees.
type AccessReport struct {
	PatientID  uuid.UUID         `json:"patient_id"`
	Checkpoint *audit.Checkpoint `json:"checkpoint,omitempty"`
	Accesses   []audit.Access    `json:"accesses"`
}

func (s *Service) accessReport(ctx context.Context, patient uuid.UUID) ([]audit.Access, *audit.Checkpoint, error) {
	c, err := begin(ctx)
	if err != nil {
		return nil, nil, err
	}
	if c.p.Role != identity.RolePatient && c.p.Role != identity.RoleAdmin {
		return nil, nil, s.denied(ctx, c, c.event("patient.access_report", "patient", patient), ErrForbidden)
	}
	var out []audit.Access
	var cp *audit.Checkpoint
	err = s.db.InTenantTx(ctx, c.cred(), func(ctx context.Context, tx pgx.Tx) error {
		// The patient must be visible to the caller (RLS): a patient sees
		// only their own record.
		visible, err := dbsqlc.New(tx).PatientVisible(ctx, dbsqlc.PatientVisibleParams{OrgID: c.p.OrgID, ID: patient})
		if err != nil {
			return err
		}
		if !visible {
			return ErrNotFound
		}
		// The freshest accesses have a place in the log too.
		if _, _, err := audit.Integrate(ctx, tx, c.p.OrgID); err != nil {
			return err
		}
		out, err = audit.AccessReport(ctx, tx, c.p.OrgID, patient)
		if err != nil {
			return err
		}
		// Who looked, by address (staff, and the patient themself).
		inst, err := s.keys.Instance(ctx, s.db)
		if err != nil {
			return err
		}
		for i := range out {
			if out[i].ActorEmailEnc != nil && out[i].Actor.Valid {
				pt, err := inst.Open(out[i].ActorEmailEnc, keystore.UserEmailAD(out[i].Actor.UUID))
				if err != nil {
					return fmt.Errorf("records: open actor %s address: %w", out[i].Actor.UUID, err)
				}
				out[i].ActorEmail = string(pt)
			}
		}
		// Each entry's inclusion proof against the newest checkpoint.
		if cp, err = audit.AttachProofs(ctx, tx, c.p.OrgID, out); err != nil {
			return err
		}
		e := c.event("patient.access_report", "patient", patient)
		e.Patient = uuid.NullUUID{UUID: patient, Valid: true}
		_, err = audit.Record(ctx, tx, e)
		return err
	})
	if err = mapErr("access report", err); err == ErrNotFound {
		return nil, nil, s.denied(ctx, c, c.event("patient.access_report", "patient", patient), err)
	}
	return out, cp, err
}
