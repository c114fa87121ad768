package gateway

import "github.com/wardhq/ward/internal/gateway/phi"

// normalize rewrites the characters that hide an identifier from the
// engine without changing what a reader sees (phi.Normalize: no-break and
// other spaces, dashes, full-width ASCII, invisible format and control
// characters), before a text is de-identified and sent upstream. The
// upstream receives the normalized text (an LLM reads it the same); the
// reply's restored values are as the engine found them. The styled letters
// and digits stay as they are (phi.NormalizeSent: "x²" is not "x2"); the
// engine reads them folded, and replaces an identifier written with them.
func normalize(s string) string { return phi.NormalizeSent(s) }
