package docstream_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/vault/blob"
	"github.com/wardhq/ward/internal/vault/docstream"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// The upload and download of one document version, as the vault does
// them: a fresh data key wrapped onto the version's row, the object
// written before the row is committed, and a Range read.
func Example() {
	ctx := context.Background()
	dataDir, _ := os.MkdirTemp("", "ward-example-")
	defer os.RemoveAll(dataDir)

	// Keys: the root, the org's keys (normally from the key store).
	root, _ := envelope.LoadOrCreateLocalRoot(filepath.Join(dataDir, "root.json"))
	keyring := envelope.NewKeyring(root, envelope.Config{})
	org := uuid.New()
	wrappedOrg, _ := keyring.NewOrgKeys(org)
	orgKeys, _ := keyring.Org(org, wrappedOrg)

	store, _ := blob.NewDir(filepath.Join(dataDir, "blobs"))
	caseID, docID, versionID := uuid.New(), uuid.New(), uuid.New()
	keyAD := envelope.AD{Table: "document_versions", Column: "data_key", Org: org, Row: versionID}
	aad := docstream.AAD(org, caseID, docID, versionID)
	objectKey := blob.ObjectKey(org, uuid.New())

	// Upload: encrypt the body into the store; only then commit the row
	// (wrapped key, object key, size).
	key, wrapped, err := docstream.NewDataKey(orgKeys, keyAD)
	if err != nil {
		fmt.Println(err)
		return
	}
	size, err := key.Put(ctx, store, objectKey, aad, strings.NewReader("Claim 4711: lumbar strain, off work 2 weeks."))
	if err != nil {
		fmt.Println(err)
		return
	}

	// Download of "Range: bytes=12-24": unwrap the key from the row, read
	// only the segments that hold the range.
	key, err = docstream.OpenDataKey(orgKeys, wrapped, keyAD)
	if err != nil {
		fmt.Println(err)
		return
	}
	rc, err := key.Decrypt(ctx, store, objectKey, aad, size, 12, 13)
	if err != nil {
		fmt.Println(err) // errors.Is(err, docstream.ErrIntegrity): a tampered object
		return
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	fmt.Printf("%d bytes stored for %d; range: %q, %v\n", docstream.CiphertextSize(size), size, b, err)
	// Output: 100 bytes stored for 44; range: "lumbar strain", <nil>
}
