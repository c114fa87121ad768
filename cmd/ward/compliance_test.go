package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/compliance"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// tlsServer accepts TLS connections with cfg until the test ends,
// completing each handshake; it returns its host:port.
func tlsServer(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				_ = c.(*tls.Conn).Handshake()
				c.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// TestComplianceReport: the control matrix of a new instance, then each
// finding the running system can show changing its control's mark: a
// table whose RLS is not forced, a long idle timeout, an old key, a
// provider enabled without a BAA, a tampered audit log, a server that
// accepts TLS 1.2; the three formats (HTML escaping an org's name), the
// operator-only facts, --fail-on and bad flags.
func TestComplianceReport(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	dir := filepath.Join(reachableTempDir(t), "var")
	mustWard(t, "migrate", "--data-dir", dir, "--database-url", env.SuperURL())
	out := mustWard(t, "org", "create", "--data-dir", dir, "--database-url", env.URL("ward_ops"),
		"--name", "Compliance Clinic", "--admin-email", "admin@compliance.test")
	org := regexp.MustCompile(`org_id=([0-9a-f-]{36})`).FindStringSubmatch(out)[1]

	// The dev certificate ward serve would use, and its exact TLS config.
	certDir := t.TempDir()
	cfg13, err := tlsConfig("", "", certDir)
	if err != nil {
		t.Fatal(err)
	}
	srv13 := tlsServer(t, cfg13)
	cfg12 := cfg13.Clone()
	cfg12.MinVersion = tls.VersionTLS12
	srv12 := tlsServer(t, cfg12)
	ca := filepath.Join(certDir, "dev-cert.pem")

	base := []string{"compliance", "report", "--data-dir", dir, "--database-url", env.SuperURL()}
	report := func(extra ...string) compliance.Report {
		t.Helper()
		out := mustWard(t, append(append(base, "--format", "json"), extra...)...)
		var r compliance.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("report is not JSON: %v\n%s", err, out)
		}
		return r
	}
	control := func(r compliance.Report, id string) compliance.Control {
		t.Helper()
		for _, c := range r.Controls {
			if c.ID == id {
				return c
			}
		}
		t.Fatalf("no control %s in the report", id)
		return compliance.Control{}
	}
	expect := func(r compliance.Report, id string, want compliance.Status, evidence string) {
		t.Helper()
		c := control(r, id)
		joined := strings.Join(c.Evidence, "\n")
		if c.Status != want || !strings.Contains(joined, evidence) {
			t.Errorf("%s: %s, want %s with %q in its evidence:\n%s", id, c.Status, want, evidence, joined)
		}
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := env.Super.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}

	// A new instance with one org: what holds, and what it still lacks.
	r := report("--server", srv13, "--ca", ca)
	if r.Orgs != 1 || len(r.Controls) != 20 {
		t.Fatalf("orgs %d, controls %d", r.Orgs, len(r.Controls))
	}
	expect(r, "164.312(a)(1)", compliance.Pass, "forced on all")
	expect(r, "164.308(a)(4)(ii)(B)", compliance.Pass, "ward_app owns no table")
	expect(r, "164.312(a)(2)(i)", compliance.Pass, "unique address")
	expect(r, "164.312(a)(2)(iii)", compliance.Pass, "within 30 minutes (longest: 30)")
	expect(r, "164.312(a)(2)(iv)", compliance.Pass, "oldest primary key is 0 days old")
	expect(r, "164.312(d)", compliance.Pass, `"mfa"`)
	expect(r, "164.312(d)", compliance.Pass, "1 admin has enrolled no second factor")
	expect(r, "164.312(a)(2)(ii)", compliance.Gap, "has a break-glass user who could activate now")
	expect(r, "164.308(a)(1)(ii)(D)", compliance.Partial, "stream their log to no enabled audit sink")
	expect(r, "164.312(b)", compliance.Partial, "no signed checkpoint yet")
	expect(r, "164.312(b)", compliance.Partial, "verified event by event")
	expect(r, "164.308(b)(1), 164.314(a)", compliance.NA, "no org enables an LLM provider")
	expect(r, "164.316(b)(2)(i)", compliance.Partial, "no archive outside the database")
	expect(r, "164.312(e)(1)", compliance.Pass, "TLS 1.2 is refused")
	expect(r, "164.312(e)(1)", compliance.Pass, "certificate verifies for 127.0.0.1")
	expect(r, "164.308(a)(5)(ii)(D)", compliance.NA, "no passwords")
	if r.Summary[compliance.Pass]+r.Summary[compliance.Partial]+r.Summary[compliance.Gap]+r.Summary[compliance.NA] != 20 {
		t.Errorf("summary %v does not count 20 controls", r.Summary)
	}

	// TLS: not probed; a dev certificate not trusted; TLS 1.2 accepted.
	expect(report(), "164.312(e)(1)", compliance.Partial, "not probed")
	expect(report("--server", srv13), "164.312(e)(1)", compliance.Partial, "not signed by a trusted authority")
	expect(report("--server", srv12, "--ca", ca), "164.312(e)(1)", compliance.Partial, "TLS 1.2 is accepted")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	expect(report("--server", closed), "164.312(e)(1)", compliance.Gap, "no TLS 1.3 handshake")

	// Findings in the database, each changing its control.
	exec(`alter table app.cases no force row level security`)
	exec(`update app.orgs set session_idle_timeout_min = 240 where id = $1`, org)
	exec(`update private.keysets set created_at = now() - interval '400 days' where org_id = $1`, org)
	exec(`insert into app.gateway_providers (name, base_url) values ('acme', 'https://llm.example.test')`)
	exec(`update app.orgs set gateway_providers = '{acme}', name = 'A <script>alert(1)</script> Clinic' where id = $1`, org)
	r = report()
	expect(r, "164.312(a)(1)", compliance.Gap, "app.cases")
	expect(r, "164.312(a)(2)(iii)", compliance.Partial, org+` ("A <script>alert(1)</script> Clinic"): 240 min`)
	expect(r, "164.312(a)(2)(iv)", compliance.Partial, "not rotated within 365 days")
	expect(r, "164.308(b)(1), 164.314(a)", compliance.Partial, "provider acme is enabled by 1 org and has no executed BAA")
	expect(report("--max-idle", "4h", "--max-key-age", "9000h"), "164.312(a)(2)(iii)", compliance.Pass, "within 240 minutes")
	exec(`alter table app.cases force row level security`)
	exec(`update app.gateway_providers set baa_signed_at = now(), baa_ref = 'BAA-1', zero_retention = true where name = 'acme'`)
	r = report()
	expect(r, "164.312(a)(1)", compliance.Pass, "forced on all")
	expect(r, "164.308(b)(1), 164.314(a)", compliance.Pass, "provider acme: BAA executed")

	// The server's role lent powers through membership: a role that
	// bypasses RLS, the tables' owner, CREATEROLE. (Roles are the
	// cluster's: each is taken back before the next test.)
	exec(`create role compliance_bypass bypassrls`)
	t.Cleanup(func() { _, _ = env.Super.Pool.Exec(ctx, `drop role if exists compliance_bypass`) })
	for _, f := range []struct{ grant, revoke, evidence string }{
		{`grant compliance_bypass to ward_app`, `revoke compliance_bypass from ward_app`, "member of roles that bypass row-level security or create roles: compliance_bypass (BYPASSRLS)"},
		{`grant ward_owner to ward_app`, `revoke ward_owner from ward_app`, "ward_app owns tables, itself or through a role"},
		{`alter role ward_app createrole`, `alter role ward_app nocreaterole`, "ward_app has CREATEROLE"},
	} {
		exec(f.grant)
		t.Cleanup(func() { _, _ = env.Super.Pool.Exec(ctx, f.revoke) })
		r = report()
		exec(f.revoke)
		expect(r, "164.308(a)(4)(ii)(B)", compliance.Gap, f.evidence)
	}
	expect(report(), "164.308(a)(4)(ii)(B)", compliance.Pass, "ward_app owns no table")

	// Break-glass counts only a designation that could be used now: the
	// admin designated is not enough until they hold two passkeys.
	var admin string
	if err := env.Super.Pool.QueryRow(ctx, `select user_id::text from app.memberships where org_id = $1 and role = 'admin'`, org).Scan(&admin); err != nil {
		t.Fatal(err)
	}
	exec(`insert into app.break_glass_users (org_id, user_id, designated_by) values ($1, $2, $2)`, org, admin)
	expect(report(), "164.312(a)(2)(ii)", compliance.Gap, "1 designation, none with a live clinical or admin membership and two passkeys")
	for i := range 2 {
		cred, pub := make([]byte, 16), make([]byte, 64)
		rand.Read(cred)
		rand.Read(pub)
		exec(`insert into app.passkeys (org_id, user_id, credential_id, public_key, aaguid, backup_eligible, backup_state, name)
		      values ($1, $2, $3, $4, gen_random_uuid(), false, false, $5)`, org, admin, cred, pub, fmt.Sprint("key ", i))
	}
	expect(report(), "164.312(a)(2)(ii)", compliance.Pass, "all 1 org have at least one break-glass user who could activate now")

	// A sink that only fails delivers nothing to review; one a few events
	// behind does (the facts say since when: TestActivityReviewSinks
	// drives the hour's bound).
	exec(`insert into app.audit_sinks (org_id, kind, name, endpoint, failing_since) values ($1, 'syslog', 'siem', 'siem.example.test:6514', now())`, org)
	expect(report(), "164.308(a)(1)(ii)(D)", compliance.Partial, "have only audit sinks that fail or are more than 1h0m0s behind: "+org)
	exec(`update app.audit_sinks set failing_since = null, last_success_at = now(), cursor_seq = 1 where org_id = $1`, org)
	expect(report(), "164.308(a)(1)(ii)(D)", compliance.Pass, "audit sink that is delivering")
	orgFacts := func() map[string]any {
		t.Helper()
		var doc struct{ Orgs []map[string]any }
		var raw []byte
		if err := env.Super.Pool.QueryRow(ctx, `select app.ops_compliance_facts()`).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		for _, o := range doc.Orgs {
			if o["id"] == org {
				return o
			}
		}
		t.Fatalf("no facts for org %s", org)
		return nil
	}
	// The oldest undelivered event is the second (seq > cursor 1).
	var second time.Time
	if err := env.Super.Pool.QueryRow(ctx, `select at from audit.log where org_id = $1 and seq = 2`, org).Scan(&second); err != nil {
		t.Fatal(err)
	}
	if sinks := orgFacts()["sinks"].([]any); len(sinks) != 1 || !sameTime(sinks[0].(map[string]any)["undelivered_since"], second) {
		t.Errorf("sink facts %v, want undelivered since %s", sinks, second)
	}

	// HTML escapes what the database holds; Markdown lists every control.
	htmlFile := filepath.Join(t.TempDir(), "report.html")
	mustWard(t, append(base, "--format", "html", "--out", htmlFile)...)
	page, err := os.ReadFile(htmlFile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(page), "<script>") || !strings.Contains(string(page), "&lt;script&gt;") ||
		!strings.Contains(string(page), "§164.312(a)(2)(iii)") {
		t.Errorf("HTML report does not escape the org's name or lacks a control:\n%s", page)
	}
	md := mustWard(t, append(base, "--format", "markdown")...)
	for _, c := range r.Controls {
		if !strings.Contains(md, "| §"+c.ID+" |") {
			t.Errorf("Markdown report lacks %s", c.ID)
		}
	}

	// A signed checkpoint, checked with the verifier key; an archive in
	// COMPLIANCE mode for seven years, then one object with a short
	// GOVERNANCE retention.
	vkey := strings.TrimSpace(mustWard(t, "audit", "checkpoint", "key", "--data-dir", dir, "--database-url", env.URL("ward_ops")))
	su, err := postgres.Open(ctx, env.SuperURL())
	if err != nil {
		t.Fatal(err)
	}
	defer su.Close()
	root, err := envelope.LoadOrCreateLocalRoot(filepath.Join(dir, "root-key.json"))
	if err != nil {
		t.Fatal(err)
	}
	signer, _, err := keystore.New(envelope.NewKeyring(root, envelope.Config{})).Signer(ctx, su)
	if err != nil {
		t.Fatal(err)
	}
	in := audit.NewIntegrator(su, slog.New(slog.DiscardHandler), 0)
	in.SetSigner(signer, time.Millisecond)
	if _, err := in.Once(ctx); err != nil {
		t.Fatal(err)
	}
	exec(`insert into audit.archive_objects (org_id, name, mode, retain_until) values ($1, 'seg-1', 'COMPLIANCE', now() + interval '2555 days')`, org)
	r = report("--key", vkey)
	expect(r, "164.312(b)", compliance.Pass, "2 signed checkpoints checked against the log")
	expect(r, "164.312(b)", compliance.Pass, "newest signed checkpoint at")
	expect(r, "164.312(c)(1)", compliance.Pass, "1 archived objects, each read back under S3 Object Lock in COMPLIANCE mode")
	expect(r, "164.316(b)(2)(i)", compliance.Pass, "shortest retention read back is 2555 days")
	exec(`insert into audit.archive_objects (org_id, name, mode, retain_until) values ($1, 'seg-1b', null, null)`, org)
	expect(report(), "164.316(b)(2)(i)", compliance.Partial, "1 without a lock (deletable at any time): their retention does not bind")
	_, otherKey, err := note.GenerateKey(rand.Reader, "another-log")
	if err != nil {
		t.Fatal(err)
	}
	expect(report("--key", otherKey), "164.312(b)", compliance.Gap, "do not verify")
	exec(`insert into audit.archive_objects (org_id, name, mode, retain_until) values ($1, 'seg-2', 'GOVERNANCE', now() + interval '30 days')`, org)
	r = report()
	expect(r, "164.312(c)(1)", compliance.Partial, "GOVERNANCE")
	expect(r, "164.316(b)(2)(i)", compliance.Gap, "30 days, under 2190")

	// A root-key rotation wraps the same keys again: the org's key is still
	// 400 days old. Its events, integrated but not signed, leave the newest
	// checkpoint behind the log, a finding once that checkpoint is an hour
	// old.
	mustWard(t, "keys", "root", "add", "--data-dir", dir, "--database-url", env.URL("ward_ops"))
	mustWard(t, "keys", "root", "rotate", "--data-dir", dir, "--database-url", env.URL("ward_ops"))
	if _, err := audit.NewIntegrator(su, slog.New(slog.DiscardHandler), 0).Once(ctx); err != nil {
		t.Fatal(err)
	}
	r = report()
	expect(r, "164.312(a)(2)(iv)", compliance.Partial, "not rotated within 365 days")
	expect(r, "164.312(b)", compliance.Pass, "newest signed checkpoint at")
	// The facts name the oldest event past the newest checkpoint (the
	// control's bound on it: TestAuditControlsUnsigned).
	var unsigned time.Time
	if err := env.Super.Pool.QueryRow(ctx, `select e.at from audit.log e
		 where e.org_id = $1 and e.seq = (select max(size) from audit.checkpoints where org_id = $1) + 1`, org).Scan(&unsigned); err != nil {
		t.Fatal(err)
	}
	if got := orgFacts()["first_unsigned_at"]; !sameTime(got, unsigned) {
		t.Errorf("first_unsigned_at %v, want %s", got, unsigned)
	}
	replica := func(q string, args ...any) {
		t.Helper()
		conn, err := su.Pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		if _, err := conn.Exec(ctx, `set session_replication_role = replica`); err != nil {
			t.Fatal(err)
		}
		defer conn.Exec(ctx, `reset session_replication_role`)
		if _, err := conn.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	// A tampered log is a GAP in audit and integrity, and --fail-on says so.
	exec(`update app.orgs set session_idle_timeout_min = 30 where id = $1`, org)
	replica(`delete from audit.events where org_id = $1 and qid = (select qid from audit.leaves where org_id = $1 and seq = 1)`, org)
	r = report()
	expect(r, "164.312(b)", compliance.Gap, "do not verify")
	expect(r, "164.312(c)(1)", compliance.Gap, "does not verify")
	if _, err := ward(t, append(base, "--fail-on", "gap")...); err == nil || !strings.Contains(err.Error(), "marked GAP") {
		t.Errorf("--fail-on gap with gaps: %v", err)
	}

	// Only an operator reads the facts; bad flags are refused plainly (an
	// empty key file would have left the checkpoints unchecked).
	emptyKey := filepath.Join(t.TempDir(), "empty.vkey")
	if err := os.WriteFile(emptyKey, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ward(t, "compliance", "report", "--data-dir", dir, "--database-url", env.URL("ward_app")); !errors.Is(err, compliance.ErrNotOperator) {
		t.Errorf("as ward_app: %v", err)
	}
	for _, bad := range [][]string{{"--format", "pdf"}, {"--fail-on", "sometimes"}, {"--max-idle", "-1m"}, {"--key", "ward+00000000+AQ"}, {"--key", certDir}, {"--key", emptyKey}, {"--ca", filepath.Join(certDir, "dev-key.pem")}} {
		if _, err := ward(t, append(base, bad...)...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if _, err := ward(t, "compliance", "audit"); err == nil {
		t.Error("compliance audit accepted")
	}
}

// sameTime reports whether v, a timestamp in a JSON document, is t.
func sameTime(v any, t time.Time) bool {
	str, ok := v.(string)
	if !ok {
		return false
	}
	got, err := time.Parse(time.RFC3339Nano, str)
	return err == nil && got.Equal(t)
}

// TestComplianceDisposalAndIncidents: the disposal and incident controls
// read the running database (migration 00240). An org without a retention
// policy keeps its documents for ever (PARTIAL); with one, a document just
// past retention is due at the purge's next pass, one past it for days
// means the purge is not running (PARTIAL) unless a legal hold keeps it,
// and a deleted document whose key survives is a GAP; the purge (as
// ward_ops) makes it PASS with its document.purge events in evidence. The
// breach tools' use and break-glass activations awaiting review are
// counted per org, the mark staying PARTIAL (the procedure is the org's).
func TestComplianceDisposalAndIncidents(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	dir := filepath.Join(reachableTempDir(t), "var")
	mustWard(t, "migrate", "--data-dir", dir, "--database-url", env.SuperURL())
	out := mustWard(t, "org", "create", "--data-dir", dir, "--database-url", env.URL("ward_ops"),
		"--name", "Disposal Clinic", "--admin-email", "admin@disposal.test")
	org := regexp.MustCompile(`org_id=([0-9a-f-]{36})`).FindStringSubmatch(out)[1]
	report := func() compliance.Report {
		t.Helper()
		out := mustWard(t, "compliance", "report", "--data-dir", dir, "--database-url", env.SuperURL(), "--format", "json")
		var r compliance.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("report is not JSON: %v\n%s", err, out)
		}
		return r
	}
	expect := func(r compliance.Report, id string, want compliance.Status, evidence ...string) {
		t.Helper()
		for _, c := range r.Controls {
			if c.ID != id {
				continue
			}
			joined := strings.Join(c.Evidence, "\n")
			for _, e := range evidence {
				if c.Status != want || !strings.Contains(joined, e) {
					t.Errorf("%s: %s, want %s with %q in its evidence:\n%s", id, c.Status, want, e, joined)
				}
			}
			return
		}
		t.Fatalf("no control %s in the report", id)
	}
	refuse := func(r compliance.Report, id, evidence string) {
		t.Helper()
		for _, c := range r.Controls {
			if c.ID == id && strings.Contains(strings.Join(c.Evidence, "\n"), evidence) {
				t.Errorf("%s still says %q:\n%s", id, evidence, strings.Join(c.Evidence, "\n"))
			}
		}
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := env.Super.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	const disposal, incident, retention = "164.310(d)(2)(i), (ii)", "164.308(a)(6)(ii)", "164.316(b)(2)(i)"

	r := report()
	if len(r.Controls) != 20 {
		t.Fatalf("%d controls, want 20", len(r.Controls))
	}
	expect(r, disposal, compliance.Partial, "1 of 1 orgs have no document retention policy: their documents are kept for ever", "crypto-shredding")
	expect(r, incident, compliance.Partial, "no org (of 1) scoped a breach", "no break-glass activation awaits review")
	refuse(r, retention, "document.purge")

	var admin string
	if err := env.Super.Pool.QueryRow(ctx, `select user_id::text from app.memberships where org_id = $1 and role = 'admin'`, org).Scan(&admin); err != nil {
		t.Fatal(err)
	}
	patient, held, open := uuid.NewString(), uuid.NewString(), uuid.NewString()
	exec(`insert into app.patients (org_id, id, name_enc, created_by, keyset) values ($1, $2, '\x00', $3, '\x00')`, org, patient, admin)
	exec(`insert into app.cases (org_id, id, patient_id, title_enc, created_by) values ($1, $2, $4, '\x00', $5), ($1, $3, $4, '\x00', $5)`,
		org, held, open, patient, admin)
	exec(`insert into app.document_retention (org_id, doc_type, retain_days, updated_by) values ($1, 'wage_statement', 30, $2)`, org, admin)
	// doc adds a live document created age ago, with one version uploaded
	// versionAge ago ("" for none).
	doc := func(kase, age, versionAge string) string {
		t.Helper()
		id := uuid.NewString()
		exec(`insert into app.documents (org_id, id, case_id, doc_type, created_by, created_at)
		      values ($1, $2, $3, 'wage_statement', $4, now() - $5::interval)`, org, id, kase, admin, age)
		if versionAge != "" {
			exec(`insert into app.document_versions (org_id, case_id, document_id, version, storage_key, data_key, size, sha256,
			        content_type, filename_enc, uploaded_by, created_at)
			      values ($1, $2, $3, 1, $4, '\x01', 1, sha256('x'), 'text/plain', '\x00', $5, now() - $6::interval)`,
				org, kase, id, "orgs/"+org+"/obj/"+uuid.NewString(), admin, versionAge)
		}
		return id
	}
	doc(open, "10 days", "10 days") // within retention: no finding
	// An open request made 60 days ago and due in 10 days: its retention
	// runs from its due date, as the purge measures it (00238, 00255).
	requested := doc(open, "60 days", "")
	exec(`update app.documents set due_at = now() + interval '10 days' where org_id = $1 and id = $2`, org, requested)
	r = report()
	expect(r, disposal, compliance.Pass, "1 of 1 orgs have a document retention policy: "+org+` ("Disposal Clinic"): 1 document type (no document purged yet)`,
		"no document is more than 24h0m0s past its retention unless a legal hold keeps it")

	// Two hours past retention: due at the next pass, not yet a finding.
	doc(open, "30 days 2 hours", "")
	expect(report(), disposal, compliance.Pass, "documents past retention for less than 24h0m0s, due at the purge's next pass: "+org)

	// Past retention for five days on an open case: the purge is not
	// running. The same on a held case is kept, as the hold requires.
	old := doc(open, "60 days", "35 days")
	doc(held, "60 days", "35 days")
	exec(`insert into app.legal_holds (org_id, case_id, reason, created_by) values ($1, $2, 'matter', $3)`, org, held, admin)
	var since time.Time
	if err := env.Super.Pool.QueryRow(ctx, `select created_at + interval '30 days' from app.document_versions where org_id = $1 and document_id = $2`,
		org, old).Scan(&since); err != nil {
		t.Fatal(err)
	}
	r = report()
	expect(r, disposal, compliance.Partial,
		"documents past retention for more than 24h0m0s that no legal hold keeps: the purge job is not running",
		org+` ("Disposal Clinic"): 2 documents, the oldest past retention since `+since.UTC().Format(time.RFC3339),
		"kept by an active legal hold (not purged, as the hold requires): "+org+` ("Disposal Clinic"): 1`)

	// A deleted document whose data key survives was not shredded: GAP.
	shredless := doc(open, "1 day", "1 day")
	exec(`update app.documents set deleted_at = now() where org_id = $1 and id = $2`, org, shredless)
	expect(report(), disposal, compliance.Gap, "deleted documents whose data keys survive (not crypto-shredded): "+org+` ("Disposal Clinic"): 1`)
	exec(`update app.document_versions set data_key = null where org_id = $1 and document_id = $2`, org, shredless)

	// The purge, as the job runs it: the overdue documents go, the held
	// one stays, and the report says when.
	ops, err := postgres.OpenAs(ctx, env.SuperURL(), "ward_ops")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ops.Close)
	var purged int
	if err := ops.Pool.QueryRow(ctx, `select count(*) from app.purge_expired_documents(100)`).Scan(&purged); err != nil || purged != 2 {
		t.Fatalf("purged %d: %v", purged, err)
	}
	var last time.Time
	if err := env.Super.Pool.QueryRow(ctx, `select max(at) from audit.events where org_id = $1 and action = 'document.purge'`, org).Scan(&last); err != nil {
		t.Fatal(err)
	}
	r = report()
	expect(r, disposal, compliance.Pass, "1 document type (last document.purge "+last.UTC().Format(time.RFC3339)+", 2 in the last 365 days)",
		"kept by an active legal hold", "no document is more than 24h0m0s past its retention")
	refuse(r, disposal, "not running")
	refuse(r, disposal, "not crypto-shredded")
	expect(r, retention, compliance.Partial, "2 documents purged under retention policies in the last 365 days each left a document.purge event")

	// Measured by the rule in force (migrations 00256, 00257): a lab
	// report 60 days old, whose type was shortened from 365 to 30 days
	// with the notice run out, is overdue; a wage statement of a patient
	// with an open access request is kept, not overdue. The purge agrees.
	asking, askingCase, lab := uuid.NewString(), uuid.NewString(), uuid.NewString()
	exec(`insert into app.patients (org_id, id, name_enc, created_by, keyset) values ($1, $2, '\x00', $3, '\x00')`, org, asking, admin)
	exec(`insert into app.cases (org_id, id, patient_id, title_enc, created_by) values ($1, $2, $3, '\x00', $4)`, org, askingCase, asking, admin)
	exec(`insert into app.dsr_requests (org_id, kind, patient_id, requested_by) values ($1, 'access', $2, $3)`, org, asking, admin)
	asked := doc(askingCase, "60 days", "35 days")
	exec(`insert into app.document_retention (org_id, doc_type, retain_days, pending_days, effective_at, updated_by)
	      values ($1, 'lab_report', 365, 30, now() - interval '1 day', $2)`, org, admin)
	exec(`insert into app.documents (org_id, id, case_id, doc_type, created_by, created_at)
	      values ($1, $2, $3, 'lab_report', $4, now() - interval '60 days')`, org, lab, open, admin)
	if err := env.Super.Pool.QueryRow(ctx, `select created_at + interval '30 days' from app.documents where org_id = $1 and id = $2`,
		org, lab).Scan(&since); err != nil {
		t.Fatal(err)
	}
	r = report()
	expect(r, disposal, compliance.Partial, "2 document types",
		"the purge job is not running (ward serve, its ward_ops connection): "+org+` ("Disposal Clinic"): 1 document, the oldest past retention since `+since.UTC().Format(time.RFC3339),
		"kept for an open access or amendment request about their patient (HIPAA §164.524, §164.526): "+org+` ("Disposal Clinic"): 1`)
	if err := ops.Pool.QueryRow(ctx, `select count(*) from app.purge_expired_documents(100)`).Scan(&purged); err != nil || purged != 1 {
		t.Fatalf("purged %d: %v", purged, err)
	}
	var labGone, askedGone bool
	if err := env.Super.Pool.QueryRow(ctx, `select (select deleted_at is not null from app.documents where id = $1),
	      (select deleted_at is not null from app.documents where id = $2)`, lab, asked).Scan(&labGone, &askedGone); err != nil ||
		!labGone || askedGone {
		t.Fatalf("purge: the lab report deleted %v, the asked-for statement deleted %v (%v)", labGone, askedGone, err)
	}
	// A type added is pending its notice: listed, not yet counted in force.
	exec(`insert into app.document_retention (org_id, doc_type, pending_days, effective_at, updated_by)
	      values ($1, 'note', 10, now() + interval '20 days', $2)`, org, admin)
	r = report()
	expect(r, disposal, compliance.Pass, "kept for an open access or amendment request", "2 document types",
		"shorter retention pending its 30-day notice (the purge applies the days in force until then): "+org+` ("Disposal Clinic"): 1 document type`)
	refuse(r, disposal, "not running")

	// The breach tools' use: a scope and a revocation count, a denied
	// scope does not; a break-glass activation awaits review until an
	// admin reviews it.
	exec(`select audit.append_as($1, 'breach.scope', 'success', p_actor => $2)`, org, admin)
	exec(`select audit.append_as($1, 'breach.scope', 'denied', p_actor => $2)`, org, admin)
	exec(`select audit.append_as($1, 'breach.revoke', 'success', p_actor => $2)`, org, admin)
	cred, pub := make([]byte, 16), make([]byte, 64)
	rand.Read(cred)
	rand.Read(pub)
	var session, passkey string
	exec(`insert into app.passkeys (org_id, user_id, credential_id, public_key, aaguid, backup_eligible, backup_state, name)
	      values ($1, $2, $3, $4, gen_random_uuid(), false, false, 'key')`, org, admin, cred, pub)
	if err := env.Super.Pool.QueryRow(ctx, `select id::text from app.passkeys where org_id = $1`, org).Scan(&passkey); err != nil {
		t.Fatal(err)
	}
	if err := env.Super.Pool.QueryRow(ctx, `insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, assurance, amr)
	      values ($1, $2, sha256('bg'::bytea), 15, now() + interval '1 hour', 2, '{passkey}') returning id::text`, org, admin).Scan(&session); err != nil {
		t.Fatal(err)
	}
	exec(`insert into app.break_glass_activations (org_id, user_id, session_id, passkey_id, reason_enc, activated_at, expires_at)
	      values ($1, $2, $3, $4, '\x01', now() - interval '2 hours', now() - interval '1 hour')`, org, admin, session, passkey)
	var activated time.Time
	if err := env.Super.Pool.QueryRow(ctx, `select activated_at from app.break_glass_activations where org_id = $1`, org).Scan(&activated); err != nil {
		t.Fatal(err)
	}
	r = report()
	expect(r, incident, compliance.Partial,
		"1 of 1 orgs used the breach tools in the last 365 days (breach.scope, breach.revoke events): "+org+` ("Disposal Clinic"): 1 scope, 1 revocation`,
		"1 of 1 orgs have break-glass activations awaiting review: "+org+` ("Disposal Clinic"): 1 activation, the oldest activated `+activated.UTC().Format(time.RFC3339),
		"the response procedure around them is the organization's")
	exec(`update app.break_glass_activations set reviewed_at = now(), reviewed_by = user_id, review_note_enc = '\x01' where org_id = $1`, org)
	expect(report(), incident, compliance.Partial, "no break-glass activation awaits review", "1 scope, 1 revocation")
}
