// Package identity holds the typed identity of a request: who is asking, in
// which org, with which role and session. It is a leaf package: everything
// may import it, it imports nothing of Ward's.
package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/google/uuid"
)

// Role is a member's role in an org.
type Role string

// The roles of an org.
const (
	RolePatient  Role = "patient"
	RoleProvider Role = "provider"
	RoleLead     Role = "lead"
	RoleAdmin    Role = "admin"
)

// Valid reports whether r is one of the org roles.
func (r Role) Valid() bool {
	switch r {
	case RolePatient, RoleProvider, RoleLead, RoleAdmin:
		return true
	}
	return false
}

// Staff reports whether r is a provider, lead or admin.
func (r Role) Staff() bool { return r == RoleProvider || r == RoleLead || r == RoleAdmin }

// Principal is the authenticated caller of one request, as the database
// resolved it from the presented credential.
type Principal struct {
	UserID    uuid.UUID
	OrgID     uuid.UUID
	Role      Role
	SessionID uuid.UUID
	// CredentialHash is the hex SHA-256 of the presented token: what the
	// database is given, never the token itself.
	CredentialHash string
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
