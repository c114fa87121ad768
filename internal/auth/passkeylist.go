package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// Passkey describes one of the caller's passkeys (never its credential id
// or public key).
type Passkey struct {
	ID             uuid.UUID  `json:"id"`
	Name           string     `json:"name"`
	AAGUID         uuid.UUID  `json:"aaguid"`
	BackupEligible bool       `json:"backup_eligible"`
	BackupState    bool       `json:"backup_state"`
	SignCount      int64      `json:"sign_count"`
	Transports     []string   `json:"transports"`
	CreatedAt      time.Time  `json:"created_at"`
	LastUsedAt     *time.Time `json:"last_used_at"`
}

// ListPasskeys returns the caller's passkeys in the credential's org,
// oldest first; the listing is audited (passkey.list).
func (s *Service) ListPasskeys(ctx context.Context) ([]Passkey, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var rows []dbsqlc.ListPasskeysRow
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		var err error
		if rows, err = q.ListPasskeys(ctx, dbsqlc.ListPasskeysParams{OrgID: p.OrgID, UserID: p.UserID}); err != nil {
			return err
		}
		return q.AppendPasskeyList(ctx, dbsqlc.AppendPasskeyListParams{OrgID: p.OrgID, Request: nullText(requestID(ctx)),
			Count: int32(len(rows))})
	})
	if err != nil {
		return nil, fmt.Errorf("auth: list passkeys: %w", err)
	}
	out := make([]Passkey, len(rows))
	for i, r := range rows {
		out[i] = Passkey{ID: r.ID, Name: r.Name, AAGUID: r.Aaguid, BackupEligible: r.BackupEligible,
			BackupState: r.BackupState, SignCount: r.SignCount, Transports: r.Transports, CreatedAt: r.CreatedAt,
			LastUsedAt: r.LastUsedAt}
	}
	return out, nil
}

// RenamePasskey renames one of the caller's passkeys. Errors:
// ErrInvalidInput (name 1..100 characters), ErrNotFound (audited).
func (s *Service) RenamePasskey(ctx context.Context, id uuid.UUID, name string) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	if n := len([]rune(name)); n < 1 || n > 100 {
		return errkind.Visible(ErrInvalidInput, "name must be 1..100 characters")
	}
	var ok bool
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		var err error
		ok, err = q.PasskeyRename(ctx, dbsqlc.PasskeyRenameParams{ID: id, Name: name, Request: nullText(requestID(ctx))})
		return err
	})
	if err != nil {
		return mapErr("rename passkey", err)
	}
	if !ok {
		return s.denied(ctx, p, "auth.passkey.rename", "passkey", id,
			errkind.Visible(ErrNotFound, "you have no passkey of this id in this org"))
	}
	return nil
}

// DeletePasskey deletes one of the caller's passkeys. The session must
// have presented a second factor within 10 minutes (ErrStepUpRequired),
// and the database refuses to delete the last factor the member's bar
// needs (ErrPasskeyLastFactor, audited). ErrNotFound when the caller has
// no such passkey (audited).
func (s *Service) DeletePasskey(ctx context.Context, id uuid.UUID) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	var status string
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		var err error
		status, err = q.PasskeyDelete(ctx, dbsqlc.PasskeyDeleteParams{ID: id, Request: nullText(requestID(ctx))})
		return err
	})
	switch {
	case err != nil:
		return mapErr("delete passkey", err)
	case status == "not_found":
		return s.denied(ctx, p, "auth.passkey.delete", "passkey", id,
			errkind.Visible(ErrNotFound, "you have no passkey of this id in this org"))
	case status == "last_factor":
		return ErrPasskeyLastFactor
	case status != "ok":
		return errors.New("auth: delete passkey: unexpected status " + status)
	}
	return nil
}
