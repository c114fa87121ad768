package envelope

import (
	"encoding/binary"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/tink-crypto/tink-go/v2/prf"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// Domain tags open every byte string this package feeds to a primitive, so
// that a field AD, a keyset-wrapping AD and a blind-index input can never
// collide, and so the encodings can be versioned.
const (
	fieldADTag    = "ward/envelope/field/v1"
	wrapADTag     = "ward/envelope/wrap/v1"
	blindIndexTag = "ward/envelope/bidx/v1"
)

// BlindIndexSize is the length in bytes of every blind index.
const BlindIndexSize = 32

// AD names the cell a field ciphertext belongs to. It is encoded
// unambiguously (each part length-prefixed, after a domain tag) and bound to
// the ciphertext as Tink associated data, so a ciphertext moved to another
// table, column, org or row does not open.
type AD struct {
	Table  string
	Column string
	Org    uuid.UUID
	Row    uuid.UUID
}

// validate returns an error wrapping ErrInvalidAD if any part is missing.
func (ad AD) validate() error {
	switch {
	case ad.Table == "":
		return fmt.Errorf("envelope: empty table: %w", ErrInvalidAD)
	case ad.Column == "":
		return fmt.Errorf("envelope: empty column: %w", ErrInvalidAD)
	case ad.Org == uuid.Nil:
		return fmt.Errorf("envelope: nil org id: %w", ErrInvalidAD)
	case ad.Row == uuid.Nil:
		return fmt.Errorf("envelope: nil row id: %w", ErrInvalidAD)
	}
	return nil
}

// bytes returns the canonical encoding of ad.
func (ad AD) bytes() []byte {
	return encodeParts(fieldADTag, []byte(ad.Table), []byte(ad.Column), ad.Org[:], ad.Row[:])
}

// encodeParts concatenates tag and parts, each preceded by its length as a
// 4-byte big-endian integer. The result is injective in (tag, parts...).
func encodeParts(tag string, parts ...[]byte) []byte {
	n := 4 + len(tag)
	for _, p := range parts {
		n += 4 + len(p)
	}
	b := make([]byte, 0, n)
	b = binary.BigEndian.AppendUint32(b, uint32(len(tag)))
	b = append(b, tag...)
	for _, p := range parts {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

// OrgKeys holds one org's unwrapped primitives: the field AEAD and the
// blind-index PRF. It is obtained from (*Keyring).Org, is safe for
// concurrent use, and its key material never leaves memory.
type OrgKeys struct {
	org     uuid.UUID
	aead    tink.AEAD
	primary uint32
	keys    int
	prf     *prf.Set
	// patients caches the patient keysets unwrapped under these keys.
	patients patientCache
}

// OrgID returns the org these keys belong to. It never fails.
func (k *OrgKeys) OrgID() uuid.UUID { return k.org }

// LogValue reports the org and primary key id only, never key material. It
// never fails.
func (k *OrgKeys) LogValue() slog.Value {
	return slog.GroupValue(slog.String("org", k.org.String()), slog.Uint64("primary_key_id", uint64(k.primary)))
}

// PrimaryKeyID returns the id of the AEAD key that Seal uses; compare it
// with CiphertextKeyID to find ciphertexts sealed before a rotation. It
// never fails.
func (k *OrgKeys) PrimaryKeyID() uint32 { return k.primary }

// KeyCount returns how many keys the org's AEAD keyset holds: 1 until a
// rotation, one more after each. It never fails.
func (k *OrgKeys) KeyCount() int { return k.keys }

// Seal encrypts plaintext under the org's primary AEAD key, bound to ad. It
// returns an error wrapping ErrInvalidAD if ad is incomplete and one wrapping
// ErrOrgMismatch if ad.Org is not this org; no error carries plaintext.
func (k *OrgKeys) Seal(plaintext []byte, ad AD) ([]byte, error) {
	if err := k.check(ad); err != nil {
		return nil, err
	}
	ct, err := k.aead.Encrypt(plaintext, ad.bytes())
	if err != nil {
		return nil, fmt.Errorf("envelope: seal %s.%s row %s: %w", ad.Table, ad.Column, ad.Row, err)
	}
	return ct, nil
}

// Open decrypts a ciphertext produced by Seal with the same ad, under any key
// still in the org's AEAD keyset. It returns an error wrapping ErrDecrypt if
// the ciphertext was altered, sealed under other keys or for another cell;
// ErrInvalidAD or ErrOrgMismatch as Seal does. No error carries plaintext.
func (k *OrgKeys) Open(ciphertext []byte, ad AD) ([]byte, error) {
	if err := k.check(ad); err != nil {
		return nil, err
	}
	pt, err := k.aead.Decrypt(ciphertext, ad.bytes())
	if err != nil {
		// Tink's error only says that no key matched; ours names the cell.
		return nil, fmt.Errorf("envelope: open %s.%s row %s: %w", ad.Table, ad.Column, ad.Row, ErrDecrypt)
	}
	return pt, nil
}

// check validates ad and that it names this org.
func (k *OrgKeys) check(ad AD) error { return checkAD(k.org, ad) }

// checkAD validates ad and that it names org, whose keys are to use it.
func checkAD(org uuid.UUID, ad AD) error {
	if err := ad.validate(); err != nil {
		return err
	}
	if ad.Org != org {
		return fmt.Errorf("envelope: keys of org %s asked to use AD of org %s: %w", org, ad.Org, ErrOrgMismatch)
	}
	return nil
}

// BlindIndex returns the BlindIndexSize-byte HMAC-SHA256 PRF, under the org's
// PRF key, of field and value (length-prefixed after a domain tag). Equal
// (field, value) pairs give equal indexes within one org; different orgs or
// different fields give unrelated ones.
//
// value must already be normalised with the normaliser for its kind
// (NormalizeEmail, NormalizeIdentifier, NormalizePhone): BlindIndex does not
// normalise, because it cannot know what the field holds. field should be a
// stable name such as "patients.email"; renaming it changes every index.
//
// BlindIndex cannot fail: the PRF keyset is checked when the keys are
// unwrapped. It panics, with no input in the message, only if that invariant
// is broken.
func (k *OrgKeys) BlindIndex(field, value string) []byte {
	out, err := k.prf.ComputePrimaryPRF(encodeParts(blindIndexTag, []byte(field), []byte(value)), BlindIndexSize)
	if err != nil {
		panic("envelope: blind-index PRF failed on a keyset that passed validation")
	}
	return out
}
