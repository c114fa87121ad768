package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"syscall"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// testProof signs a DPoP proof with key (ES256 or EdDSA) for GET url
// with ath of token; edit changes the claims before signing.
func testProof(t testing.TB, alg jose.SignatureAlgorithm, key crypto.Signer, url, token string, iat time.Time, jti string, edit func(map[string]any)) string {
	t.Helper()
	claims := map[string]any{"jti": jti, "htm": "GET", "htu": url, "iat": iat.Unix()}
	if token != "" {
		claims["ath"] = TokenHash(token)
	}
	if edit != nil {
		edit(claims)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func testKey(t testing.TB, alg jose.SignatureAlgorithm) crypto.Signer {
	t.Helper()
	if alg == jose.EdDSA {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkVerifyDPoP is the server's Go work for one DPoP-bound request:
// VerifyDPoP of a proof by a key the client uses for every request (the
// same proof each time: the jti is remembered by the database, not here).
// cpu-µs/op is the process's CPU time per verification (getrusage), which
// a shared machine's load moves less than the wall time.
func BenchmarkVerifyDPoP(b *testing.B) {
	const url, token = "https://ward.example/v1/me", "a-session-token"
	for _, alg := range DPoPAlgorithms {
		b.Run(string(alg), func(b *testing.B) {
			proof := testProof(b, alg, testKey(b, alg), url, token, time.Now(), "jti-1", nil)
			c0 := cpuTime()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := VerifyDPoP(proof, "GET", url, token, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
		})
	}
}
