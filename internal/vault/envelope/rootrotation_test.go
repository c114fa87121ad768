package envelope_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/uuid"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/mac"

	"github.com/wardhq/ward/internal/vault/envelope"
)

// TestLocalRootRotation: the three steps on a root key file. After add the
// old primary still wraps and both keys unwrap; after promote the keysets
// rewrap under the new key, which a copy of the file taken before add
// cannot unwrap (why every host needs the new file) while a root loaded
// before add re-reads its file and can; after retire a blob
// still under the old key no longer unwraps and the rewrapped one does;
// the file stays 0600 throughout; the keys inside never change.
func TestLocalRootRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.json")
	root, err := envelope.LoadOrCreateLocalRoot(path)
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	oldFile := filepath.Join(t.TempDir(), "old-root.json")
	if err := os.WriteFile(oldFile, before, 0o600); err != nil {
		t.Fatal(err)
	}
	org := uuid.New()
	ring := envelope.NewKeyring(root, envelope.Config{})
	w, err := ring.NewOrgKeys(org)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ring.Org(org, w)
	if err != nil {
		t.Fatal(err)
	}
	ad := envelope.AD{Table: "t", Column: "c", Org: org, Row: org}
	sealed, err := keys.Seal([]byte("fact"), ad)
	if err != nil {
		t.Fatal(err)
	}
	rk, err := envelope.LocalRootKeys(path)
	if err != nil || len(rk.IDs) != 1 {
		t.Fatalf("keys %+v, %v", rk, err)
	}
	oldID := rk.Primary
	if id, err := envelope.WrappedRootKeyID(w.AEAD); err != nil || id != oldID {
		t.Fatalf("wrapped under %d (%v), want %d", id, err, oldID)
	}
	if _, err := envelope.PromoteLocalRootKey(path); !errors.Is(err, envelope.ErrRootNothingToPromote) {
		t.Fatalf("promote with one key: %v", err)
	}

	newID, err := envelope.AddLocalRootKey(path)
	if err != nil {
		t.Fatal(err)
	}
	rk, _ = envelope.LocalRootKeys(path)
	if rk.Primary != oldID || !slices.Equal(rk.IDs, []uint32{oldID, newID}) {
		t.Fatalf("after add: %+v", rk)
	}
	mode := func() os.FileMode {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	if m := mode(); m != 0o600 {
		t.Fatalf("mode after add %#o", m)
	}

	// A server started after add holds both keys with the old one primary:
	// it never misses an unwrap, so it must see the promotion in its file.
	both, err := envelope.LoadOrCreateLocalRoot(path)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := envelope.PromoteLocalRootKey(path); err != nil || id != newID {
		t.Fatalf("promote: %d, %v", id, err)
	}
	if w2, err := envelope.NewKeyring(both, envelope.Config{}).NewOrgKeys(uuid.New()); err != nil {
		t.Fatal(err)
	} else if id, _ := envelope.WrappedRootKeyID(w2.AEAD); id != newID {
		t.Fatalf("a root holding both keys wraps a new org under %d after promote, want %d", id, newID)
	}
	promoted, err := envelope.LoadOrCreateLocalRoot(path)
	if err != nil {
		t.Fatal(err)
	}
	pring := envelope.NewKeyring(promoted, envelope.Config{})
	nw, err := pring.RewrapOrgUnderRoot(org, w)
	if err != nil {
		t.Fatal(err)
	}
	for _, blob := range [][]byte{nw.AEAD, nw.PRF} {
		if id, err := envelope.WrappedRootKeyID(blob); err != nil || id != newID {
			t.Fatalf("rewrapped under %d (%v), want %d", id, err, newID)
		}
	}
	// A server that loaded the file before add re-reads it when it meets
	// the rewrapped keyset, then wraps under the new primary.
	if _, err := envelope.NewKeyring(root, envelope.Config{}).Org(org, nw); err != nil {
		t.Fatalf("a running root did not pick up the new key: %v", err)
	}
	if w2, err := ring.NewOrgKeys(uuid.New()); err != nil {
		t.Fatal(err)
	} else if id, _ := envelope.WrappedRootKeyID(w2.AEAD); id != newID {
		t.Fatalf("after the reload a new org is wrapped under %d, want %d", id, newID)
	}
	// A server whose file is still the one from before add cannot.
	stale, err := envelope.LoadOrCreateLocalRoot(oldFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := envelope.NewKeyring(stale, envelope.Config{}).Org(org, nw); !errors.Is(err, envelope.ErrUnwrap) {
		t.Fatalf("old file unwrapped the rewrapped keyset: %v", err)
	}

	gone, err := envelope.RetireLocalRootKeys(path)
	if err != nil || !slices.Equal(gone, []uint32{oldID}) {
		t.Fatalf("retire: %v, %v", gone, err)
	}
	if m := mode(); m != 0o600 {
		t.Fatalf("mode after retire %#o", m)
	}
	retired, err := envelope.LoadOrCreateLocalRoot(path)
	if err != nil {
		t.Fatal(err)
	}
	rring := envelope.NewKeyring(retired, envelope.Config{})
	if _, err := rring.Org(org, w); !errors.Is(err, envelope.ErrUnwrap) {
		t.Fatalf("a keyset under the retired key still unwraps: %v", err)
	}
	k2, err := rring.Org(org, nw)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := k2.Open(sealed, ad); err != nil || !bytes.Equal(pt, []byte("fact")) {
		t.Fatalf("a field sealed before the rotation: %q, %v", pt, err)
	}
	if _, err := envelope.WrappedRootKeyID([]byte("not a keyset")); !errors.Is(err, envelope.ErrUnwrap) {
		t.Fatalf("garbage: %v", err)
	}
	if gone, err := envelope.RetireLocalRootKeys(path); err != nil || gone != nil {
		t.Fatalf("retire with one key: %v, %v", gone, err)
	}
}

// TestLocalRootFollowsFile: roots loaded before a key was added, meeting a
// blob wrapped under it at once, all unwrap it (whichever goroutine read
// the file); a file that turns unreadable keeps the keys in memory and is
// reported once; a symbolic link stays a link, and the file keeps its
// owner.
func TestLocalRootFollowsFile(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "keys", "root.json")
	if _, err := envelope.LoadOrCreateLocalRoot(real); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "root-key.json")
	if err := os.Symlink(real, path); err != nil {
		t.Fatal(err)
	}
	stale, err := envelope.LoadOrCreateLocalRoot(path)
	if err != nil {
		t.Fatal(err)
	}
	owned := os.Geteuid() == 0
	if owned {
		if err := os.Chown(real, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	newID, err := envelope.AddLocalRootKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := envelope.PromoteLocalRootKey(path); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v, %v", fi.Mode(), err)
	}
	if rk, err := envelope.LocalRootKeys(real); err != nil || rk.Primary != newID {
		t.Fatalf("target: %+v, %v", rk, err)
	}
	if owned {
		fi, err := os.Stat(real)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 65534 || st.Gid != 65534 {
			t.Fatalf("owner became %d:%d", st.Uid, st.Gid)
		}
	}

	promoted, err := envelope.LoadOrCreateLocalRoot(path)
	if err != nil {
		t.Fatal(err)
	}
	ad := []byte("ad")
	blob, err := promoted.Encrypt([]byte("keyset"), ad)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := stale.Decrypt(blob, ad)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a concurrent unwrap failed: %v", err)
		}
	}

	// A file that changes and no longer loads (another key type, then
	// gone): the keys in memory still unwrap, nothing is wrapped, it is
	// reported once per change and never quoted; back in place, wrapping
	// resumes.
	var logged bytes.Buffer
	stale.SetLogger(slog.New(slog.NewTextHandler(&logged, nil)))
	good, err := os.ReadFile(real)
	if err != nil {
		t.Fatal(err)
	}
	h, err := keyset.NewHandle(mac.HMACSHA256Tag256KeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	var other bytes.Buffer
	if err := insecurecleartextkeyset.Write(h, keyset.NewJSONWriter(&other)); err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Key []struct {
			KeyData struct{ Value string } `json:"keyData"`
		} `json:"key"`
	}
	if err := json.Unmarshal(other.Bytes(), &parsed); err != nil || len(parsed.Key) != 1 || parsed.Key[0].KeyData.Value == "" {
		t.Fatalf("the HMAC keyset: %v %+v", err, parsed)
	}
	if err := os.WriteFile(real, other.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	refused := func(when string) {
		t.Helper()
		for range 3 {
			if out, err := stale.Encrypt([]byte("keyset"), ad); err == nil {
				t.Fatalf("%s: wrapped (%d bytes) under keys the file no longer holds", when, len(out))
			}
			if pt, err := stale.Decrypt(blob, ad); err != nil || string(pt) != "keyset" {
				t.Fatalf("%s: unwrap with the keys in memory: %q, %v", when, pt, err)
			}
		}
	}
	refused("another key type")
	if err := os.Remove(real); err != nil {
		t.Fatal(err)
	}
	refused("file gone")
	if n := strings.Count(logged.String(), "does not load"); n != 2 {
		t.Fatalf("reported %d times, want once per change: %s", n, logged.String())
	}
	if strings.Contains(logged.String(), parsed.Key[0].KeyData.Value) {
		t.Fatalf("the log quotes the key file: %s", logged.String())
	}
	if err := os.WriteFile(real, good, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := stale.Encrypt([]byte("keyset"), ad)
	if err != nil {
		t.Fatalf("the file is back: %v", err)
	}
	if pt, err := promoted.Decrypt(out, ad); err != nil || string(pt) != "keyset" {
		t.Fatalf("wrapped under the file's primary: %q, %v", pt, err)
	}
}
