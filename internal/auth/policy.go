package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// InstancePolicy is the instance's sign-in and session limits. They live in
// the database (app.instance_policy), where the sign-in procedures read
// them: the server cannot pass a longer lifetime or a looser limit. Hard
// caps are CHECK constraints: a link lives 1..60 minutes; the window is
// 1..1440 minutes; 1..100 requests per address and source, 1..1000 per
// address from all sources, 1..10000 per source; idle timeouts up to 24 hours and lifetimes up to 30 days.
type InstancePolicy struct {
	// LinkTTL is a magic link's lifetime (default 15 minutes).
	LinkTTL time.Duration
	// RateWindow, MaxPerAddress, MaxPerAddressAll and MaxPerSource bound
	// link requests in a window: per address from one source, per address
	// from all sources together (what one inbox can be sent however many
	// sources ask), and per source (defaults 15 minutes, 5, 15, 30).
	RateWindow       time.Duration
	MaxPerAddress    int
	MaxPerAddressAll int
	MaxPerSource     int
	// IdleMax and AbsoluteMax cap every org's session policy (defaults 8 h
	// and 7 days); an org may set anything at or below them.
	IdleMax     time.Duration
	AbsoluteMax time.Duration
}

// GetInstancePolicy reads the instance policy (any role may).
func GetInstancePolicy(ctx context.Context, db *postgres.DB) (InstancePolicy, error) {
	r, err := dbsqlc.New(db.Pool).GetInstancePolicy(ctx)
	if err != nil {
		return InstancePolicy{}, fmt.Errorf("auth: read instance policy: %w", err)
	}
	return InstancePolicy{LinkTTL: minutes(r.LinkTtlMin), RateWindow: minutes(r.LinkWindowMin),
		MaxPerAddress: int(r.LinkMaxPerAddress), MaxPerAddressAll: int(r.LinkMaxPerAddressAll),
		MaxPerSource: int(r.LinkMaxPerSource),
		IdleMax:      minutes(r.SessionIdleMaxMin), AbsoluteMax: minutes(r.SessionAbsoluteMaxMin)}, nil
}

func minutes(n int32) time.Duration { return time.Duration(n) * time.Minute }

func ptr[T any](v T) *T { return &v }

// SetInstancePolicy writes the instance policy; zero fields keep their
// stored value. ops must be an operator connection (ward_ops or a
// superuser): ward_app may not. Errors: ErrInvalidInput for a value beyond
// the hard caps (nothing is written), ErrForbidden for ward_app.
func SetInstancePolicy(ctx context.Context, ops *postgres.DB, p InstancePolicy) error {
	mins := func(d time.Duration) *int32 {
		if d == 0 {
			return nil
		}
		if d%time.Minute != 0 || d < time.Minute || d > 30*24*time.Hour {
			return ptr(int32(-1)) // refused by the CHECK constraints
		}
		return ptr(int32(d / time.Minute))
	}
	count := func(n int) *int32 {
		if n == 0 {
			return nil
		}
		if n < 0 || n > 1<<20 {
			return ptr(int32(-1))
		}
		return ptr(int32(n))
	}
	err := dbsqlc.New(ops.Pool).SetInstancePolicy(ctx, dbsqlc.SetInstancePolicyParams{
		LinkTtlMin: mins(p.LinkTTL), LinkWindowMin: mins(p.RateWindow),
		LinkMaxPerAddress: count(p.MaxPerAddress), LinkMaxPerSource: count(p.MaxPerSource),
		LinkMaxPerAddressAll: count(p.MaxPerAddressAll),
		SessionIdleMaxMin:    mins(p.IdleMax), SessionAbsoluteMaxMin: mins(p.AbsoluteMax)})
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pe) && pe.Code == postgres.CodeCheckViolation:
		return errkind.Visiblef(ErrInvalidInput, "instance policy: %s is beyond its hard cap", pe.ConstraintName)
	case postgres.IsCode(err, postgres.CodeInsufficientPrivilege):
		return ErrForbidden
	}
	return fmt.Errorf("auth: set instance policy: %w", err)
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
	var r dbsqlc.GetOrgPolicyRow
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		var err error
		r, err = q.GetOrgPolicy(ctx, p.OrgID)
		return err
	})
	if err != nil {
		return Policy{}, fmt.Errorf("auth: get policy: %w", err)
	}
	return Policy{IdleTimeoutMin: int(r.SessionIdleTimeoutMin), AbsoluteMaxMin: int(r.SessionAbsoluteMaxMin)}, nil
}

