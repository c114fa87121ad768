package sso

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// StartRequest says where a sign-in goes: by the address's domain, or
// through one connection of one org (an admin's first sign-in, which
// verifies the org's claimed domains).
type StartRequest struct {
	Email      string
	Org        uuid.UUID
	Connection uuid.UUID
}

// Started is where to send the browser, and the binder it must keep (a
// cookie) until it comes back.
type Started struct {
	RedirectURL string
	Binder      string
}

// Start begins a sign-in. Errors: ErrInvalidInput, ErrNoRoute (the same
// for an unknown domain and an unknown connection).
func (s *Service) Start(ctx context.Context, req StartRequest) (Started, error) {
	var domain *string
	var org, conn *uuid.UUID
	switch {
	case req.Email != "":
		if !identity.ValidEmail(req.Email) {
			return Started{}, errkind.Visible(ErrInvalidInput, "email must be an address")
		}
		d := emailDomain(req.Email)
		domain = &d
	case req.Org != uuid.Nil && req.Connection != uuid.Nil:
		org, conn = &req.Org, &req.Connection
	default:
		return Started{}, errkind.Visible(ErrInvalidInput, "give email, or org and connection")
	}
	state, binder := newSecret(), newSecret()
	var b begun
	err := s.db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		b, err = ssoBegin(ctx, tx, domain, org, conn, hashOf(state), hashOf(binder))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Started{}, ErrNoRoute
	}
	if err != nil {
		return Started{}, fmt.Errorf("sso: begin: %w", err)
	}
	if b.kind == "saml" {
		return s.startSAML(ctx, b.conn, state, binder)
	}
	p, err := s.provider(ctx, b.conn, b.issuer)
	if refusedAddress(err) {
		s.log.WarnContext(ctx, "sso: identity provider address refused", "connection", b.conn, "err", err)
		return Started{}, ErrIdPAddress
	}
	if err != nil {
		s.log.WarnContext(ctx, "sso discovery failed", "connection", b.conn, "err", err)
		return Started{}, errkind.WithRetry(errkind.Visible(ErrRefused, "the identity provider cannot be reached"), 5*time.Second)
	}
	oc := oauth2.Config{ClientID: b.client, Endpoint: p.Endpoint(), RedirectURL: s.RedirectURI(),
		Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
	// max_age: an IdP whose session with the member is older than Ward's
	// step-up window authenticates them again, and names the time in
	// auth_time (OIDC Core §3.1.2.1), which the session's freshness is
	// taken from.
	url := oc.AuthCodeURL(state, oidc.Nonce(derive(binder, state, "nonce")),
		oauth2.S256ChallengeOption(derive(binder, state, "pkce")),
		oauth2.SetAuthURLParam("max_age", strconv.Itoa(int(MaxAuthAge/time.Second))))
	return Started{RedirectURL: url, Binder: binder}, nil
}

// CallbackRequest is what the IdP sent back through the browser, and the
// browser's binder. Iss is the response's iss parameter (RFC 9207) and
// IssSent whether it had one (an empty one is sent).
type CallbackRequest struct {
	State, Code, Error, Binder string
	Iss                        string
	IssSent                    bool
}

// idClaims are the ID token claims Ward reads beyond the standard ones.
type idClaims struct {
	Email         string          `json:"email"`
	EmailVerified json.RawMessage `json:"email_verified"`
	AMR           []string        `json:"amr"`
	ACR           string          `json:"acr"`
	AuthTime      json.RawMessage `json:"auth_time"`
	// HD is Google's hosted domain: the Workspace the account belongs to
	// (none for a consumer account, whatever its address).
	HD string `json:"hd"`
}

// MaxAuthAge is the max_age Ward asks OIDC IdPs for: its step-up window
// (ten minutes, as the database's step-up checks). A session counts as
// authenticated when the IdP says the member authenticated (auth_time,
// SAML AuthnInstant), so a sign-in the IdP answered from an older session
// of its own is no fresh factor.
const MaxAuthAge = 10 * time.Minute

// authTime reads auth_time, seconds since the epoch (an integer, or a
// number some IdPs send with a fraction): nil when absent or not a
// positive number. The database clamps it to now.
func authTime(raw json.RawMessage) *time.Time {
	var f float64
	if len(raw) == 0 || json.Unmarshal(raw, &f) != nil || f <= 0 || f > 1e11 {
		return nil
	}
	sec := math.Floor(f)
	t := time.Unix(int64(sec), int64((f-sec)*1e9)).UTC()
	return &t
}

