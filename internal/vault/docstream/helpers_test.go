package docstream_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/streamingaead"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/wardhq/ward/internal/audit/s3test"
	"github.com/wardhq/ward/internal/vault/blob"
	"github.com/wardhq/ward/internal/vault/docstream"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// Plaintext capacities of the first and later segments, written out here
// rather than taken from the package, so a wrong constant there shows.
const (
	firstPlain = 1<<20 - 40 - 16
	plainSeg   = 1<<20 - 16
)

// orgKeys returns a fresh org's keys under a fresh local root.
func orgKeys(t testing.TB) *envelope.OrgKeys {
	t.Helper()
	root, err := envelope.LoadOrCreateLocalRoot(filepath.Join(t.TempDir(), "root.json"))
	if err != nil {
		t.Fatalf("LoadOrCreateLocalRoot: %v", err)
	}
	kr := envelope.NewKeyring(root, envelope.Config{})
	org := uuid.New()
	w, err := kr.NewOrgKeys(org)
	if err != nil {
		t.Fatalf("NewOrgKeys: %v", err)
	}
	keys, err := kr.Org(org, w)
	if err != nil {
		t.Fatalf("Org: %v", err)
	}
	return keys
}

// versionAD is the AD the vault uses for a version's data key.
func versionAD(keys *envelope.OrgKeys) envelope.AD {
	return envelope.AD{Table: "document_versions", Column: "data_key", Org: keys.OrgID(), Row: uuid.New()}
}

// fixture is one data key, its wrapped form and the same key as Tink's own
// primitive, rebuilt from the wrapped bytes independently of docstream.
type fixture struct {
	keys    *envelope.OrgKeys
	ad      envelope.AD
	key     *docstream.DataKey
	wrapped []byte
	tink    tink.StreamingAEAD
}

func newFixture(t testing.TB) fixture {
	t.Helper()
	keys := orgKeys(t)
	ad := versionAD(keys)
	k, wrapped, err := docstream.NewDataKey(keys, ad)
	if err != nil {
		t.Fatalf("NewDataKey: %v", err)
	}
	pt, err := keys.Open(wrapped, ad)
	if err != nil {
		t.Fatalf("open the wrapped key by hand: %v", err)
	}
	h, err := insecurecleartextkeyset.Read(keyset.NewBinaryReader(bytes.NewReader(pt)))
	if err != nil {
		t.Fatalf("parse the wrapped keyset: %v", err)
	}
	sa, err := streamingaead.New(h)
	if err != nil {
		t.Fatalf("streamingaead.New: %v", err)
	}
	return fixture{keys: keys, ad: ad, key: k, wrapped: wrapped, tink: sa}
}

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), 2})
	_, _ = r.Read(b)
	return b
}

// newDir returns a Dir store in a temporary directory.
func newDir(t testing.TB) *blob.Dir {
	t.Helper()
	d, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatalf("NewDir: %v", err)
	}
	return d
}

// newS3 starts a versitygw and returns a store on a fresh bucket.
func newS3(t testing.TB) *blob.S3 {
	t.Helper()
	srv := s3test.Start(t)
	s, err := blob.NewS3(t.Context(), blob.S3Config{
		Endpoint: srv.Host(), Region: s3test.Region, Bucket: "documents",
		AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey, Create: true,
	})
	if err != nil {
		t.Fatalf("NewS3: %v", err)
	}
	return s
}

// raw returns the stored object.
func raw(t testing.TB, s blob.Store, key string) []byte {
	t.Helper()
	rc, err := s.Open(t.Context(), key, 0, -1)
	if err != nil {
		t.Fatalf("Open %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}

// replace overwrites the object at key with b.
func replace(t testing.TB, s blob.Store, key string, b []byte) {
	t.Helper()
	if _, err := s.Put(t.Context(), key, bytes.NewReader(b)); err != nil {
		t.Fatalf("Put %s: %v", key, err)
	}
}

// decryptAll reads [off, off+n) through Decrypt. It returns the bytes read
// before any error, and the error from Decrypt or Read.
func decryptAll(t testing.TB, f fixture, s blob.Store, key string, aad []byte, size, off, n int64) ([]byte, error) {
	t.Helper()
	rc, err := f.key.Decrypt(t.Context(), s, key, aad, size, off, n)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var out bytes.Buffer
	_, err = io.Copy(&out, rc)
	return out.Bytes(), err
}

// tinkDecrypt decrypts a whole object with Tink's own reader.
func tinkDecrypt(f fixture, ct, aad []byte) ([]byte, error) {
	r, err := f.tink.NewDecryptingReader(bytes.NewReader(ct), aad)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// isIntegrity reports whether err is an integrity failure.
func isIntegrity(err error) bool { return errors.Is(err, docstream.ErrIntegrity) }
