package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/mail"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// TOTP (RFC 6238, HMAC-SHA1, 6 digits, 30-second steps, ±1 step) is a
// second factor that satisfies require_mfa but not require_passkey. The
// database decides every verification (app.totp_verify): the server only
// opens the sealed secret and presents it with the code.

// Errors of the second-factor methods.
var (
	ErrFactorInvalid = errkind.New(errkind.Forbidden, "factor_invalid", "auth: second factor refused").
				WithPublic("the code is not valid (wrong, expired or already used)")
	ErrFactorLocked = errkind.New(errkind.RateLimited, "factor_locked", "auth: second factor locked").
			WithPublic("too many wrong codes: this factor is locked; try again after the time in Retry-After")
	ErrFactorNotEnrolled = errkind.New(errkind.NotFound, "factor_not_enrolled", "auth: no second factor enrolled").
				WithPublic("no TOTP factor is enrolled for you in this org: enrol one first")
	ErrFactorExists = errkind.New(errkind.Conflict, "factor_exists", "auth: a confirmed second factor exists").
			WithPublic("a confirmed TOTP factor exists: present it, a recovery code or a passkey within the last 10 minutes, then enrol its replacement")
	ErrReplacementNotPending = errkind.New(errkind.NotFound, "replacement_not_pending", "auth: no TOTP replacement pending").
					WithPublic("no replacement of your TOTP factor awaits confirmation from this session: enrol one first (POST /v1/auth/totp/enrol)")
	ErrReplacementExpired = errkind.New(errkind.Conflict, "replacement_expired", "auth: TOTP replacement expired").
				WithPublic("the replacement was not confirmed within 10 minutes and was discarded: enrol again")
)

// TOTPEnrolment is a new TOTP secret. It is shown once: URI (otpauth://,
// for a QR code) and Secret (base32, for typing) hold the secret itself.
type TOTPEnrolment struct {
	URI    string `json:"otpauth_uri"`
	Secret string `json:"secret"`
	// Replacement is set when the secret replaces a confirmed factor: it
	// is pending until ConfirmTOTP accepts its first code, by ConfirmBy.
	Replacement bool       `json:"replacement,omitempty"`
	ConfirmBy   *time.Time `json:"confirm_by,omitempty"`
}

// LogValue keeps the secret out of logs.
func (TOTPEnrolment) LogValue() slog.Value { return slog.StringValue("TOTPEnrolment{…}") }

func totpAD(org, user uuid.UUID) envelope.AD {
	return envelope.AD{Table: "totp_factors", Column: "secret", Org: org, Row: user}
}

// EnrolTOTP creates a new TOTP secret for the caller (whose session may be
// pending), sealed with the org's keys, and returns it once. Without a
// confirmed factor it is confirmed by the first code VerifyTOTP accepts.
// Over a confirmed factor it is a replacement (app.totp_replace, migration
// 00219): the session must have presented a second factor within 10
// minutes (ErrStepUpRequired), the secret is stored beside the factor as
// pending, the old one keeps verifying, and ConfirmTOTP swaps it in within
// 10 minutes. Errors: ErrStepUpRequired, ErrBreakGlassNotAllowed,
// ErrFactorExists (a factor confirmed while this enrolled).
func (s *Service) EnrolTOTP(ctx context.Context) (TOTPEnrolment, error) {
	p, err := principal(ctx)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	issuer := "Ward"
	if u, err := url.Parse(s.cfg.BaseURL); err == nil && u.Hostname() != "" {
		issuer = "Ward " + u.Hostname()
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: p.UserID.String(), SecretSize: 20,
		Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("auth: enrol totp: %w", err)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(key.Secret())
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("auth: enrol totp: %w", err)
	}
	var confirmBy *time.Time
	err = s.keysTx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries, keys *envelope.OrgKeys) error {
		sealed, err := keys.Seal(secret, totpAD(p.OrgID, p.UserID))
		if err != nil {
			return err
		}
		sum := sha256.Sum256(secret)
		f, err := q.TOTPSecret(ctx)
		if err != nil {
			return err
		}
		if deref(f.Confirmed) {
			r, err := q.TOTPReplace(ctx, dbsqlc.TOTPReplaceParams{SecretEnc: sealed, SecretHash: sum[:],
				Request: nullText(requestID(ctx))})
			if err != nil {
				return err
			}
			if deref(r.Status) == "ok" {
				confirmBy = r.ConfirmBy
				return nil
			}
			// removed since it was read: a first enrolment then
		}
		return q.TOTPEnrol(ctx, dbsqlc.TOTPEnrolParams{SecretEnc: sealed, SecretHash: sum[:], Request: nullText(requestID(ctx))})
	})
	if postgres.IsCode(err, postgres.CodeUniqueViolation) {
		return TOTPEnrolment{}, ErrFactorExists
	}
	if err != nil {
		return TOTPEnrolment{}, mapErr("enrol totp", err)
	}
	return TOTPEnrolment{URI: key.URL(), Secret: key.Secret(), Replacement: confirmBy != nil, ConfirmBy: confirmBy}, nil
}