// emailFlag reads email_verified, a boolean or the string "true" or "false"
// (some IdPs send strings): verified when it says true, denied when it is
// present and says false. An absent claim is neither: some IdPs (Entra ID)
// never send it.
func emailFlag(raw json.RawMessage) (verified, denied bool) {
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return b, !b && string(raw) != "null"
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return false, false
	}
	return strings.EqualFold(s, "true"), strings.EqualFold(s, "false")
}

// Callback finishes an OIDC sign-in and issues a session. Errors:
// ErrStateInvalid, ErrWrongBrowser, ErrRefused (the IdP's answer failed a
// check; the reason is audited), ErrNoAccount; all audited.
func (s *Service) Callback(ctx context.Context, req CallbackRequest) (auth.Session, error) {
	if req.State == "" || len(req.State) > 100 {
		return auth.Session{}, ErrStateInvalid
	}
	rq := identity.RequestFrom(ctx)
	stateHash := hashOf(req.State)
	var binderHash []byte
	if req.Binder != "" {
		binderHash = hashOf(req.Binder)
	}
	var t dbsqlc.SSOTakeRow
	err := s.db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		t, err = dbsqlc.New(tx).SSOTake(ctx, dbsqlc.SSOTakeParams{StateHash: stateHash, BinderHash: binderHash,
			Request: nullText(rq.ID), Ip: nullText(rq.IPString()), Ua: nullText(rq.UserAgent)})
		return err
	})
	if err != nil {
		return auth.Session{}, fmt.Errorf("sso: take state: %w", err)
	}
	switch deref(t.Status) {
	case "ok":
	case "wrong_browser":
		return auth.Session{}, ErrWrongBrowser
	default:
		return auth.Session{}, ErrStateInvalid
	}
	refuse := func(reason string) (auth.Session, error) { return s.fail(ctx, stateHash, reason, nil) }
	// Past this point the state is taken: an internal failure ends it
	// audited too, as "internal", and answers with its own error.
	internal := func(err error) (auth.Session, error) { return s.fail(ctx, stateHash, "internal", err) }
	if req.Error != "" || req.Code == "" {
		return refuse("idp_error")
	}
	if deref(t.Kind) != "oidc" {
		return refuse("wrong_protocol")
	}
	conn := t.ConnectionID.UUID
	inst, err := s.keys.Instance(ctx, s.db)
	if err != nil {
		return internal(err)
	}
	var secret string
	if len(t.ClientSecretEnc) > 0 {
		pt, err := inst.Open(t.ClientSecretEnc, secretAD(conn))
		if err != nil {
			return internal(fmt.Errorf("sso: open client secret of connection %s: %w", conn, err))
		}
		secret = string(pt)
	}
	p, err := s.provider(ctx, conn, deref(t.Issuer))
	if err != nil {
		s.log.WarnContext(ctx, "sso discovery failed", "connection", conn, "err", err)
		return refuse(addressReason(err, "discovery"))
	}
	if reason := responseIssuer(p, deref(t.Issuer), req); reason != "" {
		return refuse(reason)
	}
	hc := oidc.ClientContext(ctx, s.client)
	oc := oauth2.Config{ClientID: deref(t.ClientID), ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: s.RedirectURI(),
		Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
	tok, err := oc.Exchange(hc, req.Code, oauth2.VerifierOption(derive(req.Binder, req.State, "pkce")))
	if err != nil {
		return refuse(addressReason(err, "token_exchange"))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return refuse("no_id_token")
	}
	algs := t.SigningAlgs
	if reason := checkHeader(raw, algs); reason != "" {
		return refuse(reason)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: deref(t.ClientID), SupportedSigningAlgs: algs}).Verify(hc, raw)
	if err != nil {
		return refuse(addressReason(err, verifyReason(err)))
	}
	nonce := derive(req.Binder, req.State, "nonce")
	switch {
	case subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1:
		return refuse("wrong_nonce")
	case idt.Subject == "":
		return refuse("no_subject")
	case idt.IssuedAt.IsZero() || idt.IssuedAt.Unix() <= 0:
		return refuse("no_iat")
	case idt.IssuedAt.After(time.Now().Add(s.cfg.Skew)):
		return refuse("iat_in_future")
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		return refuse("malformed")
	}
	email := c.Email
	verified, denied := emailFlag(c.EmailVerified)
	if denied {
		// The IdP says it did not verify the address (a user may have set
		// it themselves): it names nobody here, whatever domain it is on.
		email = ""
	} else if email == "" {
		// The address may come only from the userinfo endpoint, for the
		// same subject.
		ui, err := p.UserInfo(hc, oauth2.StaticTokenSource(tok))
		if err != nil {
			return refuse(addressReason(err, "userinfo"))
		}
		if ui.Subject != idt.Subject {
			return refuse("userinfo_subject")
		}
		var raw struct {
			EmailVerified json.RawMessage `json:"email_verified"`
		}
		err = ui.Claims(&raw)
		email = ui.Email
		if verified, denied = emailFlag(raw.EmailVerified); err != nil || denied {
			email = ""
		}
	}
	return s.complete(ctx, inst, stateHash, conn.String()+"|"+idt.Subject, email, verified, c.AMR, c.ACR,
		authTime(c.AuthTime), c.HD)
}

