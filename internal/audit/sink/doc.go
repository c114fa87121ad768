// Package sink streams each org's audit log to the org's own SIEMs: HTTPS
// webhooks signed per Standard Webhooks, syslog over TLS (RFC 5424 with
// RFC 5425 octet counting) and the Splunk HTTP Event Collector.
//
// # Delivery
//
// Every sink has its own cursor, the last seq its receiver acknowledged
// (a 2xx answer, a completed TLS write, a HEC success). The Deliverer
// reads the events after the cursor in seq order, sends them as one batch,
// and moves the cursor only after the acknowledgement, in the database.
// So delivery is at least once and in order per sink: a batch whose
// acknowledgement was lost (a receiver down, a node killed mid-delivery)
// is sent again, and a receiver deduplicates by seq (each event carries
// its seq, leaf hash and chain hash, so a SIEM can also check continuity).
// A failing sink is retried with exponential backoff and jitter, and
// disabled after its disable_after period of failures until an admin
// re-enables it.
//
// One Deliverer is active across all nodes: it holds a PostgreSQL session
// advisory lock, checked every pass, which a dead node's session releases.
// (A job queue such as River was considered: its jobs are independent and
// retried out of order, while a sink is one ordered stream whose state is
// a single cursor; the lease plus the cursor row is the whole mechanism,
// the same one the archiver uses, and adds no dependency.)
// It reads the log as ward_audit_reader (like the archiver) and writes
// only the sinks' cursors and delivery state; it never touches the
// request path, so a slow receiver cannot slow an audited request.
//
// # Configuration
//
// Service is an org admin's view (the routes also want a recent second
// factor): create, list (with lag and last error), enable or disable, and
// rotate a webhook's secret. The previous secret keeps signing beside the
// new one for the sink's overlap window, so receivers can switch without
// losing a batch. Secrets are sealed under the instance key set, bound to
// org and sink; a webhook secret is shown once, at creation or rotation.
//
// # What leaves
//
// Events hold ids, never names or free text (see package audit); a sink
// carries nothing beyond the event's own fields, in the sink's format
// (OCSF by default, FHIR AuditEvent or the canonical JSON Lines record).
package sink
