package auth

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strconv"
	"strings"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/mail"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// Recovery codes: ten per member, 80 random bits each, written as four
// groups of four base32 characters (xxxx-xxxx-xxxx-xxxx, case and dashes
// ignored when presented). Only their SHA-256 is stored; they are shown
// once. A code raises a session to AAL2 once and meets require_mfa, never
// require_passkey; its use is audited and mailed to the member.

// RecoveryCodeCount is how many codes a set holds.
const RecoveryCodeCount = 10

// ErrStepUpRequired means the action needs a second factor presented
// within the last 10 minutes (the database's refusal, postgres.Refusal).
var ErrStepUpRequired = postgres.ErrStepUpRequired

var recoveryEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newRecoveryCode returns a fresh code, as shown to the member.
func newRecoveryCode() string {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("auth: crypto/rand failed: %v", err))
	}
	s := strings.ToLower(recoveryEncoding.EncodeToString(b)) // 16 characters
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}

// normalRecoveryCode is a presented code in the form whose hash is stored
// (lower case, no dashes or spaces), and whether it can be a code at all.
func normalRecoveryCode(code string) (string, bool) {
	c := strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(code))
	if len(c) != 16 {
		return "", false
	}
	if _, err := recoveryEncoding.DecodeString(strings.ToUpper(c)); err != nil {
		return "", false
	}
	return c, true
}

// GenerateRecoveryCodes replaces the caller's recovery codes with ten new
// ones and returns them, once. The session must be AAL2 and have presented
// a second factor within 10 minutes (the database checks it). Errors:
// ErrStepUpRequired.
func (s *Service) GenerateRecoveryCodes(ctx context.Context) ([]string, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	codes := make([]string, RecoveryCodeCount)
	hashes := make([][]byte, RecoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		n, _ := normalRecoveryCode(codes[i])
		hashes[i] = hashOf(n)
	}
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		return q.RecoveryCodesGenerate(ctx, dbsqlc.RecoveryCodesGenerateParams{Hashes: hashes, Request: nullText(requestID(ctx))})
	})
	if err != nil {
		return nil, mapErr("generate recovery codes", err)
	}
	return codes, nil
}

// ErrPasskeyStepUpRequired means the action needs one of the member's
// passkeys presented first (a TOTP code does not vouch for a new passkey).
var ErrPasskeyStepUpRequired = postgres.ErrPasskeyStepUpRequired

// ErrBreakGlassNotAllowed means a break-glass session asked to change
// configuration or credentials: emergency access only reads records.
var ErrBreakGlassNotAllowed = postgres.ErrBreakGlassNotAllowed

// isInvalid reports whether err is a procedure's refusal of an argument.
func isInvalid(err error) bool { return postgres.IsCode(err, postgres.CodeInvalidParameter) }

// UseRecoveryCode spends one of the caller's recovery codes for the
// caller's session (which may be pending): the session becomes AAL2, with
// recovery_code in its methods, and its token rotates. The member is mailed
// that a code was used and how many are left. Errors: ErrFactorInvalid
// (audited).
func (s *Service) UseRecoveryCode(ctx context.Context, code string) (Rotated, error) {
	p, err := principal(ctx)
	if err != nil {
		return Rotated{}, err
	}
	var rot Rotated
	c := identity.RequestFrom(ctx)
	n, ok := normalRecoveryCode(code)
	if !ok {
		n = "-" // hashes to nothing stored; the refusal is still audited
	}
	var r dbsqlc.RecoveryCodeUseRow
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		var err error
		r, err = q.RecoveryCodeUse(ctx, dbsqlc.RecoveryCodeUseParams{CodeHash: hashOf(n), Request: nullText(c.ID),
			Ip: nullText(c.IPString()), Ua: nullText(c.UserAgent)})
		if err != nil || deref(r.Status) != "ok" {
			return err
		}
		rot, err = rotate(ctx, q)
		return err
	})
	if err != nil {
		return Rotated{}, mapErr("use recovery code", err)
	}
	if deref(r.Status) != "ok" {
		return Rotated{}, ErrFactorInvalid
	}
	keys, err := s.keys.Instance(ctx, s.db)
	if err != nil {
		s.log.ErrorContext(ctx, "recovery code notice not sent", "org", p.OrgID, "user", p.UserID, "err", err)
		return rot, nil
	}
	to, err := keys.Open(r.EmailEnc, emailAD(p.UserID))
	if err != nil {
		s.log.ErrorContext(ctx, "recovery code notice not sent", "org", p.OrgID, "user", p.UserID, "err", err)
		return rot, nil
	}
	s.sendLater(ctx, mail.Message{To: string(to), Subject: "A recovery code was used to sign in",
		Text: "One of your Ward recovery codes was just used to sign in. " + strconv.Itoa(int(deref(r.Remaining))) +
			" unused codes are left; generate a new set when you are signed in.\n\n" +
			"If this was not you, contact your organisation's administrator now: someone holds your codes.\n"},
		p.OrgID, p.UserID)
	return rot, nil
}
