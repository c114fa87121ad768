package httpapi_test

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// The temporary file a crash left mid-upload in a directory store is
// removed by the sweep even when the database cannot be asked about the
// objects (here: the ops pool is closed): it is no object, and no upload
// claims it.
func TestSweepRemovesTempWithoutDatabase(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Sweep Temp Clinic")
	ctx := context.Background()
	d, ok := w.blobs.(*blob.Dir)
	if !ok {
		t.Fatalf("the harness's store is a %T, want a directory", w.blobs)
	}
	key := blob.ObjectKey(o.ID, uuid.New())
	if _, err := d.Put(ctx, key, strings.NewReader("ciphertext of a committed upload")); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(filepath.Dir(filepath.Join(d.Root(), filepath.FromSlash(key))), ".put-crashed")
	if err := os.WriteFile(tmp, []byte("partial ciphertext"), 0o600); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(tmp, past, past); err != nil {
		t.Fatal(err)
	}
	ops, err := postgres.OpenAs(ctx, w.env.SuperURL(), "ward_ops")
	if err != nil {
		t.Fatal(err)
	}
	ops.Close()
	jobs := cases.NewJobs(ops, w.keys, d, nil, w.base, slog.New(slog.DiscardHandler))
	n, err := jobs.Sweep(ctx)
	if err == nil {
		t.Fatal("a sweep without its database reported no error")
	}
	if n != 1 {
		t.Errorf("sweep removed %d, want the temporary file", n)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the crashed upload's temporary file is still there: %v", err)
	}
	if _, err := d.Size(ctx, key); err != nil {
		t.Errorf("the object went with it: %v", err)
	}
}
