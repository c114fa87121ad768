package scim

import (
	"context"
	"crypto/rand"
	"fmt"
	"hash/crc32"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// TokenPrefix opens every SCIM token, so that secret scanners find one.
const TokenPrefix = "scim_"

const (
	base62    = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	bodyLen   = 43 // ceil(256 / log2(62))
	checkLen  = 6  // ceil(32 / log2(62))
	tokenLen  = len(TokenPrefix) + bodyLen + checkLen
	prefixLen = len(TokenPrefix) + 4
)

func encode62(n *big.Int, width int) string {
	b := make([]byte, 0, width)
	q, r, base := new(big.Int).Set(n), new(big.Int), big.NewInt(62)
	for q.Sign() > 0 {
		q.QuoRem(q, base, r)
		b = append(b, base62[r.Int64()])
	}
	for len(b) < width {
		b = append(b, '0')
	}
	slices.Reverse(b)
	return string(b)
}

func checksum62(s string) string {
	return encode62(new(big.Int).SetUint64(uint64(crc32.ChecksumIEEE([]byte(s)))), checkLen)
}

// NewToken returns a fresh SCIM token.
func NewToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("scim: crypto/rand failed: %v", err))
	}
	body := TokenPrefix + encode62(new(big.Int).SetBytes(b), bodyLen)
	return body + checksum62(body)
}

// ValidToken reports whether t has the form and checksum of a SCIM token.
// It does no lookup.
func ValidToken(t string) bool {
	if len(t) != tokenLen || !strings.HasPrefix(t, TokenPrefix) {
		return false
	}
	for i := len(TokenPrefix); i < len(t); i++ {
		if strings.IndexByte(base62, t[i]) < 0 {
			return false
		}
	}
	body := t[:len(t)-checkLen]
	return checksum62(body) == t[len(body):]
}

// Token describes an org's SCIM token (never the token itself).
type Token struct {
	ID          uuid.UUID     `json:"id"`
	Prefix      string        `json:"prefix"`
	Name        string        `json:"name"`
	DefaultRole identity.Role `json:"default_role"`
	CreatedBy   uuid.UUID     `json:"created_by"`
	CreatedAt   time.Time     `json:"created_at"`
	LastUsedAt  *time.Time    `json:"last_used_at,omitempty"`
	RevokedAt   *time.Time    `json:"revoked_at,omitempty"`
}

// CreatedToken is a new token: Token is shown once and stored nowhere.
type CreatedToken struct {
	Token
	Secret string `json:"token"`
}

// LogValue keeps the secret out of logs.
func (t CreatedToken) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("id", t.ID), slog.String("prefix", t.Prefix))
}

// CreateToken creates a SCIM token for the caller's org (admins, from a
// session that presented a second factor within ten minutes; the database
// checks both). role is what the directory's new members get: provider
// (when empty) or lead. Errors: ErrInvalidInput, ErrForbidden,
// ErrStepUpRequired.
func (s *Service) CreateToken(ctx context.Context, name string, role identity.Role) (CreatedToken, error) {
	p, err := principal(ctx)
	if err != nil {
		return CreatedToken{}, err
	}
	name = strings.TrimSpace(name)
	if role == "" {
		role = identity.RoleProvider
	}
	if name == "" || len(name) > 100 || (role != identity.RoleProvider && role != identity.RoleLead) {
		return CreatedToken{}, errkind.Visible(ErrInvalidInput, "name (1..100 characters) and default_role provider or lead")
	}
	secret := NewToken()
	out := CreatedToken{Secret: secret, Token: Token{Prefix: secret[:prefixLen], Name: name, DefaultRole: role,
		CreatedBy: p.UserID}}
	err = s.userTx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		out.ID, err = q.CreateSCIMToken(ctx, dbsqlc.CreateSCIMTokenParams{TokenHash: hashOf(secret), Prefix: out.Prefix,
			Name: name, DefaultRole: string(role), Request: nullText(requestID(ctx))})
		if err == nil {
			// the stored time, which every later read shows
			out.CreatedAt, err = q.SCIMTokenCreatedAt(ctx, dbsqlc.SCIMTokenCreatedAtParams{OrgID: p.OrgID, ID: out.ID})
		}
		return err
	})
	if err != nil {
		return CreatedToken{}, mapErr("create token", err)
	}
	return out, nil
}

// ListTokens lists the caller's org's SCIM tokens, newest first (admins;
// others see none, as RLS decides).
func (s *Service) ListTokens(ctx context.Context) ([]Token, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	out := []Token{}
	err = s.userTx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		rows, err := q.ListSCIMTokens(ctx, p.OrgID)
		for _, r := range rows {
			out = append(out, Token{ID: r.ID, Prefix: r.Prefix, Name: r.Name, DefaultRole: identity.Role(r.DefaultRole),
				CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, LastUsedAt: r.LastUsedAt, RevokedAt: r.RevokedAt})
		}
		return err
	})
	if err != nil {
		return nil, mapErr("list tokens", err)
	}
	return out, nil
}

// RevokeToken ends a SCIM token of the caller's org at once (admins).
// Errors: ErrForbidden, ErrNotFound (no live token of that id).
func (s *Service) RevokeToken(ctx context.Context, id uuid.UUID) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	var ok bool
	err = s.userTx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		ok, err = q.RevokeSCIMToken(ctx, dbsqlc.RevokeSCIMTokenParams{ID: id, Request: nullText(requestID(ctx))})
		return err
	})
	if err != nil {
		return mapErr("revoke token", err)
	}
	if !ok {
		return errkind.Visible(ErrNotFound, "this org has no live SCIM token of this id")
	}
	return nil
}

// userTx runs fn in a transaction bound to a session's credential.
func (s *Service) userTx(ctx context.Context, p identity.Principal, fn func(ctx context.Context, q *dbsqlc.Queries) error) error {
	cred := postgres.CredentialOf(p, requestID(ctx))
	return s.db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		return fn(ctx, dbsqlc.New(tx))
	})
}

var _ slog.LogValuer = CreatedToken{}
var _ slog.LogValuer = User{}
