package auth

import (
	"crypto"
	"encoding/base64"
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
				clear(dpopKeys.m)
				want := thumbprint(t, key)
				if warm {
					if p, err := VerifyDPoP(testProof(t, alg, key, url, token, now, "jti-warm", nil), "GET", url, token, now); err != nil || p.JKT != want {
						t.Fatalf("warming: %+v %v", p, err)
					}
					if _, err := VerifyDPoP(byOther, "GET", url, token, now); err != nil {
						t.Fatalf("warming the other key: %v", err)
					}
					if dpopKeys.m[g[0]] == nil || dpopKeys.m[o[0]] == nil {
						t.Fatal("the good proofs' headers are not kept")
					}
				} else if len(dpopKeys.m) != 0 {
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
	clear(dpopKeys.m)
	now := time.Now()
	for i := range dpopHeaderCacheSize + 10 {
		p := testProof(t, jose.EdDSA, testKey(t, jose.EdDSA), url, "", now, "jti", nil)
		if _, err := VerifyDPoP(p, "GET", url, "", now); err != nil {
			t.Fatalf("proof %d: %v", i, err)
		}
		if n := len(dpopKeys.m); n > dpopHeaderCacheSize || n == 0 {
			t.Fatalf("after %d keys the cache holds %d headers", i+1, n)
		}
	}
	if n := len(dpopKeys.m); n != 10 {
		t.Fatalf("after the bound and 10 more, the cache holds %d headers, want 10", n)
	}
}

// TestVerifyDPoPUnusualHeaderNotKept: a header with parameters beyond typ
// and the standard ones (such as b64, which changes what the payload
// segment means) goes through go-jose every time.
func TestVerifyDPoPUnusualHeaderNotKept(t *testing.T) {
	const url = "https://ward.example/v1/auth/magic"
	clear(dpopKeys.m)
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
	if len(dpopKeys.m) != 0 {
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
