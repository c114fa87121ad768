package keystore

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// SignerName is the key name in the audit log's signed checkpoints
// (C2SP signed-note key names).
const SignerName = "ward-audit"

// ErrNoSigner means the audit signing key has not been created yet (run
// `ward migrate`, or an embedded `ward serve`, which create it).
var ErrNoSigner = errors.New("keystore: no audit signing key")

func signerAD() envelope.AD {
	return envelope.AD{Table: "keysets", Column: "signer", Org: InstanceOrg, Row: InstanceOrg}
}

// sealedSigner is what is sealed in the key store: the note signer key and
// its verifier key (C2SP signed-note formats).
type sealedSigner struct {
	Skey string `json:"skey"`
	Vkey string `json:"vkey"`
}

// EnsureSigner creates the instance's Ed25519 audit signing key unless one
// is stored, sealed under the instance AEAD keyset, through ops (an
// operator connection). Concurrent first calls agree on what was stored.
func (s *Store) EnsureSigner(ctx context.Context, ops *postgres.DB) error {
	inst, err := s.Instance(ctx, ops)
	if err != nil {
		return err
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, SignerName)
	if err != nil {
		return fmt.Errorf("keystore: audit signing key: %w", err)
	}
	plain, _ := json.Marshal(sealedSigner{Skey: skey, Vkey: vkey}) // two strings: cannot fail
	sealed, err := inst.Seal(plain, signerAD())
	if err != nil {
		return err
	}
	var stored []byte
	if err := ops.Pool.QueryRow(ctx, `select app.ensure_signer_key($1)`, sealed).Scan(&stored); err != nil {
		return fmt.Errorf("keystore: store audit signing key: %w", err)
	}
	if _, _, err := openSigner(inst, stored); err != nil {
		return fmt.Errorf("keystore: the stored audit signing key does not open under this root key: %w", err)
	}
	return nil
}

// Signer returns the audit log's note signer and its verifier key (the
// text `ward audit checkpoint key` prints). Errors: ErrNoSigner.
func (s *Store) Signer(ctx context.Context, db *postgres.DB) (note.Signer, string, error) {
	var sealed []byte
	if err := db.Pool.QueryRow(ctx, `select app.signer_key()`).Scan(&sealed); err != nil {
		return nil, "", fmt.Errorf("keystore: load audit signing key: %w", err)
	}
	if sealed == nil {
		return nil, "", ErrNoSigner
	}
	inst, err := s.Instance(ctx, db)
	if err != nil {
		return nil, "", err
	}
	return openSigner(inst, sealed)
}

func openSigner(inst *envelope.OrgKeys, sealed []byte) (note.Signer, string, error) {
	plain, err := inst.Open(sealed, signerAD())
	if err != nil {
		return nil, "", err
	}
	var ss sealedSigner
	if err := json.Unmarshal(plain, &ss); err != nil {
		return nil, "", fmt.Errorf("keystore: audit signing key: %w", err)
	}
	signer, err := note.NewSigner(ss.Skey)
	if err != nil {
		return nil, "", fmt.Errorf("keystore: audit signing key: %w", err)
	}
	return signer, ss.Vkey, nil
}
