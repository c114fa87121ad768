package cases

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// Who a browser's session is to an invitation (Landing.SignedIn).
const (
	// SignedInNone: the browser holds no live session.
	SignedInNone = "none"
	// SignedInInvitee: the browser's session is the invited address's own.
	SignedInInvitee = "invitee"
	// SignedInOther: the browser holds another member's session.
	SignedInOther = "other"
)

// ErrInviteOtherAccount refuses an acceptance from a browser that holds
// another member's session: the invitation is neither attached to that
// member nor accepted as the invitee inside their session. Nothing is
// spent; the member signs out first (or keeps their session and leaves
// the invitation to its addressee).
var ErrInviteOtherAccount = errkind.New(errkind.Conflict, "invite_other_account",
	"cases: invitation opened in another member's session").
	WithPublic("this invitation was sent to another address than the one you are signed in with: " +
		"sign out, then accept it, or leave it to its addressee")

// ErrInviteBreakGlass refuses an acceptance from a browser whose session is
// the invitee's break-glass session: emergency access reads records, it
// joins no case (migration 00218 refuses it in the database too). Nothing
// is spent; the invitee signs out of emergency access and accepts.
var ErrInviteBreakGlass = errkind.New(errkind.Forbidden, "break_glass_not_allowed",
	"cases: invitation accepted from a break-glass session").
	WithPublic("emergency access reads records; it joins no case: end the emergency session, then accept the invitation")

// Landing is what an invitation's landing page shows before anything is
// accepted. Email is the address it was sent to; no field holds PHI (a
// case's title and reference are PHI and are not shown).
type Landing struct {
	// Status is pending, used, revoked, expired, closed (the case is;
	// the invitation stays pending) or invalid; the fields
	// below are set only while it is pending.
	Status          string
	OrgName         string
	Email           string
	Kind            string
	Permissions     []string
	RecipientOrg    *string
	AccessExpiresAt time.Time
	ExpiresAt       time.Time
	// SignedIn is who the browser's session is to the invitation
	// (SignedInNone, SignedInInvitee, SignedInOther), and SignedInEmail
	// the address of that session's member.
	SignedIn      string
	SignedInEmail string
}

// LogValue keeps the addresses out of logs.
func (l Landing) LogValue() slog.Value { return slog.StringValue("[invite landing " + l.Status + "]") }

// InviteLanding reads, without spending it, what the invitation whose
// token is token offers, for its landing page; session is the session
// token the browser presented in its cookie ("" none), and the landing
// says whether it is the invitee's. Reading it is not audited: it tells
// the token's holder what the mail told them, the org's name, the
// permissions, and who their own browser is signed in as. Errors: ErrInviteInvalid for a token
// of the wrong length.
func (s *Service) InviteLanding(ctx context.Context, token, session, request string) (Landing, error) {
	if len(token) != 43 {
		return Landing{}, errkind.Visible(ErrInviteInvalid, "this invitation link is not valid")
	}
	sum := sha256.Sum256([]byte(token))
	var row dbsqlc.CaseInviteLandingRow
	err := s.db.InTenantTx(ctx, postgres.BrowserCredential(session, request), func(ctx context.Context, tx pgx.Tx) error {
		var err error
		row, err = dbsqlc.New(tx).CaseInviteLanding(ctx, sum[:])
		return err
	})
	if err != nil {
		return Landing{}, fmt.Errorf("cases: invite landing: %w", err)
	}
	l := Landing{Status: deref(row.Status)}
	switch l.Status {
	case "ok":
		l.Status = "pending"
	case "used", "revoked", "expired", "closed":
		return l, nil
	default:
		return Landing{Status: "invalid"}, nil
	}
	ikeys, err := s.keys.Instance(ctx, s.db)
	if err != nil {
		return Landing{}, err
	}
	email, err := ikeys.Open(row.EmailEnc, keystore.UserEmailAD(row.InviteeID.UUID))
	if err != nil {
		return Landing{}, fmt.Errorf("cases: open invitation address: %w", err)
	}
	l.OrgName, l.Email, l.Kind, l.Permissions = deref(row.OrgName), string(email), deref(row.Kind), row.Permissions
	l.RecipientOrg, l.SignedIn = row.RecipientOrg, deref(row.SignedIn)
	if row.AccessExpiresAt != nil {
		l.AccessExpiresAt = *row.AccessExpiresAt
	}
	if row.ExpiresAt != nil {
		l.ExpiresAt = *row.ExpiresAt
	}
	if row.SignedInUser.Valid {
		own, err := ikeys.Open(row.SignedInEmailEnc, keystore.UserEmailAD(row.SignedInUser.UUID))
		if err != nil {
			return Landing{}, fmt.Errorf("cases: open the signed-in member's address: %w", err)
		}
		l.SignedInEmail = string(own)
	}
	return l, nil
}

