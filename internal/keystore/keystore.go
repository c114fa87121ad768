// Package keystore connects the pure key hierarchy (vault/envelope) to the
// key store in PostgreSQL. Wrapped keysets are never selectable by ward_app:
// they come only from app.org_keyset(), which releases an org's keysets to a
// transaction whose credential is live in that org, and from
// app.instance_keyset(), which releases the instance keyset (user emails) to
// anyone but lets no one store it. Only the operator's privileged connection
// creates the instance keyset (EnsureInstance, run by `ward migrate`).
//
// There is one cache of unwrapped keys, the keyring's (envelope), keyed by
// org and a hash of the exact wrapped bytes. This package keeps none: every
// Org call asks the database, so the permission check is never skipped, and
// only the unwrap under the root is saved. The instance keyset's wrapped
// bytes, which the database releases to anyone and never replaces once
// stored, are kept for a few minutes (instanceReread), so that sign-in and
// the member lists do not read them from the pool on every request; their
// unwrapped keys still live only in the keyring's cache, for its TTL.
package keystore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// InstanceOrg is the key-store id of the instance keyset, which protects
// data that belongs to no single org (user emails).
var InstanceOrg = uuid.MustParse("ffffffff-ffff-ffff-ffff-ffffffffffff")

// UserEmailAD is the associated data of a user's email address, sealed
// under the instance keyset: bound to the user's id.
func UserEmailAD(user uuid.UUID) envelope.AD {
	return envelope.AD{Table: "users", Column: "email", Org: InstanceOrg, Row: user}
}

// ErrNoKeys means the org has no keysets in the key store, or the caller's
// credential may not have them.
var ErrNoKeys = errors.New("keystore: no keys for this org")

// Store loads and creates wrapped keysets. It is safe for concurrent use.
type Store struct {
	ring *envelope.Keyring
	// inst is the instance keyset as last read, and when (Instance).
	inst atomic.Pointer[readKeyset]
}

// readKeyset is a wrapped keyset and when it was read from the database.
type readKeyset struct {
	w  envelope.Wrapped
	at time.Time
}

// instanceReread is how long Instance serves the instance keyset it read
// last without asking the database again. app.ensure_instance_keyset only
// ever creates the keyset, so a copy this old is the stored one; a future
// rotation, which would add keys and keep the old ones, would reach every
// node within it. The copy belongs to the Store, not to the db a call
// names: a Store serves one database (the server makes one of each).
const instanceReread = 5 * time.Minute

// New returns a Store unwrapping through ring, whose cache is the only one
// unwrapped keys are kept in.
func New(ring *envelope.Keyring) *Store {
	return &Store{ring: ring}
}

// Keyring returns the keyring, for operators' commands that create orgs.
func (s *Store) Keyring() *envelope.Keyring { return s.ring }

// Org returns org's unwrapped keys. Every call fetches the wrapped keysets
// through app.org_keyset in tx, which releases them only while tx's
// credential is live in org; the unwrap is then served from the keyring's
// cache when the same bytes were unwrapped recently. It returns ErrNoKeys
// when the database releases none (no keys, or the credential may not have
// them; tx is then aborted), and an error wrapping envelope.ErrUnwrap when
// they do not unwrap under this root.
func (s *Store) Org(ctx context.Context, tx pgx.Tx, org uuid.UUID) (*envelope.OrgKeys, error) {
	w, err := orgKeyset(ctx, tx, org)
	switch {
	case errors.Is(err, ErrNoKeys), postgres.IsCode(err, postgres.CodeInsufficientPrivilege):
		return nil, ErrNoKeys
	case err != nil:
		return nil, fmt.Errorf("keystore: load keys of org %s: %w", org, err)
	}
	return s.ring.Org(org, w)
}

// QueueOrg queues on b the read of org's keys that Org makes, for a caller
// that sends it with other statements in one round trip (a pgx.Batch
// inside a transaction bound to the caller's credential). Once the batch
// has been read, keys returns what Org would have; a failed batch leaves
// it returning the batch's error or ErrNoKeys.
func (s *Store) QueueOrg(b *pgx.Batch, org uuid.UUID) (keys func() (*envelope.OrgKeys, error)) {
	var w envelope.Wrapped
	err := errNotRead
	b.Queue(orgKeysetSQL, org).Query(func(rows pgx.Rows) error {
		w, err = scanWrapped(rows, nil)
		if errors.Is(err, ErrNoKeys) {
			return nil // mapped by keys; the batch goes on (its next statements see no row)
		}
		return err
	})
	return func() (*envelope.OrgKeys, error) {
		switch {
		case errors.Is(err, ErrNoKeys), postgres.IsCode(err, postgres.CodeInsufficientPrivilege):
			return nil, ErrNoKeys
		case err != nil:
			return nil, fmt.Errorf("keystore: load keys of org %s: %w", org, err)
		}
		return s.ring.Org(org, w)
	}
}

// errNotRead is QueueOrg's keys before the batch read its rows.
var errNotRead = errors.New("keystore: the batch did not read the org's keys")

// Instance returns the instance keys, read through app.instance_keyset on
// db (any role; the server's ward_app pool), or, when this Store read them
// less than instanceReread ago, from that read (no round trip: the keyset
// is released to every role, so no permission check is skipped; the
// unwrap still goes through the keyring's cache). It never creates them: it
// returns an error wrapping ErrNoKeys, telling the operator to run `ward
// migrate`, when the key store holds none, and one wrapping
// envelope.ErrUnwrap when they do not unwrap under this root (a different
// root key from the one they were created with).
func (s *Store) Instance(ctx context.Context, db *postgres.DB) (*envelope.OrgKeys, error) {
	if r := s.inst.Load(); r != nil && time.Since(r.at) < instanceReread {
		return s.ring.Org(InstanceOrg, r.w)
	}
	at := time.Now()
	w, err := instanceKeyset(ctx, db.Pool)
	switch {
	case errors.Is(err, ErrNoKeys):
		return nil, fmt.Errorf("%w: the instance keyset has not been created; run `ward migrate` with the operator's connection", ErrNoKeys)
	case err != nil:
		return nil, fmt.Errorf("keystore: load instance keys: %w", err)
	}
	keys, err := s.ring.Org(InstanceOrg, w)
	if err == nil { // only keys that open under this root are kept
		s.inst.Store(&readKeyset{w: w, at: at})
	}
	return keys, err
}

// EnsureInstance creates the instance keysets unless the key store already
// holds them, through ops: a privileged connection (the migration login, a
// superuser or ward_ops; ward_app may not). Concurrent first calls agree on
// what was stored. It then unwraps what is stored, so it returns an error
// wrapping envelope.ErrUnwrap when the stored keysets belong to another root
// key; other errors come from key generation or the database.
func (s *Store) EnsureInstance(ctx context.Context, ops *postgres.DB) error {
	fresh, err := s.ring.NewOrgKeys(InstanceOrg)
	if err != nil {
		return fmt.Errorf("keystore: instance keys: %w", err)
	}
	w, err := ensureInstanceKeyset(ctx, ops.Pool, fresh)
	if err != nil {
		return fmt.Errorf("keystore: ensure instance keys: %w", err)
	}
	if _, err := s.ring.Org(InstanceOrg, w); err != nil {
		return fmt.Errorf("keystore: the stored instance keyset does not open under this root key: %w", err)
	}
	return nil
}
