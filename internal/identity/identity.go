// Package identity holds the typed identity of a request: who is asking, in
// which org, with which role, credential and assurance, and the metadata of
// the request itself. It is a leaf package: everything may import it, it
// imports nothing of Ward's.
package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/net/idna"
)

// Role is a member's role in an org.
type Role string

// The roles of an org.
const (
	RolePatient  Role = "patient"
	RoleProvider Role = "provider"
	RoleLead     Role = "lead"
	RoleAdmin    Role = "admin"
	// RoleStakeholder is an external case stakeholder (a clinic, employer,
	// attorney or payer) who joined through a case invitation: it reaches
	// only the cases it is granted, never the org's patients or members.
	// It is not assignable through the member API (Valid is false).
	RoleStakeholder Role = "stakeholder"
)

// Valid reports whether r is one of the org roles an admin assigns.
func (r Role) Valid() bool {
	switch r {
	case RolePatient, RoleProvider, RoleLead, RoleAdmin:
		return true
	}
	return false
}

// Staff reports whether r is a provider, lead or admin.
func (r Role) Staff() bool { return r == RoleProvider || r == RoleLead || r == RoleAdmin }

// AtLeast reports whether r is min or above in patient < provider < lead <
// admin.
func (r Role) AtLeast(min Role) bool { return r.rank() >= min.rank() && r.rank() > 0 }

func (r Role) rank() int {
	switch r {
	case RolePatient:
		return 1
	case RoleProvider:
		return 2
	case RoleLead:
		return 3
	case RoleAdmin:
		return 4
	}
	return 0
}

// CredentialKind is the kind of credential a request presented. The
// database's private.me() resolves every kind to a principal; a kind it does
// not know resolves to nobody.
type CredentialKind string

// The credential kinds. Sessions and admin API keys are issued today; SCIM
// tokens and invite tokens come with their capabilities and resolve through
// the same private.me().
const (
	KindSession CredentialKind = "session"
	KindAPIKey  CredentialKind = "api_key"
	KindSCIM    CredentialKind = "scim_token"
	KindInvite  CredentialKind = "invite"
)

// Principal is the authenticated caller of one request, as the database
// resolved it from the presented credential.
type Principal struct {
	// Kind is the kind of credential presented and CredentialID its row.
	Kind         CredentialKind
	CredentialID uuid.UUID
	UserID       uuid.UUID
	OrgID        uuid.UUID
	Role         Role
	// SessionID is CredentialID when Kind is KindSession, else zero.
	SessionID uuid.UUID
	// AAL is the authenticator assurance level (1 or 2) the credential
	// carries; AuthTime is when its holder last authenticated (sign-in or
	// step-up).
	AAL      int
	AuthTime time.Time
	// AMR lists the authentication methods the session was built from
	// ("email", "totp", "passkey", "recovery_code").
	AMR []string
	// Pending is what a session below its assurance bar still needs:
	// "mfa" or "passkey"; empty when it meets its bar. The database treats a
	// pending credential as none for every data access; it may only read
	// who it is, present or enrol a second factor, and log out.
	Pending string
	// Scopes are an API key's scopes (empty for other kinds).
	Scopes []string
	// BreakGlass reports a break-glass session: it reads every patient of
	// its org until it ends, 60 minutes after activation, and every event
	// it makes is flagged.
	BreakGlass bool
	// CredentialHash is the hex SHA-256 of the presented token: what the
	// database is given, never the token itself.
	CredentialHash string
	// DPoP is the thumbprint of the key whose DPoP proof the server
	// verified for this request (RFC 9449), empty without one: the
	// database resolves a session bound to a key only with it.
	DPoP string
}

// HashToken returns the hex SHA-256 of a presented token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the context's principal and whether there is one.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Request is what the server knows of one request, for the audit log and
// rate limits: read once at the top of each service method. Every field is
// already normalised (see CleanHeader); none of it is PHI.
type Request struct {
	// ID is the request id (hex, at most 64 characters).
	ID string
	// IP is the client address (after trusted proxies), invalid when unknown.
	IP netip.Addr
	// UserAgent is the client's User-Agent, cleaned and capped.
	UserAgent string
	// Device names the client device when it proved one (DPoP key
	// thumbprint, later); empty otherwise.
	Device string
}

// IPString is the client address as text, or "" when unknown.
func (r Request) IPString() string {
	if !r.IP.IsValid() {
		return ""
	}
	return r.IP.String()
}

type requestKey struct{}

// WithRequest returns a context carrying r.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the context's request metadata (zero when none).
func RequestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}

// MaxHeaderText is the most CleanHeader keeps of a client-supplied header.
const MaxHeaderText = 256

// CleanHeader makes a client-supplied header value safe to store and log:
// invalid UTF-8 becomes U+FFFD, control and format characters are dropped,
// and the result is capped at MaxHeaderText bytes on a rune boundary.
func CleanHeader(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > MaxHeaderText {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ValidEmail reports whether s is plausibly an email address: 3..254 bytes,
// one @ with text on both sides, no spaces, controls or the characters that
// separate addresses in a header (< > , ;), and a domain that the IDNA
// lookup profile (UTS #46, what mail software resolves) accepts. Delivery
// is the only real test.
func ValidEmail(s string) bool {
	if len(s) < 3 || len(s) > 254 || !utf8.ValidString(s) {
		return false
	}
	at := -1
	for i, r := range s {
		switch {
		case r == '@':
			if at >= 0 {
				return false
			}
			at = i
		case r <= ' ' || r == 0x7f || r == '<' || r == '>' || r == ',' || r == ';':
			return false
		}
	}
	if at <= 0 || at >= len(s)-1 {
		return false
	}
	_, err := idna.Lookup.ToASCII(strings.TrimSuffix(s[at+1:], "."))
	return err == nil
}
