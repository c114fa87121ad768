package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// Passkeys (WebAuthn, go-webauthn): resident keys, user verification
// required, no attestation asked for. The relying party is the public base
// URL: its host is the RP ID and its origin the one origin accepted.
//
// The database decides every step but the signature (migration 00021):
// it makes each challenge (32 random bytes, five minutes, single use),
// binds it to the session that asked or, for a first-factor sign-in, to
// the browser's binder cookie, spends it, and re-checks the signed client
// data and authenticator data (type, challenge, origin, RP ID hash, UP and
// UV, backup flags, the counter) against what it stored. The server parses
// the response and verifies the signature and attestation with go-webauthn
// against the key the database hands it. A UV passkey is AAL2 on its own
// (amr passkey): it meets require_mfa and require_passkey.

// Errors of the passkey ceremonies.
var (
	ErrPasskeyInvalid = errkind.New(errkind.Unauthenticated, "passkey_invalid", "auth: passkey assertion refused").
				WithPublic("the passkey was not accepted (unknown, not verified, or not for this site)")
	ErrChallengeInvalid = errkind.New(errkind.Invalid, "challenge_invalid", "auth: passkey challenge refused").
				WithPublic("the ceremony's challenge is unknown, used, expired or was asked for elsewhere: start again")
	ErrPasskeysUnavailable = errkind.New(errkind.Unavailable, "passkeys_unavailable", "auth: passkeys not configured").
				WithPublic("passkeys need a public base URL whose host is a domain name")
	ErrPasskeyLastFactor = errkind.New(errkind.Conflict, "last_factor", "auth: the last factor the policy needs").
				WithPublic("this is the last second factor your org's policy requires: add another before deleting it")
)

// PasskeyBinderTTL is the lifetime of the browser binder a sign-in
// ceremony hands out; the challenge itself lives five minutes.
const PasskeyBinderTTL = 10 * time.Minute

// relyingParty is the WebAuthn configuration derived from the base URL.
type relyingParty struct {
	once   sync.Once
	wa     *webauthn.WebAuthn
	id     string
	origin string
	err    error
}

// webAuthn returns the relying party: the base URL's host is the RP ID,
// its origin the only origin. ErrPasskeysUnavailable when the host is not
// a domain name (an IP address cannot be an RP ID).
func (s *Service) webAuthn() (*webauthn.WebAuthn, string, string, error) {
	rp := s.rp
	rp.once.Do(func() {
		u, err := url.Parse(s.cfg.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
			rp.err = ErrPasskeysUnavailable
			return
		}
		rp.id = strings.ToLower(u.Hostname())
		rp.origin = strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
		if p := u.Port(); (u.Scheme == "https" && p == "443") || (u.Scheme == "http" && p == "80") {
			rp.origin = strings.ToLower(u.Scheme) + "://" + rp.id
		}
		rp.wa, err = webauthn.New(&webauthn.Config{
			RPID: rp.id, RPDisplayName: "Ward", RPOrigins: []string{rp.origin},
			AttestationPreference: protocol.PreferNoAttestation,
			AuthenticatorSelection: protocol.AuthenticatorSelection{
				ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
				UserVerification: protocol.VerificationRequired,
			},
		})
		if err != nil {
			rp.err = fmt.Errorf("%w: %w", ErrPasskeysUnavailable, err)
		}
	})
	return rp.wa, rp.id, rp.origin, rp.err
}

// passkeyUser is the member a ceremony is about, as go-webauthn sees it.
type passkeyUser struct {
	handle []byte
	name   string
	creds  []webauthn.Credential
}

