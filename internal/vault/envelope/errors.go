package envelope

import "errors"

// Errors returned by this package. Callers test for them with errors.Is; the
// text around them may carry an org id, a file path or a key id, never
// plaintext, key material or a blind-index input.
var (
	// ErrDecrypt means a field ciphertext did not open: it was tampered with,
	// truncated, sealed under another org's keys, or copied from another
	// table, column, org or row.
	ErrDecrypt = errors.New("envelope: ciphertext does not open")

	// ErrUnwrap means a wrapped org keyset did not unwrap under the root key:
	// wrong root, wrong org, wrong purpose, or a corrupted blob.
	ErrUnwrap = errors.New("envelope: wrapped keyset does not unwrap")

	// ErrInvalidAD means an AD value is incomplete: a table or column name is
	// empty, or the org or row id is the nil UUID.
	ErrInvalidAD = errors.New("envelope: invalid associated data")

	// ErrOrgMismatch means an AD names a different org from the keys asked
	// to seal or open it; it is always a programming error in the caller.
	ErrOrgMismatch = errors.New("envelope: associated data names another org")

	// ErrPrimaryKey means a request to retire the key that new seals use;
	// rotate first so another key is primary.
	ErrPrimaryKey = errors.New("envelope: cannot retire the primary key")

	// ErrUnknownKey means a key id that the org's keyset does not hold.
	ErrUnknownKey = errors.New("envelope: no such key in the keyset")

	// ErrRootFileMode means the local root key file is readable or writable
	// by anyone but its owner (any permission bit outside 0600).
	ErrRootFileMode = errors.New("envelope: root key file permissions are wider than 0600")

	// ErrRootCorrupt means the local root key file exists but is not a
	// single-purpose Tink AES-GCM keyset. The underlying parser error is
	// deliberately not wrapped, because it may quote key material.
	ErrRootCorrupt = errors.New("envelope: root key file is corrupt")
)
