package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/gateway/phi"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// Policy is an org's gateway policy (app.orgs, migration 00090): which
// registered providers and models its calls may use, how dates and ZIP
// codes are handled, which content Ward cannot de-identify may pass
// anyway, which categories beyond Safe Harbor's are let through, and its
// rate limits. Admins set it (step-up); every member's call reads it.
type Policy struct {
	// Providers are the registered providers the org enabled; a call to
	// any other is refused (provider_not_enabled).
	Providers []string `json:"providers"`
	// Models narrow the provider's allowed models; empty: the provider's.
	Models []string `json:"models"`
	// Dates is "mask" (a placeholder) or "shift" (full dates move by 1-365
	// days, keyed on the org, the named patient and the conversation's
	// first message, and back in the reply).
	Dates string `json:"dates"`
	// ZIP is "mask" or "zip3" (the Safe Harbor three-digit rule).
	ZIP string `json:"zip"`
	// Allow lists content passed unredacted although Ward cannot
	// de-identify it: "images", "documents", "server_tools", "mcp".
	Allow []string `json:"allow"`
	// Keep lists categories found and left as they are; only those beyond
	// Safe Harbor's ("ORGANIZATION") may be kept.
	Keep              []string `json:"keep"`
	RequestsPerMinute int      `json:"requests_per_minute"`
	TokensPerMinute   int      `json:"tokens_per_minute"`
}

// The kinds of content Allow may list.
const (
	AllowImages      = "images"
	AllowDocuments   = "documents"
	AllowServerTools = "server_tools"
	AllowMCP         = "mcp"
)

// Errors of the org policy.
var (
	ErrProviderNotEnabled = errkind.New(errkind.Forbidden, "provider_not_enabled", "gateway: provider not enabled for the org").
				WithPublic("the org has not enabled this upstream: an admin enables it in the gateway policy")
	ErrModelNotEnabled = errkind.New(errkind.Forbidden, "model_not_enabled", "gateway: model not enabled for the org").
				WithPublic("the org's gateway policy does not allow this model")
	ErrPolicyWeakened = errkind.New(errkind.Forbidden, "policy_weakening_refused", "gateway: request weakens the org policy").
				WithPublic("a request may narrow the org's gateway policy, never weaken it")
	ErrRateLimited = errkind.New(errkind.RateLimited, "org_rate_limited", "gateway: org rate limit").
			WithPublic("the org's gateway rate limit is reached: retry after the time given")
	ErrInvalidPolicy = errkind.New(errkind.Invalid, "invalid_policy", "gateway: invalid policy")
)

// PolicyHeader lets a request narrow the org's policy for itself:
// "dates=mask", "zip=mask", "redact=ORGANIZATION" and "allow=images+documents"
// (a subset of what the org allows; "allow=" allows nothing), separated by
// ";". Anything that would weaken the policy is refused.
const PolicyHeader = "Ward-Deid-Policy"

// sessionOptions is the engine's options for one call under pol.
func (pol Policy) sessionOptions(shift func() int) phi.SessionOptions {
	o := phi.SessionOptions{ZIP3: pol.ZIP == "zip3"}
	if pol.Dates == "shift" {
		o.DateShiftDays = shift()
	}
	for _, k := range pol.Keep {
		if t := phi.ParseType(k); t != phi.TypeNone {
			o.Keep = append(o.Keep, t)
		}
	}
	return o
}

func (pol Policy) allows(what string) bool { return slices.Contains(pol.Allow, what) }

// narrow applies a request's Ward-Deid-Policy header values to pol.
func (pol Policy) narrow(h http.Header) (Policy, error) {
	vals := h.Values(PolicyHeader)
	if len(vals) == 0 {
		return pol, nil
	}
	out := pol
	out.Allow = slices.Clone(pol.Allow)
	out.Keep = slices.Clone(pol.Keep)
	for _, v := range vals {
		for d := range strings.SplitSeq(v, ";") {
			d = strings.TrimSpace(d)
			if d == "" {
				continue
			}
			k, val, ok := strings.Cut(d, "=")
			k, val = strings.TrimSpace(k), strings.TrimSpace(val)
			switch {
			case !ok:
				return pol, bad("%s: directives are name=value", PolicyHeader)
			case k == "dates" && val == "mask":
				out.Dates = "mask"
			case k == "dates" && val == "shift":
				if pol.Dates != "shift" {
					return pol, ErrPolicyWeakened
				}
			case k == "zip" && val == "mask":
				out.ZIP = "mask"
			case k == "zip" && val == "zip3":
				if pol.ZIP != "zip3" {
					return pol, ErrPolicyWeakened
				}
			case k == "redact":
				for t := range strings.SplitSeq(val, "+") {
					if phi.ParseType(strings.TrimSpace(t)) == phi.TypeNone {
						return pol, bad("%s: redact names identifier types such as ORGANIZATION", PolicyHeader)
					}
					out.Keep = slices.DeleteFunc(out.Keep, func(x string) bool { return x == strings.TrimSpace(t) })
				}
			case k == "allow":
				var allow []string
				for a := range strings.SplitSeq(val, "+") {
					if a = strings.TrimSpace(a); a == "" {
						continue
					}
					if !slices.Contains([]string{AllowImages, AllowDocuments, AllowServerTools, AllowMCP}, a) {
						return pol, bad("%s: allow lists images, documents, server_tools and mcp", PolicyHeader)
					}
					if !pol.allows(a) {
						return pol, ErrPolicyWeakened
					}
					allow = append(allow, a)
				}
				out.Allow = allow
			default:
				return pol, bad("%s: unknown directive (dates=mask, zip=mask, redact=TYPE, allow=…)", PolicyHeader)
			}
		}
	}
	return out, nil
}

