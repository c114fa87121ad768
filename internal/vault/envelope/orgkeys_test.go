package envelope_test

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/vault/envelope"
)

func TestSealOpenRoundTrip(t *testing.T) {
	kr := envelope.NewKeyring(newRoot(t), envelope.Config{})
	org, _, keys := newOrg(t, kr)
	tests := []struct {
		name      string
		plaintext []byte
	}{
		{"empty", []byte{}},
		{"one byte", []byte{0}},
		{"name", []byte("Jane Q. Patient")},
		{"unicode", []byte("Zoë Ångström 山田")},
		{"256 bytes", bytes.Repeat([]byte{0xa5}, 256)},
		{"64 KiB", bytes.Repeat([]byte("x"), 64<<10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ad := envelope.AD{Table: "patients", Column: "name", Org: org, Row: uuid.New()}
			ct, err := keys.Seal(tt.plaintext, ad)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if len(tt.plaintext) > 4 && bytes.Contains(ct, tt.plaintext) {
				t.Fatal("ciphertext contains the plaintext")
			}
			got, err := keys.Open(ct, ad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if diff := cmp.Diff(tt.plaintext, got); diff != "" {
				t.Errorf("Open mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSealIsRandomised(t *testing.T) {
	kr := envelope.NewKeyring(newRoot(t), envelope.Config{})
	org, _, keys := newOrg(t, kr)
	ad := envelope.AD{Table: "patients", Column: "name", Org: org, Row: uuid.New()}
	a, err := keys.Seal([]byte("same"), ad)
	if err != nil {
		t.Fatal(err)
	}
	b, err := keys.Seal([]byte("same"), ad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Error("two seals of the same value gave the same ciphertext")
	}
}

func TestOpenRejectsOtherCell(t *testing.T) {
	kr := envelope.NewKeyring(newRoot(t), envelope.Config{})
	org, _, keys := newOrg(t, kr)
	base := envelope.AD{Table: "patients", Column: "name", Org: org, Row: uuid.New()}
	plaintext := []byte("Jane Q. Patient")
	ct, err := keys.Seal(plaintext, base)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		mutate  func(*envelope.AD)
		wantErr error
	}{
		{"other table", func(ad *envelope.AD) { ad.Table = "contacts" }, envelope.ErrDecrypt},
		{"other column", func(ad *envelope.AD) { ad.Column = "email" }, envelope.ErrDecrypt},
		{"other row", func(ad *envelope.AD) { ad.Row = uuid.New() }, envelope.ErrDecrypt},
		// The org is checked against the keys before any decryption.
		{"other org", func(ad *envelope.AD) { ad.Org = uuid.New() }, envelope.ErrOrgMismatch},
		// Moving bytes between table and column must not give the same AD.
		{"table/column boundary", func(ad *envelope.AD) { ad.Table, ad.Column = "patientsn", "ame" }, envelope.ErrDecrypt},
		{"case of table", func(ad *envelope.AD) { ad.Table = "Patients" }, envelope.ErrDecrypt},
		{"empty table", func(ad *envelope.AD) { ad.Table = "" }, envelope.ErrInvalidAD},
		{"empty column", func(ad *envelope.AD) { ad.Column = "" }, envelope.ErrInvalidAD},
		{"nil row", func(ad *envelope.AD) { ad.Row = uuid.Nil }, envelope.ErrInvalidAD},
		{"nil org", func(ad *envelope.AD) { ad.Org = uuid.Nil }, envelope.ErrInvalidAD},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ad := base
			tt.mutate(&ad)
			got, err := keys.Open(ct, ad)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open error = %v, want %v", err, tt.wantErr)
			}
			if got != nil {
				t.Errorf("Open returned %d bytes alongside an error", len(got))
			}
			if strings.Contains(err.Error(), string(plaintext)) {
				t.Errorf("error %q contains the plaintext", err)
			}
		})
	}
}

func TestSealRejectsBadAD(t *testing.T) {
	kr := envelope.NewKeyring(newRoot(t), envelope.Config{})
	org, _, keys := newOrg(t, kr)
	tests := []struct {
		name    string
		ad      envelope.AD
		wantErr error
	}{
		{"zero", envelope.AD{}, envelope.ErrInvalidAD},
		{"no row", envelope.AD{Table: "t", Column: "c", Org: org}, envelope.ErrInvalidAD},
		{"other org", envelope.AD{Table: "t", Column: "c", Org: uuid.New(), Row: uuid.New()}, envelope.ErrOrgMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := keys.Seal([]byte("x"), tt.ad); !errors.Is(err, tt.wantErr) {
				t.Errorf("Seal error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestOpenRejectsOtherOrgKeys(t *testing.T) {
	kr := envelope.NewKeyring(newRoot(t), envelope.Config{})
	orgA, _, keysA := newOrg(t, kr)
	orgB, _, keysB := newOrg(t, kr)
	row := uuid.New()
	ct, err := keysA.Seal([]byte("secret"), envelope.AD{Table: "t", Column: "c", Org: orgA, Row: row})
	if err != nil {
		t.Fatal(err)
	}
	// Copied into org B's row with the same ids: B's keys must not open it.
	if _, err := keysB.Open(ct, envelope.AD{Table: "t", Column: "c", Org: orgB, Row: row}); !errors.Is(err, envelope.ErrDecrypt) {
		t.Errorf("org B keys opened org A ciphertext: err = %v, want ErrDecrypt", err)
	}
	// Org B's keys with org A's AD are refused before decryption.
	if _, err := keysB.Open(ct, envelope.AD{Table: "t", Column: "c", Org: orgA, Row: row}); !errors.Is(err, envelope.ErrOrgMismatch) {
		t.Errorf("err = %v, want ErrOrgMismatch", err)
	}
}

func TestOpenRejectsTamperedCiphertext(t *testing.T) {
	kr := envelope.NewKeyring(newRoot(t), envelope.Config{})
	org, _, keys := newOrg(t, kr)
	ad := envelope.AD{Table: "patients", Column: "dob", Org: org, Row: uuid.New()}
	ct, err := keys.Seal([]byte("1970-01-01"), ad)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func([]byte) []byte
	}{
		{"nil", func([]byte) []byte { return nil }},
		{"truncated by one", func(b []byte) []byte { return b[:len(b)-1] }},
		{"prefix only", func(b []byte) []byte { return b[:5] }},
		{"appended byte", func(b []byte) []byte { return append(b, 0) }},
	}
	// Flip one bit in every byte position: key-id prefix, nonce, body, tag.
	for i := range ct {
		tests = append(tests, struct {
			name   string
			mutate func([]byte) []byte
		}{name: "bit flip at " + strconv.Itoa(i), mutate: func(b []byte) []byte { b[i] ^= 0x01; return b }})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := tt.mutate(bytes.Clone(ct))
			if _, err := keys.Open(bad, ad); !errors.Is(err, envelope.ErrDecrypt) {
				t.Errorf("Open error = %v, want ErrDecrypt", err)
			}
		})
	}
}

func TestBlindIndex(t *testing.T) {
	root := newRoot(t)
	kr := envelope.NewKeyring(root, envelope.Config{})
	orgA, wA, keysA := newOrg(t, kr)
	_, _, keysB := newOrg(t, kr)

	a1 := keysA.BlindIndex("patients.email", "jane@example.com")
	if len(a1) != envelope.BlindIndexSize {
		t.Fatalf("len = %d, want %d", len(a1), envelope.BlindIndexSize)
	}
	// Deterministic, also across a fresh unwrap on another keyring.
	again, err := envelope.NewKeyring(root, envelope.Config{CacheSize: -1}).Org(orgA, wA)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a1, again.BlindIndex("patients.email", "jane@example.com")); diff != "" {
		t.Errorf("blind index not deterministic (-first +second):\n%s", diff)
	}

	others := map[string][]byte{
		"other org":            keysB.BlindIndex("patients.email", "jane@example.com"),
		"other field":          keysA.BlindIndex("contacts.email", "jane@example.com"),
		"other value":          keysA.BlindIndex("patients.email", "john@example.com"),
		"field/value boundary": keysA.BlindIndex("patients.emailj", "ane@example.com"),
		"unnormalised value":   keysA.BlindIndex("patients.email", "Jane@example.com"),
	}
	for name, got := range others {
		if bytes.Equal(a1, got) {
			t.Errorf("%s: blind index collides with the original", name)
		}
	}
}
