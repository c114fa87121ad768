package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
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
	// DeviceForgotten: the member forgot this session's device
	// (ForgetSessionDevice); it vouches for nothing in the risk score.
	DeviceForgotten bool `json:"device_forgotten"`
}

// ListSessions returns the caller's sessions, newest first.
func (s *Service) ListSessions(ctx context.Context) ([]SessionInfo, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var rows []dbsqlc.ListSessionsRow
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		var err error
		rows, err = q.ListSessions(ctx, dbsqlc.ListSessionsParams{OrgID: p.OrgID, UserID: p.UserID})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("auth: list sessions: %w", err)
	}
	out := make([]SessionInfo, len(rows))
	for i, r := range rows {
		out[i] = SessionInfo{ID: r.ID, OrgID: r.OrgID, CreatedAt: r.CreatedAt, LastSeenAt: r.LastSeenAt,
			IdleTimeoutMin: int(r.IdleTimeoutMin), AbsoluteExpiresAt: r.AbsoluteExpiresAt, RevokedAt: r.RevokedAt,
			UserAgent: r.UserAgent, Current: r.ID == p.SessionID, DeviceForgotten: r.DeviceForgotten}
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
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		// The event first: revoking the current session (logout) ends the
		// credential that names the actor. The update rolls it back if it
		// finds nothing.
		if err := q.AppendSessionRevoke(ctx, dbsqlc.AppendSessionRevokeParams{OrgID: p.OrgID, SessionID: id,
			Request: nullText(requestID(ctx)), Reason: reason}); err != nil {
			return err
		}
		n, err := q.RevokeSession(ctx, dbsqlc.RevokeSessionParams{Reason: reason, OrgID: p.OrgID, ID: id, UserID: p.UserID})
		if err != nil {
			return err
		}
		if n == 0 {
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

// Forgotten is what forgetting a session's device did.
type Forgotten struct {
	// Sessions is how many of the member's sessions in the org no longer
	// vouch for a device, network or usual hour in the sign-in risk score
	// (the named one and every other naming the same device).
	Sessions int `json:"sessions_forgotten"`
	// Ended says the named session was live and is now revoked.
	Ended bool `json:"ended"`
	// OthersEnded counts the member's other live sessions bound to the
	// same device key (DPoP), ended with it: they are on that device.
	OthersEnded int `json:"other_sessions_ended"`
}

// ForgetSessionDevice says the caller does not vouch for the device of one
// of their own sessions (live or ended) in this org: a session they do not
// recognise, or a lost device. That session and every other of theirs with
// the same device key or user agent stop counting as a known device,
// network or hour when a sign-in is scored (app.forget_session_device,
// migration 00155), and the named session ends if it is live. Audited
// (session.revoke, reason device_forgotten). Errors: ErrNotFound (not one of
// the caller's sessions in this org), ErrForbidden (an API key),
// ErrBreakGlassNotAllowed.
func (s *Service) ForgetSessionDevice(ctx context.Context, id uuid.UUID) (Forgotten, error) {
	p, err := principal(ctx)
	if err != nil {
		return Forgotten{}, err
	}
	var out Forgotten
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		r, err := q.ForgetSessionDevice(ctx, dbsqlc.ForgetSessionDeviceParams{SessionID: id, Request: nullText(requestID(ctx))})
		if err != nil {
			return err
		}
		if r.Forgotten != nil {
			out.Sessions = int(*r.Forgotten)
		}
		out.Ended = r.Ended != nil && *r.Ended
		if r.OthersEnded != nil {
			out.OthersEnded = int(*r.OthersEnded)
		}
		return nil
	})
	switch err = mapErr("forget session device", err); {
	case errors.Is(err, ErrNotFound):
		err = errkind.Visible(ErrNotFound, "none of your sessions in this org has this id")
		return Forgotten{}, s.denied(ctx, p, "session.revoke", "session", id, err)
	case errors.Is(err, ErrForbidden):
		return Forgotten{}, s.denied(ctx, p, "session.revoke", "session", id, err)
	}
	return out, err
}

// Logout ends the caller's current session, whether or not it met its
// assurance bar (a pending session may always log out). It returns
// ErrUnauthenticated when the credential names no live session.
func (s *Service) Logout(ctx context.Context) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	var ok bool
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		var err error
		ok, err = q.Logout(ctx, nullText(requestID(ctx)))
		return err
	})
	if err != nil {
		return fmt.Errorf("auth: logout: %w", err)
	}
	if !ok {
		return ErrUnauthenticated
	}
	return nil
}

// EndReplaced ends the session whose token a browser presented in its
// session cookie, as its logout would (session.revoke, reason logout),
// when a sign-in is about to replace it in that cookie: a session the
// browser can no longer present must not live on unseen. It reports
// whether a live session ended; a token that names none is no error.
func (s *Service) EndReplaced(ctx context.Context, token string) (bool, error) {
	if !validSecret(token) {
		return false, nil
	}
	cred := postgres.Credential{Hash: identity.HashToken(token), Request: requestID(ctx), DPoP: postgres.BrowserBinding}
	var ok bool
	err := s.db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		ok, err = dbsqlc.New(tx).Logout(ctx, nullText(requestID(ctx)))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("auth: end the replaced session: %w", err)
	}
	return ok, nil
}

// mapErr turns the procedures' SQLSTATEs into the package's errors.
func mapErr(op string, err error) error {
	if r := postgres.Refusal(err); r != nil {
		return r
	}
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
