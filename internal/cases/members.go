package cases

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/mail"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// Member is one grant on a case.
type Member struct {
	UserID          uuid.UUID  `json:"user_id"`
	Kind            string     `json:"kind"`
	Permissions     []string   `json:"permissions"`
	AccessExpiresAt *time.Time `json:"access_expires_at"`
	AddedBy         uuid.UUID  `json:"added_by"`
	AddedAt         time.Time  `json:"added_at"`
	RevokedAt       *time.Time `json:"revoked_at"`
	// Active is false once revoked or past its access end date.
	Active bool `json:"active"`
	// RecipientOrg is the organisation a stakeholder grant is for (the
	// firm, employer, insurer or clinic), named in the accounting of
	// disclosures of what the stakeholder downloads.
	RecipientOrg *string `json:"recipient_org,omitempty"`
}

func memberFromRow(r dbsqlc.AppCaseMember, now time.Time) Member {
	return Member{UserID: r.UserID, Kind: r.Kind, Permissions: r.Permissions, AccessExpiresAt: r.AccessExpiresAt,
		AddedBy: r.AddedBy, AddedAt: r.AddedAt, RevokedAt: r.RevokedAt,
		Active:       r.RevokedAt == nil && (r.AccessExpiresAt == nil || r.AccessExpiresAt.After(now)),
		RecipientOrg: r.RecipientOrg}
}

// MemberInput grants an org member access to a case.
type MemberInput struct {
	// Kind is "staff" for the org's own staff, or a stakeholder kind
	// (clinic, employer, attorney, payer) for a stakeholder already in the
	// org (new stakeholders join through an invitation).
	Kind            string     `json:"kind"`
	Permissions     []string   `json:"permissions"`
	AccessExpiresAt *time.Time `json:"access_expires_at"`
	// RecipientOrg names the organisation a stakeholder acts for (1..180
	// characters; stakeholder kinds only). It is recorded as the recipient
	// of each disclosure to them (HIPAA §164.528(b)(2)(ii)), so it names an
	// organisation, never the patient. Changing a grant without it clears it.
	RecipientOrg *string `json:"recipient_org"`
}

// maxRecipientOrg bounds a grant's organisation name (characters), so that
// "<kind>: <name>" fits a disclosure's 200-character recipient.
const maxRecipientOrg = 180

// checkRecipientOrg returns the organisation name to store (nil for none),
// or ErrInvalidInput.
func checkRecipientOrg(org *string, stakeholder bool) (*string, error) {
	if org == nil {
		return nil, nil
	}
	v := strings.TrimSpace(*org)
	switch {
	case !stakeholder:
		return nil, errkind.Visible(ErrInvalidInput, "recipient_org is for stakeholder grants only")
	case v == "" || utf8.RuneCountInString(v) > maxRecipientOrg:
		return nil, errkind.Visible(ErrInvalidInput, fmt.Sprintf("recipient_org is 1..%d characters", maxRecipientOrg))
	case strings.ContainsFunc(v, unicode.IsControl) || strings.ContainsFunc(v, spoofing):
		return nil, errkind.Visible(ErrInvalidInput,
			"recipient_org must not hold control, invisible or direction-changing characters")
	}
	return &v, nil
}

// ListMembers returns a case's grants (those who manage the case see them
// all; others see their own) and audits the list.
func (s *Service) ListMembers(ctx context.Context, kase uuid.UUID) ([]Member, error) {
	c, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	out := []Member{}
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		if _, err := t.q.GetCase(ctx, dbsqlc.GetCaseParams{OrgID: c.p.OrgID, ID: kase}); err != nil {
			return err
		}
		rows, err := t.q.ListCaseMembers(ctx, dbsqlc.ListCaseMembersParams{OrgID: c.p.OrgID, CaseID: kase})
		if err != nil {
			return err
		}
		ids := make([]uuid.UUID, 0, len(rows))
		for _, r := range rows {
			out = append(out, memberFromRow(r, s.cfg.Now()))
			ids = append(ids, r.UserID)
		}
		e := c.event("case.member.list", "", uuid.Nil, kase)
		e.Results = ids
		return t.record(ctx, e)
	})
	if err = mapErr("list case members", err); err != nil {
		return nil, s.denied(ctx, c, c.event("case.member.list", "", uuid.Nil, kase), err)
	}
	return out, nil
}