// ConfirmTOTP presents the first code of the replacement secret the
// caller's session enrolled (EnrolTOTP over a confirmed factor). The
// database checks it (app.totp_confirm, migration 00219: a session that
// presented a second factor within 10 minutes, not break-glass) and swaps
// the secret in: the old one stops verifying, the new one starts with this
// code's step spent and no failures, the member's other sessions that
// presented TOTP end, and the member is mailed. Errors: ErrFactorInvalid
// (a wrong code; the fifth discards the replacement),
// ErrReplacementNotPending, ErrReplacementExpired, ErrStepUpRequired.
func (s *Service) ConfirmTOTP(ctx context.Context, code string) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	c := identity.RequestFrom(ctx)
	var r dbsqlc.TOTPConfirmRow
	err = s.keysTx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries, keys *envelope.OrgKeys) error {
		pend, err := q.TOTPPendingSecret(ctx)
		if err != nil {
			return err
		}
		var secret []byte
		if pend.SecretEnc != nil {
			if secret, err = keys.Open(pend.SecretEnc, totpAD(p.OrgID, p.UserID)); err != nil {
				return fmt.Errorf("open pending totp secret of user %s: %w", p.UserID, err)
			}
		}
		// Without a live replacement the database says why (none, another
		// session's, expired); the status commits whatever it is.
		r, err = q.TOTPConfirm(ctx, dbsqlc.TOTPConfirmParams{Secret: secret, Code: code,
			Request: nullText(c.ID), Ip: nullText(c.IPString()), Ua: nullText(c.UserAgent)})
		return err
	})
	if err != nil {
		return mapErr("confirm totp", err)
	}
	switch deref(r.Status) {
	case "ok":
	case "not_pending":
		return ErrReplacementNotPending
	case "expired":
		return ErrReplacementExpired
	case "discarded":
		return errkind.Visible(ErrFactorInvalid, "the code is not valid; after five wrong codes the replacement was discarded: enrol again")
	default:
		return ErrFactorInvalid
	}
	s.notice(ctx, p, r.EmailEnc, "Your TOTP authenticator was replaced",
		"The TOTP authenticator (the six-digit codes) of your Ward account was just replaced by a new one from a "+
			"session of yours; the old one no longer works, and your other sessions that used it were ended.\n\n"+
			"If this was not you, contact your organisation's administrator now: someone holds a session of yours.\n")
	return nil
}

// Rotated is a session's new token after a step-up: the old token works
// for 30 more seconds, then presenting it ends the session (reuse
// detection). Token is shown once.
type Rotated struct {
	Token             string
	AbsoluteExpiresAt time.Time
}

