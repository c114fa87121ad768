package keystore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// Key rotation is the operator's (`ward keys status`, `ward keys rotate`),
// through the ward_ops functions of migration 00145. Nothing here is
// reachable from the server's role: it lists every org's wrapped keysets.

// DataKeyAD is the associated data of a document version's data key,
// sealed under its org's AEAD keyset: bound to the version's row, so a
// wrapped key copied to another row does not open there.
func DataKeyAD(org, version uuid.UUID) envelope.AD {
	return envelope.AD{Table: "document_versions", Column: "data_key", Org: org, Row: version}
}

// ErrKeysetChanged means the stored keyset changed between this command's
// read and its write (another rotation won); nothing was written.
var ErrKeysetChanged = errors.New("keystore: the keyset changed while it was being replaced; run the command again")

// dataKeyPage is how many data keys one round trip reads and rewraps.
const dataKeyPage = 2000

// KeysetStatus describes one org's stored keysets, without key material.
type KeysetStatus struct {
	Org uuid.UUID
	// Keys is the number of keys in the AEAD keyset (1 + rotations), and
	// Primary the id of the one new seals use.
	Keys    int
	Primary uint32
	// CreatedAt is when the keysets were created; RotatedAt when the AEAD
	// keyset was last replaced (zero if never).
	CreatedAt, RotatedAt time.Time
	// DataKeys counts the org's document data keys; DataKeysBehind those
	// sealed under a key other than the primary (a rotation's rewrap not
	// run, or documents uploaded during it).
	DataKeys, DataKeysBehind int
}

