package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/identity"
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
			return ErrNotFound
		}
		return nil
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("auth: revoke session: %w", err)
	}
	return err
}

// Policy is an org's session policy, in minutes.
type Policy struct {
	IdleTimeoutMin int `json:"session_idle_timeout_min"`
	AbsoluteMaxMin int `json:"session_absolute_max_min"`
}

// GetPolicy returns the caller's org session policy.
func (s *Service) GetPolicy(ctx context.Context) (Policy, error) {
	p, err := principal(ctx)
	if err != nil {
		return Policy{}, err
	}
	var pol Policy
	err = s.tx(ctx, p, func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, `select session_idle_timeout_min, session_absolute_max_min from app.orgs where id = $1`,
			p.OrgID).Scan(&pol.IdleTimeoutMin, &pol.AbsoluteMaxMin)
	})
	if err != nil {
		return Policy{}, fmt.Errorf("auth: get policy: %w", err)
	}
	return pol, nil
}

// SetPolicy sets the caller's org session policy (admins only). Values must
// be positive and within the instance maxima; sessions that no longer meet
// the new policy are shortened. Errors: ErrInvalidInput, ErrForbidden.
func (s *Service) SetPolicy(ctx context.Context, pol Policy) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	if p.Role != identity.RoleAdmin {
		return ErrForbidden
	}
	if pol.IdleTimeoutMin < 1 || time.Duration(pol.IdleTimeoutMin)*time.Minute > s.cfg.IdleMax ||
		pol.AbsoluteMaxMin < 5 || time.Duration(pol.AbsoluteMaxMin)*time.Minute > s.cfg.AbsoluteMax ||
		pol.IdleTimeoutMin > pol.AbsoluteMaxMin {
		return fmt.Errorf("%w: idle timeout must be 1..%d minutes and absolute lifetime 5..%d minutes, idle ≤ absolute",
			ErrInvalidInput, int(s.cfg.IdleMax/time.Minute), int(s.cfg.AbsoluteMax/time.Minute))
	}
	err = s.tx(ctx, p, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `select app.set_session_policy($1, $2, $3)`, pol.IdleTimeoutMin, pol.AbsoluteMaxMin,
			nullText(requestID(ctx)))
		return err
	})
	return mapErr("set policy", err)
}

// mapErr turns the procedures' SQLSTATEs into the package's errors.
func mapErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrForbidden), errors.Is(err, ErrInvalidInput):
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
