package docstream

import "github.com/google/uuid"

// aadTag opens every object AAD, so that it can never equal another
// associated data Ward feeds to a primitive, and so the encoding can be
// versioned.
const aadTag = "ward/docstream/object/v1"

// AAD returns the associated data that binds a document version's object
// to its org, case, document and version: the tag, then the four ids of
// 16 bytes each (fixed widths, so the encoding is unambiguous). Pass it to
// Put or Encrypt and to Decrypt: an object copied to another version's
// row, document, case or org then fails with ErrIntegrity. It never fails.
func AAD(org, caseID, document, version uuid.UUID) []byte {
	b := make([]byte, 0, len(aadTag)+4*16)
	b = append(b, aadTag...)
	b = append(b, org[:]...)
	b = append(b, caseID[:]...)
	b = append(b, document[:]...)
	return append(b, version[:]...)
}
