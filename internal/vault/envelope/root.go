package envelope

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// Root is the key-encryption key at the top of the hierarchy: it wraps and
// unwraps per-org keysets and nothing else. Its method set is exactly
// tink.AEAD, so a KMS-backed AEAD (tink-go-awskms, -gcpkms, -hcvault) is a
// Root as it stands; *LocalRoot is the self-hosted default.
//
// Encrypt and Decrypt must bind associatedData; Decrypt must return an error
// for any ciphertext that was not produced by Encrypt with the same
// associatedData under one of the root's keys.
type Root interface {
	Encrypt(plaintext, associatedData []byte) ([]byte, error)
	Decrypt(ciphertext, associatedData []byte) ([]byte, error)
}

// Type URLs of the only key types this package accepts in each keyset.
const (
	aesGCMTypeURL  = "type.googleapis.com/google.crypto.tink.AesGcmKey"
	hmacPRFTypeURL = "type.googleapis.com/google.crypto.tink.HmacPrfKey"
)

// rootFileMode is the only permission set (or a subset of it) that
// LoadOrCreateLocalRoot accepts on the key file.
const rootFileMode fs.FileMode = 0o600

// LocalRoot is a root key held in a cleartext Tink AES256-GCM keyset file on
// local disk. It is the embedded default; production deployments should use a
// KMS root. A LocalRoot is safe for concurrent use.
//
// It follows its file: before every Encrypt, and after a Decrypt that
// failed, it reads the file again and installs the keys when the bytes
// changed (rootrotation.go). Both are rare (a keyset is wrapped when an org
// is created, at a server's first start and in rotations, and unwrapped
// once per cache miss), so the read costs nothing a request would notice.
type LocalRoot struct {
	path string
	aead atomic.Pointer[tink.AEAD]
	log  atomic.Pointer[slog.Logger]

	// mu serialises re-reads. raw is the file as last read (nil when it
	// could not be read); bad, when not nil, says it does not load, and
	// Encrypt refuses until it does. quiet is when a failed unwrap last
	// found the file unchanged: further misses within rootMissEvery do not
	// read it again.
	mu    sync.Mutex
	raw   []byte
	bad   error
	quiet time.Time
}

// rootMissEvery bounds how often failed unwraps that find the key file
// unchanged read it.
const rootMissEvery = time.Second

// LoadOrCreateLocalRoot loads the root keyset at path or, when no file exists
// there, creates one: the parent directory with mode 0700 and the file with
// mode 0600, written to a temporary file, synced and then linked into place,
// so a crash never leaves a half-written key file and two processes starting
// at once end up sharing one key.
//
// It returns an error wrapping ErrRootFileMode if the existing file grants any
// permission outside 0600, and one wrapping ErrRootCorrupt if the file is not
// a Tink keyset made only of AES-GCM keys. Other errors are I/O errors
// (wrapping the fs error) naming the path.
func LoadOrCreateLocalRoot(path string) (*LocalRoot, error) {
	r, err := loadLocalRoot(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return r, err
	}
	if err := createLocalRoot(path); err != nil {
		return nil, err
	}
	return loadLocalRoot(path)
}

// Path returns the file the root key was loaded from. It never fails.
func (r *LocalRoot) Path() string { return r.path }

// SetLogger makes r report there a key file that changed but no longer
// loads (the keys in memory stay in use). Without one such reports go to
// slog.Default. It never fails.
func (r *LocalRoot) SetLogger(l *slog.Logger) { r.log.Store(l) }

// LogValue reports the key file path only, never key material. It never
// fails.
func (r *LocalRoot) LogValue() slog.Value {
	return slog.GroupValue(slog.String("path", r.path))
}

// Encrypt wraps plaintext under the primary root key, binding
// associatedData, after reading the key file again: once `ward keys root
// rotate` has promoted a key (and the promoted file is on this host), the
// next wrap uses it, even in a process that already held that key. While
// the file is missing or does not load, Encrypt refuses (wrapping under
// keys the file no longer holds could make the keyset unrecoverable).
// Errors come from Tink or name the file, and carry no plaintext.
func (r *LocalRoot) Encrypt(plaintext, associatedData []byte) ([]byte, error) {
	if err := r.follow(false); err != nil {
		return nil, err
	}
	return (*r.aead.Load()).Encrypt(plaintext, associatedData)
}

// Decrypt unwraps a ciphertext produced by Encrypt with the same
// associatedData. Errors come from Tink and carry no plaintext.
//
// A ciphertext that does not decrypt makes it read the key file again and,
// if other keys are installed by then (by this call or a concurrent one),
// try once more: after `ward keys root add` and `rotate` a running server
// unwraps the keysets rewrapped under the new key with no restart. The
// keys in memory keep unwrapping while the file does not load.
func (r *LocalRoot) Decrypt(ciphertext, associatedData []byte) ([]byte, error) {
	a := r.aead.Load()
	pt, err := (*a).Decrypt(ciphertext, associatedData)
	if err == nil {
		return pt, nil
	}
	_ = r.follow(true)
	if b := r.aead.Load(); b != a {
		return (*b).Decrypt(ciphertext, associatedData)
	}
	return nil, err
}