// VerifyTOTP presents a TOTP code for the caller's session. The database
// checks it with its own clock, accepts each step once, and on success
// raises the session to AAL2 (totp in its methods), sets its
// authentication time to now (a pending session meets require_mfa, and any
// session has stepped up) and rotates its token. A first accepted code
// confirms a new factor. Errors: ErrFactorInvalid, ErrFactorLocked (with a
// retry time), ErrFactorNotEnrolled; every attempt is audited.
func (s *Service) VerifyTOTP(ctx context.Context, code string) (Rotated, error) {
	p, err := principal(ctx)
	if err != nil {
		return Rotated{}, err
	}
	c := identity.RequestFrom(ctx)
	var status string
	var rot Rotated
	var emailEnc []byte
	var lockedUntil time.Time
	err = s.keysTx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries, keys *envelope.OrgKeys) error {
		f, err := q.TOTPSecret(ctx)
		if err != nil {
			return err
		}
		if f.SecretEnc == nil {
			status = "not_enrolled"
			return nil
		}
		secret, err := keys.Open(f.SecretEnc, totpAD(p.OrgID, p.UserID))
		if err != nil {
			return fmt.Errorf("open totp secret of user %s: %w", p.UserID, err)
		}
		// The status commits whatever it is: failures count.
		status, err = q.TOTPVerify(ctx, dbsqlc.TOTPVerifyParams{Secret: secret, Code: code,
			Request: nullText(c.ID), Ip: nullText(c.IPString()), Ua: nullText(c.UserAgent)})
		if err != nil {
			return err
		}
		switch status {
		case "locked", "lockout":
			// when the lock ends, for Retry-After; and a code that locked
			// the factor is news to its member
			if f, err = q.TOTPSecret(ctx); err == nil && f.LockedUntil != nil {
				lockedUntil = *f.LockedUntil
			}
			if err == nil && status == "lockout" {
				emailEnc, err = q.OwnEmail(ctx)
			}
			return err
		case "ok":
		default:
			return nil
		}
		if !deref(f.Confirmed) {
			// This code confirms the enrolment: the member hears of it.
			if emailEnc, err = q.OwnEmail(ctx); err != nil {
				return err
			}
		}
		rot, err = rotate(ctx, q)
		return err
	})
	if err != nil {
		return Rotated{}, mapErr("verify totp", err)
	}
	switch status {
	case "ok":
		if emailEnc != nil {
			s.factorNotice(ctx, p, emailEnc, "An authenticator app was added to your Ward account",
				"An authenticator app (TOTP) was just confirmed as a second factor of your Ward account.")
		}
		return rot, nil
	case "locked", "lockout": // lockout: this code locked it (audited as such)
		if status == "lockout" && emailEnc != nil {
			s.lockNotice(ctx, p, emailEnc, lockedUntil)
		}
		// each lockout since the last accepted code doubles the next, up
		// to 24 hours (migration 00173)
		retry := time.Until(lockedUntil).Round(time.Second)
		if retry < time.Second {
			retry = 15 * time.Minute
		}
		return Rotated{}, errkind.WithRetry(ErrFactorLocked, retry)
	case "not_enrolled":
		return Rotated{}, ErrFactorNotEnrolled
	}
	return Rotated{}, ErrFactorInvalid
}

// rotate gives the transaction's session a new token.
func rotate(ctx context.Context, q *dbsqlc.Queries) (Rotated, error) {
	tok, hash := newSecret()
	exp, err := q.RotateSession(ctx, hash)
	if err != nil {
		return Rotated{}, err
	}
	return Rotated{Token: tok, AbsoluteExpiresAt: exp}, nil
}

// keysTx runs fn in a transaction bound to the credential, with the org's
// keys (released to pending sessions too).
func (s *Service) keysTx(ctx context.Context, p identity.Principal,
	fn func(ctx context.Context, q *dbsqlc.Queries, keys *envelope.OrgKeys) error) error {
	org := p.OrgID
	cred := postgres.Credential{Hash: p.CredentialHash, Org: org.String(), Request: requestID(ctx), DPoP: p.DPoP}
	return s.db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		keys, err := s.keys.Org(ctx, tx, org)
		if err != nil {
			return err
		}
		return fn(ctx, dbsqlc.New(tx), keys)
	})
}

