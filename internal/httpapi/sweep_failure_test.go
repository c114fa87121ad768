package httpapi_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/cases"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/vault/blob"
)

// stubbornStore refuses to delete one key (an object lock, a policy).
type stubbornStore struct {
	blob.Store
	keep string
}

func (s stubbornStore) Delete(ctx context.Context, key string) error {
	if key == s.keep {
		return errors.New("access denied")
	}
	return s.Store.Delete(ctx, key)
}

// One ownerless object the store will not delete does not stop the sweep:
// the objects listed after it are still removed, and the sweep reports the
// failure.
func TestSweepPastAFailedDelete(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Sweep Clinic")
	ctx := context.Background()
	keys := []string{blob.ObjectKey(o.ID, uuid.New()), blob.ObjectKey(o.ID, uuid.New()), blob.ObjectKey(o.ID, uuid.New())}
	for _, k := range keys {
		if _, err := w.blobs.Put(ctx, k, strings.NewReader("ciphertext of a crashed upload")); err != nil {
			t.Fatal(err)
		}
	}
	first := keys[0]
	for _, k := range keys {
		first = min(first, k)
	}
	ops, err := postgres.OpenAs(ctx, w.env.SuperURL(), "ward_ops")
	if err != nil {
		t.Fatal(err)
	}
	defer ops.Close()
	jobs := cases.NewJobs(ops, w.keys, stubbornStore{w.blobs, first}, nil, w.base, slog.New(slog.DiscardHandler))
	jobs.Grace, jobs.Confirm = 0, 0
	if n, err := jobs.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("first sweep: %d %v", n, err)
	}
	n, err := jobs.Sweep(ctx)
	if n != 2 || err == nil {
		t.Fatalf("sweep past the stubborn key: removed %d, err %v; want 2 and an error", n, err)
	}
	for _, k := range keys {
		_, err := w.blobs.Size(ctx, k)
		if gone := errors.Is(err, blob.ErrNotFound); gone == (k == first) {
			t.Errorf("%s: gone %v", k, gone)
		}
	}
}
