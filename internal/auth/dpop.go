package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
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
// A proof from VerifyDPoPClaims may have its signature still to check
// (Pending): Signature waits for it.
type DPoPProof struct {
	JKT string
	JTI string
	IAT int64
	// sig is the signature's check when it was left out of the claims'
	// (VerifyDPoPClaims, a header seen before); nil when it was done with
	// them.
	sig *dpopSignature
}

// A dpopSignature is a proof's signature, checked apart from its claims:
// once, by whichever of Start's goroutine and Signature comes first.
type dpopSignature struct {
	once   sync.Once
	check  func() error
	err    error
	signed func() // set by Start: run once the signature verified
}

func (s *dpopSignature) run() {
	s.once.Do(func() {
		s.err = s.check()
		if s.err == nil && s.signed != nil {
			s.signed()
		}
	})
}

// Pending reports whether the proof's signature is still to be checked
// (VerifyDPoPClaims left it out): nothing may rest on the proof before
// Signature returned nil.
func (p DPoPProof) Pending() bool { return p.sig != nil }

// Start checks the proof's signature in a goroutine of its own, when it
// is pending, so that it runs while the request's first round trip is in
// flight; signed (nil: nothing) runs there once it verified, never for a
// signature that does not. Signature waits for the answer.
func (p DPoPProof) Start(signed func()) {
	if p.sig == nil {
		return
	}
	p.sig.signed = signed
	go p.sig.run()
}

// Signature returns the proof's signature check's answer, waiting for it
// (or checking it now when Start was not called): nil when it verified or
// was checked with the claims already, else ErrDPoPInvalid as VerifyDPoP
// refuses the proof.
func (p DPoPProof) Signature() error {
	if p.sig == nil {
		return nil
	}
	p.sig.run()
	return p.sig.err
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
	return verifyDPoP(proof, method, htu, accessToken, now, false)
}

// VerifyDPoPClaims is VerifyDPoP with the signature of a proof whose
// header a node kept (a client's later proofs) left to check: the claims,
// the header and the key's thumbprint are checked here, and the proof
// comes back Pending, its signature to be checked by Signature (or Start)
// before anything rests on it. A proof with a header not seen before is
// checked whole, as VerifyDPoP does. A proof whose claims are refused has
// its signature checked first: a forgery is refused as such, as VerifyDPoP
// refuses it.
func VerifyDPoPClaims(proof, method, htu, accessToken string, now time.Time) (DPoPProof, error) {
	return verifyDPoP(proof, method, htu, accessToken, now, true)
}

// verifyDPoP is VerifyDPoPClaims with pending, else VerifyDPoP.
func verifyDPoP(proof, method, htu, accessToken string, now time.Time, pending bool) (DPoPProof, error) {
	if len(proof) > 8192 {
		return badProof("the proof is too long")
	}
	h, payload, sig, keep, err := dpopKeys.verify(proof, pending)
	if err != nil {
		return DPoPProof{}, err
	}
	p, err := dpopClaimsOf(payload, method, htu, accessToken, now)
	if err != nil {
		if sig != nil {
			if serr := sig(); serr != nil {
				return DPoPProof{}, serr
			}
		}
		return DPoPProof{}, err
	}
	// A header is kept only from a proof that passed every check, so that
	// no stranger's throwaway keys crowd out the clients' headers (a
	// pending signature's header is kept already: keep is a no-op).
	keep()
	p.JKT = h.jkt
	if sig != nil {
		p.sig = &dpopSignature{check: sig}
	}
	return p, nil
}

