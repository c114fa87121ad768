package main

import (
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/vault/blob"
)

// TestStartRemovesStaleTemp: `ward serve` removes, as it opens a directory
// store, the temporary files a crash left mid-upload more than an hour
// ago, and leaves a fresh one (an upload in flight on another node) and
// the objects.
func TestStartRemovesStaleTemp(t *testing.T) {
	dir := t.TempDir()
	store, err := openDocuments(t.Context(), serveConfig{common: common{DataDir: dir}})
	if err != nil {
		t.Fatal(err)
	}
	key := blob.ObjectKey(uuid.New(), uuid.New())
	if _, err := store.Put(t.Context(), key, strings.NewReader("ciphertext")); err != nil {
		t.Fatal(err)
	}
	objDir := filepath.Dir(filepath.Join(dir, "documents", filepath.FromSlash(key)))
	stale, fresh := filepath.Join(objDir, ".put-stale"), filepath.Join(objDir, ".put-fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-staleTempAge - time.Minute)
	if err := os.Chtimes(stale, past, past); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	removeStaleTemp(t.Context(), store, slog.New(slog.NewJSONHandler(&logs, nil)))
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the stale temporary file is still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("the fresh temporary file was removed: %v", err)
	}
	if _, err := store.Size(t.Context(), key); err != nil {
		t.Errorf("the object was removed: %v", err)
	}
	if !strings.Contains(logs.String(), `"removed":1`) {
		t.Errorf("the removal is not logged: %s", logs.String())
	}
}
