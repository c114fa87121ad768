package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/compliance"
	"github.com/wardhq/ward/internal/postgres"
)

// TestOrgShred: `ward org shred` previews an org's destruction without
// changing anything, is refused while a legal hold is live, while a
// data-subject request is open and when the name given is not the org's,
// then destroys the org's keysets and every data key and ends its
// credentials in one run: the admin's session answers 401, no sign-in link
// can be made, the database refuses a new member, session or keyset of the
// org, org.shred is in its log and the log still verifies; another org on
// the instance is untouched. The addresses, invitations and secrets the
// instance keyset sealed for the org alone are erased, a person another
// org knows keeps hers until that org is shredded too; a second run
// erases nothing more; bad flags are refused with plain messages.
func TestOrgShred(t *testing.T) {
	dir := filepath.Join(reachableTempDir(t), "var")
	s := startServe(t, dir)
	ctx := context.Background()

	type member struct{ org, token string }
	signIn := func(name, email string) member {
		t.Helper()
		out := mustWard(t, "org", "create", "--data-dir", dir, "--name", name, "--admin-email", email)
		org := regexp.MustCompile(`org_id=([0-9a-f-]{36})`).FindStringSubmatch(out)
		if org == nil {
			t.Fatalf("org create printed %q", out)
		}
		s.noDeviceBinding()
		link := strings.TrimSpace(mustWard(t, "login-link", "--data-dir", dir, "--email", email))
		var sess struct {
			Token string `json:"token"`
		}
		s.call("POST", "/v1/auth/magic", "", map[string]string{"token": link[strings.LastIndex(link, "=")+1:]},
			http.StatusOK, &sess)
		s.stepUp(sess.Token)
		return member{org: org[1], token: sess.Token}
	}
	a := signIn("Shred Clinic", "admin@shred.test")
	b := signIn("Keep Clinic", "admin@keep.test")
	type id struct {
		ID string `json:"id"`
	}
	var pa, pb, kase, doc, hold, dsr id
	s.call("POST", "/v1/patients", a.token, map[string]string{"name": "Ada Shredwell", "dob": "1970-05-06"}, http.StatusCreated, &pa)
	s.call("POST", "/v1/patients", b.token, map[string]string{"name": "Kim Keeper", "dob": "1980-07-08"}, http.StatusCreated, &pb)
	s.call("POST", "/v1/cases", a.token, map[string]any{"patient_id": pa.ID, "title": "Claim 9"}, http.StatusCreated, &kase)
	s.call("POST", "/v1/cases/"+kase.ID+"/documents", a.token, map[string]any{"type": "report"}, http.StatusCreated, &doc)
	req, _ := http.NewRequest("PUT", s.base+"/v1/documents/"+doc.ID+"/content", bytes.NewReader([]byte("a report to shred")))
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Disposition", "attachment; filename=report.txt")
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	// People and secrets the instance keyset seals: a member only A
	// knows (and its admin), one of both orgs, an outside invitee of A's
	// case (an address on the invitation; her user comes with its
	// acceptance), and a webhook sink's secret.
	s.call("POST", "/v1/members", a.token, map[string]any{"email": "only@shred.test", "role": "provider", "invite": false},
		http.StatusCreated, nil)
	for _, m := range []member{a, b} {
		s.call("POST", "/v1/members", m.token, map[string]any{"email": "both@two.test", "role": "provider", "invite": false},
			http.StatusCreated, nil)
	}
	s.call("POST", "/v1/cases/"+kase.ID+"/invites", a.token, map[string]any{"email": "counsel@outside.test", "kind": "attorney",
		"permissions": []string{"view"}, "access_expires_at": time.Now().Add(time.Hour)}, http.StatusCreated, nil)
	s.call("POST", "/v1/audit/sinks", a.token, map[string]any{"kind": "webhook", "name": "siem", "endpoint": "https://siem.example"},
		http.StatusCreated, nil)
	s.call("POST", "/v1/legal-holds", a.token, map[string]any{"patient_id": pa.ID, "reason": "matter 9"}, http.StatusCreated, &hold)
	s.call("POST", "/v1/compliance/dsr", a.token, map[string]any{"kind": "access", "patient_id": pa.ID}, http.StatusCreated, &dsr)

	cl, err := postgres.NewCluster(filepath.Join(dir, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	su, err := postgres.Open(ctx, cl.URL("postgres", "ward"))
	if err != nil {
		t.Fatal(err)
	}
	defer su.Close()
	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		if err := su.Pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// An SSO connection's client secret (sealed under the instance
	// keyset; written here as the server would store it).
	if _, err := su.Pool.Exec(ctx, `insert into app.sso_connections (org_id, kind, name, issuer, client_id, client_secret_enc, created_by)
		select $1, 'oidc', 'IdP', 'https://idp.example', 'ward', '\x0102', user_id from app.memberships where org_id = $1 limit 1`, a.org); err != nil {
		t.Fatal(err)
	}
	intact := func() {
		t.Helper()
		if n := count(`select count(*) from private.keysets where org_id = $1`, a.org); n != 2 {
			t.Fatalf("org A has %d keysets, want its 2 (nothing changed yet)", n)
		}
		s.call("GET", "/v1/patients/"+pa.ID, a.token, nil, http.StatusOK, nil)
	}

	// The preview names what would be destroyed and what stands in the way.
	out := mustWard(t, "org", "shred", "--data-dir", dir, "--org", a.org)
	for _, want := range []string{`"Shred Clinic"`, "patients", "document data keys", "live legal holds",
		"Refused as it stands: release its legal holds and close its open data-subject requests first"} {
		if !strings.Contains(out, want) {
			t.Errorf("the preview lacks %q:\n%s", want, out)
		}
	}
	var preview ShredReport
	if err := json.Unmarshal([]byte(mustWard(t, "org", "shred", "--data-dir", dir, "--org", a.org, "--format", "json")), &preview); err != nil {
		t.Fatal(err)
	}
	if !preview.DryRun || preview.Patients != 1 || preview.Cases != 1 || preview.Documents != 1 || preview.DataKeys != 1 ||
		preview.Keysets != 2 || preview.Members != 3 || preview.Sessions != 1 || preview.LegalHolds != 1 || preview.OpenRequests != 1 ||
		preview.ShreddedAt != nil {
		t.Errorf("the preview's counts: %+v", preview)
	}
	intact()

	// Refused: a live hold, an open request, a wrong name.
	refused := func(want string, args ...string) {
		t.Helper()
		_, err := ward(t, append([]string{"org", "shred", "--data-dir", dir, "--org", a.org}, args...)...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("shred %v: %v, want %q", args, err, want)
		}
		intact()
	}
	refused("legal hold(s) of the org are live", "--confirm-name", "Shred Clinic")
	s.call("POST", "/v1/legal-holds/"+hold.ID+"/release", a.token, map[string]any{"note": "settled"}, http.StatusNoContent, nil)
	refused("data-subject request(s) of the org are open", "--confirm-name", "Shred Clinic")
	s.call("POST", "/v1/compliance/dsr/"+dsr.ID+"/close", a.token, map[string]any{"outcome": "withdrawn"}, http.StatusOK, nil)
	refused("--confirm-name is not the org's name", "--confirm-name", "Keep Clinic")
	refused("--confirm-name is not the org's name", "--confirm-name", "shred clinic")

	// The shred.
	out = mustWard(t, "org", "shred", "--data-dir", dir, "--org", a.org, "--confirm-name", "Shred Clinic")
	if !strings.Contains(out, "Shredded at") {
		t.Fatalf("the shred printed:\n%s", out)
	}
	s.call("GET", "/v1/me", a.token, nil, http.StatusUnauthorized, nil)
	s.call("GET", "/v1/patients/"+pb.ID, b.token, nil, http.StatusOK, nil)
	for what, n := range map[string]int{
		"keysets":         count(`select count(*) from private.keysets where org_id = $1`, a.org),
		"data keys":       count(`select count(*) from app.document_versions where org_id = $1 and data_key is not null`, a.org),
		"live members":    count(`select count(*) from app.memberships where org_id = $1 and revoked_at is null`, a.org),
		"live sessions":   count(`select count(*) from app.sessions where org_id = $1 and revoked_at is null`, a.org),
		"unshred members": count(`select count(*) from app.memberships where org_id = $1 and revoked_via is distinct from 'shred'`, a.org),
		"unshredded org":  count(`select count(*) from app.orgs where id = $1 and shredded_at is null`, a.org),
	} {
		if n != 0 {
			t.Errorf("after the shred org A has %d %s, want 0", n, what)
		}
	}
	if n := count(`select count(*) from private.keysets where org_id = $1`, b.org); n != 2 {
		t.Errorf("org B has %d keysets after A's shred, want 2", n)
	}
	if n := count(`select count(*) from audit.events where org_id = $1 and action = 'org.shred'
		and details->>'operator' = 'true' and (details->>'data_keys')::int = 1 and (details->>'patients')::int = 1`, a.org); n != 1 {
		t.Errorf("org A has %d org.shred events with its counts, want 1", n)
	}
	if _, err := ward(t, "login-link", "--data-dir", dir, "--email", "admin@shred.test"); err == nil {
		t.Error("a sign-in link was made for a member of the shredded org")
	}
	// What the instance keyset sealed for A alone is erased; what B
	// still needs is not.
	if n := count(`select count(*) from app.users u where octet_length(u.email_enc) > 0
		and (u.id in (select user_id from app.memberships where org_id = $1) or u.id in (select invitee_id from app.case_invites where org_id = $1))
		and not exists (select 1 from app.memberships m where m.user_id = u.id and m.org_id <> $1)`, a.org); n != 0 {
		t.Errorf("%d people only org A knew keep their address", n)
	}
	if n := count(`select count(*) from app.users where octet_length(email_enc) > 0
		and id in (select user_id from app.memberships where org_id = $1)`, a.org); n != 1 {
		t.Errorf("%d members of both orgs keep their address, want 1", n)
	}
	for what, sql := range map[string]string{
		"invitations with an address": `select count(*) from app.case_invites where org_id = $1 and octet_length(email_enc) > 0`,
		"sink secrets":                `select count(*) from app.audit_sinks where org_id = $1 and (octet_length(secret_enc) > 0 or prev_secret_enc is not null)`,
		"SSO client secrets":          `select count(*) from app.sso_connections where org_id = $1 and client_secret_enc is not null`,
		"domain index entries of erased addresses": `select count(*) from app.email_domains e
			where not exists (select 1 from app.users u where u.email_bidx = e.email_bidx)
			  and not exists (select 1 from app.case_invites i where i.email_bidx = e.email_bidx) and $1::uuid is not null`,
		"erasure events": `select count(*) from audit.events where org_id = $1 and action = 'org.shred_erase'
			and (details->>'users')::int = 2 and (details->>'invitations')::int = 1 and (details->>'secrets')::int = 1`,
		// The SSO connection is gone with the shred itself (00317), before
		// the erasure: the erased secret is the sink's.
		"SSO connections": `select count(*) from app.sso_connections where org_id = $1`,
	} {
		want := 0
		if what == "erasure events" {
			want = 1
		}
		if n := count(sql, a.org); n != want {
			t.Errorf("after the shred org A has %d %s, want %d", n, what, want)
		}
	}
	if n := count(`select count(*) from app.audit_sinks where org_id <> $1 and octet_length(secret_enc) = 0`, a.org); n != 0 {
		t.Errorf("%d sinks of other orgs lost their secret", n)
	}
	if !strings.Contains(out, "Erased: the addresses of 2 people only this org knew, of 1 invitation and 1 secret") {
		t.Errorf("the shred printed:\n%s", out)
	}
	if _, err := ward(t, "login-link", "--data-dir", dir, "--email", "both@two.test", "--org", b.org); err != nil {
		t.Errorf("a member of both orgs lost her sign-in to org B: %v", err)
	}

	// The database refuses what would bring the org back.
	for _, sql := range []string{
		`update app.memberships set revoked_at = null, revoked_via = null where org_id = $1`,
		`insert into app.memberships (org_id, user_id, role) select $1, id, 'admin' from app.users limit 1`,
		`insert into private.keysets (org_id, purpose, wrapped) values ($1, 'aead', '\x00')`,
		`insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, token_assurance, token_amr)
		   select $1, user_id, '\x01', 5, now() + interval '1 hour', 1, '{email}' from app.memberships where org_id = $1 limit 1`,
	} {
		_, err := su.Pool.Exec(ctx, sql, a.org)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Hint != "org_shredded" {
			t.Errorf("%s on the shredded org: %v, want a refusal with hint org_shredded", sql, err)
		}
	}
	// The log is whole and still verifies.
	if out := mustWard(t, "audit", "verify", "--data-dir", dir); !strings.Contains(out, a.org) {
		t.Errorf("audit verify printed:\n%s", out)
	}
	if out := mustWard(t, "org", "list", "--data-dir", dir); !regexp.MustCompile(`"Shred Clinic".*\d{4}-\d\d-\d\d\n`).MatchString(out) ||
		!regexp.MustCompile(`"Keep Clinic".*-\n`).MatchString(out) {
		t.Errorf("org list after the shred:\n%s", out)
	}
	// The compliance report counts the shred as disposal, not as a missing keyset.
	var report compliance.Report
	if err := json.Unmarshal([]byte(mustWard(t, "compliance", "report", "--data-dir", dir, "--format", "json")), &report); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, c := range report.Controls {
		ev := strings.Join(c.Evidence, "\n")
		switch c.ID {
		case "164.312(a)(2)(iv)", "164.310(d)(2)(i), (ii)":
			seen++
			if c.Status == compliance.Gap || !strings.Contains(ev, "crypto-shredded") || !strings.Contains(ev, a.org) {
				t.Errorf("control %s after the shred: %s\n%s", c.ID, c.Status, ev)
			}
		}
	}
	if seen != 2 {
		t.Errorf("the report lacks the encryption or the disposal control (%d seen)", seen)
	}
	if out := mustWard(t, "org", "shred", "--data-dir", dir, "--org", a.org); !strings.Contains(out, "Already shredded") {
		t.Errorf("a preview of the shredded org printed:\n%s", out)
	}

	// Run again with the name, it erases what is left (an org shredded
	// before the erasure existed): here nothing, and no event.
	if out := mustWard(t, "org", "shred", "--data-dir", dir, "--org", a.org, "--confirm-name", "Shred Clinic"); !strings.Contains(out,
		"Already shredded") || !strings.Contains(out, "Erased: the addresses of 0 people only this org knew, of 0 invitations and 0 secrets") {
		t.Errorf("a second shred printed:\n%s", out)
	}
	if n := count(`select count(*) from audit.events where org_id = $1 and action = 'org.shred_erase'`, a.org); n != 1 {
		t.Errorf("org A has %d erasure events after the second run, want 1", n)
	}
	if _, err := ward(t, "org", "shred", "--data-dir", dir, "--org", a.org, "--confirm-name", "Keep Clinic"); err == nil ||
		!strings.Contains(err.Error(), "--confirm-name is not the org's name") {
		t.Errorf("a second shred with the wrong name: %v", err)
	}
	var again ShredReport
	if err := json.Unmarshal([]byte(mustWard(t, "org", "shred", "--data-dir", dir, "--org", a.org, "--confirm-name", "Shred Clinic",
		"--format", "json")), &again); err != nil || again.DryRun || !again.Again || again.Erased == nil || *again.Erased != (ShredErased{}) {
		t.Errorf("a second shred's report: %+v, %v", again, err)
	}
	// The database lets nothing but the erasure change an address, and
	// adds no member whose address was erased.
	for _, sql := range []string{
		`update app.users set email_enc = '\x01' where id in (select user_id from app.memberships where org_id = $1)`,
		`update app.users set email_enc = '\x' where id in (select user_id from app.memberships where org_id <> $1)`,
	} {
		tx, err := su.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `set local role ward_definer`); err != nil {
			t.Fatal(err)
		}
		_, err = tx.Exec(ctx, sql, a.org)
		if pe := (*pgconn.PgError)(nil); !errors.As(err, &pe) || pe.Code != postgres.CodeInsufficientPrivilege ||
			!strings.Contains(pe.Message, "only erased") {
			t.Errorf("%s as ward_definer: %v, want the erasure-only refusal", sql, err)
		}
		_ = tx.Rollback(ctx)
	}
	_, err = su.Pool.Exec(ctx, `insert into app.memberships (org_id, user_id, role)
		select $1, u.id, 'provider' from app.users u where octet_length(u.email_enc) = 0 limit 1`, b.org)
	if pe := (*pgconn.PgError)(nil); !errors.As(err, &pe) || pe.Hint != "user_erased" {
		t.Errorf("a membership of an erased person: %v, want a refusal with hint user_erased", err)
	}

	// Once the other org is shredded too, the person of both is erased.
	if out := mustWard(t, "org", "shred", "--data-dir", dir, "--org", b.org, "--confirm-name", "Keep Clinic"); !strings.Contains(out,
		"Erased: the addresses of 2 people only this org knew") {
		t.Errorf("shredding org B printed:\n%s", out)
	}
	if n := count(`select count(*) from app.users where octet_length(email_enc) > 0
		and id in (select user_id from app.memberships where org_id = $1)`, a.org); n != 0 {
		t.Errorf("%d people of two shredded orgs keep their address", n)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"org", "shred", "--data-dir", dir}, "--org is required"},
		{[]string{"org", "shred", "--data-dir", dir, "--org", "clinic"}, "--org: not an org id"},
		{[]string{"org", "shred", "--data-dir", dir, "--org", "00000000-0000-0000-0000-000000000009"}, "no such org"},
		{[]string{"org", "shred", "--data-dir", dir, "--org", "00000000-0000-0000-0000-000000000009", "--confirm-name", "x"}, "no such org"},
		{[]string{"org", "shred", "--data-dir", dir, "--org", a.org, "--format", "xml"}, "not text or json"},
	} {
		_, err := ward(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ward %s: %v, want %q", strings.Join(c.args, " "), err, c.want)
		}
	}

	// The preview finds its org however many orgs are older (the
	// operator's list, app.ops_orgs, stops at 10,000, oldest first).
	if _, err := su.Pool.Exec(ctx, `insert into app.orgs (name, created_at)
		select 'Filler ' || i, timestamptz '2000-01-01' + i * interval '1 second' from generate_series(1, 10000) i`); err != nil {
		t.Fatal(err)
	}
	if out := mustWard(t, "org", "shred", "--data-dir", dir, "--org", b.org); !strings.Contains(out, `"Keep Clinic"`) ||
		!strings.Contains(out, "Already shredded") {
		t.Errorf("a preview of an org with 10,000 older ones printed:\n%s", out)
	}
	// The operator's list stops at the 10,000 oldest and says so.
	var listed, errb bytes.Buffer
	if err := run(ctx, []string{"ward", "org", "list", "--data-dir", dir}, noEnv, strings.NewReader(""), &listed, &errb); err != nil ||
		!strings.Contains(errb.String(), "the 10000 oldest orgs only") || strings.Contains(listed.String(), "Keep Clinic") {
		t.Errorf("org list of 10,000+ orgs: %v, stderr %q", err, errb.String())
	}
}
