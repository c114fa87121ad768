// Package export writes an org's audit log out of Ward: as exports for
// investigations, audits and legal events, and as signed evidence bundles
// that a court or a regulator can check without trusting Ward.
//
// # Formats
//
// An export streams the sequenced events a Filter selects, in seq order,
// in one of these formats (docs/audit-exports.md has every field):
//
//   - jsonl: one object per line, {"chain_hash","event","leaf_hash","seq"},
//     where the value of "event" is byte for byte the canonical (RFC 8785)
//     event the log hashed: SHA-256(0x00 ‖ event) is leaf_hash.
//   - csv: RFC 4180, a header row and the documented flat columns; a cell
//     that a spreadsheet would run as a formula (starting = + - @ tab or CR)
//     is prefixed with an apostrophe.
//   - fhir-ndjson, fhir-bundle: FHIR R4 AuditEvent resources following the
//     IHE Basic Audit Log Patterns (BALP), one per line or in a Bundle of
//     type collection.
//   - ocsf: OCSF 1.8.0 events (Authentication, Entity Management, API
//     Activity), one per line.
//
// Memory is independent of the export's size, and no database connection
// waits on the writer: the events are read page by page through a Reader,
// each page in a short transaction that ends before the page is written
// (Write), up to the newest seq as the export started, so the pages make up
// one consistent prefix of the append-only log.
//
// # Evidence bundles
//
// A bundle (WriteBundle) is a tar of the JSON Lines export of a contiguous
// seq range, the leaf hash of every position of the range, a range proof
// (the compact ranges of the tree left and right of it) against a signed
// checkpoint that covers it, and a manifest of every file's SHA-256 signed
// as a C2SP note by the log's key. VerifyBundle checks it with only the
// verifier key: the manifest's signature, the checkpoint's signature and
// origin, that the leaves fold with the range proof to the checkpoint's
// root, that every event hashes to the leaf at its seq and that the events
// run in seq order, and every file's SHA-256. So it proves that these
// events are in the org's log, unaltered, at these positions, in this
// order; and, for an export without a patient, actor or action filter,
// that no event of the range was left out.
//
// # Who may export
//
// Service.Export and Service.Bundle are for org admins who presented a
// second factor recently (the route checks it); every export is recorded
// as audit.export, committed before the first byte leaves.
package export
