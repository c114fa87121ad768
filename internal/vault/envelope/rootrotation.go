package envelope

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"
	"google.golang.org/protobuf/proto"
)

// Rotating a local root key is Tink's three steps on the root keyset file,
// each a separate command because every server's host must have the new
// file before the second:
//
//  1. AddLocalRootKey adds a new AES256-GCM key, not primary: nothing is
//     wrapped under it yet.
//  2. PromoteLocalRootKey makes the newest key primary; then every org
//     keyset is unwrapped and wrapped again under it (Keyring.RewrapOrg,
//     keystore.Store.RewrapRoot). The keys inside the keysets do not
//     change, so no field, blind index or document is touched.
//  3. RetireLocalRootKeys deletes every other key, once no stored keyset is
//     wrapped under one (WrappedRootKeyID says which key wrapped a blob).
//
// A LocalRoot follows its file (Encrypt and a failed Decrypt read it
// again), so on each host it is enough to put the new file in place: after
// add, before rotate, the file with both keys (a server there then unwraps
// the rewrapped keysets); after rotate, before retire, the promoted one
// (until then `ward org create` there wraps new orgs under the old key,
// and retire refuses).
//
// A KMS root rotates in the KMS instead: its key versions play these roles.

// Errors of root rotation.
var (
	// ErrRootNothingToPromote means the newest root key is already primary
	// (run AddLocalRootKey first).
	ErrRootNothingToPromote = errors.New("envelope: the newest root key is already primary; add a key first")
)

// RootKeys describes a local root key file: its keys in the order they were
// added, and the primary's id.
type RootKeys struct {
	Primary uint32
	IDs     []uint32
}

// LocalRootKeys reads the key ids of the root key file at path. Errors are
// those of LoadOrCreateLocalRoot for an existing file.
func LocalRootKeys(path string) (RootKeys, error) {
	h, err := readRootHandle(path)
	if err != nil {
		return RootKeys{}, err
	}
	info := h.KeysetInfo()
	rk := RootKeys{Primary: info.GetPrimaryKeyId()}
	for _, k := range info.GetKeyInfo() {
		rk.IDs = append(rk.IDs, k.GetKeyId())
	}
	return rk, nil
}

// AddLocalRootKey adds a new AES256-GCM key to the root key file at path,
// not primary, and returns its id. The file is replaced atomically with
// mode 0600.
func AddLocalRootKey(path string) (uint32, error) {
	target, err := resolveRootFile(path)
	if err != nil {
		return 0, err
	}
	h, err := readRootHandle(target)
	if err != nil {
		return 0, err
	}
	m := keyset.NewManagerFromHandle(h)
	id, err := m.Add(aead.AES256GCMKeyTemplate())
	if err != nil {
		return 0, fmt.Errorf("envelope: add root key: %w", err)
	}
	return id, writeRootFile(target, m)
}

// PromoteLocalRootKey makes the most recently added key of the root key
// file at path its primary and returns its id. Errors:
// ErrRootNothingToPromote when it is primary already.
func PromoteLocalRootKey(path string) (uint32, error) {
	target, err := resolveRootFile(path)
	if err != nil {
		return 0, err
	}
	h, err := readRootHandle(target)
	if err != nil {
		return 0, err
	}
	info := h.KeysetInfo()
	keys := info.GetKeyInfo()
	newest := keys[len(keys)-1].GetKeyId()
	if newest == info.GetPrimaryKeyId() {
		return 0, ErrRootNothingToPromote
	}
	m := keyset.NewManagerFromHandle(h)
	if err := m.SetPrimary(newest); err != nil {
		return 0, fmt.Errorf("envelope: promote root key %d: %w", newest, err)
	}
	return newest, writeRootFile(target, m)
}

