// Package audit is Ward's tamper-evident audit log: one append-only log per
// org in PostgreSQL, written in the same transaction as the access it
// records, and the code that reads, reports on and verifies it.
//
// # What is hashed
//
// audit.append (migrations/00003_create_audit.sql, the source of truth)
// builds the event object of audit.event_json from the event's columns and
// stores its RFC 8785 (JCS) bytes in the canonical column:
//
//	{"action":…,"actor":…,"actor_kind":…,"at":"2026-11-24T09:30:00.123456Z",
//	 "details":{…},"ip":…,"object_id":…,"object_type":…,"org":…,"outcome":…,
//	 "patient":…,"request":…,"results":[…],"session":…,"ua":…,"v":1}
//
// Keys are in code-point order; absent values are null; strings are
// escaped only where JCS requires; numbers (in details) must be integers of
// magnitude at most 2^53 and object keys printable ASCII, so the SQL and Go
// canonicalisers cannot disagree. The seq is not in the object: position is
// committed by the chain and the tree. Canonical rebuilds these bytes in Go
// from a row's columns; the differential tests hold the two equal.
//
// # Leaf, chain, tree
//
//	leaf_i  = SHA-256(0x00 ‖ canonical_i)                   RFC 6962 leaf
//	chain_0 = SHA-256("audit-chain/v1\n" ‖ origin)          origin = "ward/audit/<org>"
//	chain_i = SHA-256(0x02 ‖ chain_{i-1} ‖ leaf_i)
//	root_n  = RFC 6962 Merkle tree hash over leaf_1 … leaf_n (index seq-1)
//
// The per-org head row (audit.heads) holds the size, the chain head, the
// compact-range frontier and the root, and is locked by the appending
// transaction: seq order is commit order and a rolled-back transaction
// leaves no gap. The tree code is transparency-dev/merkle's (compact ranges
// with the RFC 6962 hasher); this package writes no proof code of its own.
//
// # Writing
//
// Record appends an event in the caller's transaction; the caller calls it
// last before commit and fails its operation if it fails. RecordDenied
// writes a denied or failed access in its own short transaction, because
// the business transaction rolled back. The actor and session come from the
// transaction's credential, never from the caller.
//
// # What Verify proves
//
// Verify streams a log in seq order and, for every event, rebuilds the
// canonical bytes from the columns and requires them equal to the stored
// bytes (an edited column is caught), recomputes the leaf and the chain
// link, and requires seq to run 1, 2, 3, … (a deletion or insertion leaves
// a gap or breaks the chain). It then requires the Merkle root, the
// frontier, the size and the chain head to equal the head row. A failure
// names the first seq that cannot be trusted.
//
// # What it cannot prove
//
// Everything Verify reads is in the database, so an attacker who can write
// the database (a superuser) can rewrite a suffix of the log, or truncate
// it, and recompute the head row to match: the log is then self-consistent
// and verifies. Only a head kept outside the database catches that: pass a
// head verified earlier (a signed checkpoint published to the WORM archive
// or a SIEM) as VerifyOptions.Known, and Verify requires the log to be at
// least that long with the same root at that size. Nor can any check catch
// the application lying when it writes: the event is what the server said.
//
// # Reading
//
// List pages through an org's log and AccessReport lists who touched a
// patient's record (including lists that returned it). Row-level security
// decides who reads: an org's admins the whole log, a patient the events
// about their own record. Entries carry ids, never PHI; details hold
// non-PHI facts only.
package audit