// SetPolicy sets the caller's org session policy (admins only). Values must
// be within the instance policy (the database checks them against it);
// sessions that no longer meet the new policy are shortened. Errors:
// ErrInvalidInput, ErrForbidden (audited).
func (s *Service) SetPolicy(ctx context.Context, pol Policy) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	if p.Role != identity.RoleAdmin {
		return s.denied(ctx, p, "org.session_policy.update", "org", p.OrgID, ErrForbidden)
	}
	// The hard caps, checked here so that a value beyond 32 bits is a clear
	// error rather than a failed encoding; the instance caps are the
	// database's.
	switch {
	case pol.IdleTimeoutMin < 1 || pol.IdleTimeoutMin > 1440:
		return errkind.Visible(ErrInvalidInput, "session_idle_timeout_min must be 1..1440 (and within the instance policy)")
	case pol.AbsoluteMaxMin < 5 || pol.AbsoluteMaxMin > 43200:
		return errkind.Visible(ErrInvalidInput, "session_absolute_max_min must be 5..43200 (and within the instance policy)")
	case pol.IdleTimeoutMin > pol.AbsoluteMaxMin:
		return errkind.Visible(ErrInvalidInput, "session_idle_timeout_min may not exceed session_absolute_max_min")
	}
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		return q.SetSessionPolicy(ctx, dbsqlc.SetSessionPolicyParams{IdleMin: int32(pol.IdleTimeoutMin),
			AbsoluteMin: int32(pol.AbsoluteMaxMin), Request: nullText(requestID(ctx))})
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == postgres.CodeInvalidParameter {
		// The procedure's message names the instance caps, numbers only.
		return errkind.Visiblef(ErrInvalidInput, "%s", pe.Message)
	}
	if err = mapErr("set policy", err); errors.Is(err, ErrForbidden) {
		return s.denied(ctx, p, "org.session_policy.update", "org", p.OrgID, err)
	}
	return err
}

// AssurancePolicy is an org's second-factor policy. Admins and leads need
// a second factor whatever it says (an instance rule); RequireMFA extends
// that to every role, and RequirePasskey asks every role for a passkey with
// user verification (TOTP and recovery codes no longer suffice).
type AssurancePolicy struct {
	RequireMFA     bool `json:"require_mfa"`
	RequirePasskey bool `json:"require_passkey"`
}

// GetAssurancePolicy returns the caller's org assurance policy.
func (s *Service) GetAssurancePolicy(ctx context.Context) (AssurancePolicy, error) {
	p, err := principal(ctx)
	if err != nil {
		return AssurancePolicy{}, err
	}
	var r dbsqlc.GetAssurancePolicyRow
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		var err error
		r, err = q.GetAssurancePolicy(ctx, p.OrgID)
		return err
	})
	if err != nil {
		return AssurancePolicy{}, fmt.Errorf("auth: get assurance policy: %w", err)
	}
	return AssurancePolicy{RequireMFA: r.RequireMfa, RequirePasskey: r.RequirePasskey}, nil
}

// SetAssurancePolicy sets the caller's org assurance policy (admins only)
// and returns how many sessions it ended: in the same transaction the
// database ends every session of the org below its new bar. Requiring
// passkeys is refused unless the caller's own session presented one.
// Errors: ErrInvalidInput, ErrForbidden (audited).
func (s *Service) SetAssurancePolicy(ctx context.Context, pol AssurancePolicy) (int, error) {
	p, err := principal(ctx)
	if err != nil {
		return 0, err
	}
	if p.Role != identity.RoleAdmin {
		return 0, s.denied(ctx, p, "org.assurance_policy.update", "org", p.OrgID, ErrForbidden)
	}
	var ended int32
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		var err error
		ended, err = q.SetAssurancePolicy(ctx, dbsqlc.SetAssurancePolicyParams{RequireMfa: pol.RequireMFA,
			RequirePasskey: pol.RequirePasskey, Request: nullText(requestID(ctx))})
		return err
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == postgres.CodeInvalidParameter {
		return 0, errkind.Visiblef(ErrInvalidInput, "%s", pe.Message)
	}
	if err = mapErr("set assurance policy", err); errors.Is(err, ErrForbidden) {
		return 0, s.denied(ctx, p, "org.assurance_policy.update", "org", p.OrgID, err)
	}
	return int(ended), err
}
