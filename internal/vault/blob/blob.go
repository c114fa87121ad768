package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
)

// ErrNotFound means no object exists at the key asked for. Open and Size
// return errors wrapping it.
var ErrNotFound = errors.New("blob: no such object")

// ErrInvalidKey means a key or a listing prefix breaks the key syntax (see
// CheckKey). Every Store method returns errors wrapping it for such keys,
// before touching storage.
var ErrInvalidKey = errors.New("blob: invalid key")

// ErrInvalidRange means an Open with a negative offset.
var ErrInvalidRange = errors.New("blob: invalid range")

// MaxKeyLen bounds the length of a key in bytes.
const MaxKeyLen = 512

// Store keeps objects by key. Implementations are safe for concurrent use.
type Store interface {
	// Put writes all of r to key; it returns the byte count only once the
	// object is durable (Dir: written to a temp file in the same dir,
	// fsynced, renamed, dir fsynced; S3: upload completed). A failed or
	// cancelled Put leaves no object at key. Memory does not grow with the
	// object's size. An existing object at key is replaced.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open returns a reader of n bytes of the object at key starting at off
	// (n < 0: to the end). A range past the end of the object is cut at the
	// end (an offset at or past the end gives an empty reader). A missing
	// key is an error wrapping ErrNotFound; a negative off one wrapping
	// ErrInvalidRange.
	Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error)
	// Size returns the object's length in bytes, or an error wrapping
	// ErrNotFound.
	Size(ctx context.Context, key string) (int64, error)
	// Delete removes the object at key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List calls fn for every object whose key begins with prefix (a plain
	// string prefix, not only whole segments; "" lists everything), with
	// its last-modified time. An error from fn stops the listing and is
	// returned as is.
	List(ctx context.Context, prefix string, fn func(key string, modified time.Time) error) error
}

// CheckKey returns nil if key is a valid object key, and otherwise an error
// wrapping ErrInvalidKey. A valid key is at most MaxKeyLen bytes of
// [A-Za-z0-9/_.-], split by single slashes into non-empty segments none of
// which starts with a dot (so no ".", ".." or hidden name), with no leading
// or trailing slash.
func CheckKey(key string) error {
	if key == "" {
		return fmt.Errorf("blob: empty key: %w", ErrInvalidKey)
	}
	if err := checkChars(key); err != nil {
		return err
	}
	if strings.HasPrefix(key, "/") {
		return fmt.Errorf("blob: key is absolute: %w", ErrInvalidKey)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" {
			return fmt.Errorf("blob: key has an empty segment: %w", ErrInvalidKey)
		}
		if seg[0] == '.' {
			return fmt.Errorf("blob: key has a segment starting with a dot: %w", ErrInvalidKey)
		}
	}
	return nil
}

// checkPrefix validates a listing prefix: "" or the start of a valid key.
func checkPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if err := checkChars(prefix); err != nil {
		return err
	}
	if strings.HasPrefix(prefix, "/") {
		return fmt.Errorf("blob: prefix is absolute: %w", ErrInvalidKey)
	}
	segs := strings.Split(prefix, "/")
	for i, seg := range segs {
		// The last segment may be empty (a prefix ending in "/"), or a
		// partial name; every segment before it is whole.
		if seg == "" && i < len(segs)-1 {
			return fmt.Errorf("blob: prefix has an empty segment: %w", ErrInvalidKey)
		}
		if seg != "" && seg[0] == '.' {
			return fmt.Errorf("blob: prefix has a segment starting with a dot: %w", ErrInvalidKey)
		}
	}
	return nil
}

// checkChars enforces the length bound and the character set.
func checkChars(s string) error {
	if len(s) > MaxKeyLen {
		return fmt.Errorf("blob: key of %d bytes is longer than %d: %w", len(s), MaxKeyLen, ErrInvalidKey)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '/' || c == '_' || c == '.' || c == '-') {
			return fmt.Errorf("blob: key has a character outside [A-Za-z0-9/_.-] at byte %d: %w", i, ErrInvalidKey)
		}
	}
	return nil
}

// ctxReader stops a read loop once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// ObjectKey returns the key of an object of org: "orgs/<org>/obj/<id>".
// It carries no PHI: pick id at random (uuid.New), never derive it from a
// document. It never fails.
func ObjectKey(org, id uuid.UUID) string {
	return "orgs/" + org.String() + "/obj/" + id.String()
}
