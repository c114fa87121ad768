package envelope_test

import (
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/vault/envelope"
)

// newRoot returns a fresh local root in a temporary directory.
func newRoot(t testing.TB) *envelope.LocalRoot {
	t.Helper()
	r, err := envelope.LoadOrCreateLocalRoot(filepath.Join(t.TempDir(), "keys", "root.json"))
	if err != nil {
		t.Fatalf("LoadOrCreateLocalRoot: %v", err)
	}
	return r
}

// newOrg creates keys for a fresh org under kr and returns the org id, its
// wrapped keysets and its unwrapped keys.
func newOrg(t testing.TB, kr *envelope.Keyring) (uuid.UUID, envelope.Wrapped, *envelope.OrgKeys) {
	t.Helper()
	org := uuid.New()
	w, err := kr.NewOrgKeys(org)
	if err != nil {
		t.Fatalf("NewOrgKeys: %v", err)
	}
	keys, err := kr.Org(org, w)
	if err != nil {
		t.Fatalf("Org: %v", err)
	}
	return org, w, keys
}

// countingRoot counts Decrypt calls, to see when the cache is bypassed.
type countingRoot struct {
	envelope.Root
	decrypts atomic.Int64
}

func (r *countingRoot) Decrypt(ct, ad []byte) ([]byte, error) {
	r.decrypts.Add(1)
	return r.Root.Decrypt(ct, ad)
}