// dpopClaimsOf checks a proof's claims (payload, as its signature covers
// it) for the request: its jti and iat.
func dpopClaimsOf(payload []byte, method, htu, accessToken string, now time.Time) (DPoPProof, error) {
	var c dpopClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return badProof("the proof's claims are not a JSON object")
	}
	var iat int64
	if err := json.Unmarshal(c.IAT, &iat); err != nil {
		return badProof("the proof's iat must be a number of seconds")
	}
	switch at := time.Unix(iat, 0); {
	case c.JTI == "" || len(c.JTI) > 256:
		return badProof("the proof needs a jti (at most 256 characters)")
	case c.HTM != method:
		return badProof("the proof's htm is not this request's method")
	case normalizeHTU(c.HTU) != normalizeHTU(htu):
		return badProof("the proof's htu is not this request's URL")
	case at.Before(now.Add(-DPoPMaxAge)) || at.After(now.Add(DPoPMaxSkew)):
		return badProof("the proof's iat is outside the accepted window")
	case accessToken == "" && c.ATH != nil:
		return badProof("a sign-in proof carries no ath")
	case accessToken != "" && (c.ATH == nil || subtle.ConstantTimeCompare([]byte(*c.ATH), []byte(TokenHash(accessToken))) != 1):
		return badProof("the proof's ath is not the hash of the presented token")
	}
	return DPoPProof{JTI: c.JTI, IAT: iat}, nil
}

func badProof(why string) (DPoPProof, error) {
	return DPoPProof{}, errkind.Visible(ErrDPoPInvalid, why)
}

// A dpopHeader is a proof's protected header as go-jose accepted it: the
// algorithm, the public key it carries and that key's thumbprint.
type dpopHeader struct {
	alg jose.SignatureAlgorithm
	ec  *ecdsa.PublicKey
	ed  ed25519.PublicKey
	jkt string
}

// dpopHeaderCache remembers the protected headers of proofs that
// verified, by their exact base64url text. A client signs every proof
// with one key, so its header is the same bytes each time: a proof whose
// header was seen before has its signature checked with the kept key
// (crypto/ecdsa, crypto/ed25519), without go-jose parsing the header and
// its JWK again (about a third of a proof's cost). Any proof the fast
// path cannot take (a new header, a segment that is not canonical
// base64url, a line break) goes through go-jose whole. Bounded: full, it
// starts again empty.
type dpopHeaderCache struct {
	mu sync.RWMutex
	m  map[string]*dpopHeader
}

// dpopHeaderCacheSize bounds the headers kept: a node's active DPoP
// clients, each a few hundred bytes.
const dpopHeaderCacheSize = 4096

var dpopKeys = &dpopHeaderCache{m: make(map[string]*dpopHeader)}

// strictB64 decodes only canonical base64url: a segment with stray
// trailing bits goes to go-jose, which signs over its canonical text.
var strictB64 = base64.RawURLEncoding.Strict()

