package docstream

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/wardhq/ward/internal/vault/blob"
)

// Put encrypts all of r under k, bound to aad, into a new object at key of
// store, streaming (memory stays at a segment plus the store's buffer), and
// returns the plaintext byte count once store.Put reports the object
// durable: commit the row only after Put returns without error. On any
// error (from r, the store or ctx) store.Put fails too, so no object is
// left at key. Errors from r are returned wrapped, so a caller limiting
// the size with its own reader can find its sentinel with errors.Is.
func (k *DataKey) Put(ctx context.Context, store blob.Store, key string, aad []byte, r io.Reader) (int64, error) {
	pr, pw := io.Pipe()
	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := store.Put(ctx, key, pr)
		// Writes after a failed Put must fail rather than block.
		pr.CloseWithError(errStoreGone)
		done <- result{n, err}
	}()
	src := &readErr{r: r}
	n, err := k.copy(pw, src, aad)
	if err != nil {
		pw.CloseWithError(err)
	} else {
		pw.Close()
	}
	res := <-done
	switch {
	case src.err != nil:
		return 0, fmt.Errorf("docstream: put %s: read: %w", key, src.err)
	case res.err != nil:
		return 0, fmt.Errorf("docstream: put %s: %w", key, res.err)
	case err != nil:
		return 0, fmt.Errorf("docstream: put %s: %w", key, err)
	case res.n != CiphertextSize(n):
		// Cannot happen with a Store that keeps its contract.
		_ = store.Delete(context.WithoutCancel(ctx), key)
		return 0, fmt.Errorf("docstream: put %s: stored %d bytes, expected %d", key, res.n, CiphertextSize(n))
	}
	return n, nil
}

// errStoreGone ends the writer side of Put's pipe once the store stops
// reading.
var errStoreGone = errors.New("docstream: store stopped reading")

// copy encrypts src into w and returns the plaintext byte count.
func (k *DataKey) copy(w io.Writer, src io.Reader, aad []byte) (int64, error) {
	ew, err := k.Encrypt(w, aad)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(ew, src)
	if err != nil {
		return n, err
	}
	return n, ew.Close()
}

// readErr remembers the error of its reader, to tell it from write errors.
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}
