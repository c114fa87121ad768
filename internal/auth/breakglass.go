package auth

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/mail"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// Break-glass emergency access (migration 00060). An org admin designates
// emergency-access users: staff members holding at least two passkeys. One
// of them activates break-glass with a user-verified passkey assertion (a
// sign-in challenge from BeginPasskeySignIn; no mail is needed) and a
// written reason. The database then issues a 60-minute session that no
// caller can lengthen and nothing renews, which reads every patient of the
// org; every event it makes carries break_glass = true. Every org admin is
// mailed (in the background: a mail outage does not stop an emergency),
// and the activation stays on the org as an open review item until an
// admin other than the operator closes it with a note.

// BreakGlassLifetime is the lifetime of a break-glass session: a constant
// of the database (app.break_glass_activate and a CHECK constraint of
// app.sessions), repeated here for documentation and messages only.
const BreakGlassLifetime = 60 * time.Minute

// Reasons and notes are free text a person writes: bounded, and sealed
// under the org's keys like every PHI column.
const (
	minBreakGlassReason = 10
	maxBreakGlassText   = 2000
)

// Errors of break-glass.
var (
	ErrBreakGlassRefused = errkind.New(errkind.Forbidden, "break_glass_refused", "auth: break-glass refused").
		WithPublic("break-glass access was refused: you must be an emergency-access user of the org holding at least two passkeys")
)

// BreakGlassUser is an emergency-access user of the org.
type BreakGlassUser struct {
	UserID       uuid.UUID `json:"user_id"`
	DesignatedBy uuid.UUID `json:"designated_by"`
	DesignatedAt time.Time `json:"designated_at"`
}

// BreakGlassActivation is one activation: the review item an admin closes.
type BreakGlassActivation struct {
	ID          uuid.UUID  `json:"id"`
	UserID      uuid.UUID  `json:"user_id"`
	SessionID   uuid.UUID  `json:"session_id"`
	PasskeyID   uuid.UUID  `json:"passkey_id"`
	Reason      string     `json:"reason"`
	ActivatedAt time.Time  `json:"activated_at"`
	ExpiresAt   time.Time  `json:"expires_at"`
	Open        bool       `json:"open"`
	ReviewedAt  *time.Time `json:"reviewed_at,omitempty"`
	ReviewedBy  *uuid.UUID `json:"reviewed_by,omitempty"`
	ReviewNote  string     `json:"review_note,omitempty"`
}

// BreakGlassSession is a newly activated break-glass session.
type BreakGlassSession struct {
	Session
	ActivationID uuid.UUID
}

func breakGlassAD(org, activation uuid.UUID, column string) envelope.AD {
	return envelope.AD{Table: "break_glass_activations", Column: column, Org: org, Row: activation}
}

// checkText trims a reason or note and checks its length.
func checkText(field, s string, min int) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) < min || utf8.RuneCountInString(s) > maxBreakGlassText {
		return "", errkind.Visiblef(ErrInvalidInput, "%s must be %d to %d characters", field, min, maxBreakGlassText)
	}
	return s, nil
}

// DesignateBreakGlass makes user an emergency-access user of the caller's
// org (on) or stops it, and reports whether anything changed. The caller
// must be an admin whose session presented a second factor within 10
// minutes (ErrStepUpRequired); user must be a live staff member (ErrNotFound)
// holding at least two passkeys (ErrInvalidInput). Refusals are audited.
func (s *Service) DesignateBreakGlass(ctx context.Context, user uuid.UUID, on bool) (bool, error) {
	p, err := principal(ctx)
	if err != nil {
		return false, err
	}
	var changed bool
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		var err error
		changed, err = q.BreakGlassDesignate(ctx, dbsqlc.BreakGlassDesignateParams{UserID: user, Designated: on,
			Request: nullText(requestID(ctx))})
		return err
	})
	switch {
	case err == nil:
		return changed, nil
	case isInvalid(err):
		return false, errkind.Visible(ErrInvalidInput, "an emergency-access user must hold at least two passkeys")
	}
	err = mapErr("designate break-glass user", err)
	if errors.Is(err, ErrNotFound) {
		err = errkind.Visible(ErrNotFound, "no live staff member (provider, lead or admin) of this org has this id")
	}
	if errors.Is(err, ErrForbidden) || errors.Is(err, ErrNotFound) {
		return false, s.denied(ctx, p, "org.break_glass.designate", "user", user, err)
	}
	return false, err
}

