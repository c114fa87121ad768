package envelope_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/mac"

	"github.com/wardhq/ward/internal/vault/envelope"
)

func TestLocalRootCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "keys")
	path := filepath.Join(dir, "root.json")
	r, err := envelope.LoadOrCreateLocalRoot(path)
	if err != nil {
		t.Fatalf("LoadOrCreateLocalRoot: %v", err)
	}
	if r.Path() != path {
		t.Errorf("Path() = %q, want %q", r.Path(), path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("file mode = %#o, want 0600", got)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := di.Mode().Perm(); got != 0o700 {
		t.Errorf("dir mode = %#o, want 0700", got)
	}
	// Only the key file is left: the temporary file is gone.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"root.json"}, names); diff != "" {
		t.Errorf("directory contents (-want +got):\n%s", diff)
	}
	// The file is a cleartext Tink JSON keyset.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("AesGcmKey")) {
		t.Errorf("root file does not look like an AES-GCM Tink keyset: %d bytes", len(data))
	}
}

func TestLocalRootReloadGivesSameKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.json")
	first, err := envelope.LoadOrCreateLocalRoot(path)
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	org := uuid.New()
	w, err := envelope.NewKeyring(first, envelope.Config{}).NewOrgKeys(org)
	if err != nil {
		t.Fatal(err)
	}
	keys1, err := envelope.NewKeyring(first, envelope.Config{}).Org(org, w)
	if err != nil {
		t.Fatal(err)
	}
	ad := envelope.AD{Table: "t", Column: "c", Org: org, Row: uuid.New()}
	ct, err := keys1.Seal([]byte("hello"), ad)
	if err != nil {
		t.Fatal(err)
	}

	second, err := envelope.LoadOrCreateLocalRoot(path)
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("reload rewrote the root key file")
	}
	keys2, err := envelope.NewKeyring(second, envelope.Config{}).Org(org, w)
	if err != nil {
		t.Fatalf("unwrap under reloaded root: %v", err)
	}
	got, err := keys2.Open(ct, ad)
	if err != nil {
		t.Fatalf("Open under reloaded root: %v", err)
	}
	if diff := cmp.Diff([]byte("hello"), got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(keys1.BlindIndex("f", "v"), keys2.BlindIndex("f", "v")); diff != "" {
		t.Errorf("blind index changed across reload (-first +second):\n%s", diff)
	}
}

func TestLocalRootConcurrentCreateSharesOneKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.json")
	const n = 8
	roots := make([]*envelope.LocalRoot, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { roots[i], errs[i] = envelope.LoadOrCreateLocalRoot(path) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("creator %d: %v", i, err)
		}
	}
	ct, err := roots[0].Encrypt([]byte("k"), []byte("ad"))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range roots[1:] {
		if _, err := r.Decrypt(ct, []byte("ad")); err != nil {
			t.Errorf("creator %d got a different root key: %v", i+1, err)
		}
	}
}

func TestLocalRootRefusesWideMode(t *testing.T) {
	tests := []struct {
		mode fs.FileMode
		ok   bool
	}{
		{0o600, true},
		{0o400, true},
		{0o200, true},
		{0o644, false},
		{0o640, false},
		{0o604, false},
		{0o620, false},
		{0o700, false},
		{0o666, false},
		{0o777, false},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "root.json")
			if _, err := envelope.LoadOrCreateLocalRoot(path); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, err := envelope.LoadOrCreateLocalRoot(path)
			// A write-only file is narrower than 0600 but cannot be read;
			// root ignores permissions, so only the mode check is certain.
			if tt.mode == 0o200 {
				if errors.Is(err, envelope.ErrRootFileMode) {
					t.Errorf("mode %v refused as too wide: %v", tt.mode, err)
				}
				return
			}
			if tt.ok {
				if err != nil {
					t.Errorf("mode %v: %v", tt.mode, err)
				}
				return
			}
			if !errors.Is(err, envelope.ErrRootFileMode) {
				t.Fatalf("mode %v: err = %v, want ErrRootFileMode", tt.mode, err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestLocalRootRefusesCorruptFile(t *testing.T) {
	hmacKeyset := func(t *testing.T) []byte {
		h, err := keyset.NewHandle(mac.HMACSHA256Tag256KeyTemplate())
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := insecurecleartextkeyset.Write(h, keyset.NewJSONWriter(&buf)); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	tests := []struct {
		name    string
		content func(t *testing.T) []byte
	}{
		{"empty", func(*testing.T) []byte { return nil }},
		{"garbage", func(*testing.T) []byte { return []byte("SECRETSECRET not json") }},
		{"json but not a keyset", func(*testing.T) []byte { return []byte(`{"hello":"SECRETSECRET"}`) }},
		{"empty keyset", func(*testing.T) []byte { return []byte(`{"primaryKeyId":1,"key":[]}`) }},
		{"truncated keyset", func(t *testing.T) []byte {
			path := filepath.Join(t.TempDir(), "root.json")
			if _, err := envelope.LoadOrCreateLocalRoot(path); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			return b[:len(b)/2]
		}},
		{"keyset of another type", hmacKeyset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "root.json")
			if err := os.WriteFile(path, tt.content(t), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := envelope.LoadOrCreateLocalRoot(path)
			if !errors.Is(err, envelope.ErrRootCorrupt) {
				t.Fatalf("err = %v, want ErrRootCorrupt", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error %q quotes the file content", err)
			}
		})
	}
	t.Run("directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "root.json")
		if err := os.Mkdir(path, 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := envelope.LoadOrCreateLocalRoot(path); !errors.Is(err, envelope.ErrRootCorrupt) {
			t.Errorf("err = %v, want ErrRootCorrupt", err)
		}
	})
}
