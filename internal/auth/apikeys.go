package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// Admin API keys look like sk_live_<43 base62 characters: 32 random
// bytes><6 base62 characters: CRC32 of everything before>. Secret scanners
// find them by the prefix; the checksum lets the server refuse a mistyped
// key before any database lookup. Only the SHA-256 of the whole key is
// stored; the first four random characters are kept as a display prefix.

// APIKeyPrefix opens every admin API key.
const APIKeyPrefix = "sk_live_"

// The scopes an API key may hold.
const (
	ScopeMembers   = "members"
	ScopeAuditRead = "audit:read"
	ScopeDSR       = "dsr"
	ScopeGateway   = "gateway"
)

// APIKeyScopes lists every scope.
var APIKeyScopes = []string{ScopeMembers, ScopeAuditRead, ScopeDSR, ScopeGateway}

const (
	base62      = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	keyBodyLen  = 43 // ceil(256 / log2(62))
	keyCheckLen = 6  // ceil(32 / log2(62))
	apiKeyLen   = len(APIKeyPrefix) + keyBodyLen + keyCheckLen
)

// ErrAPIKeyMalformed means a presented sk_live_ key fails its format or
// checksum: a typo or a truncated copy, refused without a lookup.
var ErrAPIKeyMalformed = errkind.New(errkind.Unauthenticated, "api_key_malformed", "auth: malformed API key").
	WithPublic("this API key is mistyped or truncated (its checksum does not match)")

// encode62 writes n in base62, left-padded with zeros to width.
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
	return encode62(new(big.Int).SetUint64(uint64(crc32.ChecksumIEEE([]byte(s)))), keyCheckLen)
}

// NewAPIKey returns a fresh admin API key.
func NewAPIKey() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("auth: crypto/rand failed: %v", err))
	}
	body := APIKeyPrefix + encode62(new(big.Int).SetBytes(b), keyBodyLen)
	return body + checksum62(body)
}

// ValidAPIKey reports whether key has the form and checksum of an admin
// API key. It does no lookup.
func ValidAPIKey(key string) bool {
	if len(key) != apiKeyLen || !strings.HasPrefix(key, APIKeyPrefix) {
		return false
	}
	for i := len(APIKeyPrefix); i < len(key); i++ {
		if strings.IndexByte(base62, key[i]) < 0 {
			return false
		}
	}
	body := key[:len(key)-keyCheckLen]
	return checksum62(body) == key[len(body):]
}

// APIKey describes an org's API key (never the key itself).
type APIKey struct {
	ID         uuid.UUID  `json:"id"`
	Prefix     string     `json:"prefix"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	CreatedBy  uuid.UUID  `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// APIKeyInput is what an admin asks for.
type APIKeyInput struct {
	Name      string
	Scopes    []string
	ExpiresAt *time.Time
}

// CreatedAPIKey is a new key: Key is shown once and stored nowhere.
type CreatedAPIKey struct {
	APIKey
	Key string `json:"key"`
}

// LogValue keeps the key out of logs.
func (k CreatedAPIKey) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("id", k.ID), slog.String("prefix", k.Prefix))
}

// CreateAPIKey creates an admin API key for the caller's org (admins, from a
// session that presented a second factor within 10 minutes; the database
// checks both). Errors: ErrInvalidInput, ErrForbidden (audited),
// ErrStepUpRequired.
func (s *Service) CreateAPIKey(ctx context.Context, in APIKeyInput) (CreatedAPIKey, error) {
	p, err := principal(ctx)
	if err != nil {
		return CreatedAPIKey{}, err
	}
	if p.Kind != identity.KindSession || p.Role != identity.RoleAdmin {
		return CreatedAPIKey{}, s.denied(ctx, p, "auth.api_key.create", "", uuid.Nil, ErrForbidden)
	}
	switch {
	case len(in.Name) < 1 || len(in.Name) > 100:
		return CreatedAPIKey{}, errkind.Visible(ErrInvalidInput, "name must be 1..100 characters")
	case len(in.Scopes) < 1 || slices.ContainsFunc(in.Scopes, func(sc string) bool { return !slices.Contains(APIKeyScopes, sc) }):
		return CreatedAPIKey{}, errkind.Visiblef(ErrInvalidInput, "scopes must be one or more of %s", strings.Join(APIKeyScopes, ", "))
	}
	key := NewAPIKey()
	prefix := key[:len(APIKeyPrefix)+4]
	var id uuid.UUID
	var created time.Time
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		var err error
		id, err = q.CreateAPIKey(ctx, dbsqlc.CreateAPIKeyParams{KeyHash: hashOf(key), Prefix: prefix, Name: in.Name,
			Scopes: in.Scopes, ExpiresAt: in.ExpiresAt, Request: nullText(requestID(ctx))})
		if err == nil {
			// the stored time, which every later read shows
			created, err = q.APIKeyCreatedAt(ctx, dbsqlc.APIKeyCreatedAtParams{OrgID: p.OrgID, ID: id})
		}
		return err
	})
	if isInvalid(err) {
		return CreatedAPIKey{}, errkind.Visible(ErrInvalidInput, "expires_at must be in the future and within a year")
	}
	if err = mapErr("create api key", err); errors.Is(err, ErrForbidden) {
		return CreatedAPIKey{}, s.denied(ctx, p, "auth.api_key.create", "", uuid.Nil, err)
	}
	if err != nil {
		return CreatedAPIKey{}, err
	}
	scopes := slices.Clone(in.Scopes)
	slices.Sort(scopes)
	return CreatedAPIKey{Key: key, APIKey: APIKey{ID: id, Prefix: prefix, Name: in.Name, Scopes: slices.Compact(scopes),
		CreatedBy: p.UserID, CreatedAt: created, ExpiresAt: in.ExpiresAt}}, nil
}

// ListAPIKeys lists the org's API keys (admins; RLS shows others none).
func (s *Service) ListAPIKeys(ctx context.Context) ([]APIKey, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var out []APIKey
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		rows, err := q.ListAPIKeys(ctx, p.OrgID)
		if err != nil {
			return err
		}
		out = make([]APIKey, len(rows))
		for i, r := range rows {
			out[i] = APIKey{ID: r.ID, Prefix: r.Prefix, Name: r.Name, Scopes: r.Scopes, CreatedBy: r.CreatedBy,
				CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, LastUsedAt: r.LastUsedAt, RevokedAt: r.RevokedAt}
		}
		return q.AppendAPIKeyList(ctx, dbsqlc.AppendAPIKeyListParams{OrgID: p.OrgID, Request: nullText(requestID(ctx)),
			Count: int32(len(rows))})
	})
	if err != nil {
		return nil, mapErr("list api keys", err)
	}
	return out, nil
}

// RevokeAPIKey ends one of the org's API keys (admins). Errors:
// ErrNotFound (no live key of that id in the org), ErrForbidden.
func (s *Service) RevokeAPIKey(ctx context.Context, id uuid.UUID) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	var ok bool
	err = s.tx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		var err error
		ok, err = q.RevokeAPIKey(ctx, dbsqlc.RevokeAPIKeyParams{ID: id, Request: nullText(requestID(ctx))})
		return err
	})
	if err = mapErr("revoke api key", err); err != nil {
		if errors.Is(err, ErrForbidden) {
			return s.denied(ctx, p, "auth.api_key.revoke", "api_key", id, err)
		}
		return err
	}
	if !ok {
		return s.denied(ctx, p, "auth.api_key.revoke", "api_key", id,
			errkind.Visible(ErrNotFound, "no live API key of this org has this id"))
	}
	return nil
}
