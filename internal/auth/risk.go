package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// Risk-based step-up (migration 00061). The database scores every
// magic-link sign-in from what it has observed (private.signin_risk) and
// records the score, its reasons and the signals in the auth.signin event.
// When the org has a threshold and the score reaches it, the session is
// issued pending: it needs a passkey (Principal.Pending "passkey") before
// it is a credential for anything but /v1/me, second factors and logout.
// A passkey sign-in meets that bar by itself.

// RiskWeights are the weights of the signals, as the database applies
// them (migration 00061); the numbers here are for documentation and the
// API's answer only.
var RiskWeights = map[string]string{
	"new_device":            "20: no session of yours in 90 days bound to this DPoP key, or (without a proof) with this user agent",
	"new_network":           "20: no session of yours in 90 days from this /24 (IPv4) or /48 (IPv6)",
	"failure_velocity_user": "10 per refused sign-in or second factor of yours in the last hour, and per link asked for in it and not used; at most 30",
	"failure_velocity_ip":   "5 per refused sign-in or second factor from this address in the last hour; at most 20",
	"link_network_changed":  "25: the link was requested from another /24 or /48 than it is used from",
	"unusual_hour":          "15: at least 5 sessions in 90 days, none begun within an hour (UTC) of this one",
}

// RiskPolicy is an org's risk threshold: a sign-in scoring at or above it
// needs a passkey. Nil: scores are recorded, nothing is enforced.
type RiskPolicy struct {
	Threshold *int `json:"risk_threshold"`
}

// GetRiskPolicy returns the caller's org risk policy.
func (s *Service) GetRiskPolicy(ctx context.Context) (RiskPolicy, error) {
	p, err := principal(ctx)
	if err != nil {
		return RiskPolicy{}, err
	}
	var t *int32
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		var err error
		t, err = q.GetRiskPolicy(ctx, p.OrgID)
		return err
	})
	if err != nil {
		return RiskPolicy{}, fmt.Errorf("auth: get risk policy: %w", err)
	}
	var pol RiskPolicy
	if t != nil {
		n := int(*t)
		pol.Threshold = &n
	}
	return pol, nil
}

// SetRiskPolicy sets the caller's org risk threshold (1..200, or nil). The
// caller must be an admin whose session presented a second factor within
// 10 minutes (ErrStepUpRequired). Errors: ErrInvalidInput, ErrForbidden
// (audited).
func (s *Service) SetRiskPolicy(ctx context.Context, pol RiskPolicy) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	var t *int32
	if pol.Threshold != nil {
		if *pol.Threshold < 1 || *pol.Threshold > 200 {
			return errkind.Visible(ErrInvalidInput, "risk_threshold must be 1..200, or null to record scores only")
		}
		n := int32(*pol.Threshold)
		t = &n
	}
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		return q.SetRiskPolicy(ctx, dbsqlc.SetRiskPolicyParams{Threshold: t, Request: nullText(requestID(ctx))})
	})
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pe) && pe.Code == postgres.CodeInvalidParameter:
		return errkind.Visiblef(ErrInvalidInput, "%s", pe.Message)
	}
	if err = mapErr("set risk policy", err); errors.Is(err, ErrForbidden) {
		return s.denied(ctx, p, "org.risk_policy.update", "org", p.OrgID, err)
	}
	return err
}
