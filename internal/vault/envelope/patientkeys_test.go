package envelope_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/vault/envelope"
)

// TestPatientKeys checks the per-patient tier: a field sealed under a
// patient's keys opens only with that patient's keys (not the org's, not
// another patient's), a wrapped keyset unwraps only for its org and
// patient, and a rotated org still opens it.
func TestPatientKeys(t *testing.T) {
	kr := envelope.NewKeyring(newRoot(t), envelope.Config{})
	org, w, keys := newOrg(t, kr)
	alice, bob := uuid.New(), uuid.New()
	wa, pa, err := keys.NewPatientKeys(alice)
	if err != nil {
		t.Fatal(err)
	}
	wb, pb, err := keys.NewPatientKeys(bob)
	if err != nil {
		t.Fatal(err)
	}
	if pa.PatientID() != alice {
		t.Fatalf("PatientID = %s", pa.PatientID())
	}
	ad := envelope.AD{Table: "patients", Column: "name", Org: org, Row: alice}
	ct, err := pa.Seal([]byte("Ada Lovelace"), ad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, []byte("Lovelace")) {
		t.Fatal("plaintext in ciphertext")
	}
	if _, err := keys.Open(ct, ad); !errors.Is(err, envelope.ErrDecrypt) {
		t.Fatalf("the org's keys opened a patient's field: %v", err)
	}
	if _, err := pb.Open(ct, ad); !errors.Is(err, envelope.ErrDecrypt) {
		t.Fatalf("another patient's keys opened it: %v", err)
	}
	orgCT, err := keys.Seal([]byte("x"), ad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pa.Open(orgCT, ad); !errors.Is(err, envelope.ErrDecrypt) {
		t.Fatalf("a patient's keys opened the org's ciphertext: %v", err)
	}

	// Unwrapped again (a fresh OrgKeys: no cache), the keyset opens it.
	kr.Forget(org)
	keys2, err := kr.Org(org, w)
	if err != nil {
		t.Fatal(err)
	}
	again, err := keys2.PatientKeys(alice, wa)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := again.Open(ct, ad); err != nil || string(pt) != "Ada Lovelace" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	if cached, _ := keys2.PatientKeys(alice, wa); cached != again {
		t.Fatal("the second unwrap of the same bytes was not served from the cache")
	}
	// Bob's keyset offered as Alice's, or Alice's to another org, does not unwrap.
	if _, err := keys2.PatientKeys(alice, wb); !errors.Is(err, envelope.ErrUnwrap) {
		t.Fatalf("another patient's keyset unwrapped: %v", err)
	}
	_, _, other := newOrg(t, kr)
	if _, err := other.PatientKeys(alice, wa); !errors.Is(err, envelope.ErrUnwrap) {
		t.Fatalf("another org unwrapped the keyset: %v", err)
	}
	bad := bytes.Clone(wa)
	bad[len(bad)-1] ^= 1
	if _, err := keys2.PatientKeys(alice, bad); !errors.Is(err, envelope.ErrUnwrap) {
		t.Fatalf("a corrupted keyset unwrapped: %v", err)
	}
	// An AD of another org is refused.
	if _, err := pa.Seal([]byte("x"), envelope.AD{Table: "patients", Column: "name", Org: uuid.New(), Row: alice}); !errors.Is(err, envelope.ErrOrgMismatch) {
		t.Fatalf("Seal with another org's AD: %v", err)
	}
	if _, _, err := keys.NewPatientKeys(uuid.Nil); !errors.Is(err, envelope.ErrInvalidAD) {
		t.Fatalf("NewPatientKeys(nil): %v", err)
	}

	// After the org's AEAD is rotated, the wrapped keyset still opens
	// (the old key stays in the org's keyset), and Patient picks the tier.
	rot, err := kr.RotateOrgAEAD(org, w)
	if err != nil {
		t.Fatal(err)
	}
	keys3, err := kr.Org(org, rot)
	if err != nil {
		t.Fatal(err)
	}
	s, err := keys3.Patient(alice, wa)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := s.Open(ct, ad); err != nil || string(pt) != "Ada Lovelace" {
		t.Fatalf("after rotation: %q, %v", pt, err)
	}
	if s, _ := keys3.Patient(alice, nil); s != envelope.Sealer(keys3) {
		t.Fatal("a patient without a keyset is not sealed under the org's keys")
	}
}