// SetMember grants (or changes) user's access to kase: admins, leads and
// providers of the case's patient. A staff grant goes to a staff member;
// a stakeholder grant to a stakeholder member and needs an access end
// date. A closed case takes no grant and no change of one (revocations
// only). Errors: ErrInvalidInput, ErrNotFound, ErrForbidden, ErrCaseClosed.
func (s *Service) SetMember(ctx context.Context, kase, user uuid.UUID, in MemberInput) (Member, error) {
	c, err := begin(ctx)
	if err != nil {
		return Member{}, err
	}
	perms, err := checkPerms(in.Permissions)
	if err != nil {
		return Member{}, err
	}
	stakeholder := slices.Contains(stakeholderKinds, in.Kind)
	switch {
	case in.Kind != KindStaff && !stakeholder:
		return Member{}, errkind.Visible(ErrInvalidInput, "kind is staff, clinic, employer, attorney or payer")
	case stakeholder && in.AccessExpiresAt == nil:
		return Member{}, errkind.Visible(ErrInvalidInput, "a stakeholder's access needs access_expires_at")
	case in.AccessExpiresAt != nil && !in.AccessExpiresAt.After(s.cfg.Now()):
		return Member{}, errkind.Visible(ErrInvalidInput, "access_expires_at must be in the future")
	case in.AccessExpiresAt != nil && in.AccessExpiresAt.After(s.cfg.Now().AddDate(5, 0, 0)):
		// as an invitation's: a grant does not outlive its author's tenure
		// by decades
		return Member{}, errkind.Visible(ErrInvalidInput, "access_expires_at is at most five years ahead")
	}
	recipientOrg, err := checkRecipientOrg(in.RecipientOrg, stakeholder)
	if err != nil {
		return Member{}, err
	}
	var out Member
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		if _, err := t.q.GetCase(ctx, dbsqlc.GetCaseParams{OrgID: c.p.OrgID, ID: kase}); err != nil {
			return err
		}
		if user == c.p.UserID {
			// The database refuses it too (migration 00113).
			return errOwnGrant
		}
		if ok, err := managed(ctx, t.q, c, kase); err != nil || !ok {
			if err == nil {
				err = ErrForbidden
			}
			return err
		}
		// Through private.case_grantee_role (00154): a provider who
		// manages the case does not see the org's memberships.
		role, err := t.q.CaseGranteeRole(ctx, dbsqlc.CaseGranteeRoleParams{CaseID: kase, UserID: user})
		if err != nil {
			return err
		}
		// One answer for a user who is no member, a patient and a member
		// the caller does not see (00156): the caller learns nothing of
		// who they are.
		if role == "" {
			return errkind.Visible(ErrInvalidInput,
				"the user is no staff member or stakeholder of this org that you can grant this case to")
		}
		// role is staff or stakeholder (never which staff role).
		if (role == "stakeholder") != stakeholder {
			return errkind.Visible(ErrInvalidInput,
				"staff grants go to provider, lead or admin members; stakeholder kinds to stakeholders")
		}
		row, err := t.q.SetCaseMember(ctx, dbsqlc.SetCaseMemberParams{OrgID: c.p.OrgID, CaseID: kase, UserID: user,
			Kind: in.Kind, Permissions: perms, AccessExpiresAt: in.AccessExpiresAt, AddedBy: c.p.UserID,
			RecipientOrg: recipientOrg})
		if err != nil {
			return err
		}
		out = memberFromRow(row, s.cfg.Now())
		e := c.event("case.member.set", "user", user, kase)
		e.Details = map[string]any{"kind": in.Kind, "permissions": anyStrings(perms), "expires": in.AccessExpiresAt != nil,
			"recipient_org": recipientOrg != nil}
		return t.record(ctx, e)
	})
	if err = mapErr("set case member", err); err != nil {
		return Member{}, s.denied(ctx, c, c.event("case.member.set", "user", user, kase), err)
	}
	return out, nil
}

