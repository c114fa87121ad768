package sso

import (
	"context"
	"errors"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// Connection is an org's SSO connection (never its client secret): an
// OIDC one names the redirect URI to register at the IdP, a SAML one
// (kind saml) the service provider's entity id, ACS URL and metadata URL.
type Connection struct {
	ID          uuid.UUID     `json:"id"`
	Kind        string        `json:"kind"`
	Name        string        `json:"name"`
	Issuer      string        `json:"issuer,omitempty"`
	ClientID    string        `json:"client_id,omitempty"`
	SigningAlgs []string      `json:"signing_algs"`
	TrustedAMR  []string      `json:"trusted_amr"`
	TrustedACR  []string      `json:"trusted_acr"`
	JIT         bool          `json:"jit"`
	JITRole     identity.Role `json:"jit_role"`
	CreatedBy   uuid.UUID     `json:"created_by"`
	CreatedAt   time.Time     `json:"created_at"`
	// RedirectURI is what to register at an OIDC IdP.
	RedirectURI string `json:"redirect_uri,omitempty"`
	// EntityID, ACSURL and MetadataURL are what to register at a SAML IdP.
	EntityID    string `json:"entity_id,omitempty"`
	ACSURL      string `json:"acs_url,omitempty"`
	MetadataURL string `json:"metadata_url,omitempty"`
}

// ConnectionInput is what an admin gives for a new OIDC connection.
type ConnectionInput struct {
	Kind         string        `json:"kind"`
	Name         string        `json:"name"`
	Issuer       string        `json:"issuer"`
	ClientID     string        `json:"client_id"`
	ClientSecret string        `json:"client_secret"`
	SigningAlgs  []string      `json:"signing_algs"`
	TrustedAMR   []string      `json:"trusted_amr"`
	TrustedACR   []string      `json:"trusted_acr"`
	JIT          bool          `json:"jit"`
	JITRole      identity.Role `json:"jit_role"`
}

// SigningAlgs are the ID token algorithms a connection may allow.
var SigningAlgs = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"}

func (in *ConnectionInput) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Kind == "" {
		in.Kind = "oidc"
	}
	if in.JITRole == "" {
		in.JITRole = identity.RoleProvider
	}
	if len(in.SigningAlgs) == 0 {
		in.SigningAlgs = []string{"RS256", "ES256"}
	}
	u, err := url.Parse(in.Issuer)
	switch {
	case in.Kind != "oidc":
		return errkind.Visible(ErrInvalidInput, "kind is oidc")
	case in.Name == "" || len(in.Name) > 100:
		return errkind.Visible(ErrInvalidInput, "name is 1..100 characters")
	case err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return errkind.Visible(ErrInvalidInput, "issuer is the IdP's issuer URL, https, without user, query or fragment")
	case in.ClientID == "" || len(in.ClientID) > 512 || len(in.ClientSecret) > 1024:
		return errkind.Visible(ErrInvalidInput, "client_id (1..512 characters) and client_secret (at most 1024) are required")
	case in.JITRole != identity.RolePatient && in.JITRole != identity.RoleProvider && in.JITRole != identity.RoleLead:
		return errkind.Visible(ErrInvalidInput, "jit_role is patient, provider or lead")
	case len(in.TrustedAMR) > 20 || len(in.TrustedACR) > 20:
		return errkind.Visible(ErrInvalidInput, "at most 20 trusted amr and 20 trusted acr values")
	}
	for _, a := range in.SigningAlgs {
		if !slices.Contains(SigningAlgs, a) {
			return errkind.Visible(ErrInvalidInput, "signing_algs are among "+strings.Join(SigningAlgs, ", ")+" (never none)")
		}
	}
	return nil
}