func (u *passkeyUser) WebAuthnID() []byte                         { return u.handle }
func (u *passkeyUser) WebAuthnName() string                       { return u.name }
func (u *passkeyUser) WebAuthnDisplayName() string                { return u.name }
func (u *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// PasskeyOptions is what the browser passes to navigator.credentials
// (create or get): {"publicKey": {...}}, binary fields base64url.
type PasskeyOptions = json.RawMessage

func descriptors(ids [][]byte) []protocol.CredentialDescriptor {
	out := make([]protocol.CredentialDescriptor, len(ids))
	for i, id := range ids {
		out[i] = protocol.CredentialDescriptor{Type: protocol.PublicKeyCredentialType, CredentialID: id}
	}
	return out
}

// BeginPasskeyRegistration starts registering a passkey for the caller,
// whose session may be pending: the database allows it while the member
// has no second factor, else only after one presented within 10 minutes
// (ErrStepUpRequired). It returns the creation options.
func (s *Service) BeginPasskeyRegistration(ctx context.Context) (PasskeyOptions, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	wa, rpID, origin, err := s.webAuthn()
	if err != nil {
		return nil, err
	}
	var r dbsqlc.PasskeyBeginRow
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		var err error
		r, err = q.PasskeyBegin(ctx, dbsqlc.PasskeyBeginParams{Purpose: "register", RpID: rpID, Origin: origin})
		return err
	})
	if err != nil {
		return nil, mapErr("begin passkey registration", err)
	}
	user := &passkeyUser{handle: r.UserHandle, name: s.passkeyUserName(ctx, p.UserID, r.EmailEnc)}
	creation, _, err := wa.BeginRegistration(user,
		func(o *protocol.PublicKeyCredentialCreationOptions) error { o.Challenge = r.Challenge; return nil },
		webauthn.WithExclusions(descriptors(r.CredentialIds)),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired))
	if err != nil {
		return nil, fmt.Errorf("auth: begin passkey registration: %w", err)
	}
	return json.Marshal(creation)
}

// passkeyUserName is the name an authenticator shows for the member: their
// address, or their user id when it cannot be opened.
func (s *Service) passkeyUserName(ctx context.Context, user uuid.UUID, emailEnc []byte) string {
	if keys, err := s.keys.Instance(ctx, s.db); err == nil && emailEnc != nil {
		if to, err := keys.Open(emailEnc, emailAD(user)); err == nil {
			return string(to)
		}
	}
	return user.String()
}

// ceremony is what a finish call needs of the client's response.
type ceremony struct {
	challenge []byte
	c         identity.Request
}

func (c ceremony) meta() (req, ip, ua *string) {
	return nullText(c.c.ID), nullText(c.c.IPString()), nullText(c.c.UserAgent)
}

// challengeOf decodes the challenge the client data names.
func challengeOf(s string) ([]byte, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return b, err == nil && len(b) == 32
}

// take spends the response's challenge; a refusal is ErrChallengeInvalid
// (audited by the database; the transaction must commit).
func take(ctx context.Context, q *dbsqlc.Queries, cer ceremony, purpose string, binderHash []byte) (dbsqlc.PasskeyTakeRow, error) {
	req, ip, ua := cer.meta()
	r, err := q.PasskeyTake(ctx, dbsqlc.PasskeyTakeParams{Challenge: cer.challenge, Purpose: purpose, BinderHash: binderHash,
		Request: req, Ip: ip, Ua: ua})
	if err != nil {
		return r, err
	}
	if deref(r.Status) != "ok" {
		return r, ErrChallengeInvalid
	}
	return r, nil
}

// refuse records the server's refusal of a ceremony whose challenge was
// spent in this transaction, and returns refusal.
func refuse(ctx context.Context, q *dbsqlc.Queries, cer ceremony, credID []byte, reason string, refusal error) error {
	req, ip, ua := cer.meta()
	if err := q.PasskeyRefuse(ctx, dbsqlc.PasskeyRefuseParams{Challenge: cer.challenge, CredentialID: credID,
		Reason: reason, Request: req, Ip: ip, Ua: ua}); err != nil {
		return err
	}
	return refusal
}

// reasonOf is the one-word audit reason for go-webauthn's refusal (its
// details stay out of the log: they may quote the client's data).
func reasonOf(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		d := strings.ToLower(pe.Details + " " + pe.DevInfo)
		switch {
		case strings.Contains(d, "user verification"):
			return "user_not_verified"
		case strings.Contains(d, "user presence"):
			return "user_not_present"
		case strings.Contains(d, "origin"):
			return "origin"
		case strings.Contains(d, "rp hash"):
			return "rp_id"
		case strings.Contains(d, "challenge"):
			return "challenge"
		case strings.Contains(d, "signature"):
			return "signature"
		}
	}
	return "verification"
}

// committed runs fn in the principal's transaction; a refusal fn returns
// (refusal not nil) commits the transaction and is returned, so that the
// spent challenge and the audit event stay.
func (s *Service) committed(ctx context.Context, p identity.Principal,
	fn func(ctx context.Context, q *dbsqlc.Queries) (refusal error, err error)) error {
	var refusal error
	err := s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		var err error
		refusal, err = fn(ctx, q)
		return err
	})
	if err != nil {
		return err
	}
	return refusal
}

