// Package tenancy creates orgs: the operator's act that makes a tenant, its
// keysets and its first admin, in one audited transaction. It is not sign-in
// code; it runs through the operator's connection (ward_ops or a
// superuser), never ward_app.
package tenancy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// Errors returned by CreateOrg.
var (
	ErrInvalidInput = errkind.New(errkind.Invalid, "invalid_input", "tenancy: invalid input")
	// ErrExists means an org of this name already has this person as admin.
	ErrExists = errkind.New(errkind.Conflict, "org_exists", "tenancy: org exists")
	// ErrForbidden means the connection is not an operator's.
	ErrForbidden = errkind.New(errkind.Forbidden, "forbidden", "tenancy: not an operator connection")
)

// Org is a newly created org and its first admin.
type Org struct {
	ID      uuid.UUID
	AdminID uuid.UUID
}

// CreateOrg creates an org named name with its AEAD and PRF keysets (bound
// to its id, wrapped under the root key) and its first admin, creating the
// admin's user when the address is new. ops must be an operator connection.
// Errors: ErrInvalidInput (a name of 1..200 characters without control
// characters, an email address), ErrExists (same name, same admin: the
// existing org's id is in the error), ErrForbidden.
func CreateOrg(ctx context.Context, ops *postgres.DB, keys *keystore.Store, name, adminEmail string) (Org, error) {
	switch {
	case name == "" || utf8.RuneCountInString(name) > 200 || !utf8.ValidString(name) ||
		strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return Org{}, errkind.Visible(ErrInvalidInput, "the org name must be 1..200 characters with no control characters")
	case !identity.ValidEmail(adminEmail):
		return Org{}, errkind.Visible(ErrInvalidInput, "the admin's email address is not valid")
	}
	inst, err := keys.Instance(ctx, ops)
	if err != nil {
		return Org{}, err
	}
	adminID := uuid.New()
	email := envelope.NormalizeEmail(adminEmail)
	enc, err := inst.Seal([]byte(email), keystore.UserEmailAD(adminID))
	if err != nil {
		return Org{}, err
	}
	bidx := inst.BlindIndex("users.email", email)
	// The keysets are bound to the org id, so the id is chosen here.
	org := uuid.New()
	w, err := keys.Keyring().NewOrgKeys(org)
	if err != nil {
		return Org{}, err
	}
	var out Org
	err = ops.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		q := dbsqlc.New(tx)
		// The domain of the address, noted for enforce_sso (00128).
		if err := q.NoteEmailDomain(ctx, dbsqlc.NoteEmailDomainParams{EmailBidx: bidx,
			DomainBidx: inst.EmailDomainIndex(email)}); err != nil {
			return err
		}
		row, err := q.CreateOrg(ctx, dbsqlc.CreateOrgParams{Name: name, Aead: w.AEAD, Prf: w.PRF,
			AdminID: adminID, AdminBidx: bidx, AdminEmailEnc: enc, OrgID: org})
		out = Org{ID: row.OrgID.UUID, AdminID: row.AdminID.UUID}
		return err
	})
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return out, nil
	case errors.As(err, &pe) && pe.Code == postgres.CodeUniqueViolation && strings.HasPrefix(pe.Message, "org "):
		// "org <id> already has this name and admin": ids only.
		return Org{}, errkind.Visible(ErrExists, pe.Message+"; use that org, or choose another name")
	case postgres.IsCode(err, postgres.CodeInsufficientPrivilege):
		return Org{}, ErrForbidden
	}
	return Org{}, fmt.Errorf("tenancy: create org: %w", err)
}