// ListBreakGlassUsers lists the org's emergency-access users (admins only;
// RLS shows others none).
func (s *Service) ListBreakGlassUsers(ctx context.Context) ([]BreakGlassUser, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var rows []dbsqlc.ListBreakGlassUsersRow
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		var err error
		rows, err = q.ListBreakGlassUsers(ctx, p.OrgID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("auth: list break-glass users: %w", err)
	}
	out := make([]BreakGlassUser, len(rows))
	for i, r := range rows {
		out[i] = BreakGlassUser{UserID: r.UserID, DesignatedBy: r.DesignatedBy, DesignatedAt: r.DesignatedAt}
	}
	return out, nil
}

// ActivateBreakGlass verifies a discoverable passkey assertion answering
// the sign-in challenge bound to binder, checks the written reason, and
// issues a 60-minute break-glass session. Every org admin is then mailed
// in the background. Errors: ErrInvalidInput (the reason), ErrChallengeInvalid,
// ErrPasskeyInvalid (unknown passkey, bad signature, UV missing, wrong
// origin or RP ID, a sign-count regression), ErrBreakGlassRefused (not an
// emergency-access user, or fewer than two passkeys); each is audited.
// jkt is the thumbprint of the key of the sign-in's DPoP proof the caller
// verified (VerifyDPoP) and recorded (UseDPoP), or empty: the session is
// bound to that key at creation, or else is a browser session, to be
// handed out in the session cookie only (migration 00080).
func (s *Service) ActivateBreakGlass(ctx context.Context, response []byte, binder, reason, jkt string) (BreakGlassSession, error) {
	reason, err := checkText("reason", reason, minBreakGlassReason)
	if err != nil {
		return BreakGlassSession{}, err
	}
	wa, _, _, err := s.webAuthn()
	if err != nil {
		return BreakGlassSession{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return BreakGlassSession{}, errkind.Visible(ErrInvalidInput, "credential is not a WebAuthn assertion")
	}
	cer := ceremony{c: identity.RequestFrom(ctx)}
	var ok bool
	if cer.challenge, ok = challengeOf(parsed.Response.CollectedClientData.Challenge); !ok {
		return BreakGlassSession{}, ErrChallengeInvalid
	}
	var binderHash []byte
	if validSecret(binder) {
		binderHash = hashOf(binder)
	}
	sessToken, sessHash := newSecret()
	var out BreakGlassSession
	var admins []uuid.UUID
	var emails [][]byte
	var refusal error
	err = s.db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		// The device key the server verified, as ward.dpop always is: the
		// procedure binds the new session to it.
		if _, err := tx.Exec(ctx, postgres.BindSQL, postgres.BindArgs(ctx, postgres.Credential{DPoP: jkt})...); err != nil {
			return err
		}
		q := dbsqlc.New(tx)
		var err error
		refusal, err = s.verifyAssertion(ctx, q, wa, cer, parsed, "signin", binderHash, ErrPasskeyInvalid)
		if err != nil || refusal != nil {
			return err
		}
		req, ip, ua := cer.meta()
		r, err := q.BreakGlassActivate(ctx, dbsqlc.BreakGlassActivateParams{Challenge: cer.challenge,
			CredentialID: parsed.RawID, ClientData: parsed.Raw.AssertionResponse.ClientDataJSON,
			AuthData: parsed.Raw.AssertionResponse.AuthenticatorData, SessionHash: sessHash,
			Request: req, Ip: ip, Ua: ua})
		if err != nil {
			return err
		}
		switch deref(r.Status) {
		case "ok":
		case "not_designated", "too_few_passkeys":
			refusal = ErrBreakGlassRefused
			return nil
		default:
			refusal = ErrPasskeyInvalid
			return nil
		}
		// The transaction now acts as the new session, bound in a
		// statement of its own (the procedure's binding holds for it
		// only, migration 00165): the org's keys are released to it, and
		// it writes its reason.
		dpop := jkt
		if dpop == "" {
			dpop = postgres.BrowserBinding
		}
		var request string
		if req != nil {
			request = *req
		}
		if _, err := tx.Exec(ctx, postgres.BindSQL,
			postgres.BindArgs(ctx, postgres.Credential{Hash: hex.EncodeToString(sessHash), Request: request, DPoP: dpop})...); err != nil {
			return err
		}
		org, act := r.OrgID.UUID, r.ActivationID.UUID
		keys, err := s.keys.Org(ctx, tx, org)
		if err != nil {
			return err
		}
		sealed, err := keys.Seal([]byte(reason), breakGlassAD(org, act, "reason"))
		if err != nil {
			return err
		}
		if err := q.BreakGlassReason(ctx, dbsqlc.BreakGlassReasonParams{ActivationID: act, ReasonEnc: sealed}); err != nil {
			return err
		}
		out = BreakGlassSession{ActivationID: act, Session: Session{Token: sessToken, ID: r.SessionID.UUID,
			UserID: r.UserID.UUID, OrgID: org, AbsoluteExpiresAt: *r.AbsoluteExpiresAt,
			IdleTimeout: time.Duration(*r.IdleTimeoutMin) * time.Minute}}
		admins, emails = r.AdminIds, r.AdminEmails
		return nil
	})
	if err != nil {
		return BreakGlassSession{}, fmt.Errorf("auth: activate break-glass: %w", err)
	}
	if refusal != nil {
		return BreakGlassSession{}, refusal
	}
	s.notifyAdmins(ctx, out, admins, emails)
	return out, nil
}