// FinishPasskeyRegistration verifies the authenticator's answer to the
// caller's registration challenge, stores the passkey under name, raises
// the session to AAL2 (amr passkey) and rotates its token. Errors:
// ErrChallengeInvalid, ErrFactorInvalid (the response does not verify:
// UV missing, wrong origin or RP ID), ErrConflict (registered already),
// ErrStepUpRequired; every refusal is audited.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, name string, response []byte) (Rotated, error) {
	p, err := principal(ctx)
	if err != nil {
		return Rotated{}, err
	}
	wa, _, _, err := s.webAuthn()
	if err != nil {
		return Rotated{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "Passkey"
	}
	if len([]rune(name)) > 100 {
		return Rotated{}, errkind.Visible(ErrInvalidInput, "name is at most 100 characters")
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return Rotated{}, errkind.Visible(ErrInvalidInput, "credential is not a WebAuthn registration response")
	}
	cer := ceremony{c: identity.RequestFrom(ctx)}
	var ok bool
	if cer.challenge, ok = challengeOf(parsed.Response.CollectedClientData.Challenge); !ok {
		return Rotated{}, ErrChallengeInvalid
	}
	var rot Rotated
	var emailEnc []byte
	err = s.committed(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) (error, error) {
		t, err := take(ctx, q, cer, "register", nil)
		if errors.Is(err, ErrChallengeInvalid) {
			return err, nil
		} else if err != nil {
			return nil, err
		}
		user := &passkeyUser{handle: t.UserHandle}
		sess := webauthn.SessionData{Challenge: parsed.Response.CollectedClientData.Challenge, RelyingPartyID: deref(t.RpID),
			Origin: deref(t.Origin), UserID: t.UserHandle, UserVerification: protocol.VerificationRequired,
			CredParams: webauthn.CredentialParametersDefault()}
		cred, verr := wa.CreateCredential(user, sess, parsed)
		if verr != nil {
			return refuse(ctx, q, cer, nil, reasonOf(verr), ErrFactorInvalid), nil
		}
		transports := make([]string, 0, len(cred.Transport))
		for _, t := range cred.Transport {
			if len(transports) < 8 && len(t) <= 32 {
				transports = append(transports, string(t))
			}
		}
		req, ip, ua := cer.meta()
		r, err := q.PasskeyRegister(ctx, dbsqlc.PasskeyRegisterParams{Challenge: cer.challenge,
			ClientData: parsed.Raw.AttestationResponse.ClientDataJSON,
			AuthData:   parsed.Response.AttestationObject.RawAuthData, PublicKey: cred.PublicKey, Name: name,
			Transports: transports, Request: req, Ip: ip, Ua: ua})
		if err != nil {
			return nil, err
		}
		switch deref(r.Status) {
		case "ok":
		case "exists":
			return errkind.Visible(ErrConflict, "this passkey is registered already"), nil
		default:
			return ErrFactorInvalid, nil
		}
		if emailEnc, err = q.OwnEmail(ctx); err != nil {
			return nil, err
		}
		rot, err = rotate(ctx, q)
		return nil, err
	})
	if err != nil {
		return Rotated{}, mapErr("finish passkey registration", err)
	}
	s.factorNotice(ctx, p, emailEnc, "A passkey was added to your Ward account",
		"A passkey was just registered for your Ward account (its name is in your passkey list, not in this mail). "+
			"It can sign you in from now on.")
	return rot, nil
}

// BeginPasskeySignIn starts a discoverable (username-less) sign-in. It
// returns the request options and the binder the browser must keep (a
// cookie) and present with the answer: the challenge is bound to it.
func (s *Service) BeginPasskeySignIn(ctx context.Context) (opts PasskeyOptions, binder string, err error) {
	wa, rpID, origin, err := s.webAuthn()
	if err != nil {
		return nil, "", err
	}
	binder, binderHash := newSecret()
	var r dbsqlc.PasskeyBeginRow
	err = s.db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		r, err = dbsqlc.New(tx).PasskeyBegin(ctx, dbsqlc.PasskeyBeginParams{Purpose: "signin", RpID: rpID,
			Origin: origin, BinderHash: binderHash})
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("auth: begin passkey sign-in: %w", err)
	}
	assertion, _, err := wa.BeginDiscoverableLogin(webauthn.WithChallenge(r.Challenge),
		webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, "", fmt.Errorf("auth: begin passkey sign-in: %w", err)
	}
	opts, err = json.Marshal(assertion)
	return opts, binder, err
}

