package docstream

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"

	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/insecuresecretdataaccess"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/streamingaead"
	"github.com/tink-crypto/tink-go/v2/streamingaead/aesgcmhkdf"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/wardhq/ward/internal/vault/envelope"
)

// DataKey is one document version's streaming key, unwrapped. It is safe
// for concurrent use; its key material never leaves memory.
type DataKey struct {
	sa  tink.StreamingAEAD // Tink's primitive, for writing
	ikm []byte             // the key's input keying material, for reading
	kid uint32
}

// NewDataKey generates a fresh AES256_GCM_HKDF_1MB streaming keyset and
// returns it, with its serialisation sealed under keys bound to ad (the
// caller stores the sealed bytes on the row ad names: table
// "document_versions", column "data_key", the org, the version id). It
// returns the errors of keys.Seal (envelope.ErrInvalidAD,
// envelope.ErrOrgMismatch); no error carries key material.
func NewDataKey(keys *envelope.OrgKeys, ad envelope.AD) (*DataKey, []byte, error) {
	h, err := keyset.NewHandle(streamingaead.AES256GCMHKDF1MBKeyTemplate())
	if err != nil {
		return nil, nil, fmt.Errorf("docstream: generate data key: %w", err)
	}
	k, err := fromHandle(h)
	if err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	if err := insecurecleartextkeyset.Write(h, keyset.NewBinaryWriter(&buf)); err != nil {
		return nil, nil, fmt.Errorf("docstream: serialise data key: %w", err)
	}
	wrapped, err := keys.Seal(buf.Bytes(), ad)
	clear(buf.Bytes())
	if err != nil {
		return nil, nil, fmt.Errorf("docstream: wrap data key: %w", err)
	}
	return k, wrapped, nil
}

// OpenDataKey unseals a data key that NewDataKey wrapped, with the same
// ad. It returns an error wrapping envelope.ErrDecrypt if wrapped was
// altered or sealed for another row, org or key (and the other errors of
// keys.Open), and one wrapping ErrDataKey if it holds anything but one
// AES256_GCM_HKDF_1MB key.
func OpenDataKey(keys *envelope.OrgKeys, wrapped []byte, ad envelope.AD) (*DataKey, error) {
	pt, err := keys.Open(wrapped, ad)
	if err != nil {
		return nil, fmt.Errorf("docstream: open data key: %w", err)
	}
	defer clear(pt)
	h, err := insecurecleartextkeyset.Read(keyset.NewBinaryReader(bytes.NewReader(pt)))
	if err != nil {
		return nil, fmt.Errorf("docstream: data key of row %s does not parse: %w", ad.Row, ErrDataKey)
	}
	return fromHandle(h)
}

// fromHandle checks that h holds exactly the one key of the format this
// package reads, and builds a DataKey.
func fromHandle(h *keyset.Handle) (*DataKey, error) {
	if h.Len() != 1 {
		return nil, fmt.Errorf("docstream: keyset holds %d keys, not 1: %w", h.Len(), ErrDataKey)
	}
	e, err := h.Primary()
	if err != nil {
		return nil, fmt.Errorf("docstream: keyset has no primary key: %w", ErrDataKey)
	}
	key, ok := e.Key().(*aesgcmhkdf.Key)
	if !ok {
		return nil, fmt.Errorf("docstream: keyset holds a %T: %w", e.Key(), ErrDataKey)
	}
	p, ok := key.Parameters().(*aesgcmhkdf.Parameters)
	if !ok || p.KeySizeInBytes() != keySize || p.DerivedKeySizeInBytes() != keySize ||
		p.HKDFHashType() != aesgcmhkdf.SHA256 || p.SegmentSizeInBytes() != SegmentSize {
		return nil, fmt.Errorf("docstream: keyset's key is not AES256_GCM_HKDF_1MB: %w", ErrDataKey)
	}
	sa, err := streamingaead.New(h)
	if err != nil {
		return nil, fmt.Errorf("docstream: streaming primitive: %w", err)
	}
	return &DataKey{
		sa:  sa,
		ikm: key.KeyBytes().Data(insecuresecretdataaccess.Token{}),
		kid: e.KeyID(),
	}, nil
}

// LogValue reports the Tink key id only, never key material. It never
// fails.
func (k *DataKey) LogValue() slog.Value {
	return slog.GroupValue(slog.Uint64("key_id", uint64(k.kid)))
}

// Encrypt returns a writer that encrypts what is written to it into dst,
// bound to aad, with Tink's own streaming writer. Close writes the final
// segment (it does not close dst); an object without it does not decrypt.
// Errors come from dst.
func (k *DataKey) Encrypt(dst io.Writer, aad []byte) (io.WriteCloser, error) {
	w, err := k.sa.NewEncryptingWriter(dst, aad)
	if err != nil {
		return nil, fmt.Errorf("docstream: encrypt: %w", err)
	}
	return w, nil
}

// segmentCipher derives the AES-GCM of one object from its salt and aad,
// exactly as Tink's AESGCMHKDF does.
func (k *DataKey) segmentCipher(salt, aad []byte) (cipher.AEAD, error) {
	dk, err := hkdf.Key(sha256.New, k.ikm, salt, string(aad), keySize)
	if err != nil {
		return nil, fmt.Errorf("docstream: derive segment key: %w", err)
	}
	defer clear(dk)
	block, err := aes.NewCipher(dk)
	if err != nil {
		return nil, fmt.Errorf("docstream: segment cipher: %w", err)
	}
	return cipher.NewGCM(block)
}
