package auth

import (
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// TestVerifyDPoPKeptHeader checks proofs whose header was seen before
// (their signature checked with the kept key) the same as new ones (go-jose
// whole): each forgery is refused on both paths, and a good proof gives
// the same thumbprint on both.
func TestVerifyDPoPKeptHeader(t *testing.T) {
	const url, token = "https://ward.example/v1/me", "a-session-token"
	for _, alg := range DPoPAlgorithms {
		t.Run(string(alg), func(t *testing.T) {
			key, other := testKey(t, alg), testKey(t, alg)
			now := time.Now()
			good := testProof(t, alg, key, url, token, now, "jti-good", nil)
			byOther := testProof(t, alg, other, url, token, now, "jti-other", nil)
			seg := func(p string) []string { return strings.Split(p, ".") }
			g, o := seg(good), seg(byOther)
			sig, _ := base64.RawURLEncoding.DecodeString(g[2])
			flipped := append([]byte(nil), sig...)
			flipped[len(flipped)/2] ^= 1
			resigned := testProof(t, alg, key, url, token, now, "jti-resigned", nil)
			forgeries := map[string]string{
				"a flipped signature bit":   g[0] + "." + g[1] + "." + base64.RawURLEncoding.EncodeToString(flipped),
				"another key's signature":   g[0] + "." + o[1] + "." + o[2],
				"another proof's payload":   g[0] + "." + seg(resigned)[1] + "." + g[2],
				"a short signature":         g[0] + "." + g[1] + "." + base64.RawURLEncoding.EncodeToString(sig[:len(sig)-1]),
				"a long signature":          g[0] + "." + g[1] + "." + base64.RawURLEncoding.EncodeToString(append(sig, 0)),
				"no signature":              g[0] + "." + g[1] + ".",
				"a fourth segment":          good + "." + g[2],
				"a header with another key": o[0] + "." + g[1] + "." + g[2],
			}
			check := func(warm bool) {
				t.Helper()
				dpopKeys.reset()
				want := thumbprint(t, key)
				if warm {
					if p, err := VerifyDPoP(testProof(t, alg, key, url, token, now, "jti-warm", nil), "GET", url, token, now); err != nil || p.JKT != want {
						t.Fatalf("warming: %+v %v", p, err)
					}
					if _, err := VerifyDPoP(byOther, "GET", url, token, now); err != nil {
						t.Fatalf("warming the other key: %v", err)
					}
					if !dpopKeys.has(g[0]) || !dpopKeys.has(o[0]) {
						t.Fatal("the good proofs' headers are not kept")
					}
				} else if dpopKeys.len() != 0 {
					t.Fatal("the cache is not empty")
				}
				for name, forged := range forgeries {
					if _, err := VerifyDPoP(forged, "GET", url, token, now); !errors.Is(err, ErrDPoPInvalid) {
						t.Errorf("warm %v: %s: accepted or not dpop_invalid: %v", warm, name, err)
					}
				}
				p, err := VerifyDPoP(good, "GET", url, token, now)
				if err != nil || p.JKT != want || p.JTI != "jti-good" || p.IAT != now.Unix() {
					t.Fatalf("warm %v: the good proof: %+v %v", warm, p, err)
				}
				// the claims are checked on the fast path too
				if _, err := VerifyDPoP(good, "POST", url, token, now); !errors.Is(err, ErrDPoPInvalid) {
					t.Errorf("warm %v: another method accepted: %v", warm, err)
				}
				if _, err := VerifyDPoP(good, "GET", url, "another-token", now); !errors.Is(err, ErrDPoPInvalid) {
					t.Errorf("warm %v: another token accepted: %v", warm, err)
				}
			}
			check(false)
			check(true)
		})
	}
}

// TestVerifyDPoPHeaderCacheBounded fills the kept headers past their bound:
// the cache starts again rather than grow.
func TestVerifyDPoPHeaderCacheBounded(t *testing.T) {
	const url = "https://ward.example/v1/auth/magic"
	dpopKeys.reset()
	now := time.Now()
	for i := range dpopHeaderCacheSize + 10 {
		p := testProof(t, jose.EdDSA, testKey(t, jose.EdDSA), url, "", now, "jti", nil)
		if _, err := VerifyDPoP(p, "GET", url, "", now); err != nil {
			t.Fatalf("proof %d: %v", i, err)
		}
		if n := dpopKeys.len(); n > dpopHeaderCacheSize || n == 0 {
			t.Fatalf("after %d keys the cache holds %d headers", i+1, n)
		}
	}
	if n := dpopKeys.len(); n != 10 {
		t.Fatalf("after the bound and 10 more, the cache holds %d headers, want 10", n)
	}
}

// TestVerifyDPoPUnusualHeaderNotKept: a header with parameters beyond typ
// and the standard ones (such as b64, which changes what the payload
// segment means) goes through go-jose every time.
func TestVerifyDPoPUnusualHeaderNotKept(t *testing.T) {
	const url = "https://ward.example/v1/auth/magic"
	dpopKeys.reset()
	key := testKey(t, jose.ES256)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt").WithHeader("x-extra", "1"))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign([]byte(`{"jti":"j","htm":"POST","htu":"` + url + `","iat":` + strconv.FormatInt(time.Now().Unix(), 10) + `}`))
	if err != nil {
		t.Fatal(err)
	}
	proof, _ := jws.CompactSerialize()
	if _, err := VerifyDPoP(proof, "POST", url, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	if dpopKeys.len() != 0 {
		t.Fatal("a header with a parameter beyond typ was kept")
	}
}

func thumbprint(t *testing.T, key crypto.Signer) string {
	t.Helper()
	tp, err := (&jose.JSONWebKey{Key: key.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

func (hc *dpopHeaderCache) reset() {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	clear(hc.m)
}

func (hc *dpopHeaderCache) has(head string) bool {
	hc.mu.RLock()
	defer hc.mu.RUnlock()
	return hc.m[head] != nil
}

func (hc *dpopHeaderCache) len() int {
	hc.mu.RLock()
	defer hc.mu.RUnlock()
	return len(hc.m)
}

// TestVerifyDPoPKeepsOnlyGoodCanonicalHeaders: a header is kept only from
// a proof that passed every check, and only in canonical base64url; a
// header with stray trailing bits (which go-jose decodes, signing over its
// canonical text) is verified by go-jose every time; a proof with a line
// break is never taken by the fast path.
func TestVerifyDPoPKeepsOnlyGoodCanonicalHeaders(t *testing.T) {
	const url = "https://ward.example/v1/me"
	now := time.Now()
	dpopKeys.reset()

	// A proof that fails its claims keeps nothing.
	key := testKey(t, jose.EdDSA)
	stale := testProof(t, jose.EdDSA, key, url, "", now.Add(-time.Hour), "jti-stale", nil)
	if _, err := VerifyDPoP(stale, "GET", url, "", now); !errors.Is(err, ErrDPoPInvalid) {
		t.Fatalf("a stale proof: %v", err)
	}
	if _, err := VerifyDPoP(testProof(t, jose.EdDSA, key, url, "", now, "jti-x", nil), "POST", url, "", now); !errors.Is(err, ErrDPoPInvalid) {
		t.Fatalf("a proof for another method: %v", err)
	}
	if n := dpopKeys.len(); n != 0 {
		t.Fatalf("refused proofs kept %d headers", n)
	}

	// A header segment with stray trailing bits, signed as go-jose checks
	// it (over the canonical text).
	priv := key.(ed25519.PrivateKey)
	jwk, err := json.Marshal(jose.JSONWebKey{Key: priv.Public()})
	if err != nil {
		t.Fatal(err)
	}
	var head string
	for pad := 0; ; pad++ { // a length whose last base64url character carries unused bits
		raw := `{"alg":"EdDSA","typ":"dpop+jwt",` + strings.Repeat(" ", pad) + `"jwk":` + string(jwk) + `}`
		if len(raw)%3 != 0 {
			head = base64.RawURLEncoding.EncodeToString([]byte(raw))
			break
		}
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	odd := head[:len(head)-1] + string(alphabet[strings.IndexByte(alphabet, head[len(head)-1])|1])
	if _, err := base64.RawURLEncoding.Strict().DecodeString(odd); err == nil || odd == head {
		t.Fatal("the altered header is canonical")
	}
	proof := func(jti string) string {
		payload := base64.RawURLEncoding.EncodeToString([]byte(`{"jti":"` + jti + `","htm":"GET","htu":"` + url +
			`","iat":` + strconv.FormatInt(now.Unix(), 10) + `}`))
		sig := ed25519.Sign(priv, []byte(head+"."+payload))
		return odd + "." + payload + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	for i := range 3 {
		if _, err := VerifyDPoP(proof("jti-odd-"+strconv.Itoa(i)), "GET", url, "", now); err != nil {
			t.Fatalf("proof %d with a non-canonical header: %v", i, err)
		}
	}
	if dpopKeys.has(odd) || dpopKeys.len() != 0 {
		t.Fatal("a non-canonical header was kept")
	}

	// A line break in the payload: go-jose skips it in decoding and checks
	// the signature over the canonical text, so it accepts the proof; the
	// fast path, which signs over the text sent, must leave it to go-jose
	// even with the header kept.
	good := testProof(t, jose.EdDSA, key, url, "", now, "jti-good", nil)
	if _, err := VerifyDPoP(good, "GET", url, "", now); err != nil || !dpopKeys.has(strings.Split(good, ".")[0]) {
		t.Fatalf("a good proof: %v, kept %v", err, dpopKeys.len())
	}
	seg := strings.Split(testProof(t, jose.EdDSA, key, url, "", now, "jti-nl", nil), ".")
	broken := seg[0] + "." + seg[1][:10] + "\n" + seg[1][10:] + "." + seg[2]
	if _, err := VerifyDPoP(broken, "GET", url, "", now); err != nil {
		t.Fatalf("a proof with a line break, its header kept: %v", err)
	}
}