// lockNotice tells a member that wrong codes locked their authenticator
// app until the given time: their session is in someone's hands, or they
// mistyped five times.
func (s *Service) lockNotice(ctx context.Context, p identity.Principal, emailEnc []byte, until time.Time) {
	s.notice(ctx, p, emailEnc, "Your Ward authenticator app was locked after wrong codes",
		"Five wrong authenticator-app (TOTP) codes were just entered in a session of your Ward account, so "+
			"the factor is locked until "+until.UTC().Format("2006-01-02 15:04 UTC")+".\n\nIf this was not you, "+
			"someone holds a session of your account: sign out of your sessions (/v1/sessions) and tell your "+
			"organisation's administrator now.\n")
}

// factorNotice mails the member that a factor was added to their account:
// whoever reads their mail and adds a factor of their own is then no
// longer silent. A failure is logged (ids only), not returned.
func (s *Service) factorNotice(ctx context.Context, p identity.Principal, emailEnc []byte, subject, what string) {
	s.notice(ctx, p, emailEnc, subject, what+"\n\nIf this was not you, contact your organisation's administrator now: "+
		"someone can sign in as you. Your sessions and factors are listed under /v1/sessions and /v1/auth/passkeys.\n")
}

// notice mails text to the member whose sealed address is emailEnc. A
// failure is logged (ids only), not returned.
func (s *Service) notice(ctx context.Context, p identity.Principal, emailEnc []byte, subject, text string) {
	keys, err := s.keys.Instance(ctx, s.db)
	var to []byte
	if err == nil {
		to, err = keys.Open(emailEnc, emailAD(p.UserID))
	}
	if err != nil {
		s.log.ErrorContext(ctx, "factor notice not sent", "org", p.OrgID, "user", p.UserID, "err", err)
		return
	}
	s.sendLater(ctx, mail.Message{To: string(to), Subject: subject, Text: text}, p.OrgID, p.UserID)
}

// ErrTOTPLastFactor is DeleteTOTP refused: the caller's org requires a
// second factor and the TOTP factor is their only one.
var ErrTOTPLastFactor = errkind.New(errkind.Conflict, "last_factor", "auth: the last factor the policy needs").
	WithPublic("this TOTP factor is the last second factor your org's policy requires: register a passkey before removing it, or ask an admin to reset it")

// ErrResetSelf is ResetMemberTOTP on the caller themself: their own route
// (DeleteTOTP) keeps the last-factor rule.
var ErrResetSelf = errkind.New(errkind.Invalid, "reset_self", "auth: reset of one's own factor").
	WithPublic("remove your own TOTP factor with DELETE /v1/auth/totp")

// ErrVoidSelf is VoidMemberRecoveryCodes on the caller themself: they
// replace their own set (GenerateRecoveryCodes).
var ErrVoidSelf = errkind.New(errkind.Invalid, "reset_self", "auth: void of one's own recovery codes").
	WithPublic("replace your own recovery codes with POST /v1/auth/recovery-codes")

// DeleteTOTP removes the caller's TOTP factor (confirmed or an enrolment
// not yet confirmed) and ends their sessions whose second factor was TOTP
// (app.totp_delete, migration 00214: a session stepped up within 10
// minutes, not break-glass). Errors: ErrNotFound when they have none,
// ErrTOTPLastFactor when their org's bar needs it (audited).
func (s *Service) DeleteTOTP(ctx context.Context) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	var r dbsqlc.TOTPDeleteRow
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		var err error
		r, err = q.TOTPDelete(ctx, nullText(requestID(ctx)))
		return err
	})
	switch status := deref(r.Status); {
	case err != nil:
		return mapErr("delete totp", err)
	case status == "not_found":
		return errkind.Visible(ErrNotFound, "you have no TOTP factor in this org")
	case status == "last_factor":
		return ErrTOTPLastFactor
	case status != "ok":
		return errors.New("auth: delete totp: unexpected status " + status)
	}
	s.notice(ctx, p, r.EmailEnc, "Your TOTP authenticator was removed",
		"The TOTP authenticator (the six-digit codes) of your Ward account was just removed from a session "+
			"of yours, and the sessions that used it were ended.\n\n"+
			"If this was not you, contact your organisation's administrator now: someone holds a session of yours.\n")
	return nil
}

