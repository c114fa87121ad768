package audit

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/postgres"
)

// SSORequired reports whether err is the database refusing a session
// because the org signs the member in through its identity provider (the
// sessions trigger of migrations 00128 and 00130), and the org and user it
// names (ids only, from the error's DETAIL).
func SSORequired(err error) (org, user uuid.UUID, ok bool) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != postgres.CodeInsufficientPrivilege || pe.ConstraintName != "sso_required" {
		return uuid.Nil, uuid.Nil, false
	}
	a, b, found := strings.Cut(pe.Detail, " ")
	if !found {
		return uuid.Nil, uuid.Nil, false
	}
	var err1, err2 error
	org, err1 = uuid.Parse(a)
	user, err2 = uuid.Parse(b)
	if err1 != nil || err2 != nil {
		return uuid.Nil, uuid.Nil, false
	}
	return org, user, true
}

// RecordSSORequired records a sign-in refused with sso_required (see
// SSORequired) as auth.signin, denied, reason sso_required, with method
// (passkey, case_invitation, magic_link, operator_link) and no address, in
// a transaction of its own: the refused one rolled back, and its event with
// it. limit collapses a member's flood of refusals as other denials are
// (see Collapser). The database records the event only if it finds the
// member bound (app.audit_sso_required). Another error records nothing.
func RecordSSORequired(ctx context.Context, db *postgres.DB, limit *Collapser, err error, method, request, ip, ua string) error {
	org, user, ok := SSORequired(err)
	if !ok {
		return nil
	}
	record, n := limit.Admit(user, time.Now())
	if !record {
		return nil // counted in the next collapsed event
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deniedTimeout)
	defer cancel()
	return db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `select app.audit_sso_required($1, $2, $3, $4, $5, $6, $7)`,
			org, user, method, n, optional(request), optional(ip), optional(cleanText(ua, 256)))
		return err
	})
}
