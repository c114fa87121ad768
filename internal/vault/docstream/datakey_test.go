package docstream_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"
	"github.com/tink-crypto/tink-go/v2/streamingaead"

	"github.com/wardhq/ward/internal/vault/blob"
	"github.com/wardhq/ward/internal/vault/docstream"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// TestDataKeyWrap round-trips a data key through its wrapped form and
// checks every way of opening it wrongly.
func TestDataKeyWrap(t *testing.T) {
	f := newFixture(t)
	t.Logf("wrapped data key: %d bytes", len(f.wrapped))
	opened, err := docstream.OpenDataKey(f.keys, f.wrapped, f.ad)
	if err != nil {
		t.Fatalf("OpenDataKey: %v", err)
	}
	// Each decrypts what the other wrote.
	s := newDir(t)
	plain := randomBytes(13, firstPlain+10)
	for _, c := range []struct {
		name     string
		enc, dec *docstream.DataKey
	}{{"new→opened", f.key, opened}, {"opened→new", opened, f.key}} {
		key := blob.ObjectKey(f.keys.OrgID(), uuid.New())
		if _, err := c.enc.Put(t.Context(), s, key, []byte("a"), bytes.NewReader(plain)); err != nil {
			t.Fatal(err)
		}
		got, err := decryptAll(t, fixture{key: c.dec}, s, key, []byte("a"), int64(len(plain)), 0, -1)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%s: %d bytes, %v", c.name, len(got), err)
		}
	}

	other := orgKeys(t)
	wrongAD := func(edit func(*envelope.AD)) envelope.AD { ad := f.ad; edit(&ad); return ad }
	tampered := bytes.Clone(f.wrapped)
	tampered[len(tampered)/2] ^= 1
	for _, c := range []struct {
		name    string
		keys    *envelope.OrgKeys
		wrapped []byte
		ad      envelope.AD
		want    error
	}{
		{"other row", f.keys, f.wrapped, wrongAD(func(ad *envelope.AD) { ad.Row = uuid.New() }), envelope.ErrDecrypt},
		{"other column", f.keys, f.wrapped, wrongAD(func(ad *envelope.AD) { ad.Column = "file_name" }), envelope.ErrDecrypt},
		{"other table", f.keys, f.wrapped, wrongAD(func(ad *envelope.AD) { ad.Table = "documents" }), envelope.ErrDecrypt},
		{"other org's keys", other, f.wrapped, wrongAD(func(ad *envelope.AD) { ad.Org = other.OrgID() }), envelope.ErrDecrypt},
		{"other org's keys, our AD", other, f.wrapped, f.ad, envelope.ErrOrgMismatch},
		{"tampered", f.keys, tampered, f.ad, envelope.ErrDecrypt},
		{"truncated", f.keys, f.wrapped[:len(f.wrapped)-1], f.ad, envelope.ErrDecrypt},
		{"empty", f.keys, nil, f.ad, envelope.ErrDecrypt},
		{"incomplete AD", f.keys, f.wrapped, wrongAD(func(ad *envelope.AD) { ad.Row = uuid.Nil }), envelope.ErrInvalidAD},
	} {
		if _, err := docstream.OpenDataKey(c.keys, c.wrapped, c.ad); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, _, err := docstream.NewDataKey(f.keys, wrongAD(func(ad *envelope.AD) { ad.Table = "" })); !errors.Is(err, envelope.ErrInvalidAD) {
		t.Errorf("NewDataKey with an incomplete AD: %v, want envelope.ErrInvalidAD", err)
	}
	if _, _, err := docstream.NewDataKey(other, f.ad); !errors.Is(err, envelope.ErrOrgMismatch) {
		t.Errorf("NewDataKey with another org's AD: %v, want envelope.ErrOrgMismatch", err)
	}
}

// sealKeyset serialises h and seals it as a data key would be.
func sealKeyset(t *testing.T, keys *envelope.OrgKeys, ad envelope.AD, h *keyset.Handle) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := insecurecleartextkeyset.Write(h, keyset.NewBinaryWriter(&buf)); err != nil {
		t.Fatal(err)
	}
	w, err := keys.Seal(buf.Bytes(), ad)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestDataKeyShape checks that only a keyset of exactly one
// AES256_GCM_HKDF_1MB key opens as a data key, even when it is sealed
// correctly.
func TestDataKeyShape(t *testing.T) {
	keys := orgKeys(t)
	ad := versionAD(keys)
	handle := func(templates ...*tinkpb.KeyTemplate) *keyset.Handle {
		m := keyset.NewManager()
		for i, tp := range templates {
			id, err := m.Add(tp)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				if err := m.SetPrimary(id); err != nil {
					t.Fatal(err)
				}
			}
		}
		h, err := m.Handle()
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	good := streamingaead.AES256GCMHKDF1MBKeyTemplate()
	for _, c := range []struct {
		name string
		h    *keyset.Handle
	}{
		{"two streaming keys", handle(good, good)},
		{"AES128_GCM_HKDF_1MB", handle(streamingaead.AES128GCMHKDF1MBKeyTemplate())},
		{"AES256_GCM_HKDF_4KB", handle(streamingaead.AES256GCMHKDF4KBKeyTemplate())},
		{"AES-CTR-HMAC streaming", handle(streamingaead.AES256CTRHMACSHA256Segment1MBKeyTemplate())},
		{"AES-GCM AEAD", handle(aead.AES256GCMKeyTemplate())},
	} {
		if _, err := docstream.OpenDataKey(keys, sealKeyset(t, keys, ad, c.h), ad); !errors.Is(err, docstream.ErrDataKey) {
			t.Errorf("%s: %v, want ErrDataKey", c.name, err)
		}
	}
	junk, err := keys.Seal([]byte("not a keyset"), ad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := docstream.OpenDataKey(keys, junk, ad); !errors.Is(err, docstream.ErrDataKey) {
		t.Errorf("sealed junk: %v, want ErrDataKey", err)
	}
	// The control: one good key opens.
	if _, err := docstream.OpenDataKey(keys, sealKeyset(t, keys, ad, handle(good)), ad); err != nil {
		t.Errorf("one AES256_GCM_HKDF_1MB key: %v", err)
	}
}