// complete hands the verified identity to the database, which links it
// and issues the session. authTime is when the IdP says the member
// authenticated (nil: it did not say); the database takes it, never later
// than now, as the session's authentication time. hd is Google's hosted
// domain claim (the database requires it of a Google connection before
// it links or creates a member by address).
func (s *Service) complete(ctx context.Context, inst *envelope.OrgKeys, stateHash []byte, subject, email string,
	verified bool, amr []string, acr string, authTime *time.Time, hd string) (auth.Session, error) {
	rq := identity.RequestFrom(ctx)
	// The subject is kept as a keyed hash (the instance PRF): whoever can
	// reach the database without the server's keys cannot name a linked
	// identity, even one whose subject is guessable (a SAML NameID is often
	// the address).
	params := dbsqlc.SSOCompleteParams{StateHash: stateHash,
		SubjectHash: inst.BlindIndex("sso_identities.subject", subject), EmailVerified: verified, Amr: nonNil(amr),
		Acr: nullText(acr), Ip: nullText(rq.IPString()), Ua: nullText(rq.UserAgent), Request: nullText(rq.ID),
		AuthTime: authTime, Hd: nullText(hd)}
	// The domain of a new address, noted for enforce_sso (00128).
	var note *dbsqlc.NoteEmailDomainParams
	if identity.ValidEmail(email) && !canonicalEmail(email) {
		// An address the blind index would fold into another one (Unicode
		// compatibility forms: "𝐝𝐨𝐜@…" or full-width letters are "doc@…"
		// to NormalizeEmail) names nobody, as one the IdP marks unverified:
		// the IdP holds it apart from the member's own address (a user who
		// may edit their profile gets it past the IdP's uniqueness check),
		// and linking by it would sign that user in as the member, or JIT
		// would give them the member's address. Case alone still folds (the
		// address is case-insensitive everywhere in Ward). A subject linked
		// before signs in by its subject.
		s.log.WarnContext(ctx, "sso: the IdP's address is not in its normal form; it links no one")
		email = ""
	}
	if identity.ValidEmail(email) {
		norm := envelope.NormalizeEmail(email)
		fresh := uuid.New()
		enc, err := inst.Seal([]byte(norm), keystore.UserEmailAD(fresh))
		if err != nil {
			return s.fail(ctx, stateHash, "internal", err)
		}
		params.UserID = uuid.NullUUID{UUID: fresh, Valid: true}
		params.EmailBidx, params.EmailEnc = inst.BlindIndex("users.email", norm), enc
		params.EmailDomain = nullText(emailDomain(norm))
		note = &dbsqlc.NoteEmailDomainParams{EmailBidx: params.EmailBidx,
			DomainBidx: inst.EmailDomainIndex(norm)}
	}
	token := newSecret()
	params.SessionHash = hashOf(token)
	var r dbsqlc.SSOCompleteRow
	err := s.db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		q := dbsqlc.New(tx)
		if note != nil {
			if err := q.NoteEmailDomain(ctx, *note); err != nil {
				return err
			}
		}
		var err error
		r, err = q.SSOComplete(ctx, params)
		return err
	})
	if err != nil {
		// Rolled back: the state is still taken, and its end is audited.
		return s.fail(ctx, stateHash, "internal", fmt.Errorf("sso: complete: %w", err))
	}
	switch deref(r.Status) {
	case "ok":
	case "invalid":
		return auth.Session{}, ErrStateInvalid
	case "already_linked":
		return auth.Session{}, ErrIdentityMismatch
	case "hd_mismatch":
		return auth.Session{}, errkind.Visible(ErrNoAccount,
			"sign in with your organisation's Google Workspace account, not a personal Google account")
	default:
		return auth.Session{}, ErrNoAccount
	}
	return auth.Session{Token: token, ID: r.SessionID.UUID, UserID: r.UserID.UUID, OrgID: r.OrgID.UUID,
		AbsoluteExpiresAt: *r.AbsoluteExpiresAt, IdleTimeout: time.Duration(*r.IdleTimeoutMin) * time.Minute}, nil
}

