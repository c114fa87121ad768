package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// Provider is a registered subprocessor: an upstream that speaks the
// Anthropic Messages API.
type Provider struct {
	Name    string
	BaseURL string // e.g. https://api.anthropic.com (no /v1)
	// BAASignedAt is when the business associate agreement was executed;
	// zero: none.
	BAASignedAt time.Time
	BAARef      string // where the executed agreement is kept
	// ZeroRetention is the operator's attestation that the provider keeps
	// no prompts or replies (zero data retention).
	ZeroRetention bool
	// Models are the models calls may name; empty: any.
	Models []string
	Region string
}

var providerName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`) }) // compiled on first use, not at start-up

// Validate checks p's fields. Errors name the field.
func (p Provider) Validate() error {
	u, err := url.Parse(p.BaseURL)
	switch {
	case !providerName().MatchString(p.Name):
		return errors.New("gateway: provider name must be 1-32 lower-case letters, digits, - or _, starting with a letter")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(p.BaseURL) > 500 ||
		strings.ContainsAny(p.BaseURL, " \t\r\n"):
		return errors.New("gateway: provider base URL must be an absolute http(s) URL")
	case len(p.BAARef) > 200, len(p.Region) > 64, len(p.Models) > 100:
		return errors.New("gateway: provider baa_ref (≤200), region (≤64) or models (≤100) too long")
	}
	return nil
}

// Errors of the gate. Their public text names the rule, never content.
var (
	ErrUnknownProvider = errkind.New(errkind.Forbidden, "provider_not_registered", "gateway: provider not registered").
				WithPublic("this gateway's upstream is not a registered subprocessor")
	ErrNoBAA = errkind.New(errkind.Forbidden, "baa_required", "gateway: provider has no executed BAA").
			WithPublic("the upstream has no executed business associate agreement: calls are refused")
	ErrNoZeroRetention = errkind.New(errkind.Forbidden, "zero_retention_required", "gateway: provider lacks zero retention").
				WithPublic("the upstream is not attested for zero data retention: calls are refused")
	ErrModelNotAllowed = errkind.New(errkind.Forbidden, "model_not_allowed", "gateway: model not allowed").
				WithPublic("this model is not allowed for the upstream")
	ErrNoUpstreamKey = errkind.New(errkind.Unavailable, "upstream_not_configured", "gateway: no upstream key configured").
				WithPublic("the gateway has no key for its upstream: ask the operator")
	// ErrUpstreamKeyRefused: the upstream answered 401, refusing Ward's own
	// key for it (never the caller's credential, which stays in Ward).
	ErrUpstreamKeyRefused = errkind.New(errkind.Unavailable, "upstream_key_refused", "gateway: the upstream refused Ward's key").
				WithPublic("the upstream refused the gateway's key for it: ask the operator")
)

// gate returns the provider if a call naming model may go to it: registered,
// BAA executed (on or before now), zero retention, model allowed.
func gate(p Provider, model string, now time.Time) error {
	if err := providerGate(p, now); err != nil {
		return err
	}
	if len(p.Models) > 0 && !slices.Contains(p.Models, model) {
		return ErrModelNotAllowed
	}
	return nil
}

// providerGate is gate's part about the provider alone: BAA executed (on
// or before now), zero retention.
func providerGate(p Provider, now time.Time) error {
	switch {
	case p.BAASignedAt.IsZero() || p.BAASignedAt.After(now):
		return ErrNoBAA
	case !p.ZeroRetention:
		return ErrNoZeroRetention
	}
	return nil
}

func providerFromRow(r dbsqlc.AppGatewayProvider) Provider {
	p := Provider{Name: r.Name, BaseURL: r.BaseUrl, ZeroRetention: r.ZeroRetention, Models: r.Models}
	if r.BaaSignedAt != nil {
		p.BAASignedAt = *r.BaaSignedAt
	}
	if r.BaaRef != nil {
		p.BAARef = *r.BaaRef
	}
	if r.Region != nil {
		p.Region = *r.Region
	}
	return p
}

// provider reads one registered provider. Errors: ErrUnknownProvider, or a
// database error.
func provider(ctx context.Context, q dbsqlc.DBTX, name string) (Provider, error) {
	r, err := dbsqlc.New(q).GetGatewayProvider(ctx, name)
	if errors.Is(err, pgx.ErrNoRows) {
		return Provider{}, ErrUnknownProvider
	}
	if err != nil {
		return Provider{}, fmt.Errorf("gateway: read provider %s: %w", name, err)
	}
	return providerFromRow(dbsqlc.AppGatewayProvider{Name: r.Name, BaseUrl: r.BaseUrl, BaaSignedAt: r.BaaSignedAt,
		BaaRef: r.BaaRef, ZeroRetention: r.ZeroRetention, Models: r.Models, Region: r.Region}), nil
}

// PutProvider registers p or replaces its registration. Only operators may
// (ward_ops or the migration login): for ward_app it is a permission error.
// Running servers enforce the change within their RegistryTTL (default 5 s).
func PutProvider(ctx context.Context, db *postgres.DB, p Provider) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if p.Models == nil {
		p.Models = []string{}
	}
	prm := dbsqlc.PutGatewayProviderParams{Name: p.Name, BaseUrl: strings.TrimSuffix(p.BaseURL, "/"),
		ZeroRetention: p.ZeroRetention, Models: p.Models}
	if !p.BAASignedAt.IsZero() {
		prm.BaaSignedAt = &p.BAASignedAt
	}
	if p.BAARef != "" {
		prm.BaaRef = &p.BAARef
	}
	if p.Region != "" {
		prm.Region = &p.Region
	}
	return db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := dbsqlc.New(tx).PutGatewayProvider(ctx, prm); err != nil {
			return fmt.Errorf("gateway: register provider %s: %w", p.Name, err)
		}
		return nil
	})
}

// ListProviders returns the registered providers by name.
func ListProviders(ctx context.Context, db *postgres.DB) ([]Provider, error) {
	rows, err := dbsqlc.New(db.Pool).ListGatewayProviders(ctx)
	if err != nil {
		return nil, fmt.Errorf("gateway: list providers: %w", err)
	}
	out := make([]Provider, 0, len(rows))
	for _, r := range rows {
		out = append(out, providerFromRow(dbsqlc.AppGatewayProvider{Name: r.Name, BaseUrl: r.BaseUrl,
			BaaSignedAt: r.BaaSignedAt, BaaRef: r.BaaRef, ZeroRetention: r.ZeroRetention, Models: r.Models, Region: r.Region}))
	}
	return out, nil
}
