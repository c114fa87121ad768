package auth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// Who a browser's session is to a sign-in link (LinkLanding.SignedIn).
const (
	LinkSignedInNone  = "none"  // no live session in the browser
	LinkSignedInSame  = "same"  // the link's own user
	LinkSignedInOther = "other" // another user, whose session the sign-in ends
)

// LinkLanding is what a sign-in link's landing page shows before it is
// spent. For a link bound to no browser (an invitation from
// POST /v1/members, an operator's `ward login-link`), which works in any
// browser, it names the account and the org the link signs in to, so that
// nobody is signed in to somebody else's account by one click on a link
// they were sent (login CSRF). A link bound to the browser that asked for
// it shows its state only: it cannot be spent anywhere else.
type LinkLanding struct {
	// Status is ok, used, expired or invalid; the fields below are set
	// only for an unbound link that is ok.
	Status  string
	Unbound bool
	OrgName string
	Email   string
	// SignedIn is who the browser's session is to the link's account
	// (LinkSignedIn*).
	SignedIn string
}

// LogValue keeps the address out of logs.
func (l LinkLanding) LogValue() slog.Value {
	return slog.StringValue("[link landing " + l.Status + "]")
}

// LinkLanding reads, without spending it, what the link whose token is
// token signs in to; session is the session token the browser presented
// in its cookie ("" none). Reading it is not audited: it tells the token's
// holder the address the link was mailed to and the org's name.
func (s *Service) LinkLanding(ctx context.Context, token, session string) (LinkLanding, error) {
	if len(token) != 43 {
		return LinkLanding{Status: "invalid"}, nil
	}
	sum := sha256.Sum256([]byte(token))
	var row dbsqlc.LinkLandingRow
	err := s.db.InTenantTx(ctx, postgres.BrowserCredential(session, requestID(ctx)), func(ctx context.Context, tx pgx.Tx) error {
		var err error
		row, err = dbsqlc.New(tx).LinkLanding(ctx, sum[:])
		return err
	})
	if err != nil {
		return LinkLanding{}, fmt.Errorf("auth: link landing: %w", err)
	}
	l := LinkLanding{Status: deref(row.Status), Unbound: deref(row.Unbound)}
	if l.Status != "ok" || !l.Unbound {
		return l, nil
	}
	keys, err := s.keys.Instance(ctx, s.db)
	if err != nil {
		return LinkLanding{}, err
	}
	email, err := keys.Open(row.EmailEnc, emailAD(row.UserID.UUID))
	if err != nil {
		return LinkLanding{}, fmt.Errorf("auth: link landing: open the account's address: %w", err)
	}
	l.OrgName, l.Email, l.SignedIn = deref(row.OrgName), string(email), deref(row.SignedIn)
	return l, nil
}
