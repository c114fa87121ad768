package auth

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
)

// DPoP (RFC 9449) binds a session to a key the client holds: the client
// signs a proof JWT for every request (its method and URL, the time, a
// fresh id and the hash of the token) with that key, and the database
// resolves the session only with the key's thumbprint.

// DPoP proof windows: a proof's iat may be this far in the past, and this
// far in the future (client clocks drift).
const (
	DPoPMaxAge  = 5 * time.Minute
	DPoPMaxSkew = time.Minute
)

// DPoPAlgorithms are the proof signature algorithms Ward accepts.
var DPoPAlgorithms = []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA}

// ErrDPoPInvalid is a DPoP proof Ward refuses; its public text says why
// (never the proof itself).
var ErrDPoPInvalid = errkind.New(errkind.Unauthenticated, "dpop_invalid", "auth: invalid DPoP proof").
	WithPublic("the DPoP proof is not valid for this request")

// DPoPProof is what a verified proof binds: the thumbprint (RFC 7638,
// SHA-256, base64url) of its key, its id, and its iat (seconds since
// 1970), which the database compares with the start of its jti memory.
type DPoPProof struct {
	JKT string
	JTI string
	IAT int64
}

type dpopClaims struct {
	JTI string          `json:"jti"`
	HTM string          `json:"htm"`
	HTU string          `json:"htu"`
	IAT json.RawMessage `json:"iat"`
	ATH *string         `json:"ath"`
}

// VerifyDPoP checks one DPoP proof for a request with method and htu (the
// request's URL without query or fragment, as the client addressed it):
// compact JWS with typ dpop+jwt, ES256 or EdDSA, signed by the public JWK
// in its header; htm and htu equal to the request's; iat within the window
// around now; a jti; and ath the hash of accessToken (absent when there is
// no token, at sign-in). It does not remember jti: AuthenticateDPoP (or
// UseDPoP, at sign-in) does.
func VerifyDPoP(proof, method, htu, accessToken string, now time.Time) (DPoPProof, error) {
	bad := func(why string) (DPoPProof, error) { return DPoPProof{}, errkind.Visible(ErrDPoPInvalid, why) }
	if len(proof) > 8192 {
		return bad("the proof is too long")
	}
	// RFC 9449 §4.1: the proof is a compact JWS (ParseSigned would also
	// take the JSON serialization, and copy the proof to strip whitespace)
	jws, err := jose.ParseSignedCompact(proof, DPoPAlgorithms)
	if err != nil || len(jws.Signatures) != 1 {
		return bad("the proof is not a compact JWS signed with ES256 or EdDSA")
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return bad("the proof's typ must be dpop+jwt")
	}
	jwk := h.JSONWebKey
	if jwk == nil || !jwk.IsPublic() || !jwk.Valid() {
		return bad("the proof's header must carry the public key (jwk) that signed it")
	}
	payload, err := jws.Verify(jwk)
	if err != nil {
		return bad("the proof's signature does not verify with its jwk")
	}
	var c dpopClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return bad("the proof's claims are not a JSON object")
	}
	var iat int64
	if err := json.Unmarshal(c.IAT, &iat); err != nil {
		return bad("the proof's iat must be a number of seconds")
	}
	switch at := time.Unix(iat, 0); {
	case c.JTI == "" || len(c.JTI) > 256:
		return bad("the proof needs a jti (at most 256 characters)")
	case c.HTM != method:
		return bad("the proof's htm is not this request's method")
	case normalizeHTU(c.HTU) != normalizeHTU(htu):
		return bad("the proof's htu is not this request's URL")
	case at.Before(now.Add(-DPoPMaxAge)) || at.After(now.Add(DPoPMaxSkew)):
		return bad("the proof's iat is outside the accepted window")
	case accessToken == "" && c.ATH != nil:
		return bad("a sign-in proof carries no ath")
	case accessToken != "" && (c.ATH == nil || subtle.ConstantTimeCompare([]byte(*c.ATH), []byte(TokenHash(accessToken))) != 1):
		return bad("the proof's ath is not the hash of the presented token")
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return bad("the proof's key has no thumbprint")
	}
	return DPoPProof{JKT: base64.RawURLEncoding.EncodeToString(tp), JTI: c.JTI, IAT: iat}, nil
}

