package envelope

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"sync"

	"github.com/google/uuid"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// purposePatient is bound into the associated data of a wrapped patient
// keyset, beside the org and the patient.
const purposePatient = "patient-aead"

// Sealer seals and opens field ciphertexts bound to an AD: an org's keys
// (*OrgKeys) or one patient's (*PatientKeys).
type Sealer interface {
	Seal(plaintext []byte, ad AD) ([]byte, error)
	Open(ciphertext []byte, ad AD) ([]byte, error)
}

// PatientKeys is one patient's AEAD keyset, the optional tier below the
// org's: the fields of a patient's record are sealed under it instead of
// the org's keys, so destroying its one wrapped copy (crypto-shredding the
// patient) leaves every ciphertext of that patient unreadable, wherever a
// copy of it went, while the org's other patients stay readable. It is
// wrapped under the org's AEAD keyset (never the root), bound to the org,
// the patient and its purpose, so a wrapped keyset copied to another
// patient's row does not unwrap there. Blind indexes stay the org's.
// A PatientKeys is safe for concurrent use.
type PatientKeys struct {
	org, patient uuid.UUID
	aead         tink.AEAD
}

// PatientID returns the patient these keys belong to. It never fails.
func (p *PatientKeys) PatientID() uuid.UUID { return p.patient }

// LogValue reports the org and the patient, never key material.
func (p *PatientKeys) LogValue() slog.Value {
	return slog.GroupValue(slog.String("org", p.org.String()), slog.String("patient", p.patient.String()))
}

// Seal encrypts plaintext under the patient's key, bound to ad, which must
// name the patient's org (ErrOrgMismatch) and be complete (ErrInvalidAD).
func (p *PatientKeys) Seal(plaintext []byte, ad AD) ([]byte, error) {
	if err := checkAD(p.org, ad); err != nil {
		return nil, err
	}
	ct, err := p.aead.Encrypt(plaintext, ad.bytes())
	if err != nil {
		return nil, fmt.Errorf("envelope: seal %s.%s row %s: %w", ad.Table, ad.Column, ad.Row, err)
	}
	return ct, nil
}

// Open decrypts a ciphertext Seal produced with the same ad. It returns an
// error wrapping ErrDecrypt for anything sealed under other keys (the
// org's own, another patient's) or for another cell.
func (p *PatientKeys) Open(ciphertext []byte, ad AD) ([]byte, error) {
	if err := checkAD(p.org, ad); err != nil {
		return nil, err
	}
	pt, err := p.aead.Decrypt(ciphertext, ad.bytes())
	if err != nil {
		return nil, fmt.Errorf("envelope: open %s.%s row %s: %w", ad.Table, ad.Column, ad.Row, ErrDecrypt)
	}
	return pt, nil
}

// patientWrapAD binds a wrapped patient keyset to its org and patient.
func patientWrapAD(org, patient uuid.UUID) []byte {
	return encodeParts(wrapADTag, []byte(purposePatient), org[:], patient[:])
}

// NewPatientKeys generates a fresh AES256-GCM keyset for patient and
// returns it wrapped under the org's AEAD keyset (to be stored with the
// patient's row) and unwrapped. It returns an error wrapping ErrInvalidAD
// for the nil patient id.
func (k *OrgKeys) NewPatientKeys(patient uuid.UUID) ([]byte, *PatientKeys, error) {
	if patient == uuid.Nil {
		return nil, nil, fmt.Errorf("envelope: new patient keys: nil patient id: %w", ErrInvalidAD)
	}
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return nil, nil, fmt.Errorf("envelope: generate keyset of patient %s: %w", patient, err)
	}
	var buf bytes.Buffer
	if err := h.WriteWithAssociatedData(keyset.NewBinaryWriter(&buf), k.aead, patientWrapAD(k.org, patient)); err != nil {
		return nil, nil, fmt.Errorf("envelope: wrap keyset of patient %s: %w", patient, err)
	}
	a, err := aead.New(h)
	if err != nil {
		return nil, nil, fmt.Errorf("envelope: keyset of patient %s: %w", patient, err)
	}
	return buf.Bytes(), &PatientKeys{org: k.org, patient: patient, aead: a}, nil
}

// maxPatientKeys bounds the unwrapped patient keysets one OrgKeys keeps;
// past it the cache starts again empty (the OrgKeys itself lives for the
// keyring's TTL, so the cache does too).
const maxPatientKeys = 8192

// patientCache keeps a patient's keys by patient and the hash of the exact
// wrapped bytes, so a list of patients does not unwrap each again.
type patientCache struct {
	mu sync.Mutex
	m  map[[16 + sha256.Size]byte]*PatientKeys
}

// PatientKeys returns patient's keys from wrapped, as NewPatientKeys
// returned it, from this OrgKeys' cache when the same bytes were unwrapped
// before. It returns an error wrapping ErrUnwrap when wrapped does not
// unwrap under the org's keys for this patient (another patient's keyset,
// another org's, a corrupted blob) or holds anything but AES-GCM keys.
func (k *OrgKeys) PatientKeys(patient uuid.UUID, wrapped []byte) (*PatientKeys, error) {
	var ck [16 + sha256.Size]byte
	copy(ck[:16], patient[:])
	sum := sha256.Sum256(wrapped)
	copy(ck[16:], sum[:])
	k.patients.mu.Lock()
	pk := k.patients.m[ck]
	k.patients.mu.Unlock()
	if pk != nil {
		return pk, nil
	}
	h, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(wrapped)), k.aead, patientWrapAD(k.org, patient))
	if err != nil {
		return nil, fmt.Errorf("envelope: unwrap keyset of patient %s: %w", patient, ErrUnwrap)
	}
	if !onlyKeyType(h, aesGCMTypeURL) {
		return nil, fmt.Errorf("envelope: keyset of patient %s holds unexpected key types: %w", patient, ErrUnwrap)
	}
	a, err := aead.New(h)
	if err != nil {
		return nil, fmt.Errorf("envelope: keyset of patient %s: %w", patient, ErrUnwrap)
	}
	pk = &PatientKeys{org: k.org, patient: patient, aead: a}
	k.patients.mu.Lock()
	if k.patients.m == nil || len(k.patients.m) >= maxPatientKeys {
		k.patients.m = make(map[[16 + sha256.Size]byte]*PatientKeys)
	}
	k.patients.m[ck] = pk
	k.patients.mu.Unlock()
	return pk, nil
}

// Patient returns the keys a patient's fields are sealed under: the
// patient's own when wrapped holds a keyset (PatientKeys), else the org's
// (a patient created before the tier existed). Errors are PatientKeys'.
func (k *OrgKeys) Patient(patient uuid.UUID, wrapped []byte) (Sealer, error) {
	if wrapped == nil {
		return k, nil
	}
	return k.PatientKeys(patient, wrapped)
}
