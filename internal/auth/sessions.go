package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/postgres"
)

// SessionInfo describes one of the caller's sessions (never its token).
type SessionInfo struct {
	ID                uuid.UUID  `json:"id"`
	OrgID             uuid.UUID  `json:"org_id"`
	CreatedAt         time.Time  `json:"created_at"`
	LastSeenAt        time.Time  `json:"last_seen_at"`
	IdleTimeoutMin    int        `json:"idle_timeout_min"`
	AbsoluteExpiresAt time.Time  `json:"absolute_expires_at"`
	RevokedAt         *time.Time `json:"revoked_at,omitempty"`
	UserAgent         string     `json:"user_agent,omitempty"`
	Current           bool       `json:"current"`
}

// ListSessions returns the caller's sessions, newest first.
func (s *Service) ListSessions(ctx context.Context) ([]SessionInfo, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var out []SessionInfo
	err = s.tx(ctx, p, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `select id, org_id, created_at, last_seen_at, idle_timeout_min, absolute_expires_at,
			revoked_at, coalesce(user_agent, '') from app.sessions
			where user_id = $1 order by created_at desc limit 200`, p.UserID)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (SessionInfo, error) {
			var si SessionInfo
			err := r.Scan(&si.ID, &si.OrgID, &si.CreatedAt, &si.LastSeenAt, &si.IdleTimeoutMin, &si.AbsoluteExpiresAt,
				&si.RevokedAt, &si.UserAgent)
			si.Current = si.ID == p.SessionID
			return si, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("auth: list sessions: %w", err)
	}
	return out, nil
}

// RevokeSession ends one of the caller's own sessions (the current one is
// logout). It returns ErrNotFound for a session that is not the caller's or
// is already revoked.
func (s *Service) RevokeSession(ctx context.Context, id uuid.UUID) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	reason := "revoked_by_user"
	if id == p.SessionID {
		reason = "logout"
	}
	err = s.tx(ctx, p, func(ctx context.Context, tx pgx.Tx) error {
		// The event first: revoking the current session (logout) ends the
		// credential that names the actor. The update rolls it back if it
		// finds nothing.
		if _, err := tx.Exec(ctx, `select audit.append($1, 'session.revoke', 'success', 'session', $2,
			p_request => $3, p_details => jsonb_build_object('reason', $4::text))`, p.OrgID, id, nullText(requestID(ctx)), reason); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `update app.sessions set revoked_at = now(), revoked_reason = $3
			where id = $1 and user_id = $2 and revoked_at is null`, id, p.UserID, reason)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errkind.Visible(ErrNotFound, "none of your live sessions in this org has this id (it may have ended already)")
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return s.denied(ctx, p, "session.revoke", "session", id, err)
	}
	if err != nil {
		return fmt.Errorf("auth: revoke session: %w", err)
	}
	return nil
}

// mapErr turns the procedures' SQLSTATEs into the package's errors.
func mapErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrForbidden), errors.Is(err, ErrInvalidInput),
		errors.Is(err, ErrConflict):
		return err
	case postgres.IsCode(err, postgres.CodeInsufficientPrivilege):
		return ErrForbidden
	case postgres.IsCode(err, postgres.CodeNoDataFound):
		return ErrNotFound
	case postgres.IsCode(err, postgres.CodeUniqueViolation), postgres.IsCode(err, postgres.CodeCheckViolation):
		return fmt.Errorf("%w: %s", ErrConflict, op)
	}
	return fmt.Errorf("auth: %s: %w", op, err)
}
