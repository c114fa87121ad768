// Package keystore connects the pure key hierarchy (vault/envelope) to the
// key store in PostgreSQL. Wrapped keysets are never selectable by ward_app:
// they come only from app.org_keyset(), which releases an org's keysets to a
// transaction whose credential is live in that org, and the instance keyset
// (user emails) to anyone.
package keystore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// InstanceOrg is the key-store id of the instance keyset, which protects
// data that belongs to no single org (user emails).
var InstanceOrg = uuid.MustParse("ffffffff-ffff-ffff-ffff-ffffffffffff")

// ErrNoKeys means the org has no keysets in the key store, or the caller's
// credential may not have them.
var ErrNoKeys = errors.New("keystore: no keys for this org")

// Store loads and creates wrapped keysets.
//
// Unwrapped org keys are kept for CacheTTL, so a node asks the database for
// an org's wrapped keysets about once per TTL, not on every request. This
// does not widen access: the keys only decrypt rows that RLS has already
// released to the transaction's credential.
type Store struct {
	ring *envelope.Keyring

	mu       sync.Mutex
	cache    map[uuid.UUID]cached
	instance *envelope.OrgKeys
}

type cached struct {
	keys *envelope.OrgKeys
	at   time.Time
}

// CacheTTL is how long a node uses an org's keys before fetching them again
// (a rotation on another node takes effect within it).
const CacheTTL = time.Minute

// New returns a Store unwrapping through ring.
func New(ring *envelope.Keyring) *Store {
	return &Store{ring: ring, cache: map[uuid.UUID]cached{}}
}

// Keyring returns the keyring, for operators' commands that create orgs.
func (s *Store) Keyring() *envelope.Keyring { return s.ring }

// Org returns org's unwrapped keys, fetched through app.org_keyset in tx
// (whose credential must be live in org). It returns ErrNoKeys when the
// database releases none.
func (s *Store) Org(ctx context.Context, tx pgx.Tx, org uuid.UUID) (*envelope.OrgKeys, error) {
	s.mu.Lock()
	c, ok := s.cache[org]
	s.mu.Unlock()
	if ok && time.Since(c.at) < CacheTTL {
		return c.keys, nil
	}
	rows, err := tx.Query(ctx, `select purpose, wrapped from app.org_keyset($1)`, org)
	if err != nil {
		return nil, fmt.Errorf("keystore: load org keys: %w", err)
	}
	var w envelope.Wrapped
	if err := scanWrapped(rows, &w); err != nil {
		return nil, err
	}
	keys, err := s.ring.Org(org, w)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.cache) > 10000 {
		clear(s.cache)
	}
	s.cache[org] = cached{keys: keys, at: time.Now()}
	s.mu.Unlock()
	return keys, nil
}

func scanWrapped(rows pgx.Rows, w *envelope.Wrapped) error {
	defer rows.Close()
	for rows.Next() {
		var purpose string
		var blob []byte
		if err := rows.Scan(&purpose, &blob); err != nil {
			return fmt.Errorf("keystore: %w", err)
		}
		switch purpose {
		case "aead":
			w.AEAD = blob
		case "prf":
			w.PRF = blob
		}
	}
	if err := rows.Err(); err != nil {
		if postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
			return ErrNoKeys
		}
		return fmt.Errorf("keystore: %w", err)
	}
	if w.AEAD == nil || w.PRF == nil {
		return ErrNoKeys
	}
	return nil
}

// Instance returns the instance keys, creating and storing them on first
// use (concurrent first calls agree on what was stored).
func (s *Store) Instance(ctx context.Context, db *postgres.DB) (*envelope.OrgKeys, error) {
	s.mu.Lock()
	inst := s.instance
	s.mu.Unlock()
	if inst != nil {
		return inst, nil
	}
	fresh, err := s.ring.NewOrgKeys(InstanceOrg)
	if err != nil {
		return nil, fmt.Errorf("keystore: instance keys: %w", err)
	}
	rows, err := db.Pool.Query(ctx, `select purpose, wrapped from app.ensure_instance_keyset($1, $2)`, fresh.AEAD, fresh.PRF)
	if err != nil {
		return nil, fmt.Errorf("keystore: instance keys: %w", err)
	}
	var w envelope.Wrapped
	if err := scanWrapped(rows, &w); err != nil {
		return nil, err
	}
	keys, err := s.ring.Org(InstanceOrg, w)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.instance = keys
	s.mu.Unlock()
	return keys, nil
}
