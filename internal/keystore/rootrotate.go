package keystore

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// RootUsage counts the stored keysets (the aead and prf keysets of every org
// and of the instance) by the id of the root key that wrapped them, through
// ops (ward_ops or a superuser). A blob that is not a wrapped keyset counts
// under id 0.
func RootUsage(ctx context.Context, ops *postgres.DB) (map[uint32]int, error) {
	rows, err := ops.Pool.Query(ctx, `select wrapped from app.ops_keysets(null)`)
	if err != nil {
		return nil, fmt.Errorf("keystore: list keysets: %w", err)
	}
	defer rows.Close()
	use := map[uint32]int{}
	for rows.Next() {
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return nil, fmt.Errorf("keystore: list keysets: %w", err)
		}
		id, _ := envelope.WrappedRootKeyID(blob)
		use[id]++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("keystore: list keysets: %w", err)
	}
	return use, nil
}

// RewrapRoot wraps every stored keyset not wrapped under the root key
// primary again under it (the Store's Keyring must hold the root key file
// as it is after PromoteLocalRootKey), each stored only if unchanged since
// it was read (ErrKeysetChanged otherwise: run it again) and audited
// keys.rewrap in its org's log. The keys inside do not change. It returns
// how many keysets it rewrapped.
func (s *Store) RewrapRoot(ctx context.Context, ops *postgres.DB, primary uint32) (int, error) {
	orgs, err := Orgs(ctx, ops)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, org := range orgs {
		w, _, _, err := opsKeyset(ctx, ops, org)
		if err != nil {
			return n, err
		}
		aid, _ := envelope.WrappedRootKeyID(w.AEAD)
		pid, _ := envelope.WrappedRootKeyID(w.PRF)
		if aid == primary && pid == primary {
			continue
		}
		nw, err := s.ring.RewrapOrgUnderRoot(org, w)
		if err != nil {
			return n, fmt.Errorf("keystore: rewrap the keysets of org %s: %w", org, err)
		}
		for _, k := range []struct {
			purpose  string
			old, new []byte
			id       uint32
		}{{"aead", w.AEAD, nw.AEAD, aid}, {"prf", w.PRF, nw.PRF, pid}} {
			if k.id == primary {
				continue
			}
			if got, err := envelope.WrappedRootKeyID(k.new); err != nil || got != primary {
				return n, fmt.Errorf("keystore: org %s: the rewrapped %s keyset is not under root key %d (is the root key file's newest key primary?)",
					org, k.purpose, primary)
			}
			if err := replaceKeyset(ctx, ops, org, k.purpose, k.old, k.new); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// replaceKeyset stores a rewrapped keyset through app.ops_replace_keyset
// (compare and swap, audited keys.rewrap).
func replaceKeyset(ctx context.Context, ops *postgres.DB, org uuid.UUID, purpose string, old, new []byte) error {
	var ok bool
	err := ops.Pool.QueryRow(ctx, `select app.ops_replace_keyset($1, $2, $3, $4, 'rewrap')`, org, purpose, old, new).Scan(&ok)
	if err != nil {
		return fmt.Errorf("keystore: store the rewrapped %s keyset of org %s: %w", purpose, org, err)
	}
	if !ok {
		return ErrKeysetChanged
	}
	return nil
}
