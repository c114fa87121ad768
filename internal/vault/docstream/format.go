package docstream

import "fmt"

// Sizes of the AES256_GCM_HKDF_1MB streaming format.
const (
	// SegmentSize is the size of every ciphertext segment but the last
	// (the first counts the header with it).
	SegmentSize = 1 << 20
	// HeaderSize is the length of the header: one length byte, a 32-byte
	// salt and a 7-byte nonce prefix.
	HeaderSize = 1 + keySize + noncePrefixSize
	// TagSize is the GCM tag at the end of every segment.
	TagSize = 16

	keySize         = 32
	noncePrefixSize = 7
	nonceSize       = 12

	// firstPlain and plainSeg are the plaintext capacities of the first
	// and of every later segment.
	firstPlain = SegmentSize - HeaderSize - TagSize
	plainSeg   = SegmentSize - TagSize
	// maxSegments is the number of segment numbers the nonce can hold.
	maxSegments = 1<<32 - 1
)

// segments returns the number of segments of a plaintext of p >= 0 bytes.
func segments(p int64) int64 {
	if p <= firstPlain {
		return 1
	}
	return 1 + (p-firstPlain+plainSeg-1)/plainSeg
}

// CiphertextSize returns the size of the object that encrypting plaintext
// bytes produces: the header, the plaintext and a tag per segment. It
// returns -1 for a negative plaintext size.
func CiphertextSize(plaintext int64) int64 {
	if plaintext < 0 {
		return -1
	}
	return HeaderSize + plaintext + TagSize*segments(plaintext)
}

// PlaintextSize returns the plaintext size of an object of ciphertext
// bytes. It returns an error wrapping ErrIntegrity if no plaintext
// encrypts to that size (the object is truncated or padded).
func PlaintextSize(ciphertext int64) (int64, error) {
	r := ciphertext - HeaderSize
	if r < TagSize {
		return 0, fmt.Errorf("docstream: a ciphertext of %d bytes is shorter than a header and a tag: %w", ciphertext, ErrIntegrity)
	}
	var p int64
	if r <= SegmentSize-HeaderSize {
		p = r - TagSize
	} else {
		rest := r - (SegmentSize - HeaderSize)
		n := 1 + (rest+SegmentSize-1)/SegmentSize
		p = r - TagSize*n
	}
	if p < 0 || CiphertextSize(p) != ciphertext {
		return 0, fmt.Errorf("docstream: no plaintext encrypts to %d bytes: %w", ciphertext, ErrIntegrity)
	}
	return p, nil
}

// segmentOf returns the segment holding plaintext byte p.
func segmentOf(p int64) int64 {
	if p < firstPlain {
		return 0
	}
	return 1 + (p-firstPlain)/plainSeg
}

// plainStart returns the plaintext offset at which segment i starts.
func plainStart(i int64) int64 {
	if i == 0 {
		return 0
	}
	return firstPlain + (i-1)*plainSeg
}

// cipherStart returns the object offset at which segment i starts.
func cipherStart(i int64) int64 {
	if i == 0 {
		return HeaderSize
	}
	return i * SegmentSize
}