// TokenHash is a DPoP ath: the base64url SHA-256 of an access token.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// UseDPoP records a verified sign-in proof's jti for its key in the
// database, in a round trip of its own, and refuses one seen before (a
// replayed proof) with ErrDPoPInvalid. A request that presents a
// credential records its proof's jti in the round trip that resolves it
// instead (AuthenticateDPoP).
func (s *Service) UseDPoP(ctx context.Context, p DPoPProof) error {
	sum := sha256.Sum256([]byte(p.JTI))
	var fresh bool
	if err := s.db.Pool.QueryRow(ctx, `select app.dpop_use($1, $2)`, p.JKT, sum[:]).Scan(&fresh); err != nil {
		return fmt.Errorf("auth: dpop: %w", err)
	}
	if !fresh {
		return errDPoPReplayed
	}
	return nil
}

// errDPoPReplayed is a proof whose jti the database has seen before for
// its key.
var errDPoPReplayed = errkind.Visible(ErrDPoPInvalid, "the proof's jti was used before (a replayed proof)")

// jtiHash is a proof id as the database keeps it (app.dpop_proofs,
// ward.dpop_jti): the hex SHA-256 of the jti.
func jtiHash(jti string) string {
	sum := sha256.Sum256([]byte(jti))
	return hex.EncodeToString(sum[:])
}

// replayed reports whether err is app.whoami refusing a proof's jti it
// recorded before for the key (migration 00100).
func replayed(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == postgres.CodeUniqueViolation && pe.ConstraintName == "dpop_proofs_pkey"
}

// BindDPoP binds the session whose token is sessToken, in its first minute,
// to the key of a verified sign-in proof. From then on the session resolves
// only with a proof by that key.
func (s *Service) BindDPoP(ctx context.Context, sessToken string, p DPoPProof) error {
	cred := postgres.Credential{Hash: identity.HashToken(sessToken), Request: requestID(ctx)}
	var bound bool
	err := s.db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, `select app.dpop_bind($1)`, p.JKT).Scan(&bound)
	})
	if err != nil {
		return fmt.Errorf("auth: dpop bind: %w", err)
	}
	if !bound {
		return fmt.Errorf("auth: dpop bind: the session is already bound or not new")
	}
	return nil
}

// normalizeHTU is u as RFC 9449 §4.3 compares it: after RFC 3986 §6.2.2
// syntax-based normalization (scheme and host in lower case,
// percent-encoded unreserved characters decoded, the other escapes' hex
// digits in upper case) and §6.2.3 scheme-based normalization (no default
// port, "/" for an empty path). A query or fragment stays, so a claim that
// carries one (§4.2: htu has none) matches no request. A string that is no
// absolute URL is returned as it is, so it matches only itself.
func normalizeHTU(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok || scheme == "" {
		return u
	}
	scheme = strings.ToLower(scheme)
	host, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	host = strings.ToLower(host)
	if scheme == "https" {
		host = strings.TrimSuffix(host, ":443")
	} else if scheme == "http" {
		host = strings.TrimSuffix(host, ":80")
	}
	if path == "" {
		path = "/"
	}
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		c := path[i]
		var v [1]byte
		if c == '%' && i+2 < len(path) && hexDecoded(v[:], path[i+1:i+3]) {
			if u := v[0]; 'a' <= u && u <= 'z' || 'A' <= u && u <= 'Z' || '0' <= u && u <= '9' || u == '-' || u == '.' || u == '_' || u == '~' {
				b.WriteByte(u)
			} else {
				b.WriteByte('%')
				b.WriteString(strings.ToUpper(path[i+1 : i+3]))
			}
			i += 2
			continue
		}
		b.WriteByte(c)
	}
	return scheme + "://" + host + b.String()
}

// hexDecoded decodes the two hex digits of s into dst[0].
func hexDecoded(dst []byte, s string) bool {
	_, err := hex.Decode(dst, []byte(s))
	return err == nil
}