// Orgs returns the ids of every keyset in the key store (the instance's
// included), in order.
func Orgs(ctx context.Context, ops *postgres.DB) ([]uuid.UUID, error) {
	rows, err := ops.Pool.Query(ctx, `select distinct org_id from app.ops_keysets(null) order by org_id`)
	if err != nil {
		return nil, fmt.Errorf("keystore: list keysets: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("keystore: list keysets: %w", err)
	}
	return ids, nil
}

// opsKeyset reads org's wrapped keysets and their dates through
// app.ops_keysets. A missing keyset is ErrNoKeys.
func opsKeyset(ctx context.Context, ops *postgres.DB, org uuid.UUID) (w envelope.Wrapped, created, rotated time.Time, err error) {
	rows, err := ops.Pool.Query(ctx, `select purpose, wrapped, created_at, rotated_at from app.ops_keysets($1)`, org)
	if err != nil {
		return w, created, rotated, fmt.Errorf("keystore: read keysets of org %s: %w", org, err)
	}
	defer rows.Close()
	for rows.Next() {
		var purpose string
		var blob []byte
		var c time.Time
		var r *time.Time
		if err := rows.Scan(&purpose, &blob, &c, &r); err != nil {
			return w, created, rotated, fmt.Errorf("keystore: read keysets of org %s: %w", org, err)
		}
		switch purpose {
		case "aead":
			w.AEAD, created = blob, c
			if r != nil {
				rotated = *r
			}
		case "prf":
			w.PRF = blob
		}
	}
	if err := rows.Err(); err != nil {
		return w, created, rotated, fmt.Errorf("keystore: read keysets of org %s: %w", org, err)
	}
	if w.AEAD == nil || w.PRF == nil {
		return w, created, rotated, fmt.Errorf("%w: org %s", ErrNoKeys, org)
	}
	return w, created, rotated, nil
}

// OpsOrg returns org's unwrapped keys read through ops (ward_ops or a
// superuser: app.ops_keysets, which takes no credential), for an
// operator's command that seals or opens an org's values outside any
// request. It returns an error wrapping ErrNoKeys when the key store
// holds none for org (a shredded org), and one wrapping envelope.ErrUnwrap
// when they do not unwrap under this root.
func (s *Store) OpsOrg(ctx context.Context, ops *postgres.DB, org uuid.UUID) (*envelope.OrgKeys, error) {
	w, _, _, err := opsKeyset(ctx, ops, org)
	if err != nil {
		return nil, err
	}
	return s.ring.Org(org, w)
}

// Status reports org's keysets and how many of its data keys are sealed
// under an older key, through ops (ward_ops or a superuser).
func (s *Store) Status(ctx context.Context, ops *postgres.DB, org uuid.UUID) (KeysetStatus, error) {
	w, created, rotated, err := opsKeyset(ctx, ops, org)
	if err != nil {
		return KeysetStatus{}, err
	}
	keys, err := s.ring.Org(org, w)
	if err != nil {
		return KeysetStatus{}, err
	}
	st := KeysetStatus{Org: org, Keys: keys.KeyCount(), Primary: keys.PrimaryKeyID(), CreatedAt: created, RotatedAt: rotated}
	err = eachDataKeyPage(ctx, ops, org, func(ids []uuid.UUID, wrapped [][]byte) error {
		for _, ct := range wrapped {
			st.DataKeys++
			if id, err := envelope.CiphertextKeyID(ct); err != nil || id != st.Primary {
				st.DataKeysBehind++
			}
		}
		return nil
	})
	return st, err
}

// Rotate adds a new AES-256-GCM key to org's AEAD keyset and makes it
// primary (envelope.Keyring.RotateOrgAEAD), stored only if the keyset is
// still the one read (ErrKeysetChanged otherwise), audited keys.rotate in
// the org's log. Every server reads an org's wrapped keysets on each
// request, so each seals with the new key from its next request on; older
// ciphertexts keep opening. It returns the new primary key's id. Call
// RewrapDataKeys next.
func (s *Store) Rotate(ctx context.Context, ops *postgres.DB, org uuid.UUID) (uint32, error) {
	w, _, _, err := opsKeyset(ctx, ops, org)
	if err != nil {
		return 0, err
	}
	rotated, err := s.ring.RotateOrgAEAD(org, w)
	if err != nil {
		return 0, err
	}
	keys, err := s.ring.Org(org, rotated)
	if err != nil {
		return 0, err
	}
	var ok bool
	err = ops.Pool.QueryRow(ctx, `select app.ops_replace_keyset($1, 'aead', $2, $3, 'rotate')`,
		org, w.AEAD, rotated.AEAD).Scan(&ok)
	if err != nil {
		return 0, fmt.Errorf("keystore: store the rotated keyset of org %s: %w", org, err)
	}
	if !ok {
		return 0, ErrKeysetChanged
	}
	return keys.PrimaryKeyID(), nil
}

// RewrapDataKeys opens every data key of org sealed under a key other than
// the primary and seals it again under the primary, a page at a time, each
// page stored only where the row still holds what was read (a concurrent
// change keeps its own value) and audited keys.data_keys.rewrap with its
// count. Objects are not re-encrypted: a data key's plaintext does not
// change. It returns how many keys it rewrapped; a key that does not open
// stops it with an error naming the row (no key material).
func (s *Store) RewrapDataKeys(ctx context.Context, ops *postgres.DB, org uuid.UUID) (int, error) {
	w, _, _, err := opsKeyset(ctx, ops, org)
	if err != nil {
		return 0, err
	}
	keys, err := s.ring.Org(org, w)
	if err != nil {
		return 0, err
	}
	primary := keys.PrimaryKeyID()
	total := 0
	err = eachDataKeyPage(ctx, ops, org, func(ids []uuid.UUID, wrapped [][]byte) error {
		var rid []uuid.UUID
		var rold, rnew [][]byte
		for i, ct := range wrapped {
			if id, err := envelope.CiphertextKeyID(ct); err == nil && id == primary {
				continue
			}
			ad := DataKeyAD(org, ids[i])
			pt, err := keys.Open(ct, ad)
			if err != nil {
				return fmt.Errorf("keystore: rewrap: %w", err)
			}
			nw, err := keys.Seal(pt, ad)
			clear(pt)
			if err != nil {
				return fmt.Errorf("keystore: rewrap: %w", err)
			}
			rid, rold, rnew = append(rid, ids[i]), append(rold, ct), append(rnew, nw)
		}
		if len(rid) == 0 {
			return nil
		}
		var n int
		if err := ops.Pool.QueryRow(ctx, `select app.ops_rewrap_data_keys($1, $2, $3, $4)`, org, rid, rold, rnew).Scan(&n); err != nil {
			return fmt.Errorf("keystore: store rewrapped data keys of org %s: %w", org, err)
		}
		total += n
		return nil
	})
	return total, err
}

// eachDataKeyPage calls fn with org's data keys, dataKeyPage at a time, in
// version-id order.
func eachDataKeyPage(ctx context.Context, ops *postgres.DB, org uuid.UUID, fn func(ids []uuid.UUID, wrapped [][]byte) error) error {
	var after *uuid.UUID
	for {
		rows, err := ops.Pool.Query(ctx, `select id, data_key from app.ops_data_keys($1, $2, $3)`, org, after, dataKeyPage)
		if err != nil {
			return fmt.Errorf("keystore: read data keys of org %s: %w", org, err)
		}
		var ids []uuid.UUID
		var wrapped [][]byte
		var id uuid.UUID
		var dk []byte
		_, err = pgx.ForEachRow(rows, []any{&id, &dk}, func() error {
			ids, wrapped = append(ids, id), append(wrapped, dk)
			return nil
		})
		if err != nil {
			return fmt.Errorf("keystore: read data keys of org %s: %w", org, err)
		}
		if len(ids) == 0 {
			return nil
		}
		if err := fn(ids, wrapped); err != nil {
			return err
		}
		if len(ids) < dataKeyPage {
			return nil
		}
		last := ids[len(ids)-1]
		after = &last
	}
}
