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
type Store struct {
	ring *envelope.Keyring
}

// New returns a Store unwrapping through ring.
func New(ring *envelope.Keyring) *Store { return &Store{ring: ring} }

// Keyring returns the keyring, for operators' commands that create orgs.
func (s *Store) Keyring() *envelope.Keyring { return s.ring }

// Org returns org's unwrapped keys, fetched through app.org_keyset in tx
// (whose credential must be live in org). It returns ErrNoKeys when the
// database releases none.
func (s *Store) Org(ctx context.Context, tx pgx.Tx, org uuid.UUID) (*envelope.OrgKeys, error) {
	rows, err := tx.Query(ctx, `select purpose, wrapped from app.org_keyset($1)`, org)
	if err != nil {
		return nil, fmt.Errorf("keystore: load org keys: %w", err)
	}
	var w envelope.Wrapped
	if err := scanWrapped(rows, &w); err != nil {
		return nil, err
	}
	return s.ring.Org(org, w)
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
	return s.ring.Org(InstanceOrg, w)
}
