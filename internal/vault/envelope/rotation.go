package envelope

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/google/uuid"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
)

// tinkPrefixVersion is the first byte of a ciphertext from a TINK-prefixed
// key; the next four bytes are the key id, big-endian.
const (
	tinkPrefixVersion = 0x01
	tinkPrefixSize    = 5
)

// RotateOrgAEAD returns w with a new AES256-GCM key added to the org's AEAD
// keyset and made primary: new seals use it, and ciphertexts under the older
// keys still open. The PRF keyset is returned unchanged, since changing it
// would invalidate every blind index. It returns an error wrapping ErrUnwrap
// if w.AEAD does not unwrap for org under this root.
func (k *Keyring) RotateOrgAEAD(org uuid.UUID, w Wrapped) (Wrapped, error) {
	ah, err := unwrapHandle(k.root, org, purposeAEAD, w.AEAD, aesGCMTypeURL)
	if err != nil {
		return Wrapped{}, err
	}
	m := keyset.NewManagerFromHandle(ah)
	id, err := m.Add(aead.AES256GCMKeyTemplate())
	if err != nil {
		return Wrapped{}, fmt.Errorf("envelope: rotate AEAD keyset of org %s: %w", org, err)
	}
	if err := m.SetPrimary(id); err != nil {
		return Wrapped{}, fmt.Errorf("envelope: rotate AEAD keyset of org %s: %w", org, err)
	}
	nh, err := m.Handle()
	if err != nil {
		return Wrapped{}, fmt.Errorf("envelope: rotate AEAD keyset of org %s: %w", org, err)
	}
	blob, err := wrapHandle(k.root, org, purposeAEAD, nh)
	if err != nil {
		return Wrapped{}, err
	}
	return Wrapped{AEAD: blob, PRF: bytes.Clone(w.PRF)}, nil
}

// RewrapOrg unwraps w under this Keyring's root and wraps the same keysets
// under to, for root-key rotation: no key inside changes, so no field
// ciphertext or blind index needs rewriting. It returns an error wrapping
// ErrUnwrap if w does not unwrap for org under this root; other errors come
// from the new root.
func (k *Keyring) RewrapOrg(org uuid.UUID, w Wrapped, to Root) (Wrapped, error) {
	ah, err := unwrapHandle(k.root, org, purposeAEAD, w.AEAD, aesGCMTypeURL)
	if err != nil {
		return Wrapped{}, err
	}
	ph, err := unwrapHandle(k.root, org, purposePRF, w.PRF, hmacPRFTypeURL)
	if err != nil {
		return Wrapped{}, err
	}
	return wrapPair(to, org, ah, ph)
}

// RetireOrgAEADKey returns w with the key keyID removed from the org's AEAD
// keyset, after a rotation once no stored ciphertext uses it (see
// CiphertextKeyID). Ciphertexts under that key can never be opened again. It
// returns an error wrapping ErrUnwrap if w.AEAD does not unwrap for org,
// ErrUnknownKey if the keyset has no such key and ErrPrimaryKey if keyID is
// the primary key.
func (k *Keyring) RetireOrgAEADKey(org uuid.UUID, w Wrapped, keyID uint32) (Wrapped, error) {
	ah, err := unwrapHandle(k.root, org, purposeAEAD, w.AEAD, aesGCMTypeURL)
	if err != nil {
		return Wrapped{}, err
	}
	info := ah.KeysetInfo()
	if info.GetPrimaryKeyId() == keyID {
		return Wrapped{}, fmt.Errorf("envelope: retire key %d of org %s: %w", keyID, org, ErrPrimaryKey)
	}
	found := false
	for _, ki := range info.GetKeyInfo() {
		found = found || ki.GetKeyId() == keyID
	}
	if !found {
		return Wrapped{}, fmt.Errorf("envelope: retire key %d of org %s: %w", keyID, org, ErrUnknownKey)
	}
	m := keyset.NewManagerFromHandle(ah)
	if err := m.Delete(keyID); err != nil {
		return Wrapped{}, fmt.Errorf("envelope: retire key %d of org %s: %w", keyID, org, err)
	}
	nh, err := m.Handle()
	if err != nil {
		return Wrapped{}, fmt.Errorf("envelope: retire key %d of org %s: %w", keyID, org, err)
	}
	blob, err := wrapHandle(k.root, org, purposeAEAD, nh)
	if err != nil {
		return Wrapped{}, err
	}
	return Wrapped{AEAD: blob, PRF: bytes.Clone(w.PRF)}, nil
}

// CiphertextKeyID returns the id of the org AEAD key that sealed ciphertext,
// read from Tink's 5-byte prefix without decrypting, so a rotation job can
// find rows still under an old key (compare (*OrgKeys).PrimaryKeyID). It
// returns an error wrapping ErrDecrypt if ciphertext has no such prefix.
func CiphertextKeyID(ciphertext []byte) (uint32, error) {
	if len(ciphertext) < tinkPrefixSize || ciphertext[0] != tinkPrefixVersion {
		return 0, fmt.Errorf("envelope: ciphertext has no key id prefix: %w", ErrDecrypt)
	}
	return binary.BigEndian.Uint32(ciphertext[1:tinkPrefixSize]), nil
}

// RewrapOrgUnderRoot is RewrapOrg to this Keyring's own root: after the
// root key file's newest key was made primary (PromoteLocalRootKey), the
// keysets wrapped under the older key are wrapped again under the new one.
func (k *Keyring) RewrapOrgUnderRoot(org uuid.UUID, w Wrapped) (Wrapped, error) {
	return k.RewrapOrg(org, w, k.root)
}
