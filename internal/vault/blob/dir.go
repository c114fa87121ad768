package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// tempPrefix starts the name of every temporary file Dir.Put writes. Keys
// cannot have a segment starting with a dot, so no key names one.
const tempPrefix = ".put-"

// copyBufferSize is the buffer Dir.Put copies through.
const copyBufferSize = 256 << 10

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, copyBufferSize); return &b }}

// Dir is a Store in a local directory: the object at key "a/b/c" is the
// file <root>/a/b/c (mode 0600, directories 0700). It is safe for
// concurrent use, also by several processes on one directory.
type Dir struct {
	root string
}

var _ Store = (*Dir)(nil)

// NewDir returns a Dir keeping objects under root, creating root (0700) if
// it does not exist. It fails if root is empty or is not a directory.
func NewDir(root string) (*Dir, error) {
	if root == "" {
		return nil, errors.New("blob: empty directory name")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("blob: directory %s: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("blob: create directory: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("blob: directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("blob: %s is not a directory", abs)
	}
	return &Dir{root: abs}, nil
}

// Root returns the directory's absolute path. It never fails.
func (d *Dir) Root() string { return d.root }

// path returns the file name of a valid key.
func (d *Dir) path(key string) string {
	return filepath.Join(d.root, filepath.FromSlash(key))
}

// Put writes r to a temporary file beside the object, fsyncs it, renames
// it to the key and fsyncs the directory; only then does it return the
// byte count. Directories created on the way are fsynced into their
// parents. On any error, when ctx is done before the rename, or when r
// panics, the temporary file is removed and no object appears at key (an
// existing object is left as it was); only a crash leaves it, for
// RemoveTemp. It returns an error wrapping ErrInvalidKey for
// a bad key, ctx.Err() when cancelled, or the I/O or reader error.
func (d *Dir) Put(ctx context.Context, key string, r io.Reader) (n int64, err error) {
	if err := CheckKey(key); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	dst := d.path(key)
	dir := filepath.Dir(dst)
	if err := d.mkdirs(dir); err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return 0, fmt.Errorf("blob: put %s: %w", key, err)
	}
	tmp := f.Name()
	// Removed on every way out but the rename, a panic of r's included
	// (err is not set then).
	renamed := false
	defer func() {
		if !renamed {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	bp := copyBuffers.Get().(*[]byte)
	// writerOnly hides os.File's ReaderFrom, which would bypass the buffer.
	n, err = io.CopyBuffer(writerOnly{f}, ctxReader{ctx, r}, *bp)
	copyBuffers.Put(bp)
	if err != nil {
		return 0, fmt.Errorf("blob: put %s: %w", key, err)
	}
	if err = f.Sync(); err != nil {
		return 0, fmt.Errorf("blob: put %s: fsync: %w", key, err)
	}
	if err = f.Close(); err != nil {
		return 0, fmt.Errorf("blob: put %s: %w", key, err)
	}
	if err = ctx.Err(); err != nil {
		return 0, err
	}
	if err = os.Rename(tmp, dst); err != nil {
		return 0, fmt.Errorf("blob: put %s: %w", key, err)
	}
	renamed = true
	if err := syncDir(dir); err != nil {
		// The object exists but its directory entry may not survive a
		// crash: report failure, and take the object away again.
		_ = os.Remove(dst)
		return 0, fmt.Errorf("blob: put %s: fsync directory: %w", key, err)
	}
	return n, nil
}

// mkdirs creates dir and its missing parents below the root, fsyncing
// each parent that gained an entry.
func (d *Dir) mkdirs(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	rel, err := filepath.Rel(d.root, dir)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("blob: directory %s is outside the store", dir)
	}
	cur := d.root
	for part := range strings.SplitSeq(rel, string(filepath.Separator)) {
		next := filepath.Join(cur, part)
		switch err := os.Mkdir(next, 0o700); {
		case err == nil:
			if err := syncDir(cur); err != nil {
				return fmt.Errorf("blob: fsync directory: %w", err)
			}
		case errors.Is(err, fs.ErrExist):
		default:
			return fmt.Errorf("blob: create directory: %w", err)
		}
		cur = next
	}
	return nil
}

// Open returns a reader of the object's bytes [off, off+n) (n < 0: to the
// end), cut at the end of the object. Reads fail with ctx.Err() once ctx is
// done. It returns an error wrapping ErrNotFound for a missing object,
// ErrInvalidKey for a bad key, ErrInvalidRange for a negative offset.
func (d *Dir) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, fmt.Errorf("blob: open %s at offset %d: %w", key, off, ErrInvalidRange)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(d.path(key))
	if err != nil {
		return nil, mapNotExist(key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blob: open %s: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("blob: open %s: not a regular file: %w", key, ErrNotFound)
	}
	size := fi.Size()
	if off > size {
		off = size
	}
	if n < 0 || n > size-off {
		n = size - off
	}
	return &fileReader{r: ctxReader{ctx, io.NewSectionReader(f, off, n)}, f: f}, nil
}

// fileReader reads a section of f and closes f.
type fileReader struct {
	r io.Reader
	f *os.File
}

func (r *fileReader) Read(p []byte) (int, error) { return r.r.Read(p) }
func (r *fileReader) Close() error               { return r.f.Close() }

// Size returns the object's length, or an error wrapping ErrNotFound.
func (d *Dir) Size(ctx context.Context, key string) (int64, error) {
	if err := CheckKey(key); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	fi, err := os.Stat(d.path(key))
	if err != nil {
		return 0, mapNotExist(key, err)
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("blob: size %s: not a regular file: %w", key, ErrNotFound)
	}
	return fi.Size(), nil
}

// Delete removes the object's file; a missing object is not an error.
// Directories are left in place (a concurrent Put may be about to use
// them).
func (d *Dir) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Remove(d.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	return nil
}

// List calls fn, in lexical key order, for every object whose key starts
// with prefix, with its file's modification time. Temporary files of Puts
// in flight (or abandoned by a crash) are not objects and are skipped (see
// RemoveTemp), as are files whose names are not valid keys. It stops at the first error from fn, ctx or the file system.
func (d *Dir) List(ctx context.Context, prefix string, fn func(key string, modified time.Time) error) error {
	if err := checkPrefix(prefix); err != nil {
		return err
	}
	// Walk the deepest directory that the prefix names in full.
	start := d.root
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = d.path(prefix[:i])
	}
	err := filepath.WalkDir(start, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == start && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == d.root {
			return nil
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if strings.HasPrefix(e.Name(), ".") {
			if e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if e.IsDir() {
			// Descend only where keys with the prefix can be.
			if !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() || !strings.HasPrefix(key, prefix) || CheckKey(key) != nil {
			return nil // not an object this store could have written
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted while we walked
		}
		if err != nil {
			return err
		}
		return fn(key, fi.ModTime())
	})
	if errors.Is(err, fs.SkipAll) {
		return nil
	}
	return err
}

// RemoveTemp deletes the temporary files that Puts interrupted by a crash
// left behind, if they were last modified before before, and returns how
// many it removed. Choose before well in the past (an hour, say): a Put in
// flight on this directory, from this or another process, keeps writing
// its temporary file and must not lose it. It stops at the first error.
func (d *Dir) RemoveTemp(ctx context.Context, before time.Time) (int, error) {
	removed := 0
	err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if e.IsDir() || !strings.HasPrefix(e.Name(), tempPrefix) {
			return nil
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if fi.ModTime().Before(before) {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			removed++
		}
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("blob: remove temporary files: %w", err)
	}
	return removed, nil
}

// mapNotExist wraps ErrNotFound for a missing file (or a file where a
// directory of the key's path should be).
func mapNotExist(key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("blob: %s: %w", key, ErrNotFound)
	}
	return fmt.Errorf("blob: %s: %w", key, err)
}

// syncDir fsyncs a directory, making its entries durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// writerOnly hides every method of an io.Writer but Write.
type writerOnly struct{ io.Writer }