// FinishPasskeySignIn verifies a discoverable assertion answering the
// challenge bound to binder and issues an AAL2 session (amr passkey).
// Errors: ErrChallengeInvalid (unknown, used, expired, other browser),
// ErrPasskeyInvalid (unknown passkey, bad signature, UV missing, wrong
// origin or RP ID, a sign-count regression); each is audited.
func (s *Service) FinishPasskeySignIn(ctx context.Context, response []byte, binder string) (Session, error) {
	wa, _, _, err := s.webAuthn()
	if err != nil {
		return Session{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return Session{}, errkind.Visible(ErrInvalidInput, "credential is not a WebAuthn assertion")
	}
	cer := ceremony{c: identity.RequestFrom(ctx)}
	var ok bool
	if cer.challenge, ok = challengeOf(parsed.Response.CollectedClientData.Challenge); !ok {
		return Session{}, ErrChallengeInvalid
	}
	var binderHash []byte
	if validSecret(binder) {
		binderHash = hashOf(binder)
	}
	sessToken, sessHash := newSecret()
	var out Session
	var refusal error
	err = s.db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		q := dbsqlc.New(tx)
		var r dbsqlc.PasskeyAssertRow
		var err error
		r, refusal, err = s.assert(ctx, q, wa, cer, parsed, "signin", binderHash, sessHash)
		if err != nil || refusal != nil {
			return err
		}
		out = Session{Token: sessToken, ID: r.SessionID.UUID, UserID: r.UserID.UUID, OrgID: r.OrgID.UUID,
			AbsoluteExpiresAt: *r.AbsoluteExpiresAt, IdleTimeout: time.Duration(*r.IdleTimeoutMin) * time.Minute}
		return nil
	})
	if errors.Is(err, ErrSSORequired) {
		s.auditSSORequired(ctx, err, "passkey")
		return Session{}, ErrSSORequired
	} else if err != nil {
		return Session{}, fmt.Errorf("auth: finish passkey sign-in: %w", err)
	}
	if refusal != nil {
		return Session{}, refusal
	}
	return out, nil
}

// assert runs an assertion's finish in q's transaction: spend the
// challenge, look the passkey up, verify, and let the database decide.
// A refusal (second result) leaves the transaction to commit.
func (s *Service) assert(ctx context.Context, q *dbsqlc.Queries, wa *webauthn.WebAuthn, cer ceremony,
	parsed *protocol.ParsedCredentialAssertionData, purpose string, binderHash, sessHash []byte,
) (dbsqlc.PasskeyAssertRow, error, error) {
	var none dbsqlc.PasskeyAssertRow
	invalid := ErrPasskeyInvalid
	if purpose == "verify" {
		invalid = ErrFactorInvalid
	}
	refusal, err := s.verifyAssertion(ctx, q, wa, cer, parsed, purpose, binderHash, invalid)
	if err != nil || refusal != nil {
		return none, refusal, err
	}
	req, ip, ua := cer.meta()
	r, err := q.PasskeyAssert(ctx, dbsqlc.PasskeyAssertParams{Challenge: cer.challenge, CredentialID: parsed.RawID,
		ClientData: parsed.Raw.AssertionResponse.ClientDataJSON, AuthData: parsed.Raw.AssertionResponse.AuthenticatorData,
		SessionHash: sessHash, Request: req, Ip: ip, Ua: ua})
	if IsSSORequired(err) {
		// The database's refusal kept (it names the org and the member,
		// for the audit of the refusal once this transaction is over).
		return none, nil, fmt.Errorf("%w: %w", ErrSSORequired, err)
	} else if err != nil {
		return none, nil, err
	}
	if deref(r.Status) != "ok" {
		return none, invalid, nil
	}
	return r, nil, nil
}