// RetireLocalRootKeys deletes every key but the primary from the root key
// file at path and returns their ids. Blobs wrapped under a deleted key can
// never be unwrapped again: call it only once none is stored
// (WrappedRootKeyID).
func RetireLocalRootKeys(path string) ([]uint32, error) {
	target, err := resolveRootFile(path)
	if err != nil {
		return nil, err
	}
	h, err := readRootHandle(target)
	if err != nil {
		return nil, err
	}
	info := h.KeysetInfo()
	m := keyset.NewManagerFromHandle(h)
	var gone []uint32
	for _, k := range info.GetKeyInfo() {
		if id := k.GetKeyId(); id != info.GetPrimaryKeyId() {
			if err := m.Delete(id); err != nil {
				return nil, fmt.Errorf("envelope: delete root key %d: %w", id, err)
			}
			gone = append(gone, id)
		}
	}
	if len(gone) == 0 {
		return nil, nil
	}
	return gone, writeRootFile(target, m)
}

// WrappedRootKeyID returns the id of the root key that wrapped blob (an
// org keyset as Keyring stores it). Errors wrap ErrUnwrap when blob is not
// a wrapped keyset.
func WrappedRootKeyID(blob []byte) (uint32, error) {
	var ek tinkpb.EncryptedKeyset
	if err := proto.Unmarshal(blob, &ek); err != nil || len(ek.GetEncryptedKeyset()) == 0 {
		return 0, fmt.Errorf("envelope: not a wrapped keyset: %w", ErrUnwrap)
	}
	id, err := CiphertextKeyID(ek.GetEncryptedKeyset())
	if err != nil {
		return 0, fmt.Errorf("envelope: wrapped keyset has no key id: %w", ErrUnwrap)
	}
	return id, nil
}

// resolveRootFile returns the file a root key path names: the target of a
// symbolic link, resolved once, so that the command reads and replaces the
// same file even if the link is changed meanwhile (a link swapped to
// another file between a read and a write could otherwise make a command
// run as root replace any file).
func resolveRootFile(path string) (string, error) {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Errorf("envelope: root key file: %w", err)
	}
	return target, nil
}

// writeRootFile replaces the root key file target (resolveRootFile) with
// m's keyset: a temporary file of mode 0600 beside it, synced, renamed over
// it, and the directory synced, so a crash leaves the old file or the new
// one. Rename replaces the directory entry itself, never what a link put
// there would point to. The new file keeps the old one's owner and group,
// so a command run as root (sudo) does not leave a key file the server's
// user can no longer read.
func writeRootFile(target string, m *keyset.Manager) (err error) {
	h, err := m.Handle()
	if err != nil {
		return fmt.Errorf("envelope: root keyset: %w", err)
	}
	var buf bytes.Buffer
	if err := insecurecleartextkeyset.Write(h, keyset.NewJSONWriter(&buf)); err != nil {
		return fmt.Errorf("envelope: encode root key: %w", err)
	}
	fi, err := os.Lstat(target)
	if err != nil {
		return fmt.Errorf("envelope: root key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("envelope: root key file %s is no longer a regular file: %w", target, ErrRootCorrupt)
	}
	dir := filepath.Dir(target)
	tmp, err := os.CreateTemp(dir, ".root-key-*.tmp")
	if err != nil {
		return fmt.Errorf("envelope: write root key file: %w", err)
	}
	defer func() {
		if rmErr := os.Remove(tmp.Name()); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) && err == nil {
			err = fmt.Errorf("envelope: remove temporary root key file: %w", rmErr)
		}
	}()
	if err := keepOwner(tmp, fi); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("envelope: write root key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("envelope: sync root key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("envelope: close root key file: %w", err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("envelope: install root key file: %w", err)
	}
	return syncDir(dir)
}

// keepOwner gives the new key file tmp the owner and group of the file it
// replaces, when they differ from the process's.
func keepOwner(tmp *os.File, old fs.FileInfo) error {
	st, ok := old.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	uid, gid := int(st.Uid), int(st.Gid)
	if uid == os.Geteuid() && gid == os.Getegid() {
		return nil
	}
	if err := tmp.Chown(uid, gid); err != nil {
		return fmt.Errorf("envelope: the root key file belongs to uid %d gid %d and the new one cannot (run the command as that user or as root): %w", uid, gid, err)
	}
	return nil
}