// RevokeMember ends user's access to kase at once (the database refuses
// their next statement). Errors: ErrNotFound, ErrForbidden.
func (s *Service) RevokeMember(ctx context.Context, kase, user uuid.UUID) error {
	c, err := begin(ctx)
	if err != nil {
		return err
	}
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		if _, err := t.q.GetCase(ctx, dbsqlc.GetCaseParams{OrgID: c.p.OrgID, ID: kase}); err != nil {
			return err
		}
		if ok, err := managed(ctx, t.q, c, kase); err != nil || !ok {
			if err == nil {
				err = ErrNotFound
			}
			return err
		}
		if _, err := t.q.RevokeCaseMember(ctx, dbsqlc.RevokeCaseMemberParams{OrgID: c.p.OrgID, CaseID: kase, UserID: user}); err != nil {
			return err
		}
		e := c.event("case.member.set", "user", user, kase)
		e.Details = map[string]any{"revoked": true}
		return t.record(ctx, e)
	})
	if err = mapErr("revoke case member", err); err != nil {
		return s.denied(ctx, c, c.event("case.member.set", "user", user, kase), err)
	}
	return nil
}

func anyStrings(v []string) []any {
	out := make([]any, len(v))
	for i, s := range v {
		out[i] = s
	}
	return out
}

// InviteInput invites an email address to a case as a stakeholder.
type InviteInput struct {
	Email           string    `json:"email"`
	Kind            string    `json:"kind"`
	Permissions     []string  `json:"permissions"`
	AccessExpiresAt time.Time `json:"access_expires_at"`
	// RecipientOrg, optional, names the organisation the invitee acts for;
	// the grant the invitation gives carries it (as MemberInput's).
	RecipientOrg *string `json:"recipient_org"`
}

// LogValue keeps the address out of logs.
func (in InviteInput) LogValue() slog.Value { return slog.StringValue("[invite input]") }

// Invite is an invitation as its case's managers see it.
type Invite struct {
	ID              uuid.UUID  `json:"id"`
	CaseID          uuid.UUID  `json:"case_id"`
	Email           string     `json:"email"`
	Kind            string     `json:"kind"`
	Permissions     []string   `json:"permissions"`
	AccessExpiresAt time.Time  `json:"access_expires_at"`
	RecipientOrg    *string    `json:"recipient_org,omitempty"`
	ExpiresAt       time.Time  `json:"expires_at"`
	CreatedBy       uuid.UUID  `json:"created_by"`
	CreatedAt       time.Time  `json:"created_at"`
	AcceptedAt      *time.Time `json:"accepted_at"`
	AcceptedBy      *uuid.UUID `json:"accepted_by"`
	RevokedAt       *time.Time `json:"revoked_at"`
	// Status is pending, accepted, revoked or expired.
	Status string `json:"status"`
}

// LogValue reports ids only.
func (i Invite) LogValue() slog.Value { return slog.StringValue(i.ID.String()) }

func newToken() (string, []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("cases: crypto/rand failed: %v", err))
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(tok))
	return tok, sum[:]
}

// InviteURL is the acceptance link for an invitation token.
func (s *Service) InviteURL(token string) string {
	return s.cfg.BaseURL + "/v1/case-invites/accept?token=" + token
}