// notifyAdmins mails every org admin that break-glass was activated, in
// the background. The message names the operator by user id and the
// times, never the reason (it may name a patient): admins read it through
// the API. A failure is logged with ids only.
func (s *Service) notifyAdmins(ctx context.Context, bg BreakGlassSession, admins []uuid.UUID, emails [][]byte) {
	keys, err := s.keys.Instance(ctx, s.db)
	if err != nil {
		s.log.ErrorContext(ctx, "break-glass notice: instance keys", "org", bg.OrgID, "err", err)
		return
	}
	for i, admin := range admins {
		if i >= len(emails) {
			break
		}
		to, err := keys.Open(emails[i], emailAD(admin))
		if err != nil {
			s.log.ErrorContext(ctx, "break-glass notice: open admin address", "org", bg.OrgID, "user", admin, "err", err)
			continue
		}
		msg := mail.Message{To: string(to), Subject: "Break-glass access activated in your organisation",
			Text: "Emergency (break-glass) access was activated in your Ward organisation.\n\n" +
				"Organisation: " + bg.OrgID.String() + "\nOperator (user id): " + bg.UserID.String() +
				"\nActivation: " + bg.ActivationID.String() +
				"\nActivated at: " + bg.AbsoluteExpiresAt.Add(-BreakGlassLifetime).UTC().Format(time.RFC3339) +
				"\nExpires at: " + bg.AbsoluteExpiresAt.UTC().Format(time.RFC3339) +
				"\n\nEvery access it makes is marked break_glass in the audit log. Read the stated reason and close " +
				"the review item: GET /v1/org/break-glass/activations, then " +
				"POST /v1/org/break-glass/activations/" + bg.ActivationID.String() + "/review with a note.\n"}
		s.sendNotice(ctx, msg, bg.OrgID, admin)
	}
}

// sendNotice sends msg in the background; a failure is logged (ids only).
func (s *Service) sendNotice(ctx context.Context, msg mail.Message, org, user uuid.UUID) {
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	go func() {
		defer cancel()
		if err := s.mailer.Send(mctx, msg); err != nil {
			s.log.ErrorContext(mctx, "break-glass notice not delivered", "org", org, "user", user, "err", err)
		}
	}()
}

