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

// errClosed is returned by Read after Close.
var errClosed = errors.New("docstream: read after close")

// Decrypt streams plaintext bytes [off, off+n) (n < 0, or a range past the
// end: to the end) of the object at key in store, encrypted under k with
// aad, whose plaintext is plaintextSize bytes (as recorded when it was
// written). It reads only the header and the ciphertext segments that
// cover the range, with one ranged Open for the segments: it does not
// decrypt from the start.
//
// Before returning, Decrypt checks the object's size against plaintextSize
// and authenticates the first segment of the range, so most failures come
// back from Decrypt itself, before the caller has sent anything; later
// segments are authenticated as Read reaches them. Any authentication
// failure (a changed byte, a truncated, extended or reordered object, a
// wrong aad, key or plaintextSize) is an error wrapping ErrIntegrity, from
// Decrypt or from Read, and no byte of the failing segment is returned.
// Bytes of earlier segments in the range that did authenticate may already
// have been read.
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
	r := &reader{
		ctx: ctx, key: key, objSize: want, seg: first, end: last, final: final,
		skip: off - plainStart(first), remain: n,
	}
	from, to := cipherStart(first), r.cipherEnd(last)
	var hdr []byte
	if first == 0 {
		// One read for the header and the segments.
		r.src, err = store.Open(ctx, key, 0, to)
		if err == nil {
			hdr = make([]byte, HeaderSize)
			err = r.readFull(hdr, -1)
		}
	} else {
		hdr, err = readHeader(ctx, store, key)
		if err == nil {
			r.src, err = store.Open(ctx, key, from, to-from)
		}
	}
	if err == nil {
		err = r.init(k, hdr, aad)
	}
	if err == nil {
		// Authenticate the first segment now, before the caller answers.
		err = r.fill()
	}
	if err != nil {
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
	r := &reader{ctx: ctx, key: key, src: src}
	if err := r.readFull(hdr, -1); err != nil {
		return nil, err
	}
	return hdr, nil
}

// reader decrypts segments [seg, end] of one object.
type reader struct {
	ctx     context.Context
	key     string
	src     io.ReadCloser
	objSize int64 // as plaintextSize says it must be
	aead    cipher.AEAD
	prefix  [noncePrefixSize]byte
	seg     int64 // next segment to read
	end     int64 // last segment of the range
	final   int64 // last segment of the object
	skip    int64 // plaintext bytes to drop from the first segment
	remain  int64 // plaintext bytes still to return
	buf     *[]byte
	pt      []byte // decrypted bytes not yet returned
	err     error  // sticky
}

// init checks the header and derives the object's segment cipher.
func (r *reader) init(k *DataKey, hdr, aad []byte) error {
	if hdr[0] != HeaderSize {
		return fmt.Errorf("docstream: object %s has header length %d, not %d: %w", r.key, hdr[0], HeaderSize, ErrIntegrity)
	}
	a, err := k.segmentCipher(hdr[1:1+keySize], aad)
	if err != nil {
		return err
	}
	r.aead = a
	copy(r.prefix[:], hdr[1+keySize:])
	r.buf = segmentBuffers.Get().(*[]byte)
	return nil
}

// cipherEnd returns the object offset just past segment i.
func (r *reader) cipherEnd(i int64) int64 {
	if i == r.final {
		return r.objSize
	}
	return cipherStart(i + 1)
}

// Read returns decrypted bytes of the range; see Decrypt for its errors.
func (r *reader) Read(p []byte) (int, error) {
	for len(r.pt) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.remain == 0 {
			return 0, io.EOF
		}
		if err := r.fill(); err != nil {
			r.err = err
			return 0, err
		}
	}
	n := copy(p, r.pt)
	r.pt = r.pt[n:]
	return n, nil
}

// fill reads, authenticates and decrypts the next segment into r.pt.
func (r *reader) fill() error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	i := r.seg
	ct := (*r.buf)[:r.cipherEnd(i)-cipherStart(i)]
	if err := r.readFull(ct, i); err != nil {
		return err
	}
	var nonce [nonceSize]byte
	copy(nonce[:], r.prefix[:])
	binary.BigEndian.PutUint32(nonce[noncePrefixSize:], uint32(i))
	if i == r.final {
		nonce[nonceSize-1] = 1
	}
	pt, err := r.aead.Open(ct[:0], nonce[:], ct, nil)
	if err != nil {
		return fmt.Errorf("docstream: object %s segment %d: %w", r.key, i, ErrIntegrity)
	}
	pt = pt[r.skip:]
	r.skip = 0
	if int64(len(pt)) > r.remain {
		pt = pt[:r.remain]
	}
	r.remain -= int64(len(pt))
	r.pt = pt
	r.seg++
	if r.seg > r.end {
		r.remain = 0
	}
	return nil
}

// readFull fills b with segment seg (-1: the header) from the source; an
// early end is an integrity failure (the object shrank under us).
func (r *reader) readFull(b []byte, seg int64) error {
	if _, err := io.ReadFull(r.src, b); err != nil {
		what := "header"
		if seg >= 0 {
			what = fmt.Sprintf("segment %d", seg)
		}
		if cerr := r.ctx.Err(); cerr != nil {
			return cerr
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("docstream: object %s ends inside its %s: %w", r.key, what, ErrIntegrity)
		}
		return fmt.Errorf("docstream: read %s of object %s: %w", what, r.key, err)
	}
	return nil
}

// Close releases the source and the segment buffer. It returns the
// source's Close error.
func (r *reader) Close() error {
	var err error
	if r.src != nil {
		err = r.src.Close()
		r.src = nil
	}
	if r.buf != nil {
		clear(*r.buf)
		segmentBuffers.Put(r.buf)
		r.buf = nil
	}
	r.pt = nil
	if r.err == nil {
		r.err = errClosed
	}
	return err
}
