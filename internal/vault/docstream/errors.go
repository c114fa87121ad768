package docstream

import "errors"

// Errors returned by this package. The text around them may carry object
// keys, row ids and sizes, never plaintext or key material.
var (
	// ErrIntegrity means an object failed authentication: a byte was
	// changed, the object was truncated, extended or had segments
	// reordered, it was encrypted under another data key, or it is being
	// read with associated data other than the data it was written with.
	// No plaintext of the failing segment is returned.
	ErrIntegrity = errors.New("docstream: object fails authentication")

	// ErrDataKey means a wrapped data key opened but does not hold exactly
	// one AES256_GCM_HKDF_1MB streaming key.
	ErrDataKey = errors.New("docstream: not a document data key")

	// ErrRange means a read range outside the document: a negative size
	// or offset, or an offset past the end.
	ErrRange = errors.New("docstream: range outside the document")
)