// CreateInvite invites email to kase with a stakeholder kind, permissions
// and an access end date, and mails a single-use acceptance link valid for
// the instance's invitation lifetime (days). Admins, leads and providers of
// the case's patient. Errors: ErrInvalidInput, ErrNotFound, ErrForbidden,
// ErrCaseClosed.
func (s *Service) CreateInvite(ctx context.Context, kase uuid.UUID, in InviteInput) (Invite, error) {
	c, err := begin(ctx)
	if err != nil {
		return Invite{}, err
	}
	in.Email = strings.TrimSpace(in.Email)
	perms, err := checkPerms(in.Permissions)
	switch {
	case err != nil:
		return Invite{}, err
	case !identity.ValidEmail(in.Email):
		return Invite{}, errkind.Visible(ErrInvalidInput, "email must be an email address")
	case !slices.Contains(stakeholderKinds, in.Kind):
		return Invite{}, errkind.Visible(ErrInvalidInput, "kind is clinic, employer, attorney or payer")
	case !in.AccessExpiresAt.After(s.cfg.Now()):
		return Invite{}, errkind.Visible(ErrInvalidInput, "access_expires_at must be in the future")
	case in.AccessExpiresAt.After(s.cfg.Now().AddDate(5, 0, 0)):
		return Invite{}, errkind.Visible(ErrInvalidInput, "access_expires_at is at most five years ahead")
	}
	recipientOrg, err := checkRecipientOrg(in.RecipientOrg, true)
	if err != nil {
		return Invite{}, err
	}
	ikeys, err := s.keys.Instance(ctx, s.db)
	if err != nil {
		return Invite{}, err
	}
	norm := envelope.NormalizeEmail(in.Email)
	invitee := uuid.New()
	emailEnc, err := ikeys.Seal([]byte(norm), keystore.UserEmailAD(invitee))
	if err != nil {
		return Invite{}, err
	}
	token, hash := newToken()
	out := Invite{CaseID: kase, Email: norm, Kind: in.Kind, Permissions: perms, AccessExpiresAt: in.AccessExpiresAt,
		RecipientOrg: recipientOrg, CreatedBy: c.p.UserID, Status: "pending"}
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		if _, err := t.q.GetCase(ctx, dbsqlc.GetCaseParams{OrgID: c.p.OrgID, ID: kase}); err != nil {
			return err
		}
		if ok, err := managed(ctx, t.q, c, kase); err != nil || !ok {
			if err == nil {
				err = ErrForbidden
			}
			return err
		}
		// The domain of the address, noted for enforce_sso (00128): the
		// invitee's user is written when they accept.
		if err := t.q.NoteEmailDomain(ctx, dbsqlc.NoteEmailDomainParams{EmailBidx: ikeys.BlindIndex("users.email", norm),
			DomainBidx: ikeys.EmailDomainIndex(norm)}); err != nil {
			return err
		}
		row, err := t.q.CreateCaseInvite(ctx, dbsqlc.CreateCaseInviteParams{OrgID: c.p.OrgID, ID: uuid.New(), CaseID: kase,
			EmailBidx: ikeys.BlindIndex("users.email", norm), EmailEnc: emailEnc, InviteeID: invitee, TokenHash: hash,
			Kind: in.Kind, Permissions: perms, AccessExpiresAt: in.AccessExpiresAt, CreatedBy: c.p.UserID,
			RecipientOrg: recipientOrg})
		if err != nil {
			return err
		}
		out.ID, out.ExpiresAt, out.CreatedAt = row.ID, row.ExpiresAt, row.CreatedAt
		e := c.event("case.invite.create", "case_invite", row.ID, kase)
		e.Details = map[string]any{"kind": in.Kind, "permissions": anyStrings(perms), "recipient_org": recipientOrg != nil}
		return t.record(ctx, e)
	})
	if err = mapErr("create invite", err); err != nil {
		return Invite{}, s.denied(ctx, c, c.event("case.invite.create", "case_invite", uuid.Nil, kase), err)
	}
	msg := mail.Message{
		To:      norm,
		Subject: "You have been invited to a case on Ward",
		Text: "You have been invited to take part in a case on Ward (as " + in.Kind + forOrg(recipientOrg) + ").\n\n" +
			"Accept with this link. It works once, until " + out.ExpiresAt.UTC().Format(time.RFC1123) + ":\n\n" +
			s.InviteURL(token) + "\n\nYour access ends on " + in.AccessExpiresAt.UTC().Format(time.RFC1123) +
			".\nIf you did not expect this, ignore this message.\n",
	}
	if err := s.mailer.Send(ctx, msg); err != nil {
		s.log.ErrorContext(ctx, "case invitation not delivered", "org", c.p.OrgID, "invite", out.ID, "err", err)
	}
	return out, nil
}

