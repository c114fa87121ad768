package httpapi_test

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"testing"

	"github.com/descope/virtualwebauthn"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// benchUser is the member a ceremony is about, as go-webauthn sees it.
type benchUser struct {
	handle []byte
	creds  []webauthn.Credential
}

func (u *benchUser) WebAuthnID() []byte                         { return u.handle }
func (u *benchUser) WebAuthnName() string                       { return "bench@example.test" }
func (u *benchUser) WebAuthnDisplayName() string                { return "bench@example.test" }
func (u *benchUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// BenchmarkPasskeyAssertion measures the verification of a discoverable
// passkey sign-in assertion (a P-256 credential of a software authenticator,
// descope/virtualwebauthn, with user verification) by go-webauthn configured
// as the server configures it, with the stored credential rebuilt per
// request as the server does: "parse+validate" is what the server does in
// Go per sign-in (ParseCredentialRequestResponseBytes, then
// ValidatePasskeyLogin), "validate" the check alone on a parsed response.
// The baseline is crypto/ecdsa's VerifyASN1 of the same signature over the
// same bytes (SHA-256 of authenticatorData || SHA-256(clientDataJSON)). No
// database. Single goroutine: verifications/s is per core. Figures in
// docs/benchmarks.md §6.
func BenchmarkPasskeyAssertion(b *testing.B) {
	const origin = "http://localhost:8080"
	wa, err := webauthn.New(&webauthn.Config{
		RPID: "localhost", RPDisplayName: "Ward", RPOrigins: []string{origin},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification: protocol.VerificationRequired,
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	rp := virtualwebauthn.RelyingParty{ID: "localhost", Name: "Ward", Origin: origin}
	dev := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{BackupEligible: true})
	vcred := fullCredential()
	user := &benchUser{handle: []byte("bench-user-handle-0123456789abcd")}
	dev.Options.UserHandle = user.handle

	// Register, as the server does, to get the stored COSE public key.
	creation, regSess, err := wa.BeginRegistration(user)
	if err != nil {
		b.Fatal(err)
	}
	js, err := json.Marshal(creation)
	if err != nil {
		b.Fatal(err)
	}
	aopts, err := virtualwebauthn.ParseAttestationOptions(string(js))
	if err != nil {
		b.Fatal(err)
	}
	reg, err := protocol.ParseCredentialCreationResponseBytes([]byte(virtualwebauthn.CreateAttestationResponse(rp, dev, vcred, *aopts)))
	if err != nil {
		b.Fatal(err)
	}
	stored, err := wa.CreateCredential(user, *regSess, reg)
	if err != nil {
		b.Fatalf("register: %v", err)
	}
	dev.AddCredential(vcred)

	// One sign-in assertion.
	assertion, sess, err := wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		b.Fatal(err)
	}
	if js, err = json.Marshal(assertion); err != nil {
		b.Fatal(err)
	}
	opts, err := virtualwebauthn.ParseAssertionOptions(string(js))
	if err != nil {
		b.Fatal(err)
	}
	response := []byte(virtualwebauthn.CreateAssertionResponse(rp, dev, vcred, *opts))

	verify := func(parsed *protocol.ParsedCredentialAssertionData) error {
		// the stored credential as the server rebuilds it from its row
		cred := webauthn.Credential{ID: parsed.RawID, PublicKey: stored.PublicKey,
			Flags:         webauthn.CredentialFlags{BackupEligible: stored.Flags.BackupEligible, BackupState: stored.Flags.BackupState, UserVerified: true, UserPresent: true},
			Authenticator: webauthn.Authenticator{AAGUID: stored.Authenticator.AAGUID, SignCount: stored.Authenticator.SignCount}}
		u := &benchUser{handle: parsed.Response.UserHandle, creds: []webauthn.Credential{cred}}
		s := webauthn.SessionData{Challenge: sess.Challenge, RelyingPartyID: "localhost", Origin: origin,
			UserVerification: protocol.VerificationRequired}
		_, _, err := wa.ValidatePasskeyLogin(func(_, _ []byte) (webauthn.User, error) { return u, nil }, s, parsed)
		return err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		b.Fatal(err)
	}
	if err := verify(parsed); err != nil {
		b.Fatalf("validate: %v", err)
	}

	// The same bytes for the baseline.
	clientHash := sha256.Sum256(parsed.Raw.AssertionResponse.ClientDataJSON)
	signed := append(append([]byte{}, parsed.Raw.AssertionResponse.AuthenticatorData...), clientHash[:]...)
	sig := parsed.Raw.AssertionResponse.Signature
	priv, err := x509.ParsePKCS8PrivateKey(vcred.Key.Data)
	if err != nil {
		b.Fatal(err)
	}
	pub := &priv.(*ecdsa.PrivateKey).PublicKey
	digest := sha256.Sum256(signed)
	if !ecdsa.VerifyASN1(pub, digest[:], sig) {
		b.Fatal("baseline: signature does not verify")
	}

	perSecond := func(b *testing.B) {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
	}
	b.Run("go-webauthn/parse+validate", func(b *testing.B) {
		for b.Loop() {
			p, err := protocol.ParseCredentialRequestResponseBytes(response)
			if err != nil {
				b.Fatal(err)
			}
			if err := verify(p); err != nil {
				b.Fatal(err)
			}
		}
		perSecond(b)
	})
	b.Run("go-webauthn/validate", func(b *testing.B) {
		for b.Loop() {
			if err := verify(parsed); err != nil {
				b.Fatal(err)
			}
		}
		perSecond(b)
	})
	b.Run("baseline-ecdsa-p256-verify", func(b *testing.B) {
		for b.Loop() {
			d := sha256.Sum256(signed)
			if !ecdsa.VerifyASN1(pub, d[:], sig) {
				b.Fatal("no")
			}
		}
		perSecond(b)
	})
}