// verify checks proof's signature (RFC 9449 §4.3 points 2–7: a compact
// JWS with typ dpop+jwt, ES256 or EdDSA, signed by the public JWK in its
// header) and returns its header and payload, and keep, which keeps the
// header for later proofs (a no-op when it is kept already, or may not be).
// With pending, for a proof whose header is kept the signature is not
// checked here: sig (nil otherwise) checks it, and nothing may rest on the
// payload before it returned nil.
func (hc *dpopHeaderCache) verify(proof string, pending bool) (h *dpopHeader, payload []byte, sig func() error, keep func(), err error) {
	keep = func() {}
	head, rest, ok1 := strings.Cut(proof, ".")
	body, sigText, ok2 := strings.Cut(rest, ".")
	// Go's base64 decoders skip line breaks, go-jose's signing input does
	// not: a proof with one goes through go-jose.
	compact := ok1 && ok2 && !strings.Contains(sigText, ".") && !strings.ContainsAny(proof, "\r\n")
	if compact {
		hc.mu.RLock()
		h := hc.m[head]
		hc.mu.RUnlock()
		if h != nil {
			payload, perr := strictB64.DecodeString(body)
			signature, serr := strictB64.DecodeString(sigText)
			if perr == nil && serr == nil {
				input := proof[:len(head)+1+len(body)]
				if !pending {
					if !h.verifies(input, signature) {
						return nil, nil, nil, keep, errSignature
					}
					return h, payload, nil, keep, nil
				}
				sig = func() error {
					if !h.verifies(input, signature) {
						return errSignature
					}
					return nil
				}
				return h, payload, sig, keep, nil
			}
		}
	}
	// RFC 9449 §4.1: the proof is a compact JWS (ParseSigned would also
	// take the JSON serialization, and copy the proof to strip whitespace)
	jws, err := jose.ParseSignedCompact(proof, DPoPAlgorithms)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, nil, nil, keep, errkind.Visible(ErrDPoPInvalid, "the proof is not a compact JWS signed with ES256 or EdDSA")
	}
	ph := jws.Signatures[0].Protected
	if typ, _ := ph.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return nil, nil, nil, keep, errkind.Visible(ErrDPoPInvalid, "the proof's typ must be dpop+jwt")
	}
	jwk := ph.JSONWebKey
	if jwk == nil || !jwk.IsPublic() || !jwk.Valid() {
		return nil, nil, nil, keep, errkind.Visible(ErrDPoPInvalid, "the proof's header must carry the public key (jwk) that signed it")
	}
	if payload, err = jws.Verify(jwk); err != nil {
		return nil, nil, nil, keep, errSignature
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, nil, nil, keep, errkind.Visible(ErrDPoPInvalid, "the proof's key has no thumbprint")
	}
	h = &dpopHeader{alg: jose.SignatureAlgorithm(ph.Algorithm), jkt: base64.RawURLEncoding.EncodeToString(tp)}
	switch k := jwk.Key.(type) {
	case *ecdsa.PublicKey:
		if h.alg == jose.ES256 && k.Curve == elliptic.P256() {
			h.ec = k
		}
	case ed25519.PublicKey:
		if h.alg == jose.EdDSA {
			h.ed = k
		}
	}
	// Only a header go-jose read whole is kept: typ and the standard
	// parameters, no crit or b64 (RFC 7797) to change what the payload
	// segment means; in canonical base64url (go-jose decodes stray
	// trailing bits and signs over the canonical text, the fast path over
	// the text sent); and short (it stays in memory).
	plain := true
	for k := range ph.ExtraHeaders {
		plain = plain && k == jose.HeaderType
	}
	if compact && plain && len(head) <= dpopHeaderMaxKept && (h.ec != nil || h.ed != nil) {
		if _, err := strictB64.DecodeString(head); err == nil { // no stray bits (no line break: compact)
			keep = func() { hc.put(strings.Clone(head), h) }
		}
	}
	return h, payload, nil, keep, nil
}

// errSignature refuses a proof whose signature does not verify.
var errSignature = errkind.Visible(ErrDPoPInvalid, "the proof's signature does not verify with its jwk")

// dpopHeaderMaxKept bounds the header segment a proof may have to be kept:
// a P-256 or Ed25519 JWK with typ and alg is about 250 characters.
const dpopHeaderMaxKept = 1024

// put keeps h under head; full, the cache starts again empty.
func (hc *dpopHeaderCache) put(head string, h *dpopHeader) {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	if len(hc.m) >= dpopHeaderCacheSize {
		clear(hc.m)
	}
	hc.m[head] = h
}

// verifies reports whether signature is h's key's signature of
// signingInput (the proof's header and payload segments, with the dot),
// as RFC 7518 §3.4 (ES256: R and S, 32 bytes each) and RFC 8037 §3.1
// (EdDSA with Ed25519) define it.
func (h *dpopHeader) verifies(signingInput string, signature []byte) bool {
	switch {
	case h.ec != nil:
		if len(signature) != 64 {
			return false
		}
		digest := sha256.Sum256([]byte(signingInput))
		r, s := new(big.Int).SetBytes(signature[:32]), new(big.Int).SetBytes(signature[32:])
		return ecdsa.Verify(h.ec, digest[:], r, s)
	case h.ed != nil:
		return ed25519.Verify(h.ed, []byte(signingInput), signature)
	}
	return false
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
	if err := p.Signature(); err != nil {
		return err
	}
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
	if err := p.Signature(); err != nil {
		return err
	}
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