// ResetMemberTOTP removes another member's TOTP factor, for a member who
// lost it (app.member_totp_reset, migration 00214: an admin's session
// stepped up within 10 minutes, not break-glass); their TOTP sessions end
// and they enrol again from a magic-link session. Errors: ErrNotFound when
// user is no member of the caller's org or has no factor (audited),
// ErrResetSelf for the caller themself.
func (s *Service) ResetMemberTOTP(ctx context.Context, user uuid.UUID) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	var r dbsqlc.MemberTOTPResetRow
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		var err error
		r, err = q.MemberTOTPReset(ctx, dbsqlc.MemberTOTPResetParams{UserID: user, Request: nullText(requestID(ctx))})
		return err
	})
	switch status := deref(r.Status); {
	case err != nil:
		return mapErr("reset totp", err)
	case status == "self":
		return ErrResetSelf
	case status == "not_found":
		return s.denied(ctx, p, "auth.mfa.reset", "user", user,
			errkind.Visible(ErrNotFound, "no member of this org with a TOTP factor has this id"))
	case status != "ok":
		return errors.New("auth: reset totp: unexpected status " + status)
	}
	s.notice(ctx, identity.Principal{OrgID: p.OrgID, UserID: user}, r.EmailEnc, "An administrator reset your TOTP authenticator",
		"An administrator of your organisation just removed the TOTP authenticator (the six-digit codes) of your "+
			"Ward account and voided your unused recovery codes; the sessions that used it were ended. "+
			"Sign in with a link and enrol a new authenticator.\n\n"+
			"If you did not ask for this, tell your organisation now: someone may be taking over your account.\n")
	return nil
}

// VoidMemberRecoveryCodes voids another member's recovery codes, for a
// member whose codes leaked or who lost them with their device
// (app.member_recovery_codes_void, migration 00306: an admin's session
// stepped up within 10 minutes, not break-glass); the member's sessions
// that a code opened end, their other factors stay, and they are mailed.
// Errors: ErrNotFound when user is no member of the caller's org or holds
// no recovery code (audited), ErrVoidSelf for the caller themself.
func (s *Service) VoidMemberRecoveryCodes(ctx context.Context, user uuid.UUID) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	var r dbsqlc.MemberRecoveryCodesVoidRow
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		var err error
		r, err = q.MemberRecoveryCodesVoid(ctx, dbsqlc.MemberRecoveryCodesVoidParams{UserID: user, Request: nullText(requestID(ctx))})
		return err
	})
	switch status := deref(r.Status); {
	case err != nil:
		return mapErr("void recovery codes", err)
	case status == "self":
		return ErrVoidSelf
	case status == "not_found":
		return s.denied(ctx, p, "auth.mfa.reset", "user", user,
			errkind.Visible(ErrNotFound, "no member of this org with recovery codes has this id"))
	case status != "ok":
		return errors.New("auth: void recovery codes: unexpected status " + status)
	}
	s.notice(ctx, identity.Principal{OrgID: p.OrgID, UserID: user}, r.EmailEnc, "An administrator voided your recovery codes",
		"An administrator of your organisation just voided the recovery codes of your Ward account; the sessions "+
			"that a recovery code opened were ended. Your other second factors are as they were: generate a new set "+
			"of codes after you sign in.\n\n"+
			"If you did not ask for this, tell your organisation now: someone may be taking over your account.\n")
	return nil
}
