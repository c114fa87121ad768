package envelope

import (
	"bytes"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/prf"
	"golang.org/x/sync/singleflight"
)

// Purposes bound into the associated data of each wrapped keyset, so an AEAD
// blob cannot be unwrapped as a PRF keyset or for another org.
const (
	purposeAEAD = "org-aead"
	purposePRF  = "org-prf"
)

// Defaults for Config fields left zero.
const (
	DefaultCacheTTL  = 5 * time.Minute
	DefaultCacheSize = 1024
)

// Config tunes a Keyring. The zero value is ready to use.
type Config struct {
	// CacheTTL is how long unwrapped org keys stay in memory after they
	// were unwrapped. Zero means DefaultCacheTTL.
	CacheTTL time.Duration
	// CacheSize bounds the number of cached orgs (least recently used are
	// evicted first). Zero means DefaultCacheSize; negative disables the
	// cache, so every Org call unwraps under the root.
	CacheSize int
	// Now is the clock used for cache expiry. Nil means time.Now.
	Now func() time.Time
}

// Wrapped is one org's keysets, encrypted under the root key, as the caller
// stores them in the key store. Both blobs are Tink EncryptedKeyset protos;
// neither contains key material in clear.
type Wrapped struct {
	// AEAD is the org's field-encryption keyset (AES256-GCM, TINK prefix),
	// which may hold several keys after rotation.
	AEAD []byte
	// PRF is the org's blind-index keyset (HMAC-SHA256 PRF).
	PRF []byte
}

// LogValue reports the sizes of the wrapped blobs only. It never fails.
func (w Wrapped) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("aead_bytes", len(w.AEAD)), slog.Int("prf_bytes", len(w.PRF)))
}

// Keyring creates, unwraps, rotates and rewraps per-org keysets under one
// root key, and caches unwrapped org keys. It never stores anything: the
// caller persists Wrapped values. A Keyring is safe for concurrent use.
type Keyring struct {
	root   Root
	cache  *keyCache
	flight singleflight.Group
}

// NewKeyring returns a Keyring whose org keysets are wrapped under root,
// which must not be nil. It never fails.
func NewKeyring(root Root, cfg Config) *Keyring {
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Keyring{root: root, cache: newKeyCache(cfg.CacheTTL, cfg.CacheSize, cfg.Now)}
}

// NewOrgKeys generates a fresh AEAD keyset and a fresh PRF keyset for org
// and returns them wrapped under the root, each bound to org and to its
// purpose. It returns an error wrapping ErrInvalidAD if org is the nil UUID;
// any other error comes from key generation or the root and carries no key
// material.
func (k *Keyring) NewOrgKeys(org uuid.UUID) (Wrapped, error) {
	if org == uuid.Nil {
		return Wrapped{}, fmt.Errorf("envelope: new org keys: nil org id: %w", ErrInvalidAD)
	}
	ah, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return Wrapped{}, fmt.Errorf("envelope: generate AEAD keyset for org %s: %w", org, err)
	}
	ph, err := keyset.NewHandle(prf.HMACSHA256PRFKeyTemplate())
	if err != nil {
		return Wrapped{}, fmt.Errorf("envelope: generate PRF keyset for org %s: %w", org, err)
	}
	return wrapPair(k.root, org, ah, ph)
}