// ListBreakGlassActivations lists the org's break-glass activations, newest
// first (only the open review items when openOnly), with their reasons and
// notes (admins only; RLS shows others none). The listing is audited.
func (s *Service) ListBreakGlassActivations(ctx context.Context, openOnly bool) ([]BreakGlassActivation, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var out []BreakGlassActivation
	err = s.db.InTenantTx(ctx, credentialOf(ctx, p), func(ctx context.Context, tx pgx.Tx) error {
		q := dbsqlc.New(tx)
		rows, err := q.ListBreakGlassActivations(ctx, dbsqlc.ListBreakGlassActivationsParams{OrgID: p.OrgID, OpenOnly: openOnly})
		if err != nil {
			return err
		}
		out = make([]BreakGlassActivation, 0, len(rows))
		if len(rows) > 0 {
			keys, err := s.keys.Org(ctx, tx, p.OrgID)
			if err != nil {
				return err
			}
			for _, r := range rows {
				a := BreakGlassActivation{ID: r.ID, UserID: r.UserID, SessionID: r.SessionID, PasskeyID: r.PasskeyID,
					ActivatedAt: r.ActivatedAt, ExpiresAt: r.ExpiresAt, Open: r.ReviewedAt == nil, ReviewedAt: r.ReviewedAt}
				if r.ReviewedBy.Valid {
					a.ReviewedBy = &r.ReviewedBy.UUID
				}
				reason, err := keys.Open(r.ReasonEnc, breakGlassAD(p.OrgID, r.ID, "reason"))
				if err != nil {
					return fmt.Errorf("open reason of activation %s: %w", r.ID, err)
				}
				a.Reason = string(reason)
				if r.ReviewNoteEnc != nil {
					note, err := keys.Open(r.ReviewNoteEnc, breakGlassAD(p.OrgID, r.ID, "review_note"))
					if err != nil {
						return fmt.Errorf("open note of activation %s: %w", r.ID, err)
					}
					a.ReviewNote = string(note)
				}
				out = append(out, a)
			}
		}
		return q.AppendBreakGlassList(ctx, dbsqlc.AppendBreakGlassListParams{OrgID: p.OrgID,
			Request: nullText(requestID(ctx)), Count: int32(len(out)), OpenOnly: openOnly})
	})
	if err != nil {
		return nil, fmt.Errorf("auth: list break-glass activations: %w", err)
	}
	return out, nil
}

// CloseBreakGlassReview closes the open review item of activation id with
// a note. The caller must be an admin who stepped up within 10 minutes
// (ErrStepUpRequired) and not the operator (ErrForbidden); ErrNotFound when
// no open item of the org has this id. Refusals are audited.
func (s *Service) CloseBreakGlassReview(ctx context.Context, id uuid.UUID, note string) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	note, err = checkText("note", note, 1)
	if err != nil {
		return err
	}
	var ok bool
	err = s.db.InTenantTx(ctx, credentialOf(ctx, p), func(ctx context.Context, tx pgx.Tx) error {
		keys, err := s.keys.Org(ctx, tx, p.OrgID)
		if err != nil {
			return err
		}
		sealed, err := keys.Seal([]byte(note), breakGlassAD(p.OrgID, id, "review_note"))
		if err != nil {
			return err
		}
		ok, err = dbsqlc.New(tx).BreakGlassReview(ctx, dbsqlc.BreakGlassReviewParams{ActivationID: id, NoteEnc: sealed,
			Request: nullText(requestID(ctx))})
		return err
	})
	switch {
	case err == nil && !ok:
		err = errkind.Visible(ErrNotFound, "no open break-glass review item of this org has this id")
	case err == nil:
		return nil
	default:
		err = mapErr("close break-glass review", err)
	}
	if errors.Is(err, ErrForbidden) || errors.Is(err, ErrNotFound) {
		return s.denied(ctx, p, "org.break_glass.review", "break_glass_activation", id, err)
	}
	return err
}

// credentialOf is the principal's credential as a transaction binds it.
func credentialOf(ctx context.Context, p identity.Principal) postgres.Credential {
	return postgres.CredentialOf(p, requestID(ctx))
}