// forOrg is " for <organisation>" when an invitation names one.
func forOrg(org *string) string {
	if org == nil {
		return ""
	}
	return " for " + *org
}

// ListInvites returns a case's invitations (those who manage the case).
func (s *Service) ListInvites(ctx context.Context, kase uuid.UUID) ([]Invite, error) {
	c, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	ikeys, err := s.keys.Instance(ctx, s.db)
	if err != nil {
		return nil, err
	}
	out := []Invite{}
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		if _, err := t.q.GetCase(ctx, dbsqlc.GetCaseParams{OrgID: c.p.OrgID, ID: kase}); err != nil {
			return err
		}
		if ok, err := managed(ctx, t.q, c, kase); err != nil || !ok {
			if err == nil {
				err = ErrNotFound
			}
			return err
		}
		rows, err := t.q.ListCaseInvites(ctx, dbsqlc.ListCaseInvitesParams{OrgID: c.p.OrgID, CaseID: kase})
		if err != nil {
			return err
		}
		ids := make([]uuid.UUID, 0, len(rows))
		now := s.cfg.Now()
		for _, r := range rows {
			email, err := ikeys.Open(r.EmailEnc, keystore.UserEmailAD(r.InviteeID))
			if err != nil {
				return fmt.Errorf("cases: open invite %s address: %w", r.ID, err)
			}
			inv := Invite{ID: r.ID, CaseID: r.CaseID, Email: string(email), Kind: r.Kind, Permissions: r.Permissions,
				AccessExpiresAt: r.AccessExpiresAt, RecipientOrg: r.RecipientOrg, ExpiresAt: r.ExpiresAt,
				CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, AcceptedAt: r.AcceptedAt, RevokedAt: r.RevokedAt,
				Status: "pending"}
			if r.AcceptedBy.Valid {
				u := r.AcceptedBy.UUID
				inv.AcceptedBy = &u
			}
			switch {
			case r.AcceptedAt != nil:
				inv.Status = "accepted"
			case r.RevokedAt != nil:
				inv.Status = "revoked"
			case !r.ExpiresAt.After(now):
				inv.Status = "expired"
			}
			out = append(out, inv)
			ids = append(ids, r.ID)
		}
		e := c.event("case.invite.list", "", uuid.Nil, kase)
		e.Results = ids
		return t.record(ctx, e)
	})
	if err = mapErr("list invites", err); err != nil {
		return nil, s.denied(ctx, c, c.event("case.invite.list", "", uuid.Nil, kase), err)
	}
	return out, nil
}

// RevokeInvite revokes a pending invitation. Errors: ErrNotFound (also for
// one already accepted or revoked), ErrForbidden.
func (s *Service) RevokeInvite(ctx context.Context, kase, id uuid.UUID) error {
	c, err := begin(ctx)
	if err != nil {
		return err
	}
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		if _, err := t.q.RevokeCaseInvite(ctx, dbsqlc.RevokeCaseInviteParams{OrgID: c.p.OrgID, CaseID: kase, ID: id}); err != nil {
			return err
		}
		return t.record(ctx, c.event("case.invite.revoke", "case_invite", id, kase))
	})
	if err = mapErr("revoke invite", err); err != nil {
		return s.denied(ctx, c, c.event("case.invite.revoke", "case_invite", id, kase), err)
	}
	return nil
}

// Acceptance is the session an accepted invitation starts, or, for a live
// member of the org who is no stakeholder (staff, a patient), the grant
// alone: SignInRequired, no session (they sign in as they always do).
type Acceptance struct {
	SignInRequired    bool
	Token             string
	SessionID         uuid.UUID
	UserID            uuid.UUID
	OrgID             uuid.UUID
	CaseID            uuid.UUID
	AbsoluteExpiresAt time.Time
	IdleTimeout       time.Duration
}

// ErrInviteInvalid is any refused acceptance; the detail says why (used,
// revoked, expired, invalid) without saying more about the invitation.
var ErrInviteInvalid = errkind.New(errkind.Invalid, "invite_invalid", "cases: invitation refused")

