package blob_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/vault/blob"
)

// files returns every file under root, relative, with its mode.
func files(t *testing.T, root string) map[string]fs.FileMode {
	t.Helper()
	out := map[string]fs.FileMode{}
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = fi.Mode()
		return nil
	})
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	return out
}

// TestDirFiles checks the directory layout: one 0600 file per object in
// 0700 directories, and no temporary file left by a failed or cancelled
// Put.
func TestDirFiles(t *testing.T) {
	d := newDir(t)
	org := uuid.New()
	key := objKey(org)
	put(t, d, key, []byte("ciphertext"))
	boom := errors.New("boom")
	for range 3 {
		if _, err := d.Put(t.Context(), objKey(org), &failingReader{n: 5 << 20, err: boom}); !errors.Is(err, boom) {
			t.Fatalf("Put: %v", err)
		}
	}
	got := files(t, d.Root())
	for name, mode := range got {
		switch {
		case name == key:
			if mode.Perm() != 0o600 || !mode.IsRegular() {
				t.Errorf("object file mode %v, want -rw-------", mode)
			}
		case name == ".": // the existing root keeps its mode
		case strings.HasPrefix(key, name+"/"):
			if mode.Perm() != 0o700 || !mode.IsDir() {
				t.Errorf("directory %s mode %v, want drwx------", name, mode)
			}
		default:
			t.Errorf("unexpected file %s (%v) left in the store", name, mode)
		}
	}
}

// TestDirRemoveTemp checks that RemoveTemp deletes only old temporary
// files, which List never reports.
func TestDirRemoveTemp(t *testing.T) {
	d := newDir(t)
	key := objKey(uuid.New())
	put(t, d, key, []byte("x"))
	dir := filepath.Dir(filepath.Join(d.Root(), filepath.FromSlash(key)))
	if err := os.WriteFile(filepath.Join(dir, "not a key"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	old, fresh := filepath.Join(dir, ".put-111"), filepath.Join(dir, ".put-222")
	for _, p := range []string{old, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	var listed []string
	if err := d.List(t.Context(), "", func(k string, _ time.Time) error { listed = append(listed, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0] != key {
		t.Fatalf("List = %v, want only %s", listed, key)
	}
	n, err := d.RemoveTemp(t.Context(), time.Now().Add(-time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("RemoveTemp = %d, %v; want 1", n, err)
	}
	if _, err := os.Stat(old); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("old temporary file still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temporary file removed: %v", err)
	}
	if _, err := d.Size(t.Context(), key); err != nil {
		t.Errorf("object gone after RemoveTemp: %v", err)
	}
}

func TestNewDir(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := blob.NewDir(f); err == nil {
		t.Error("NewDir on a file succeeded")
	}
	if _, err := blob.NewDir(""); err == nil {
		t.Error("NewDir(\"\") succeeded")
	}
	d, err := blob.NewDir(filepath.Join(t.TempDir(), "a", "b"))
	if err != nil {
		t.Fatalf("NewDir of a new path: %v", err)
	}
	if fi, err := os.Stat(d.Root()); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("root: %v, %v", fi, err)
	}
	// A key whose directory is a file is simply missing.
	put(t, d, "a/b", []byte("x"))
	if _, err := d.Size(t.Context(), "a/b/c"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Size under a file: %v, want ErrNotFound", err)
	}
}

// panicReader hands out n bytes, then panics (a failing decoder or
// encrypter upstream of the store).
type panicReader struct{ n int }

func (r *panicReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		panic("upstream failure")
	}
	k := min(len(p), r.n)
	r.n -= k
	return k, nil
}

// TestDirPutLeavesNothing: an upload that fails, is cancelled, or whose
// reader panics leaves no temporary file and no object behind.
func TestDirPutLeavesNothing(t *testing.T) {
	d := newDir(t)
	key := objKey(uuid.New())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	for name, put := range map[string]func() error{
		"reader error": func() error {
			_, err := d.Put(t.Context(), key, io.MultiReader(strings.NewReader("partial"), iotest.ErrReader(errors.New("reset"))))
			return err
		},
		"cancelled mid-copy": func() error {
			_, err := d.Put(ctx, key, io.MultiReader(strings.NewReader("partial"), cancelReader(cancel)))
			return err
		},
		"reader panics": func() (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("panic: %v", p)
				}
			}()
			_, err = d.Put(t.Context(), key, &panicReader{n: 3 << 20})
			return err
		},
	} {
		if err := put(); err == nil {
			t.Fatalf("%s: Put succeeded", name)
		}
		err := filepath.WalkDir(d.Root(), func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				t.Errorf("%s: left %s behind", name, p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// cancelReader cancels a context when read, and has nothing more.
type cancelReader context.CancelFunc

func (c cancelReader) Read([]byte) (int, error) { c(); return 0, nil }