// gateOrg refuses a call the org's policy does not allow: the provider
// must be enabled and the model within the org's list when it has one.
func (pol Policy) gate(provider, model string) error {
	switch {
	case !slices.Contains(pol.Providers, provider):
		return ErrProviderNotEnabled
	case len(pol.Models) > 0 && !slices.Contains(pol.Models, model):
		return ErrModelNotEnabled
	}
	return nil
}

func policyFromRow(r dbsqlc.GetGatewayPolicyRow) Policy {
	return Policy{Providers: r.GatewayProviders, Models: r.GatewayModels, Dates: r.GatewayDates, ZIP: r.GatewayZip,
		Allow: r.GatewayAllow, Keep: r.GatewayKeep, RequestsPerMinute: int(r.GatewayRequestsPerMinute),
		TokensPerMinute: int(r.GatewayTokensPerMinute)}
}

func credOf(p identity.Principal, req identity.Request) postgres.Credential {
	return postgres.CredentialOf(p, req.ID)
}

// readPolicy reads the caller's org policy under its credential.
func (s *Service) readPolicy(ctx context.Context, p identity.Principal) (Policy, error) {
	var pol Policy
	err := s.db.InTenantTx(ctx, credOf(p, identity.RequestFrom(ctx)), func(ctx context.Context, tx pgx.Tx) error {
		r, err := dbsqlc.New(tx).GetGatewayPolicy(ctx, p.OrgID)
		if err != nil {
			return err
		}
		pol = policyFromRow(r)
		return nil
	})
	if errors.Is(err, pgx.ErrNoRows) {
		// the credential does not reach its org's row: it is no credential
		return Policy{}, errkind.New(errkind.Unauthenticated, "unauthenticated", "gateway: org not visible")
	}
	if err != nil {
		return Policy{}, fmt.Errorf("gateway: read policy: %w", err)
	}
	return pol, nil
}

// Policy returns the caller's org gateway policy.
func (s *Service) Policy(ctx context.Context) (Policy, error) {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok {
		return Policy{}, errkind.New(errkind.Unauthenticated, "unauthenticated", "gateway: no principal")
	}
	return s.readPolicy(ctx, p)
}

// SetPolicy replaces the caller's org gateway policy. The database allows
// it to an org admin's session at AAL2 with a second factor in the last 10
// minutes, checks the values, and audits the change with the old and new
// policy. Nodes apply it within their policy cache's TTL (that of the
// registry, default 5 s).
func (s *Service) SetPolicy(ctx context.Context, pol Policy) error {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok {
		return errkind.New(errkind.Unauthenticated, "unauthenticated", "gateway: no principal")
	}
	if pol.Dates == "" {
		pol.Dates = "mask"
	}
	if pol.ZIP == "" {
		pol.ZIP = "mask"
	}
	for _, l := range []*[]string{&pol.Providers, &pol.Models, &pol.Allow, &pol.Keep} {
		if *l == nil {
			*l = []string{}
		}
	}
	if pol.RequestsPerMinute < 1 || pol.RequestsPerMinute > 100000 || pol.TokensPerMinute < 1000 ||
		pol.TokensPerMinute > 100000000 {
		return errkind.Visible(ErrInvalidPolicy, "requests_per_minute is 1..100000; tokens_per_minute is 1000..100000000")
	}
	req := identity.RequestFrom(ctx)
	var reqID *string
	if req.ID != "" {
		reqID = &req.ID
	}
	err := s.db.InTenantTx(ctx, credOf(p, req), func(ctx context.Context, tx pgx.Tx) error {
		return dbsqlc.New(tx).SetGatewayPolicy(ctx, dbsqlc.SetGatewayPolicyParams{Providers: pol.Providers,
			Models: pol.Models, Dates: pol.Dates, Zip: pol.ZIP, Allow: pol.Allow, Keep: pol.Keep,
			RequestsPerMinute: int32(pol.RequestsPerMinute), TokensPerMinute: int32(pol.TokensPerMinute),
			Request: reqID})
	})
	var pe *pgconn.PgError
	switch {
	case err == nil:
		s.policies.forget(p.OrgID)
		return nil
	case errors.As(err, &pe) && pe.Code == postgres.CodeInvalidParameter:
		// the procedure's messages name fields and ranges, never values
		return errkind.Visiblef(ErrInvalidPolicy, "%s", pe.Message)
	case postgres.Refusal(err) != nil:
		return postgres.Refusal(err)
	case errors.As(err, &pe) && (pe.Code == "42501" || pe.Code == "23514"):
		if pe.Code == "23514" {
			return errkind.Visible(ErrInvalidPolicy, "a value is outside what the policy allows")
		}
		return errkind.New(errkind.Forbidden, "forbidden", "gateway: set policy refused")
	}
	return fmt.Errorf("gateway: set policy: %w", err)
}