// acceptInBrowser runs the acceptance q.AcceptCaseInvite(p) in tx, a
// transaction bound to the browser's session (postgres.BrowserCredential; none
// when session is ""). A session of another member refuses it before
// anything is read or spent (ErrInviteOtherAccount), and so does the
// invitee's own break-glass session (ErrInviteBreakGlass). The procedure itself
// runs unbound: the acceptance is the invitee's, not the session's. When
// the invitee's own session is there and the acceptance starts a new one
// (the cookie will hold it), the old one ends in the same transaction, as
// its logout would (session.revoke, reason logout), rather than live on
// unseen.
func acceptInBrowser(ctx context.Context, tx pgx.Tx, session, request string,
	p dbsqlc.AcceptCaseInviteParams) (dbsqlc.AcceptCaseInviteRow, error) {
	q := dbsqlc.New(tx)
	if session == "" {
		return q.AcceptCaseInvite(ctx, p)
	}
	l, err := q.CaseInviteLanding(ctx, p.TokenHash)
	if err != nil {
		return dbsqlc.AcceptCaseInviteRow{}, err
	}
	signedIn := deref(l.SignedIn)
	if signedIn == SignedInOther {
		return dbsqlc.AcceptCaseInviteRow{}, ErrInviteOtherAccount
	}
	if signedIn == SignedInInvitee {
		var glass bool
		if err := tx.QueryRow(ctx, `select coalesce((select x.break_glass from private.me() x), false)`).Scan(&glass); err != nil {
			return dbsqlc.AcceptCaseInviteRow{}, err
		}
		if glass {
			return dbsqlc.AcceptCaseInviteRow{}, ErrInviteBreakGlass
		}
	}
	if _, err := tx.Exec(ctx, postgres.BindSQL, postgres.BindArgs(ctx, postgres.Credential{Request: request})...); err != nil {
		return dbsqlc.AcceptCaseInviteRow{}, err
	}
	row, err := q.AcceptCaseInvite(ctx, p)
	if err != nil || signedIn != SignedInInvitee || deref(row.Status) != "ok" {
		return row, err
	}
	cred := postgres.BrowserCredential(session, request)
	if _, err := tx.Exec(ctx, postgres.BindSQL, postgres.BindArgs(ctx, cred)...); err != nil {
		return dbsqlc.AcceptCaseInviteRow{}, err
	}
	_, err = q.Logout(ctx, optional(request))
	return row, err
}

// recordOtherAccount records an acceptance refused with
// ErrInviteOtherAccount (its transaction rolled back) as a denied
// case.invite.accept, reason invite_other_account, in a transaction of its
// own. The database checks what it records (migration 00193): the token
// names an invitation that can still be accepted and the session is a live
// one of another address; it names the signed-in member only when their
// session is in the invitation's org. A flood of refusals from one session
// is collapsed as other denials are. A failure to record is logged, the
// refusal stands.
func (s *Service) recordOtherAccount(ctx context.Context, tokenHash []byte, session, request, ip, ua string) {
	sessSum := sha256.Sum256([]byte(session))
	key, _ := uuid.FromBytes(sessSum[:16]) // the session's own key for the collapser
	record, n := s.denials.Admit(key, time.Now())
	if !record {
		return // counted in the next collapsed event
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := s.db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `select app.audit_case_invite_other_account($1, $2, $3, $4, $5, $6)`,
			tokenHash, sessSum[:], n, optional(request), optional(ip), optional(ua))
		return err
	})
	if err != nil {
		s.log.ErrorContext(ctx, "audit of an invitation refused in another member's session failed", "err", err)
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