// CreateConnection adds an OIDC connection to the caller's org (admins,
// from a session that presented a second factor within ten minutes). The
// client secret is sealed under the instance keys. Errors:
// ErrInvalidInput, ErrForbidden, ErrStepUpRequired.
func (s *Service) CreateConnection(ctx context.Context, in ConnectionInput) (Connection, error) {
	p, err := principal(ctx)
	if err != nil {
		return Connection{}, err
	}
	if err := in.validate(); err != nil {
		return Connection{}, err
	}
	if err := s.checkURL("issuer", in.Issuer); err != nil {
		return Connection{}, errkind.Visible(ErrInvalidInput, "issuer is an address Ward does not connect to "+
			"(loopback, link-local, cloud metadata, unspecified, multicast or private; see docs/sso.md)")
	}
	id := uuid.New()
	var enc []byte
	if in.ClientSecret != "" {
		inst, err := s.keys.Instance(ctx, s.db)
		if err != nil {
			return Connection{}, err
		}
		if enc, err = inst.Seal([]byte(in.ClientSecret), secretAD(id)); err != nil {
			return Connection{}, err
		}
	}
	var created time.Time
	err = s.userTx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		_, err := q.CreateSSOConnection(ctx, dbsqlc.CreateSSOConnectionParams{ID: id, Kind: in.Kind, Name: in.Name,
			Issuer: &in.Issuer, ClientID: &in.ClientID, ClientSecretEnc: enc, SigningAlgs: in.SigningAlgs,
			TrustedAmr: nonNil(in.TrustedAMR), TrustedAcr: nonNil(in.TrustedACR), Jit: in.JIT, JitRole: string(in.JITRole),
			Request: nullText(requestID(ctx))})
		if err == nil {
			// the stored time, which every later read shows
			created, err = q.SSOConnectionCreatedAt(ctx, dbsqlc.SSOConnectionCreatedAtParams{OrgID: p.OrgID, ID: id})
		}
		return err
	})
	if err != nil {
		return Connection{}, mapErr("create connection", err)
	}
	return Connection{ID: id, Kind: in.Kind, Name: in.Name, Issuer: in.Issuer, ClientID: in.ClientID,
		SigningAlgs: in.SigningAlgs, TrustedAMR: nonNil(in.TrustedAMR), TrustedACR: nonNil(in.TrustedACR), JIT: in.JIT,
		JITRole: in.JITRole, CreatedBy: p.UserID, CreatedAt: created, RedirectURI: s.RedirectURI()}, nil
}

// ListConnections lists the caller's org's connections (admins; others see
// none, as RLS decides).
func (s *Service) ListConnections(ctx context.Context) ([]Connection, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	out := []Connection{}
	err = s.userTx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		rows, err := q.ListSSOConnections(ctx, p.OrgID)
		for _, r := range rows {
			c := Connection{ID: r.ID, Kind: r.Kind, Name: r.Name, Issuer: deref(r.Issuer),
				ClientID: deref(r.ClientID), SigningAlgs: r.SigningAlgs, TrustedAMR: r.TrustedAmr, TrustedACR: r.TrustedAcr,
				JIT: r.Jit, JITRole: identity.Role(r.JitRole), CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt}
			if r.Kind == "saml" {
				meta, acs := s.samlURL(r.ID, "metadata"), s.samlURL(r.ID, "acs")
				c.EntityID, c.ACSURL, c.MetadataURL = meta.String(), acs.String(), meta.String()
			} else {
				c.RedirectURI = s.RedirectURI()
			}
			out = append(out, c)
		}
		return err
	})
	if err != nil {
		return nil, mapErr("list connections", err)
	}
	return out, nil
}

// DeleteConnection removes a connection of the caller's org with its
// domains and links, and ends the sessions it issued, in one transaction
// (admins, step-up; migration 00178). Errors: ErrNotFound.
func (s *Service) DeleteConnection(ctx context.Context, id uuid.UUID) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	var ok bool
	err = s.userTx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		ok, err = q.DeleteSSOConnection(ctx, dbsqlc.DeleteSSOConnectionParams{ID: id, Request: nullText(requestID(ctx))})
		return err
	})
	if err != nil {
		return mapErr("delete connection", err)
	}
	if !ok {
		return ErrNotFound
	}
	s.mu.Lock()
	delete(s.providers, id)
	s.mu.Unlock()
	return nil
}