// policyCache keeps each org's policy for at most ttl after it was read,
// like the registry entry; SetPolicy on this node forgets it at once.
type policyCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[uuid.UUID]cachedPolicy
}

type cachedPolicy struct {
	pol    Policy
	readAt time.Time
}

func (c *policyCache) get(ctx context.Context, s *Service, p identity.Principal, now time.Time) (Policy, error) {
	if c.ttl > 0 {
		c.mu.Lock()
		e, ok := c.m[p.OrgID]
		c.mu.Unlock()
		if ok && !now.Before(e.readAt) && now.Sub(e.readAt) < c.ttl {
			return e.pol, nil
		}
	}
	pol, err := s.readPolicy(ctx, p)
	if err != nil || c.ttl <= 0 {
		return pol, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[uuid.UUID]cachedPolicy{}
	}
	c.m[p.OrgID] = cachedPolicy{pol: pol, readAt: now}
	c.mu.Unlock()
	return pol, nil
}

func (c *policyCache) forget(org uuid.UUID) {
	c.mu.Lock()
	delete(c.m, org)
	c.mu.Unlock()
}

// reservation is the most tokens a call may use, as far as Ward can tell
// before it is sent: its prompt, estimated at one token per four bytes of
// the request body, and for messages the max_tokens it may answer with (a
// count_tokens call answers with a count). The upstream's figures replace
// it when the call ends. A max_tokens that is not a whole number from 1 to
// maxOutputTokens is refused (ErrBadRequest): whatever the upstream would
// make of 4096.0, "4096" or 2^63-1, Ward could not reserve it. The
// fallbacks' own max_tokens count as the request's does (the largest).
func reservation(ep Endpoint, top map[string]json.RawMessage, size int) (int64, error) {
	n := int64(size / 4)
	raw, ok := top["max_tokens"]
	if ep != Messages || !ok {
		return n, nil
	}
	most, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	if err != nil || most < 1 || most > maxOutputTokens {
		return 0, bad("max_tokens must be a whole number from 1 to %d", maxOutputTokens)
	}
	// A fallback model answers with its entry's own max_tokens: the call
	// may use the largest of them.
	if fs, ok := objects(top["fallbacks"]); ok {
		for i, f := range fs {
			raw, ok := f["max_tokens"]
			if !ok || bytes.Equal(raw, []byte("null")) {
				continue
			}
			m, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
			if err != nil || m < 1 || m > maxOutputTokens {
				return 0, bad("fallbacks[%d].max_tokens must be a whole number from 1 to %d", i, maxOutputTokens)
			}
			most = max(most, m)
		}
	}
	return n + most, nil
}

// maxOutputTokens bounds max_tokens: far above any model's output limit
// today, and small enough that no reservation overflows.
const maxOutputTokens = 1 << 22

// EnableProvider adds provider to org's enabled providers: the operator's
// path (ward gateway enable, as ward_ops or the migration login), audited
// in the org's log. Errors: ErrInvalidPolicy, ErrNoSuchOrg, or a database
// error (ward_app may not).
func EnableProvider(ctx context.Context, db *postgres.DB, org uuid.UUID, provider string) error {
	err := db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return dbsqlc.New(tx).OpsEnableGatewayProvider(ctx, dbsqlc.OpsEnableGatewayProviderParams{OrgID: org,
			Provider: provider})
	})
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == postgres.CodeInvalidParameter:
		return errkind.Visible(ErrInvalidPolicy, "a provider is a registry name: lower-case letters, digits, - and _")
	case errors.As(err, &pe) && pe.Code == "P0002":
		return ErrNoSuchOrg
	case err != nil:
		return fmt.Errorf("gateway: enable provider: %w", err)
	}
	return nil
}

// ErrNoSuchOrg is an org id that names no org.
var ErrNoSuchOrg = errkind.New(errkind.NotFound, "no_such_org", "gateway: no such org").WithPublic("no org has this id")
