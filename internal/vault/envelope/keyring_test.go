package envelope_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/vault/envelope"
)

// fakeClock is a settable clock for cache expiry.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestNewOrgKeysRejectsNilOrg(t *testing.T) {
	kr := envelope.NewKeyring(newRoot(t), envelope.Config{})
	if _, err := kr.NewOrgKeys(uuid.Nil); !errors.Is(err, envelope.ErrInvalidAD) {
		t.Errorf("err = %v, want ErrInvalidAD", err)
	}
}

func TestNewOrgKeysAreFreshAndWrapped(t *testing.T) {
	kr := envelope.NewKeyring(newRoot(t), envelope.Config{})
	org := uuid.New()
	w1, err := kr.NewOrgKeys(org)
	if err != nil {
		t.Fatal(err)
	}
	w2, err := kr.NewOrgKeys(org)
	if err != nil {
		t.Fatal(err)
	}
	k1, err := kr.Org(org, w1)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := kr.Org(org, w2)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(k1.BlindIndex("f", "v"), k2.BlindIndex("f", "v")) {
		t.Error("two NewOrgKeys calls gave the same PRF key")
	}
	if k1.OrgID() != org {
		t.Errorf("OrgID() = %v, want %v", k1.OrgID(), org)
	}
}

func TestOrgRejectsWrongBinding(t *testing.T) {
	root := newRoot(t)
	kr := envelope.NewKeyring(root, envelope.Config{CacheSize: -1})
	org := uuid.New()
	w, err := kr.NewOrgKeys(org)
	if err != nil {
		t.Fatal(err)
	}
	other, err := kr.NewOrgKeys(uuid.New())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		kr   *envelope.Keyring
		org  uuid.UUID
		w    envelope.Wrapped
	}{
		{"other org id", kr, uuid.New(), w},
		{"AEAD and PRF swapped", kr, org, envelope.Wrapped{AEAD: w.PRF, PRF: w.AEAD}},
		{"PRF of another org", kr, org, envelope.Wrapped{AEAD: w.AEAD, PRF: other.PRF}},
		{"other root", envelope.NewKeyring(newRoot(t), envelope.Config{}), org, w},
		{"empty", kr, org, envelope.Wrapped{}},
		{"truncated AEAD", kr, org, envelope.Wrapped{AEAD: w.AEAD[:len(w.AEAD)-1], PRF: w.PRF}},
		{"flipped PRF byte", kr, org, envelope.Wrapped{AEAD: w.AEAD, PRF: flip(w.PRF, len(w.PRF)/2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.kr.Org(tt.org, tt.w); !errors.Is(err, envelope.ErrUnwrap) {
				t.Errorf("err = %v, want ErrUnwrap", err)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	b = bytes.Clone(b)
	b[i] ^= 0x80
	return b
}

func TestOrgCache(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	root := &countingRoot{Root: newRoot(t)}
	kr := envelope.NewKeyring(root, envelope.Config{CacheTTL: time.Minute, CacheSize: 2, Now: clock.Now})
	org := uuid.New()
	w, err := kr.NewOrgKeys(org)
	if err != nil {
		t.Fatal(err)
	}
	get := func() *envelope.OrgKeys {
		t.Helper()
		k, err := kr.Org(org, w)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}

	first := get()
	if got := root.decrypts.Load(); got != 2 {
		t.Fatalf("first Org: %d root decrypts, want 2 (AEAD and PRF)", got)
	}
	t.Run("hit returns same keys without the root", func(t *testing.T) {
		clock.Advance(59 * time.Second)
		if get() != first {
			t.Error("cache returned different keys within the TTL")
		}
		// A copy of the same wrapped bytes is the same cache entry.
		k, err := kr.Org(org, envelope.Wrapped{AEAD: bytes.Clone(w.AEAD), PRF: bytes.Clone(w.PRF)})
		if err != nil {
			t.Fatal(err)
		}
		if k != first {
			t.Error("equal wrapped bytes missed the cache")
		}
		if got := root.decrypts.Load(); got != 2 {
			t.Errorf("root decrypts = %d, want 2", got)
		}
	})
	t.Run("expires after TTL", func(t *testing.T) {
		// The last hit does not extend the entry's life: the TTL bounds how
		// long unwrapped keys live after the unwrap.
		clock.Advance(time.Second)
		again := get()
		if again == first {
			t.Error("cache served keys past the TTL")
		}
		if got := root.decrypts.Load(); got != 4 {
			t.Errorf("root decrypts = %d, want 4", got)
		}
		first = again
	})
	rotated, err := kr.RotateOrgAEAD(org, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("rotated keyset is not served stale", func(t *testing.T) {
		k, err := kr.Org(org, rotated)
		if err != nil {
			t.Fatal(err)
		}
		if k == first {
			t.Error("rotated keyset served from the old entry")
		}
	})
	t.Run("bounded, least recently used evicted", func(t *testing.T) {
		// Cache holds 2: first (org,w) and the rotated entry. Touch first,
		// add a third; the rotated entry goes, first stays.
		get()
		newOrg(t, kr)
		before := root.decrypts.Load()
		if get() != first {
			t.Error("recently used entry was evicted")
		}
		if got := root.decrypts.Load(); got != before {
			t.Errorf("recently used entry needed the root: %d decrypts", got-before)
		}
		if _, err := kr.Org(org, rotated); err != nil {
			t.Fatal(err)
		}
		if got := root.decrypts.Load(); got != before+2 {
			t.Errorf("least recently used entry was kept: %d decrypts, want 2", got-before)
		}
	})
	t.Run("Forget drops the org", func(t *testing.T) {
		kr.Forget(org)
		if get() == first {
			t.Error("Forget kept the cached keys")
		}
	})
}

func TestOrgCacheDisabled(t *testing.T) {
	root := &countingRoot{Root: newRoot(t)}
	kr := envelope.NewKeyring(root, envelope.Config{CacheSize: -1})
	org, w, first := newOrg(t, kr)
	k, err := kr.Org(org, w)
	if err != nil {
		t.Fatal(err)
	}
	if k == first {
		t.Error("disabled cache returned the same keys")
	}
	if got := root.decrypts.Load(); got != 4 {
		t.Errorf("root decrypts = %d, want 4", got)
	}
}

func TestOrgConcurrentMissesShareOneUnwrap(t *testing.T) {
	root := &countingRoot{Root: newRoot(t)}
	kr := envelope.NewKeyring(root, envelope.Config{})
	org := uuid.New()
	w, err := kr.NewOrgKeys(org)
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	got := make([]*envelope.OrgKeys, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k, err := kr.Org(org, w)
			if err != nil {
				t.Error(err)
			}
			got[i] = k
		})
	}
	wg.Wait()
	for i := range got {
		if got[i] != got[0] {
			t.Fatalf("caller %d got different keys", i)
		}
	}
	// Callers that miss share one flight; a caller whose flight starts after
	// another ended finds the cache filled. So one unwrap: two root decrypts.
	if d := root.decrypts.Load(); d != 2 {
		t.Errorf("root decrypts = %d, want 2", d)
	}
}

func TestLogValuesHoldNoSecrets(t *testing.T) {
	root := newRoot(t)
	kr := envelope.NewKeyring(root, envelope.Config{})
	org, w, keys := newOrg(t, kr)
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	log.Info("keys", "root", root, "wrapped", w, "org_keys", keys)
	got := buf.String()
	for _, want := range []string{"root.path=" + root.Path(), "wrapped.aead_bytes=", "org_keys.org=" + org.String(), "org_keys.primary_key_id="} {
		if !strings.Contains(got, want) {
			t.Errorf("log line %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "0x") || strings.Contains(got, "{") {
		t.Errorf("log line %q prints internals", got)
	}
}