// UnlinkIdentities ends a member's identities on one of the caller's org's
// connections (admins, step-up), so that their next sign-in through it
// links by address again: how an admin re-links a member whose IdP
// account changed (a sign-in by another subject asserting a linked
// member's address is refused, reason already_linked). Errors:
// ErrNotFound (the member has no identity on the connection).
func (s *Service) UnlinkIdentities(ctx context.Context, conn, user uuid.UUID) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	var n int32
	err = s.userTx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		n, err = q.UnlinkSSOIdentities(ctx, dbsqlc.UnlinkSSOIdentitiesParams{ConnectionID: conn, UserID: user,
			Request: nullText(requestID(ctx))})
		return err
	})
	if err != nil {
		return mapErr("unlink identities", err)
	}
	if n == 0 {
		return errkind.Visible(ErrNotFound, "the member has no identity on this connection")
	}
	return nil
}

// Domain is an email domain an org claimed for a connection. TXTName and
// TXTValue are the DNS record that verifies it (VerifyDomainDNS).
type Domain struct {
	Domain       string     `json:"domain"`
	ConnectionID uuid.UUID  `json:"connection_id"`
	VerifiedAt   *time.Time `json:"verified_at,omitempty"`
	VerifiedBy   string     `json:"verified_by,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	TXTName      string     `json:"txt_name"`
	TXTValue     string     `json:"txt_value"`
}

// txt fills the verification record of d, whose token is token.
func (d *Domain) txt(token string) {
	d.TXTName, d.TXTValue = "_ward-verification."+d.Domain, "ward-verification="+token
}

// ErrDNSRecordMissing means the domain's TXT record does not hold the
// claim's token (yet: DNS takes time to propagate).
var ErrDNSRecordMissing = errkind.New(errkind.Conflict, "dns_record_missing", "sso: verification record missing").
	WithPublic("no TXT record _ward-verification.<domain> holds this claim's value yet; publish it and retry")

// VerifyDomainDNS verifies a domain the caller's org claimed by its DNS
// TXT record (admins, step-up). A lookup that does not find the record is
// audited as a failed sso.domain.verify. Errors: ErrNotFound (no such
// claim), ErrDNSRecordMissing, ErrConflict (another org verified it first).
func (s *Service) VerifyDomainDNS(ctx context.Context, domain string) (Domain, error) {
	p, err := principal(ctx)
	if err != nil {
		return Domain{}, err
	}
	domain = strings.ToLower(strings.TrimSpace(domain))
	if len(domain) > 253 || !domainRE().MatchString(domain) {
		return Domain{}, errkind.Visible(ErrInvalidInput, "domain is a DNS name such as hospital.example")
	}
	var token string
	err = s.userTx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		token, err = q.SSODomainToken(ctx, dbsqlc.SSODomainTokenParams{OrgID: p.OrgID, Domain: domain})
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Domain{}, errkind.Visible(ErrNotFound, "this org has not claimed the domain")
	}
	if err != nil {
		return Domain{}, mapErr("verify domain", err)
	}
	d := Domain{Domain: domain}
	d.txt(token)
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	records, lerr := s.cfg.Resolver.LookupTXT(lctx, d.TXTName)
	if !slices.Contains(records, d.TXTValue) {
		// The failed attempt is audited (00180) with a reason code only:
		// not the claim's value, the records found or the resolver's error.
		reason := "dns_record_missing"
		var de *net.DNSError
		if lerr != nil && (!errors.As(lerr, &de) || !de.IsNotFound) {
			reason = "dns_lookup_failed"
		}
		err = s.userTx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
			return q.SSODomainVerifyFailed(ctx, dbsqlc.SSODomainVerifyFailedParams{Domain: domain, Reason: reason,
				Request: nullText(requestID(ctx))})
		})
		if err != nil {
			return Domain{}, mapErr("record a failed verification", err)
		}
		return Domain{}, ErrDNSRecordMissing
	}
	err = s.userTx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		err := q.VerifySSODomainDNS(ctx, dbsqlc.VerifySSODomainDNSParams{Domain: domain, Token: token,
			Request: nullText(requestID(ctx))})
		if err == nil {
			// the stored claim, as every later read shows it
			d, err = getDomain(ctx, q, p.OrgID, domain)
		}
		return err
	})
	if postgres.IsCode(err, postgres.CodeUniqueViolation) {
		return Domain{}, errkind.Visible(ErrConflict, "another org verified this domain first")
	}
	if err != nil {
		return Domain{}, mapErr("verify domain", err)
	}
	return d, nil
}

// getDomain reads the org's claim of domain as stored.
func getDomain(ctx context.Context, q *dbsqlc.Queries, org uuid.UUID, domain string) (Domain, error) {
	r, err := q.GetSSODomain(ctx, dbsqlc.GetSSODomainParams{OrgID: org, Domain: domain})
	if err != nil {
		return Domain{}, err
	}
	d := Domain{Domain: r.Domain, ConnectionID: r.ConnectionID, VerifiedAt: r.VerifiedAt,
		VerifiedBy: deref(r.VerifiedBy), CreatedAt: r.CreatedAt}
	d.txt(r.VerifyToken)
	return d, nil
}

var domainRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
}) // compiled on first use, not at start-up

// ClaimDomain claims an email domain for one of the org's connections
// (admins, step-up). It routes sign-ins once an admin of the org signs in
// through the connection with an address on it. Errors: ErrInvalidInput,
// ErrNotFound (no such connection), ErrConflict (claimed already).
func (s *Service) ClaimDomain(ctx context.Context, domain string, conn uuid.UUID) (Domain, error) {
	p, err := principal(ctx)
	if err != nil {
		return Domain{}, err
	}
	domain = strings.ToLower(strings.TrimSpace(domain))
	if len(domain) > 253 || !domainRE().MatchString(domain) {
		return Domain{}, errkind.Visible(ErrInvalidInput, "domain is a DNS name such as hospital.example")
	}
	inst, err := s.keys.Instance(ctx, s.db)
	if err != nil {
		return Domain{}, err
	}
	var d Domain
	err = s.userTx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		// The domain's blind index, as an address's domain is noted
		// (00128): what lets the database hold enforce_sso to sessions.
		err := q.ClaimSSODomain(ctx, dbsqlc.ClaimSSODomainParams{Domain: domain, ConnectionID: conn,
			Request: nullText(requestID(ctx)), DomainBidx: inst.BlindIndex(envelope.EmailDomainField, domain)})
		if err == nil {
			// the stored claim, as every later read shows it
			d, err = getDomain(ctx, q, p.OrgID, domain)
		}
		return err
	})
	if err != nil {
		return Domain{}, mapErr("claim domain", err)
	}
	return d, nil
}

// ListDomains lists the caller's org's claimed domains (admins).
func (s *Service) ListDomains(ctx context.Context) ([]Domain, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	out := []Domain{}
	err = s.userTx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		rows, err := q.ListSSODomains(ctx, p.OrgID)
		for _, r := range rows {
			d := Domain{Domain: r.Domain, ConnectionID: r.ConnectionID, VerifiedAt: r.VerifiedAt,
				VerifiedBy: deref(r.VerifiedBy), CreatedAt: r.CreatedAt}
			d.txt(r.VerifyToken)
			out = append(out, d)
		}
		return err
	})
	if err != nil {
		return nil, mapErr("list domains", err)
	}
	return out, nil
}

// Policy is an org's SSO policy.
type Policy struct {
	EnforceSSO bool `json:"enforce_sso"`
}

// GetPolicy returns the caller's org's SSO policy.
func (s *Service) GetPolicy(ctx context.Context) (Policy, error) {
	p, err := principal(ctx)
	if err != nil {
		return Policy{}, err
	}
	var out Policy
	err = s.userTx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		out.EnforceSSO, err = q.GetSSOPolicy(ctx, p.OrgID)
		return err
	})
	return out, mapErr("get policy", err)
}

// SetPolicy sets the caller's org's SSO policy (admins, step-up).
func (s *Service) SetPolicy(ctx context.Context, pol Policy) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	err = s.userTx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		return q.SetSSOPolicy(ctx, dbsqlc.SetSSOPolicyParams{Enforce: pol.EnforceSSO, Request: nullText(requestID(ctx))})
	})
	return mapErr("set policy", err)
}

// userTx runs fn in a transaction bound to a session's credential.
func (s *Service) userTx(ctx context.Context, p identity.Principal, fn func(ctx context.Context, q *dbsqlc.Queries) error) error {
	cred := postgres.CredentialOf(p, requestID(ctx))
	return s.db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		return fn(ctx, dbsqlc.New(tx))
	})
}
