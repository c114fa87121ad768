// Package docstream encrypts documents into a blob.Store and decrypts them
// back out, streaming, with random access by segment.
//
// Every document version has its own data key: a fresh Tink streaming AEAD
// keyset of one AES256_GCM_HKDF_1MB key. NewDataKey serialises it and seals
// it under the org's keys (envelope.OrgKeys.Seal) with associated data
// naming the row that stores it; only the sealed bytes leave the process.
//
// Writes use Tink's own encrypting writer. The wire format is Tink's
// AES-GCM-HKDF streaming format:
//
//	header    = 0x28 || salt (32 bytes) || nonce prefix (7 bytes)   40 bytes
//	segment i = AES-256-GCM(k, nonce_i, plaintext_i) || tag (16 bytes)
//	k         = HKDF-SHA256(ikm = the keyset's key, salt, info = aad), 32 bytes
//	nonce_i   = nonce prefix || uint32_be(i) || last (1 byte: 1 on the final segment)
//
// Ciphertext segments are 1 MiB (SegmentSize), so plaintext segments are
// 1 MiB - 16 bytes, except the first, which is shorter by the header:
// 1 MiB - 56 bytes. The final segment may be shorter and is empty only for
// an empty document.
//
// tink-go has no random-access reader, so reads are ours: Decrypt derives
// the same key, fetches the header and then only the ciphertext segments
// that cover the requested plaintext range (one ranged read of the store),
// and opens each segment with its own nonce. The last-segment flag and the
// segment counter in the nonce make truncation, extension and reordering
// fail authentication; the associated data binds the object to its row.
// The tests prove the reader against Tink's own NewDecryptingReader.
//
// Plaintext exists only in memory, one segment at a time: never on disk,
// never in an error or a log.
package docstream
