package records

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// Shredded counts what ShredPatient destroyed beside the patient's keyset.
type Shredded struct {
	// Entries and Amendments are the record's clinical entries (their
	// clear columns overwritten) and amendment requests (sealed under the
	// patient's keys: unreadable now).
	Entries    int `json:"entries"`
	Amendments int `json:"amendments"`
	// Cases are the patient's cases (emptied of their titles and
	// references, and closed); Documents their documents (deleted), with
	// DataKeys the data keys destroyed and Comments the comments emptied.
	Cases     int `json:"cases"`
	Documents int `json:"documents"`
	DataKeys  int `json:"data_keys"`
	Comments  int `json:"comments"`
}

// The shred's refusals that are the record's state, not the caller's right.
var (
	errShredHold = errkind.Visible(ErrConflict,
		"a legal hold covers the patient (the org, the patient or one of their cases): release it first")
	errShredRequests = errkind.Visible(ErrConflict,
		"an access or amendment request of the patient is open: close it first")
	errShredNotKeyed = errkind.Visible(ErrConflict,
		"the patient was created before the per-patient key tier: their record is sealed under the org's keys and cannot be shredded alone until the operator gives them a keyset (ward patient key)")
)

// ShredPatient crypto-shreds one patient (app.patient_shred, migration
// 00275): an admin's session that presented a second factor within ten
// minutes destroys the patient's keyset, under which every sealed field of
// their record is, and overwrites what no patient key sealed (the
// entries' clear columns, the patient's cases, their documents' data keys
// and names), in one transaction with its patient.shred event. The
// record cannot be read afterwards (ErrShredded). Errors: ErrForbidden,
// ErrNotFound, ErrShredded (already), ErrConflict (a legal hold, an open
// access or amendment request, a patient without a keyset), or the
// database's refusal (postgres.ErrStepUpRequired,
// ErrBreakGlassNotAllowed); refusals are audited.
func (s *Service) ShredPatient(ctx context.Context, id uuid.UUID) (Shredded, error) {
	c, err := begin(ctx)
	if err != nil {
		return Shredded{}, err
	}
	const action = "patient.shred"
	if c.p.Kind != identity.KindSession || c.p.Role != identity.RoleAdmin {
		return Shredded{}, s.denied(ctx, c, c.event(action, "patient", id),
			errkind.Visible(ErrForbidden, "a patient is shredded by an admin's session"))
	}
	var out Shredded
	err = s.tx(ctx, c, func(ctx context.Context, tx pgx.Tx, _ *envelope.OrgKeys) error {
		return tx.QueryRow(ctx, `select entries, amendments, cases, documents, data_keys, comments
			   from app.patient_shred($1, $2)`, id, requestID(c.req.ID)).
			Scan(&out.Entries, &out.Amendments, &out.Cases, &out.Documents, &out.DataKeys, &out.Comments)
	})
	if err == nil {
		// This node's copy of the patient's unwrapped keys goes with the
		// org's (others' expire with their cache).
		s.keys.Keyring().Forget(c.p.OrgID)
		return out, nil
	}
	switch refusal := postgres.Refusal(err); {
	case refusal != nil:
		err = refusal
	case postgres.Hint(err, "55000") == "legal_hold":
		err = errShredHold
	case postgres.Hint(err, "55000") == "open_requests":
		err = errShredRequests
	case postgres.Hint(err, "55000") == "patient_not_keyed":
		err = errShredNotKeyed
	case postgres.IsCode(err, postgres.CodeNoDataFound):
		err = ErrNotFound
	default:
		err = mapErr("shred patient", err)
	}
	if errkind.Of(err) == errkind.Internal || errors.Is(err, ErrUnauthenticated) {
		return Shredded{}, err
	}
	return Shredded{}, s.denied(ctx, c, c.event(action, "patient", id), err)
}

// requestID is the request's id for a statement's optional text argument.
func requestID(id string) *string {
	if id == "" {
		return nil
	}
	return &id
}
