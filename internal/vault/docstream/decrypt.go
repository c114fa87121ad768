package docstream

import (
	"context"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/wardhq/ward/internal/vault/blob"
)

// segmentBuffers holds SegmentSize buffers between reads.
var segmentBuffers = sync.Pool{New: func() any { b := make([]byte, SegmentSize); return &b }}

// readAhead is how many decrypted segments may wait for the caller while
// the next one is fetched and decrypted: with the one being fetched and
// the one being read, a download holds at most readAhead+2 segments.
const readAhead = 1

// errClosed is returned by Read after Close.
var errClosed = errors.New("docstream: read after close")

// Decrypt streams plaintext bytes [off, off+n) (n < 0, or a range past the
// end: to the end) of the object at key in store, encrypted under k with
// aad, whose plaintext is plaintextSize bytes (as recorded when it was
// written). It reads only the header and the ciphertext segments that
// cover the range, with one ranged Open for the segments: it does not
// decrypt from the start. A goroutine fetches and decrypts the next
// segment while the caller reads the current one; Close stops it, and the
// caller must call Close.
//
// Before returning, Decrypt checks the object's size against plaintextSize
// and authenticates the first segment of the range, so most failures come
// back from Decrypt itself, before the caller has sent anything; later
// segments are authenticated before Read returns any of their bytes. Any
// authentication failure (a changed byte, a truncated, extended or
// reordered object, a wrong aad, key or plaintextSize) is an error
// wrapping ErrIntegrity, from Decrypt or from Read, and no byte of the
// failing segment is returned. Bytes of earlier segments of the range,
// which did authenticate, may already have been read.
//
// Other errors: ErrRange for a negative plaintextSize or off, or off past
// plaintextSize; the store's errors (blob.ErrNotFound) wrapped; ctx.Err()
// once ctx is done. An empty range (n == 0, or off == plaintextSize)
// reads nothing, except that the whole of an empty document is still
// authenticated.
func (k *DataKey) Decrypt(ctx context.Context, store blob.Store, key string, aad []byte, plaintextSize, off, n int64) (io.ReadCloser, error) {
	if plaintextSize < 0 || off < 0 || off > plaintextSize {
		return nil, fmt.Errorf("docstream: offset %d of a %d-byte document: %w", off, plaintextSize, ErrRange)
	}
	if n < 0 || n > plaintextSize-off {
		n = plaintextSize - off
	}
	final := segments(plaintextSize) - 1
	if final >= maxSegments {
		return nil, fmt.Errorf("docstream: a %d-byte document has too many segments: %w", plaintextSize, ErrRange)
	}
	size, err := store.Size(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("docstream: %w", err)
	}
	want := CiphertextSize(plaintextSize)
	if size != want {
		return nil, fmt.Errorf("docstream: object %s is %d bytes, a %d-byte document encrypts to %d: %w",
			key, size, plaintextSize, want, ErrIntegrity)
	}
	if n == 0 && plaintextSize > 0 {
		return io.NopCloser(strings.NewReader("")), nil
	}
	first, last := segmentOf(off), int64(0)
	if n > 0 {
		last = segmentOf(off + n - 1)
	}
	w := &worker{ctx: ctx, key: key, objSize: want, first: first, end: last, final: final,
		skip: off - plainStart(first), remain: n}
	from, to := cipherStart(first), w.cipherEnd(last)
	var hdr []byte
	if first == 0 {
		// One read for the header and the segments.
		w.src, err = store.Open(ctx, key, 0, to)
		if err == nil {
			hdr = make([]byte, HeaderSize)
			err = w.readFull(hdr, -1)
		}
	} else {
		hdr, err = readHeader(ctx, store, key)
		if err == nil {
			w.src, err = store.Open(ctx, key, from, to-from)
			if err != nil {
				err = fmt.Errorf("docstream: %w", err)
			}
		}
	}
	if err == nil {
		err = w.init(k, hdr, aad)
	}
	if err != nil {
		if w.src != nil {
			w.src.Close()
		}
		return nil, err
	}
	r := &reader{w: w, ch: make(chan segment, readAhead), stop: make(chan struct{}), exited: make(chan struct{})}
	go r.run()
	// Wait for the first segment, so that its failure comes back here,
	// before the caller answers anyone.
	if err := r.next(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// readHeader reads the object's header.
func readHeader(ctx context.Context, store blob.Store, key string) ([]byte, error) {
	src, err := store.Open(ctx, key, 0, HeaderSize)
	if err != nil {
		return nil, fmt.Errorf("docstream: %w", err)
	}
	defer src.Close()
	hdr := make([]byte, HeaderSize)
	w := &worker{ctx: ctx, key: key, src: src}
	if err := w.readFull(hdr, -1); err != nil {
		return nil, err
	}
	return hdr, nil
}

// worker fetches and decrypts segments [first, end] of one object, in the
// reader's goroutine.
type worker struct {
	ctx     context.Context
	key     string
	src     io.ReadCloser
	objSize int64 // as plaintextSize says it must be
	aead    cipher.AEAD
	prefix  [noncePrefixSize]byte
	first   int64 // first segment of the range
	end     int64 // last segment of the range
	final   int64 // last segment of the object
	skip    int64 // plaintext bytes to drop from the first segment
	remain  int64 // plaintext bytes of the range not yet decrypted
}

// segment is one decrypted segment, cut to the range, or an error.
type segment struct {
	buf *[]byte
	pt  []byte
	err error
}

// init checks the header and derives the object's segment cipher.
func (w *worker) init(k *DataKey, hdr, aad []byte) error {
	if hdr[0] != HeaderSize {
		return fmt.Errorf("docstream: object %s has header length %d, not %d: %w", w.key, hdr[0], HeaderSize, ErrIntegrity)
	}
	a, err := k.segmentCipher(hdr[1:1+keySize], aad)
	if err != nil {
		return err
	}
	w.aead = a
	copy(w.prefix[:], hdr[1+keySize:])
	return nil
}

// cipherEnd returns the object offset just past segment i.
func (w *worker) cipherEnd(i int64) int64 {
	if i == w.final {
		return w.objSize
	}
	return cipherStart(i + 1)
}

// decrypt reads, authenticates and decrypts segment i into buf, and
// returns its plaintext cut to the range.
func (w *worker) decrypt(i int64, buf []byte) ([]byte, error) {
	if err := w.ctx.Err(); err != nil {
		return nil, err
	}
	ct := buf[:w.cipherEnd(i)-cipherStart(i)]
	if err := w.readFull(ct, i); err != nil {
		return nil, err
	}
	var nonce [nonceSize]byte
	copy(nonce[:], w.prefix[:])
	binary.BigEndian.PutUint32(nonce[noncePrefixSize:], uint32(i))
	if i == w.final {
		nonce[nonceSize-1] = 1
	}
	pt, err := w.aead.Open(ct[:0], nonce[:], ct, nil)
	if err != nil {
		return nil, fmt.Errorf("docstream: object %s segment %d: %w", w.key, i, ErrIntegrity)
	}
	if i == w.first {
		pt = pt[w.skip:]
	}
	if int64(len(pt)) > w.remain {
		pt = pt[:w.remain]
	}
	w.remain -= int64(len(pt))
	return pt, nil
}

// readFull fills b with segment seg (-1: the header) from the source; an
// early end is an integrity failure (the object shrank under us).
func (w *worker) readFull(b []byte, seg int64) error {
	if _, err := io.ReadFull(w.src, b); err != nil {
		what := "header"
		if seg >= 0 {
			what = fmt.Sprintf("segment %d", seg)
		}
		if cerr := w.ctx.Err(); cerr != nil {
			return cerr
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("docstream: object %s ends inside its %s: %w", w.key, what, ErrIntegrity)
		}
		return fmt.Errorf("docstream: read %s of object %s: %w", what, w.key, err)
	}
	return nil
}

// reader hands out the segments its worker goroutine decrypts.
type reader struct {
	w      *worker
	ch     chan segment
	stop   chan struct{} // closed by Close
	exited chan struct{} // closed when run returns
	cur    segment       // the segment being read
	err    error         // sticky
	closed bool
}

// run decrypts the range segment by segment into r.ch, and closes it
// after the last one, an error, or Close.
func (r *reader) run() {
	defer close(r.exited)
	defer close(r.ch)
	for i := r.w.first; i <= r.w.end; i++ {
		buf := segmentBuffers.Get().(*[]byte)
		pt, err := r.w.decrypt(i, *buf)
		select {
		case r.ch <- segment{buf: buf, pt: pt, err: err}:
		case <-r.stop:
			segmentBuffers.Put(buf)
			return
		}
		if err != nil {
			return
		}
	}
}

// next releases the current segment and takes the next one.
func (r *reader) next() error {
	r.release(&r.cur)
	s, ok := <-r.ch
	if !ok {
		return io.EOF
	}
	r.cur = s
	return s.err
}

// release returns a segment's buffer to the pool.
func (r *reader) release(s *segment) {
	if s.buf != nil {
		segmentBuffers.Put(s.buf)
	}
	*s = segment{}
}

// Read returns decrypted bytes of the range; see Decrypt for its errors.
func (r *reader) Read(p []byte) (int, error) {
	for len(r.cur.pt) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if err := r.next(); err != nil {
			r.err = err
			return 0, err
		}
	}
	n := copy(p, r.cur.pt)
	r.cur.pt = r.cur.pt[n:]
	return n, nil
}

// Close stops the worker, releases the source and the buffers, and
// returns the source's Close error. Read after Close fails.
func (r *reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	close(r.stop)
	// Closing the source unblocks a worker waiting on the network.
	err := r.w.src.Close()
	<-r.exited
	for s := range r.ch {
		r.release(&s)
	}
	if r.cur.buf != nil {
		clear(*r.cur.buf) // the last plaintext the caller saw
	}
	r.release(&r.cur)
	r.err = errClosed
	return err
}
