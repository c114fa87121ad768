package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// Device binding required by role (migrations 00062, 00080). An org lists
// the roles whose sessions must be bound to a device; new orgs list
// provider, lead and admin. A session is bound to a DPoP key, or is a
// browser session: handed out in the session cookie only (MarkBrowser)
// and presented in that cookie. The database resolves an unbound session
// of such a role presented any other way (a bearer token, or a token once
// handed out in a body and now sent as a cookie) as pending
// "device_binding": no credential for any data. Where a session is issued
// without a DPoP proof to such a member, the API hands the token out in
// the cookie only and marks it a browser session. A session a passkey
// created resolves only while that passkey exists.

// BrowserBinding is the device binding Authenticate is given for a session
// presented in the browser's session cookie (see postgres.BrowserBinding).
const BrowserBinding = postgres.BrowserBinding

// PendingDeviceBinding is Principal.Pending for an unbound session that
// its org requires to be bound.
const PendingDeviceBinding = "device_binding"

// RecommendedDeviceBinding is the policy of new orgs (the issue's
// default): staff bind their non-browser sessions. Orgs older than
// migration 00080 keep theirs until an admin sets it.
var RecommendedDeviceBinding = []identity.Role{identity.RoleProvider, identity.RoleLead, identity.RoleAdmin}

// DeviceBindingPolicy is the roles of an org whose non-browser sessions
// must be DPoP-bound.
type DeviceBindingPolicy struct {
	RequiredFor []string `json:"device_binding_required_for"`
}

var bindableRoles = []string{"patient", "provider", "lead", "admin", "stakeholder"}

// GetDeviceBindingPolicy returns the caller's org device-binding policy.
func (s *Service) GetDeviceBindingPolicy(ctx context.Context) (DeviceBindingPolicy, error) {
	p, err := principal(ctx)
	if err != nil {
		return DeviceBindingPolicy{}, err
	}
	var roles []string
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		var err error
		roles, err = q.GetDeviceBindingPolicy(ctx, p.OrgID)
		return err
	})
	if err != nil {
		return DeviceBindingPolicy{}, fmt.Errorf("auth: get device binding policy: %w", err)
	}
	if roles == nil {
		roles = []string{}
	}
	return DeviceBindingPolicy{RequiredFor: roles}, nil
}

// SetDeviceBindingPolicy sets the roles of the caller's org whose
// non-browser sessions must be DPoP-bound. The caller must be an admin
// whose session presented a second factor within 10 minutes
// (ErrStepUpRequired). Sessions already issued follow it on their next
// request. Errors: ErrInvalidInput (an unknown role), ErrForbidden (audited).
func (s *Service) SetDeviceBindingPolicy(ctx context.Context, pol DeviceBindingPolicy) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	if pol.RequiredFor == nil {
		return errkind.Visible(ErrInvalidInput, "device_binding_required_for is a list of roles (possibly empty)")
	}
	for _, r := range pol.RequiredFor {
		if !slices.Contains(bindableRoles, r) {
			return errkind.Visible(ErrInvalidInput, "device_binding_required_for holds patient, provider, lead, admin or stakeholder")
		}
	}
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		return q.SetDeviceBindingPolicy(ctx, dbsqlc.SetDeviceBindingPolicyParams{Roles: pol.RequiredFor,
			Request: nullText(requestID(ctx))})
	})
	switch {
	case err == nil:
		return nil
	case isInvalid(err):
		return errkind.Visible(ErrInvalidInput, "device_binding_required_for holds patient, provider, lead, admin or stakeholder")
	}
	if err = mapErr("set device binding policy", err); errors.Is(err, ErrForbidden) {
		return s.denied(ctx, p, "org.device_binding_policy.update", "org", p.OrgID, err)
	}
	return err
}

// NeedsBinding reports whether a session token just issued would be
// pending device binding when presented as a bearer token: the API then
// hands it out in the cookie only.
func (s *Service) NeedsBinding(ctx context.Context, token string) bool {
	p, err := s.Authenticate(ctx, token, "", "")
	return err == nil && p.Pending == PendingDeviceBinding
}

// EndSession ends the session whose token is sessToken, as its own
// logout would: for a session the server created but will not hand out.
func (s *Service) EndSession(ctx context.Context, sessToken string) error {
	p, err := s.Authenticate(ctx, sessToken, "", "")
	if err != nil {
		return err
	}
	return s.Logout(identity.WithPrincipal(ctx, p))
}

// MarkBrowser marks the session whose token is sessToken a browser
// session: the API handed it out in the session cookie only, never in a
// response body. A browser session of a role its org requires to be bound
// resolves only when it comes back in that cookie (BrowserBinding). The
// database accepts it once, in the session's first minute, for a session
// not bound to a DPoP key; an error otherwise.
func (s *Service) MarkBrowser(ctx context.Context, sessToken string) error {
	cred := postgres.Credential{Hash: identity.HashToken(sessToken), Request: requestID(ctx)}
	var marked bool
	err := s.db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, `select app.session_browser()`).Scan(&marked)
	})
	if err != nil {
		return fmt.Errorf("auth: mark browser session: %w", err)
	}
	if !marked {
		return fmt.Errorf("auth: mark browser session: the session is DPoP-bound, marked already or not new")
	}
	return nil
}
