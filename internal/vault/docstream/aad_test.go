package docstream_test

import (
	"bytes"
	"testing"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/vault/blob"
	"github.com/wardhq/ward/internal/vault/docstream"
)

// TestAAD moves an object to another version, document, case and org
// (same data key, so only the associated data differs) and checks that
// it no longer decrypts.
func TestAAD(t *testing.T) {
	s := newDir(t)
	f := newFixture(t)
	org, cs, doc, ver := f.keys.OrgID(), uuid.New(), uuid.New(), uuid.New()
	aad := docstream.AAD(org, cs, doc, ver)
	if !bytes.Equal(aad, docstream.AAD(org, cs, doc, ver)) {
		t.Fatal("AAD is not deterministic")
	}
	key := blob.ObjectKey(org, uuid.New())
	plain := randomBytes(12, 3000)
	if _, err := f.key.Put(t.Context(), s, key, aad, bytes.NewReader(plain)); err != nil {
		t.Fatal(err)
	}
	got, err := decryptAll(t, f, s, key, aad, 3000, 0, -1)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("right AAD: %d bytes, %v", len(got), err)
	}
	other := uuid.New()
	for name, wrong := range map[string][]byte{
		"version":         docstream.AAD(org, cs, doc, other),
		"document":        docstream.AAD(org, cs, other, ver),
		"case":            docstream.AAD(org, other, doc, ver),
		"org":             docstream.AAD(other, cs, doc, ver),
		"ids rotated":     docstream.AAD(ver, org, cs, doc),
		"document ↔ case": docstream.AAD(org, doc, cs, ver),
	} {
		if _, err := decryptAll(t, f, s, key, wrong, 3000, 0, -1); !isIntegrity(err) {
			t.Errorf("AAD of another %s: %v, want ErrIntegrity", name, err)
		}
	}
}
