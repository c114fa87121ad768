package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/mail"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// Member is a member of the caller's org.
type Member struct {
	UserID    uuid.UUID     `json:"user_id"`
	Email     string        `json:"email"`
	Role      identity.Role `json:"role"`
	CreatedAt time.Time     `json:"created_at"`
	RevokedAt *time.Time    `json:"revoked_at,omitempty"`
}

// LogValue keeps the email (PHI for patients) out of logs.
func (m Member) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("user_id", m.UserID), slog.String("role", string(m.Role)))
}

func emailAD(user uuid.UUID) envelope.AD { return keystore.UserEmailAD(user) }

// ListMembers returns the org's members (leads and admins; others see only
// themselves, as RLS decides).
func (s *Service) ListMembers(ctx context.Context) ([]Member, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := s.keys.Instance(ctx, s.db)
	if err != nil {
		return nil, err
	}
	var out []Member
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		rows, err := q.ListMembers(ctx, p.OrgID)
		if err != nil {
			return err
		}
		out = make([]Member, len(rows))
		ids := make([]uuid.UUID, len(rows))
		for i, r := range rows {
			m := Member{UserID: r.UserID, Role: identity.Role(r.Role), CreatedAt: r.CreatedAt, RevokedAt: r.RevokedAt}
			if r.EmailEnc != nil { // users_select: staff see their org's members
				pt, err := keys.Open(r.EmailEnc, emailAD(m.UserID))
				if err != nil {
					return err
				}
				m.Email = string(pt)
			}
			out[i], ids[i] = m, m.UserID
		}
		// The list carries decrypted emails (PHI for patients): audited.
		return q.AppendMemberList(ctx, dbsqlc.AppendMemberListParams{OrgID: p.OrgID, Results: ids,
			Request: nullText(requestID(ctx)), Count: int32(len(ids))})
	})
	if err != nil {
		return nil, mapErr("list members", err)
	}
	return out, nil
}

// errKeyGrant refuses an API key's attempt to grant, change or revoke a
// privileged role: a leaked key must not become an admin (migration 00093).
var errKeyGrant = errkind.Visible(ErrForbidden, "an API key manages patients and providers only: "+
	"an admin grants, changes or revokes the admin and lead roles signed in")

// AddMember adds the person with email to the caller's org with role
// (admins only), creating their user on first sight. With invite, it mails
// them a one-time sign-in link (an invitation, not bound to a browser,
// valid for the instance's invitation lifetime) at their stored address.
// Errors: ErrInvalidInput, ErrForbidden, ErrConflict (already a member).
func (s *Service) AddMember(ctx context.Context, email string, role identity.Role, invite bool) (uuid.UUID, error) {
	p, err := principal(ctx)
	if err != nil {
		return uuid.Nil, err
	}
	if !validEmail(email) || !role.Valid() {
		return uuid.Nil, errkind.Visible(ErrInvalidInput, "email and a role of patient, provider, lead or admin")
	}
	if p.Role != identity.RoleAdmin {
		return uuid.Nil, s.denied(ctx, p, "membership.add", "", uuid.Nil, ErrForbidden)
	}
	if p.Kind == identity.KindAPIKey && (role == identity.RoleAdmin || role == identity.RoleLead) {
		// (the database refuses it too)
		return uuid.Nil, s.denied(ctx, p, "membership.add", "", uuid.Nil, errKeyGrant)
	}
	keys, err := s.keys.Instance(ctx, s.db)
	if err != nil {
		return uuid.Nil, err
	}
	id := uuid.New()
	enc, err := keys.Seal([]byte(envelope.NormalizeEmail(email)), emailAD(id))
	if err != nil {
		return uuid.Nil, err
	}
	bidx := keys.BlindIndex("users.email", envelope.NormalizeEmail(email))
	var token string
	var tokenHash []byte
	if invite {
		token, tokenHash = newSecret()
	}
	var row dbsqlc.AddMemberRow
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		var err error
		if err := q.NoteEmailDomain(ctx, noteDomain(keys, envelope.NormalizeEmail(email), bidx)); err != nil {
			return err
		}
		row, err = q.AddMember(ctx, dbsqlc.AddMemberParams{UserID: id, EmailBidx: bidx, EmailEnc: enc, Role: string(role),
			Request: nullText(requestID(ctx)), InviteHash: tokenHash})
		return err
	})
	uid := row.UserID.UUID
	if postgres.IsCode(err, postgres.CodeUniqueViolation) {
		err = errkind.Visible(ErrConflict, "this person is already a member of the org; "+
			"change their role with PATCH /v1/members/{user_id}")
	}
	if err = mapErr("add member", err); errors.Is(err, ErrForbidden) || errors.Is(err, ErrConflict) {
		return uuid.Nil, s.denied(ctx, p, "membership.add", "", uuid.Nil, err)
	}
	if err != nil {
		return uuid.Nil, err
	}
	if invite && row.InviteTtlMin != nil {
		to, err := keys.Open(row.EmailEnc, emailAD(uid))
		if err != nil {
			return uid, fmt.Errorf("auth: add member: open stored address of user %s: %w", uid, err)
		}
		ttl := time.Duration(*row.InviteTtlMin) * time.Minute
		s.sendLater(ctx, mail.Message{
			To:      string(to),
			Subject: "You have been added to Ward",
			Text: "An administrator added you to their organisation on Ward (role: " + string(role) + ").\n\n" +
				"Sign in with this link. It works once, within " + ttl.String() + ":\n\n" + s.LinkURL(token) +
				"\n\nIf you did not expect this, ignore this message.\n",
		}, p.OrgID, uid)
	}
	return uid, nil
}