// Org returns the unwrapped keys of org from w, from the cache when the
// same org and the same wrapped bytes were unwrapped within the TTL.
// Concurrent misses for one keyset share a single unwrap (two root or KMS
// calls, one per keyset). It returns an error wrapping ErrUnwrap if either
// blob does not unwrap under this root for this org and purpose, or if a
// keyset holds an unexpected key type.
func (k *Keyring) Org(org uuid.UUID, w Wrapped) (*OrgKeys, error) {
	ck := newCacheKey(org, w)
	if keys := k.cache.get(ck); keys != nil {
		return keys, nil
	}
	v, err, _ := k.flight.Do(string(org[:])+string(ck.blob[:]), func() (any, error) {
		// A flight that finished between our miss and this call has
		// already filled the cache.
		if keys := k.cache.get(ck); keys != nil {
			return keys, nil
		}
		keys, err := k.unwrapOrg(org, w)
		if err != nil {
			return nil, err
		}
		k.cache.put(ck, keys)
		return keys, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*OrgKeys), nil
}

// Forget drops any cached keys of org, so the next Org call unwraps again.
// Call it when another node announces a rotation and when an org's keys are
// destroyed (crypto-shredding), so no copy outlives the TTL. It never fails.
func (k *Keyring) Forget(org uuid.UUID) { k.cache.forget(org) }

// ForgetAll drops every cached org key: for a node that may have missed a
// notice (its listening connection was lost).
func (k *Keyring) ForgetAll() { k.cache.forgetAll() }

// unwrapOrg builds an org's primitives from w, bypassing the cache.
func (k *Keyring) unwrapOrg(org uuid.UUID, w Wrapped) (*OrgKeys, error) {
	ah, err := unwrapHandle(k.root, org, purposeAEAD, w.AEAD, aesGCMTypeURL)
	if err != nil {
		return nil, err
	}
	ph, err := unwrapHandle(k.root, org, purposePRF, w.PRF, hmacPRFTypeURL)
	if err != nil {
		return nil, err
	}
	a, err := aead.New(ah)
	if err != nil {
		return nil, fmt.Errorf("envelope: AEAD keyset of org %s: %w", org, ErrUnwrap)
	}
	p, err := prf.NewPRFSet(ph)
	if err != nil {
		return nil, fmt.Errorf("envelope: PRF keyset of org %s: %w", org, ErrUnwrap)
	}
	// Prove once that the PRF gives BlindIndexSize bytes, so BlindIndex
	// need not return an error.
	if _, err := p.ComputePrimaryPRF([]byte(blindIndexTag), BlindIndexSize); err != nil {
		return nil, fmt.Errorf("envelope: PRF keyset of org %s cannot give %d bytes: %w", org, BlindIndexSize, ErrUnwrap)
	}
	info := ah.KeysetInfo()
	return &OrgKeys{org: org, aead: a, primary: info.GetPrimaryKeyId(), keys: len(info.GetKeyInfo()), prf: p}, nil
}

// wrapPair wraps an AEAD and a PRF keyset for org under root.
func wrapPair(root Root, org uuid.UUID, ah, ph *keyset.Handle) (Wrapped, error) {
	a, err := wrapHandle(root, org, purposeAEAD, ah)
	if err != nil {
		return Wrapped{}, err
	}
	p, err := wrapHandle(root, org, purposePRF, ph)
	if err != nil {
		return Wrapped{}, err
	}
	return Wrapped{AEAD: a, PRF: p}, nil
}

// wrapAD is the associated data binding a wrapped keyset to org and purpose.
func wrapAD(org uuid.UUID, purpose string) []byte {
	return encodeParts(wrapADTag, []byte(purpose), org[:])
}

// wrapHandle encrypts h under root as a binary Tink EncryptedKeyset.
func wrapHandle(root Root, org uuid.UUID, purpose string, h *keyset.Handle) ([]byte, error) {
	var buf bytes.Buffer
	if err := h.WriteWithAssociatedData(keyset.NewBinaryWriter(&buf), root, wrapAD(org, purpose)); err != nil {
		return nil, fmt.Errorf("envelope: wrap %s keyset of org %s: %w", purpose, org, err)
	}
	return buf.Bytes(), nil
}

// unwrapHandle decrypts a blob from wrapHandle and checks that every key in
// it has typeURL.
func unwrapHandle(root Root, org uuid.UUID, purpose string, blob []byte, typeURL string) (*keyset.Handle, error) {
	h, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(blob)), root, wrapAD(org, purpose))
	if err != nil {
		return nil, fmt.Errorf("envelope: unwrap %s keyset of org %s: %w", purpose, org, ErrUnwrap)
	}
	if !onlyKeyType(h, typeURL) {
		return nil, fmt.Errorf("envelope: %s keyset of org %s holds unexpected key types: %w", purpose, org, ErrUnwrap)
	}
	return h, nil
}