// follow reads the key file and installs its keys when its bytes differ
// from the last read; miss says a failed unwrap asks. It returns an error
// while the file is missing or does not load (logged once per change), the
// keys in memory staying installed.
func (r *LocalRoot) follow(miss bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if miss && time.Since(r.quiet) < rootMissEvery {
		return r.bad
	}
	data, err := readRootFile(r.path)
	switch {
	case err == nil && bytes.Equal(data, r.raw):
		if miss {
			r.quiet = time.Now()
		}
		return r.bad
	case err == nil:
		r.raw = data
		var a tink.AEAD
		if a, err = rootAEAD(r.path, data); err == nil {
			r.aead.Store(&a)
			r.bad = nil
			return nil
		}
	case r.raw == nil && r.bad != nil:
		return r.bad // still unreadable: reported already
	default:
		r.raw = nil
	}
	r.bad = fmt.Errorf("envelope: the root key file changed and does not load, so nothing is wrapped until it does: %w", err)
	l := r.log.Load()
	if l == nil {
		l = slog.Default()
	}
	l.Warn("root key file changed but does not load; unwrapping with the keys in memory, wrapping refused", "root", r, "err", err)
	return r.bad
}

// loadLocalRoot reads and checks an existing root key file. A missing file
// yields an error wrapping fs.ErrNotExist.
func loadLocalRoot(path string) (*LocalRoot, error) {
	data, err := readRootFile(path)
	if err != nil {
		return nil, err
	}
	a, err := rootAEAD(path, data)
	if err != nil {
		return nil, err
	}
	r := &LocalRoot{path: path, raw: data}
	r.aead.Store(&a)
	return r, nil
}

// rootAEAD is the AEAD of the root keyset data, read from path.
func rootAEAD(path string, data []byte) (tink.AEAD, error) {
	h, err := parseRootHandle(path, data)
	if err != nil {
		return nil, err
	}
	a, err := aead.New(h)
	if err != nil {
		return nil, fmt.Errorf("envelope: root key file %s has no usable primary key: %w", path, ErrRootCorrupt)
	}
	return a, nil
}

// readRootHandle reads the root keyset at path after checking it is a
// regular file of mode 0600 or narrower holding only AES-GCM keys.
func readRootHandle(path string) (*keyset.Handle, error) {
	data, err := readRootFile(path)
	if err != nil {
		return nil, err
	}
	return parseRootHandle(path, data)
}

// readRootFile reads the root key file at path after checking it is a
// regular file of mode 0600 or narrower.
func readRootFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("envelope: root key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("envelope: root key file %s is not a regular file: %w", path, ErrRootCorrupt)
	}
	if perm := fi.Mode().Perm(); perm&^rootFileMode != 0 {
		return nil, fmt.Errorf("envelope: root key file %s has mode %#o, want 0600 (chmod 600 it): %w", path, perm, ErrRootFileMode)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("envelope: root key file: %w", err)
	}
	return data, nil
}

// parseRootHandle parses data, read from path, as a keyset of AES-GCM keys
// only.
func parseRootHandle(path string, data []byte) (*keyset.Handle, error) {
	// Tink's parse errors may quote the file, and the file is the key: report
	// only which check failed.
	h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(data)))
	if err != nil {
		return nil, fmt.Errorf("envelope: root key file %s is not a JSON Tink keyset: %w", path, ErrRootCorrupt)
	}
	if !onlyKeyType(h, aesGCMTypeURL) {
		return nil, fmt.Errorf("envelope: root key file %s holds keys other than AES-GCM: %w", path, ErrRootCorrupt)
	}
	return h, nil
}

// createLocalRoot writes a fresh AES256-GCM keyset to path without ever
// exposing a partial file there. If another process wins the race to create
// path, its key is kept and this one discarded.
func createLocalRoot(path string) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("envelope: create root key directory: %w", err)
	}
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return fmt.Errorf("envelope: generate root key: %w", err)
	}
	var buf bytes.Buffer
	if err := insecurecleartextkeyset.Write(h, keyset.NewJSONWriter(&buf)); err != nil {
		return fmt.Errorf("envelope: encode root key: %w", err)
	}

	// os.CreateTemp creates the file with mode 0600.
	tmp, err := os.CreateTemp(dir, ".root-key-*.tmp")
	if err != nil {
		return fmt.Errorf("envelope: create root key file: %w", err)
	}
	defer func() {
		if rmErr := os.Remove(tmp.Name()); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) && err == nil {
			err = fmt.Errorf("envelope: remove temporary root key file: %w", rmErr)
		}
	}()
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

	// A hard link publishes the complete file atomically and, unlike rename,
	// refuses to replace a key another process has just created (replacing
	// it would orphan everything already wrapped under that key). Where the
	// filesystem has no hard links, fall back to rename after re-checking.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil
		}
		if _, statErr := os.Lstat(path); statErr == nil {
			return nil
		}
		if err := os.Rename(tmp.Name(), path); err != nil {
			return fmt.Errorf("envelope: install root key file: %w", err)
		}
	}
	return syncDir(dir)
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("envelope: sync root key directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("envelope: sync root key directory: %w", err)
	}
	return nil
}

// onlyKeyType reports whether every key in h has the given type URL.
func onlyKeyType(h *keyset.Handle, typeURL string) bool {
	info := h.KeysetInfo().GetKeyInfo()
	if len(info) == 0 {
		return false
	}
	for _, k := range info {
		if k.GetTypeUrl() != typeURL {
			return false
		}
	}
	return true
}