// UpdateMember changes a member's role (admins only); their sessions end.
// Errors: ErrInvalidInput, ErrForbidden, ErrNotFound, ErrConflict (the last
// admin).
func (s *Service) UpdateMember(ctx context.Context, user uuid.UUID, role identity.Role) error {
	return s.changeMember(ctx, user, role, false)
}

// RevokeMember ends a membership and its sessions (admins only).
func (s *Service) RevokeMember(ctx context.Context, user uuid.UUID) error {
	return s.changeMember(ctx, user, "", true)
}

func (s *Service) changeMember(ctx context.Context, user uuid.UUID, role identity.Role, revoke bool) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	if !revoke && !role.Valid() {
		return errkind.Visible(ErrInvalidInput, "role must be patient, provider, lead or admin")
	}
	action := "membership.update"
	if revoke {
		action = "membership.revoke"
	}
	if p.Role != identity.RoleAdmin {
		return s.denied(ctx, p, action, "user", user, ErrForbidden)
	}
	if p.Kind == identity.KindAPIKey && (role == identity.RoleAdmin || role == identity.RoleLead) {
		return s.denied(ctx, p, action, "user", user, errKeyGrant)
	}
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		return q.UpdateMember(ctx, dbsqlc.UpdateMemberParams{UserID: user, Role: nullText(string(role)), Revoke: revoke,
			Request: nullText(requestID(ctx))})
	})
	switch {
	case postgres.IsCode(err, postgres.CodeCheckViolation):
		err = errkind.Visible(ErrConflict, "the org's last admin cannot be demoted or removed; make another member admin first")
	case postgres.IsCode(err, postgres.CodeNoDataFound):
		err = errkind.Visible(ErrNotFound, "no live member of this org has this user id")
	}
	if err = mapErr("update member", err); err != nil && !errors.Is(err, ErrInvalidInput) {
		if p.Kind == identity.KindAPIKey && errors.Is(err, ErrForbidden) {
			err = errKeyGrant // the member is an admin or a lead
		}
		return s.denied(ctx, p, action, "user", user, err)
	}
	return err
}

// OperatorLink creates a sign-in link for email (in org, when given) that is
// not bound to a browser, for `ward login-link`: the operator's way in before
// mail works. db must be a privileged connection. Errors: ErrNotFound.
func (s *Service) OperatorLink(ctx context.Context, ops *postgres.DB, email string, org uuid.NullUUID) (string, error) {
	if !validEmail(email) {
		return "", errkind.Visible(ErrInvalidInput, "email address")
	}
	inst, err := s.keys.Instance(ctx, ops)
	if err != nil {
		return "", err
	}
	bidx := inst.BlindIndex("users.email", envelope.NormalizeEmail(email))
	token, hash := newSecret()
	err = ops.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return dbsqlc.New(tx).IssueOperatorLink(ctx, dbsqlc.IssueOperatorLinkParams{EmailBidx: bidx, OrgID: org, TokenHash: hash})
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "P0003" {
		// The message names the org ids (never names or addresses).
		return "", errkind.Visiblef(ErrConflict, "this person belongs to several orgs; say which (%s)", pe.Message)
	}
	if err != nil {
		return "", mapErr("operator link", err)
	}
	return s.LinkURL(token), nil
}

// noteDomain is the note of a normalised address's domain that the database
// holds enforce_sso to (app.note_email_domain, migration 00128): every path
// that writes an address notes it first, in the same transaction.
func noteDomain(inst *envelope.OrgKeys, norm string, bidx []byte) dbsqlc.NoteEmailDomainParams {
	return dbsqlc.NoteEmailDomainParams{EmailBidx: bidx,
		DomainBidx: inst.EmailDomainIndex(norm)}
}