// verifyAssertion spends the assertion's challenge (for purpose), looks
// the passkey up and verifies the signature with go-webauthn: the step
// the database cannot take. A refusal (invalid, or ErrChallengeInvalid)
// is audited and returned first, leaving the transaction to commit; the
// caller then lets the database check the signed bytes.
func (s *Service) verifyAssertion(ctx context.Context, q *dbsqlc.Queries, wa *webauthn.WebAuthn, cer ceremony,
	parsed *protocol.ParsedCredentialAssertionData, purpose string, binderHash []byte, invalid error,
) (error, error) {
	t, err := take(ctx, q, cer, purpose, binderHash)
	if errors.Is(err, ErrChallengeInvalid) {
		return err, nil
	} else if err != nil {
		return nil, err
	}
	handle := parsed.Response.UserHandle
	if purpose == "verify" && len(handle) == 0 {
		handle = t.UserHandle // a second factor's authenticator may omit it
	}
	k, err := q.PasskeyCredential(ctx, dbsqlc.PasskeyCredentialParams{Challenge: cer.challenge,
		CredentialID: parsed.RawID, UserHandle: handle})
	if err != nil {
		return nil, err
	}
	if !k.ID.Valid {
		return refuse(ctx, q, cer, parsed.RawID, "unknown_credential", invalid), nil
	}
	cred := webauthn.Credential{ID: parsed.RawID, PublicKey: k.PublicKey,
		Flags:         webauthn.CredentialFlags{BackupEligible: deref(k.BackupEligible), BackupState: deref(k.BackupState), UserVerified: true, UserPresent: true},
		Authenticator: webauthn.Authenticator{AAGUID: k.Aaguid.UUID[:], SignCount: uint32(deref(k.SignCount))}}
	user := &passkeyUser{handle: handle, creds: []webauthn.Credential{cred}}
	sess := webauthn.SessionData{Challenge: parsed.Response.CollectedClientData.Challenge,
		RelyingPartyID: deref(t.RpID), Origin: deref(t.Origin), UserVerification: protocol.VerificationRequired}
	if purpose == "verify" {
		sess.UserID = handle
		_, err = wa.ValidateLogin(user, sess, parsed)
	} else {
		_, _, err = wa.ValidatePasskeyLogin(func(_, _ []byte) (webauthn.User, error) { return user, nil }, sess, parsed)
	}
	if err != nil {
		return refuse(ctx, q, cer, parsed.RawID, reasonOf(err), invalid), nil
	}
	return nil, nil
}

// BeginPasskeyVerify starts a second-factor assertion for the caller's
// session (which may be pending), allowing the member's passkeys. Errors:
// ErrFactorNotEnrolled when they have none.
func (s *Service) BeginPasskeyVerify(ctx context.Context) (PasskeyOptions, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	wa, rpID, origin, err := s.webAuthn()
	if err != nil {
		return nil, err
	}
	var r dbsqlc.PasskeyBeginRow
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		var err error
		r, err = q.PasskeyBegin(ctx, dbsqlc.PasskeyBeginParams{Purpose: "verify", RpID: rpID, Origin: origin})
		return err
	})
	if err = mapErr("begin passkey verification", err); errors.Is(err, ErrNotFound) {
		return nil, errkind.Visible(ErrFactorNotEnrolled, "no passkey is registered for you in this org")
	} else if err != nil {
		return nil, err
	}
	assertion, _, err := wa.BeginDiscoverableLogin(webauthn.WithChallenge(r.Challenge),
		webauthn.WithUserVerification(protocol.VerificationRequired),
		webauthn.WithAllowedCredentials(descriptors(r.CredentialIds)))
	if err != nil {
		return nil, fmt.Errorf("auth: begin passkey verification: %w", err)
	}
	return json.Marshal(assertion)
}

// FinishPasskeyVerify verifies an assertion by one of the caller's
// passkeys answering their session's challenge: the session becomes AAL2
// (passkey in amr, authenticated now; a step-up) and its token rotates.
// Errors: ErrChallengeInvalid, ErrFactorInvalid; each is audited.
func (s *Service) FinishPasskeyVerify(ctx context.Context, response []byte) (Rotated, error) {
	p, err := principal(ctx)
	if err != nil {
		return Rotated{}, err
	}
	wa, _, _, err := s.webAuthn()
	if err != nil {
		return Rotated{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return Rotated{}, errkind.Visible(ErrInvalidInput, "credential is not a WebAuthn assertion")
	}
	cer := ceremony{c: identity.RequestFrom(ctx)}
	var ok bool
	if cer.challenge, ok = challengeOf(parsed.Response.CollectedClientData.Challenge); !ok {
		return Rotated{}, ErrChallengeInvalid
	}
	var rot Rotated
	err = s.committed(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) (error, error) {
		_, refusal, err := s.assert(ctx, q, wa, cer, parsed, "verify", nil, nil)
		if err != nil || refusal != nil {
			return refusal, err
		}
		rot, err = rotate(ctx, q)
		return nil, err
	})
	if err != nil {
		return Rotated{}, mapErr("finish passkey verification", err)
	}
	return rot, nil
}
