package envelope_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/vault/envelope"
)

func TestRotateOrgAEAD(t *testing.T) {
	kr := envelope.NewKeyring(newRoot(t), envelope.Config{})
	org, w, before := newOrg(t, kr)
	ad := envelope.AD{Table: "patients", Column: "name", Org: org, Row: uuid.New()}
	oldCT, err := before.Seal([]byte("sealed before rotation"), ad)
	if err != nil {
		t.Fatal(err)
	}

	rotated, err := kr.RotateOrgAEAD(org, w)
	if err != nil {
		t.Fatalf("RotateOrgAEAD: %v", err)
	}
	if bytes.Equal(rotated.AEAD, w.AEAD) {
		t.Fatal("rotation did not change the AEAD keyset")
	}
	if diff := cmp.Diff(w.PRF, rotated.PRF); diff != "" {
		t.Errorf("rotation changed the PRF keyset (-want +got):\n%s", diff)
	}
	after, err := kr.Org(org, rotated)
	if err != nil {
		t.Fatal(err)
	}

	got, err := after.Open(oldCT, ad)
	if err != nil {
		t.Fatalf("data sealed before rotation does not open after: %v", err)
	}
	if diff := cmp.Diff([]byte("sealed before rotation"), got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	newCT, err := after.Seal([]byte("sealed after rotation"), ad)
	if err != nil {
		t.Fatal(err)
	}
	// Tink's TINK prefix: byte 0 is the version, bytes 1..4 the key id.
	if bytes.Equal(oldCT[:5], newCT[:5]) {
		t.Error("new seal did not use the new primary key")
	}
	if _, err := before.Open(newCT, ad); !errors.Is(err, envelope.ErrDecrypt) {
		t.Errorf("pre-rotation keys opened a post-rotation ciphertext: err = %v", err)
	}
	if diff := cmp.Diff(before.BlindIndex("f", "v"), after.BlindIndex("f", "v")); diff != "" {
		t.Errorf("rotation changed blind indexes (-before +after):\n%s", diff)
	}

	// A second rotation keeps both older keys.
	twice, err := kr.RotateOrgAEAD(org, rotated)
	if err != nil {
		t.Fatal(err)
	}
	third, err := kr.Org(org, twice)
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range [][]byte{oldCT, newCT} {
		if _, err := third.Open(ct, ad); err != nil {
			t.Errorf("after two rotations: %v", err)
		}
	}

	if _, err := kr.RotateOrgAEAD(uuid.New(), w); !errors.Is(err, envelope.ErrUnwrap) {
		t.Errorf("rotate with the wrong org: err = %v, want ErrUnwrap", err)
	}
}

func TestRewrapOrg(t *testing.T) {
	oldRoot, newRootKey := newRoot(t), newRoot(t)
	oldKR := envelope.NewKeyring(oldRoot, envelope.Config{})
	newKR := envelope.NewKeyring(newRootKey, envelope.Config{})
	org, w, before := newOrg(t, oldKR)
	ad := envelope.AD{Table: "patients", Column: "mrn", Org: org, Row: uuid.New()}
	ct, err := before.Seal([]byte("MRN12345"), ad)
	if err != nil {
		t.Fatal(err)
	}
	bidx := before.BlindIndex("patients.mrn", "MRN12345")

	rewrapped, err := oldKR.RewrapOrg(org, w, newRootKey)
	if err != nil {
		t.Fatalf("RewrapOrg: %v", err)
	}
	after, err := newKR.Org(org, rewrapped)
	if err != nil {
		t.Fatalf("unwrap under new root: %v", err)
	}
	got, err := after.Open(ct, ad)
	if err != nil {
		t.Fatalf("data sealed before root rotation does not open after: %v", err)
	}
	if diff := cmp.Diff([]byte("MRN12345"), got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(bidx, after.BlindIndex("patients.mrn", "MRN12345")); diff != "" {
		t.Errorf("root rotation changed blind indexes (-before +after):\n%s", diff)
	}
	if _, err := envelope.NewKeyring(oldRoot, envelope.Config{}).Org(org, rewrapped); !errors.Is(err, envelope.ErrUnwrap) {
		t.Errorf("old root unwrapped the rewrapped keysets: err = %v", err)
	}
	if _, err := newKR.RewrapOrg(org, w, oldRoot); !errors.Is(err, envelope.ErrUnwrap) {
		t.Errorf("rewrap from the wrong root: err = %v, want ErrUnwrap", err)
	}
}

func TestRetireOrgAEADKey(t *testing.T) {
	kr := envelope.NewKeyring(newRoot(t), envelope.Config{})
	org, w, before := newOrg(t, kr)
	ad := envelope.AD{Table: "patients", Column: "name", Org: org, Row: uuid.New()}
	oldCT, err := before.Seal([]byte("old"), ad)
	if err != nil {
		t.Fatal(err)
	}
	oldID, err := envelope.CiphertextKeyID(oldCT)
	if err != nil {
		t.Fatal(err)
	}
	if oldID != before.PrimaryKeyID() {
		t.Errorf("CiphertextKeyID = %d, want primary %d", oldID, before.PrimaryKeyID())
	}

	rotated, err := kr.RotateOrgAEAD(org, w)
	if err != nil {
		t.Fatal(err)
	}
	after, err := kr.Org(org, rotated)
	if err != nil {
		t.Fatal(err)
	}
	if after.PrimaryKeyID() == oldID {
		t.Fatal("rotation kept the old primary")
	}
	if before.KeyCount() != 1 || after.KeyCount() != 2 {
		t.Errorf("KeyCount before and after a rotation = %d, %d; want 1, 2", before.KeyCount(), after.KeyCount())
	}
	newCT, err := after.Seal([]byte("new"), ad)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := envelope.CiphertextKeyID(newCT); id != after.PrimaryKeyID() {
		t.Errorf("new ciphertext key id = %d, want %d", id, after.PrimaryKeyID())
	}

	unknown := uint32(1)
	for unknown == oldID || unknown == after.PrimaryKeyID() {
		unknown++
	}
	tests := []struct {
		name    string
		keyID   uint32
		wantErr error
	}{
		{"primary", after.PrimaryKeyID(), envelope.ErrPrimaryKey},
		{"unknown", unknown, envelope.ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := kr.RetireOrgAEADKey(org, rotated, tt.keyID); !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}

	retired, err := kr.RetireOrgAEADKey(org, rotated, oldID)
	if err != nil {
		t.Fatalf("RetireOrgAEADKey: %v", err)
	}
	final, err := kr.Org(org, retired)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := final.Open(oldCT, ad); !errors.Is(err, envelope.ErrDecrypt) {
		t.Errorf("retired key still opens: err = %v", err)
	}
	if _, err := final.Open(newCT, ad); err != nil {
		t.Errorf("current key no longer opens: %v", err)
	}
}

func TestCiphertextKeyIDRejectsNonTink(t *testing.T) {
	for _, ct := range [][]byte{nil, {1, 2, 3}, {0, 0, 0, 0, 1, 9}} {
		if _, err := envelope.CiphertextKeyID(ct); !errors.Is(err, envelope.ErrDecrypt) {
			t.Errorf("CiphertextKeyID(%x) err = %v, want ErrDecrypt", ct, err)
		}
	}
}