// AcceptInvite redeems an invitation token (no credential needed: the
// token proves the mailbox): it creates or links the user, the stakeholder
// membership and the case grant, and starts a first-factor session; a live
// member who is no stakeholder gets the grant and no session. session is
// the session token the browser presented in its cookie ("" none): another
// member's refuses the acceptance (ErrInviteOtherAccount, nothing spent),
// and the invitee's own ends when the acceptance starts a new session
// (acceptInBrowser). Errors: ErrInviteInvalid (used, revoked, expired,
// invalid), ErrCaseClosed (the case is closed; the invitation stays
// pending), ErrInviteOtherAccount, ErrSSORequired.
func (s *Service) AcceptInvite(ctx context.Context, token, session string, ip netip.Addr, ua, request string) (Acceptance, error) {
	if len(token) != 43 {
		return Acceptance{}, errkind.Visible(ErrInviteInvalid, "this invitation link is not valid")
	}
	sum := sha256.Sum256([]byte(token))
	sessTok, sessHash := newToken()
	var row dbsqlc.AcceptCaseInviteRow
	err := s.db.InTenantTx(ctx, postgres.BrowserCredential(session, request), func(ctx context.Context, tx pgx.Tx) error {
		var err error
		p := dbsqlc.AcceptCaseInviteParams{TokenHash: sum[:], SessionHash: sessHash, Request: optional(request),
			Ua: optional(ua)}
		if ip.IsValid() {
			p.Ip = &ip
		}
		row, err = acceptInBrowser(ctx, tx, session, request, p)
		return err
	})
	if err != nil {
		// A refusal for SSO (00128) rolled its audit event back with it:
		// recorded here, in a transaction of its own.
		if aerr := audit.RecordSSORequired(ctx, s.db, s.ssoDenials, err, "case_invitation", request, ipText(ip), ua); aerr != nil {
			s.log.ErrorContext(ctx, "audit of a sign-in refused for SSO failed", "method", "case_invitation", "err", aerr)
		}
		if errors.Is(err, ErrInviteOtherAccount) {
			s.recordOtherAccount(ctx, sum[:], session, request, ipText(ip), ua)
		}
		return Acceptance{}, mapErr("accept invite", err)
	}
	status := ""
	if row.Status != nil {
		status = *row.Status
	}
	switch status {
	case "ok":
	case "sign_in_required":
		return Acceptance{SignInRequired: true, UserID: row.UserID.UUID, OrgID: row.OrgID.UUID, CaseID: row.CaseID.UUID}, nil
	case "used":
		return Acceptance{}, errkind.Visible(ErrInviteInvalid, "this invitation has already been used")
	case "revoked":
		return Acceptance{}, errkind.Visible(ErrInviteInvalid, "this invitation has been revoked")
	case "expired":
		return Acceptance{}, errkind.Visible(ErrInviteInvalid, "this invitation has expired")
	case "own_invite":
		return Acceptance{}, errkind.Visible(ErrInviteInvalid,
			"an invitation gives its author no access to the case: another of the case's managers, a lead or an admin grants it")
	case "case_closed":
		// the invitation stays pending: it is accepted once the case is
		// reopened, until it expires
		return Acceptance{}, errkind.Visible(ErrCaseClosed,
			"the case this invitation is for is closed: accept it once the case is reopened")
	case "member_revoked":
		return Acceptance{}, errkind.Visible(ErrInviteInvalid,
			"your membership of this organisation was revoked: ask its administrator to restore it")
	default:
		return Acceptance{}, errkind.Visible(ErrInviteInvalid, "this invitation link is not valid")
	}
	a := Acceptance{Token: sessTok, SessionID: row.SessionID.UUID, UserID: row.UserID.UUID, OrgID: row.OrgID.UUID,
		CaseID: row.CaseID.UUID}
	if row.AbsoluteExpiresAt != nil {
		a.AbsoluteExpiresAt = *row.AbsoluteExpiresAt
	}
	if row.IdleTimeoutMin != nil {
		a.IdleTimeout = time.Duration(*row.IdleTimeoutMin) * time.Minute
	}
	return a, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ipText is ip as text, or "" when unknown.
func ipText(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	return ip.String()
}
