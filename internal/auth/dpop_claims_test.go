package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestVerifyDPoPClaimsPending: VerifyDPoPClaims leaves the signature of a
// proof whose header is kept to Signature (or Start), and nothing else: a
// proof with a new header is checked whole; every forgery of a kept
// header's proof either is refused at once or comes back Pending with a
// Signature that refuses it with VerifyDPoP's own error; a proof whose
// claims are refused has its signature checked first, so a forgery is
// refused as a forgery (VerifyDPoP's text); Start's signed runs only for a
// signature that verifies; a full check's proof (verified) refuses a
// pending forgery; and VerifyDPoP never returns a pending proof.
func TestVerifyDPoPClaimsPending(t *testing.T) {
	const url, token = "https://ward.example/v1/patients", "a-session-token"
	for _, alg := range DPoPAlgorithms {
		t.Run(string(alg), func(t *testing.T) {
			dpopKeys.reset()
			key, other := testKey(t, alg), testKey(t, alg)
			now := time.Now()
			good := testProof(t, alg, key, url, token, now, "jti-good", nil)
			g := strings.Split(good, ".")
			o := strings.Split(testProof(t, alg, other, url, token, now, "jti-other", nil), ".")
			sig, _ := base64.RawURLEncoding.DecodeString(g[2])
			flipped := append([]byte(nil), sig...)
			flipped[len(flipped)/2] ^= 1
			resigned := strings.Split(testProof(t, alg, key, url, token, now, "jti-resigned", nil), ".")

			// A header not seen before: checked whole, nothing pending.
			if p, err := VerifyDPoPClaims(good, "GET", url, token, now); err != nil || p.Pending() {
				t.Fatalf("a new header: %+v %v, want it checked whole", p, err)
			}
			if !dpopKeys.has(g[0]) {
				t.Fatal("the good proof's header is not kept")
			}
			p, err := VerifyDPoPClaims(good, "GET", url, token, now)
			if err != nil || !p.Pending() || p.JKT != thumbprint(t, key) || p.JTI != "jti-good" {
				t.Fatalf("a kept header: %+v %v, want its signature pending", p, err)
			}
			var signed atomic.Int32
			p.Start(func() { signed.Add(1) })
			if err := p.Signature(); err != nil || p.verified() != nil {
				t.Fatalf("the good proof's signature: %v", err)
			}
			if signed.Load() != 1 {
				t.Fatalf("signed ran %d times for a good signature, want once", signed.Load())
			}
			if v, err := VerifyDPoP(good, "GET", url, token, now); err != nil || v.Pending() {
				t.Fatalf("VerifyDPoP with a kept header: %+v %v, want it checked whole", v, err)
			}

			forgeries := map[string]string{
				"a flipped signature bit": g[0] + "." + g[1] + "." + base64.RawURLEncoding.EncodeToString(flipped),
				"another key's signature": g[0] + "." + o[1] + "." + o[2],
				"another proof's payload": g[0] + "." + resigned[1] + "." + g[2],
				"a short signature":       g[0] + "." + g[1] + "." + base64.RawURLEncoding.EncodeToString(sig[:len(sig)-1]),
				"no signature":            g[0] + "." + g[1] + ".",
			}
			for name, forged := range forgeries {
				_, want := VerifyDPoP(forged, "GET", url, token, now)
				if !errors.Is(want, ErrDPoPInvalid) {
					t.Fatalf("%s: VerifyDPoP accepted it: %v", name, want)
				}
				p, err := VerifyDPoPClaims(forged, "GET", url, token, now)
				if err == nil {
					if !p.Pending() {
						t.Fatalf("%s: accepted with nothing pending", name)
					}
					signed.Store(0)
					p.Start(func() { signed.Add(1) })
					err = p.Signature()
					if signed.Load() != 0 {
						t.Errorf("%s: signed ran for a forged signature", name)
					}
					if p.verified() == nil {
						t.Errorf("%s: a full check would take the pending forgery", name)
					}
				}
				if err == nil || err.Error() != want.Error() {
					t.Errorf("%s: %v, want VerifyDPoP's refusal %v", name, err, want)
				}
			}
			// Claims refused and a forged signature: refused as a forgery.
			forged := g[0] + "." + g[1] + "." + base64.RawURLEncoding.EncodeToString(flipped)
			_, want := VerifyDPoP(forged, "POST", url, token, now)
			if _, err := VerifyDPoPClaims(forged, "POST", url, token, now); err == nil || err.Error() != want.Error() ||
				!strings.Contains(err.Error(), "signature") {
				t.Errorf("a forgery for another method: %v, want %v (the signature's refusal)", err, want)
			}
			// Claims refused, signature good: the claim's refusal.
			if _, err := VerifyDPoPClaims(good, "POST", url, token, now); err == nil || !strings.Contains(err.Error(), "htm") {
				t.Errorf("the good proof for another method: %v, want the htm refusal", err)
			}
		})
	}
}