// fail ends a taken sign-in state with an audited denial for reason and
// returns cause, or ErrRefused when there is none: every sign-in that got
// past its state is in the log, one that failed inside Ward too. The
// audit outlives a client that has gone away.
func (s *Service) fail(ctx context.Context, stateHash []byte, reason string, cause error) (auth.Session, error) {
	rq := identity.RequestFrom(ctx)
	err := s.db.InTx(context.WithoutCancel(ctx), func(ctx context.Context, tx pgx.Tx) error {
		return dbsqlc.New(tx).SSOFailure(ctx, dbsqlc.SSOFailureParams{StateHash: stateHash, Reason: reason,
			Request: nullText(rq.ID), Ip: nullText(rq.IPString()), Ua: nullText(rq.UserAgent)})
	})
	if err != nil {
		s.log.ErrorContext(ctx, "audit of a refused SSO sign-in failed", "reason", reason, "err", err)
	}
	if cause != nil {
		return auth.Session{}, cause
	}
	return auth.Session{}, ErrRefused
}

// responseIssuer checks the authorization response's issuer (RFC 9207),
// before the code goes to any token endpoint: an iss parameter must be the
// connection's issuer, character for character, or the browser may bring
// back a code another IdP issued (a mix-up attack: the user started at
// another connection whose IdP is hostile or compromised); an IdP whose
// discovery document says authorization_response_iss_parameter_supported
// must send it. It returns the audited reason of a refusal, or "".
func responseIssuer(p *oidc.Provider, issuer string, req CallbackRequest) string {
	var md struct {
		Supported json.RawMessage `json:"authorization_response_iss_parameter_supported"`
	}
	if err := p.Claims(&md); err != nil {
		return "discovery"
	}
	switch {
	case req.IssSent && req.Iss != issuer:
		return "wrong_response_issuer"
	case !req.IssSent && string(md.Supported) == "true":
		return "no_response_issuer"
	}
	return ""
}

// checkHeader refuses, before any key lookup, an ID token that is not a
// compact JWS signed with an allowed algorithm (so never alg none) or
// that names no kid: with several keys in the issuer's set, a token
// without a kid could be checked against a key it was not meant for.
func checkHeader(raw string, algs []string) string {
	allowed := make([]jose.SignatureAlgorithm, len(algs))
	for i, a := range algs {
		allowed[i] = jose.SignatureAlgorithm(a)
	}
	jws, err := jose.ParseSignedCompact(raw, allowed)
	switch {
	case err != nil && strings.Count(raw, ".") == 2 && strings.Contains(err.Error(), "algorithm"):
		return "alg_not_allowed"
	case err != nil:
		return "malformed"
	case len(jws.Signatures) != 1:
		return "malformed"
	case jws.Signatures[0].Header.KeyID == "":
		return "no_kid"
	}
	return ""
}

// addressReason is the audited reason of a refused IdP request: the
// guard's when it refused the address, otherwise reason.
func addressReason(err error, reason string) string {
	if refusedAddress(err) {
		return "idp_address_refused"
	}
	return reason
}

// verifyReason names why go-oidc refused a token, for the audit log.
func verifyReason(err error) string {
	var exp *oidc.TokenExpiredError
	msg := err.Error()
	switch {
	case errors.As(err, &exp):
		return "expired"
	case strings.Contains(msg, "issued by a different provider"):
		return "wrong_issuer"
	case strings.Contains(msg, "audience"):
		return "wrong_audience"
	case strings.Contains(msg, "signature"), strings.Contains(msg, "key"):
		return "bad_signature"
	}
	return "id_token_invalid"
}

// canonicalEmail reports whether email is already what NormalizeEmail
// makes of it, but for case: what the IdP asserted is the address the
// member's blind index was made from, not another spelling folded into it.
func canonicalEmail(email string) bool {
	return envelope.NormalizeEmail(email) == strings.ToLower(email)
}

func emailDomain(email string) string {
	return strings.ToLower(email[strings.LastIndexByte(email, '@')+1:])
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
