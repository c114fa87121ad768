// Package envelope is Ward's key hierarchy for PHI at rest. This comment is
// the crypto design; code that disagrees with it is the bug.
//
// The package is a pure library. It generates, wraps, unwraps, rotates and
// rewraps keys and seals and opens fields; it never reads or writes the
// database. Callers store the wrapped blobs it returns (the key store) and
// the ciphertexts and blind indexes (the tenant tables).
//
// # Hierarchy
//
//	root key                   Root: *LocalRoot (keyset file, 0600) or a KMS AEAD
//	 └─ per org, wrapped under the root (Wrapped, stored by the caller):
//	     ├─ AEAD keyset        Tink AES256-GCM, TINK prefix, versioned by key id
//	     │    └─ PHI columns   Seal/Open, AD = table, column, org, row
//	     └─ PRF keyset         Tink HMAC-SHA256 PRF
//	          └─ blind indexes BlindIndex(field, normalised value), 32 bytes
//
// The root key wraps org keysets and nothing else; it never touches a field.
// Any tink.AEAD is a Root, so AWS KMS, GCP KMS and Vault transit roots plug
// in through Tink's KMS clients without changes here. The self-hosted
// default is LoadOrCreateLocalRoot: a cleartext Tink AES256-GCM keyset in a
// file of mode 0600 under a directory of mode 0700, created by writing a
// temporary file, syncing it and linking it into place, so no crash leaves a
// partial key file and two processes starting together share one key. A
// file with any permission outside 0600, or that is not an AES-GCM keyset,
// is refused rather than repaired.
//
// Each org has two keysets, generated together by (*Keyring).NewOrgKeys: an
// AEAD keyset for PHI columns and a PRF keyset for blind indexes. Each is
// written as a Tink EncryptedKeyset under the root with associated data
// binding it to the org id and to its purpose ("org-aead" or "org-prf"), so
// a blob copied to another org's key-store row, or an AEAD blob offered as a
// PRF blob, does not unwrap (ErrUnwrap). On unwrap every key must be of the
// expected type (AES-GCM, HMAC PRF); anything else is refused. Document data
// keys (Tink streaming AES256_GCM_HKDF_1MB, one per object) are a further
// tier below the org AEAD and are not part of this package yet.
//
// # Associated data
//
// Every byte string fed to a primitive as associated data or PRF input
// starts with a versioned domain tag and then each part as a 4-byte
// big-endian length followed by its bytes. Different tags keep field AD,
// keyset-wrapping AD and blind-index input apart; length prefixes make the
// encoding injective, so ("ab", "c") and ("a", "bc") never collide as a
// naive "a|b" join would.
//
//	field:      "ward/envelope/field/v1", table, column, org (16 bytes), row (16 bytes)
//	wrap:       "ward/envelope/wrap/v1",  purpose, org (16 bytes)
//	blind idx:  "ward/envelope/bidx/v1",  field, normalised value
//
// A field ciphertext therefore opens only with the keys of its org and only
// for the exact table, column and row it was sealed for: an attacker who can
// write to the database cannot move a victim's ciphertext into a row they can
// read. An AD must be complete (no empty names, no nil ids: ErrInvalidAD) and
// must name the org whose keys are used (ErrOrgMismatch).
//
// # Blind indexes
//
// Equality lookups on PHI (email, MRN, phone) use BlindIndex: the org's
// HMAC-SHA256 PRF over the field name and the normalised value. It is
// deterministic within an org and field and unrelated across orgs and
// fields, so an index reveals equality only within one column of one org,
// and one org's index says nothing about another's. Values are normalised
// first (NormalizeEmail, NormalizeIdentifier, NormalizePhone) so that
// spellings people treat as equal match; BlindIndex does not normalise on its
// own. Blind indexes of low-entropy values (a birth date, a 10-digit phone)
// can be brute-forced by whoever holds the org's PRF key, which is why that
// key lives only wrapped, and why ciphertext is never indexed.
//
// # Rotation
//
// (*Keyring).RotateOrgAEAD adds a fresh AES256-GCM key to an org's AEAD
// keyset and makes it primary. New seals use the new key; Tink's 5-byte key
// id prefix on every ciphertext lets Open pick the right key, so old
// ciphertexts open without being rewritten. The caller stores the returned
// blob and calls Forget (and notifies other nodes). It may then re-seal rows
// in the background, finding old ones by comparing CiphertextKeyID with
// (*OrgKeys).PrimaryKeyID, and once no row uses an old key, remove it with
// (*Keyring).RetireOrgAEADKey; ciphertexts under a retired key are gone for
// good. The PRF keyset is not rotated in place: a new PRF key changes every
// blind index, so it is a re-index job, not a rotation.
//
// (*Keyring).RewrapOrg is root rotation: it unwraps an org's keysets under
// the old root and wraps the same keys under the new one. No field
// ciphertext or blind index changes; only key-store rows are rewritten.
//
// # Caching
//
// (*Keyring).Org caches unwrapped org keys in memory, keyed by org id and a
// SHA-256 of the exact wrapped blobs, for Config.CacheTTL (default 5 min)
// and at most Config.CacheSize orgs (least recently used evicted). A rotated
// keyset has new bytes and so is never served from a stale entry; concurrent
// misses share one unwrap, so a KMS root sees about two calls (one per
// keyset) per org per TTL.
// (*Keyring).Forget drops an org's entries at once, for rotation notices
// from other nodes and for shredding.
//
// # Crypto-shredding
//
// An org's data is shredded by destroying its wrapped keysets (every
// key-store row and every backup of the key store) and calling Forget on
// every node: the field ciphertexts and blind indexes left in the tenant
// tables and their backups are then noise. The root key is shared by all
// orgs and is never destroyed to shred one. Shredding is refused while a
// legal hold applies; that rule lives with the caller, not here: `ward org
// shred` (app.ops_org_shred, migration 00268) destroys the keysets and the
// data keys in SQL, and its NOTIFY makes every node call Forget
// (keystore.ListenForget).
//
// # What never touches disk
//
// Plaintext field values, unwrapped org keysets and blind-index inputs stay
// in memory: this package writes exactly one file, the local root keyset,
// and only when it does not yet exist. Errors carry org ids, table and column
// names, row ids and key-file paths, never plaintext, key bytes or PRF
// inputs; Tink's parser errors on a corrupt root file are dropped for that
// reason (ErrRootCorrupt).
package envelope
