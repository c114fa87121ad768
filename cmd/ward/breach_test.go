package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// TestBreachCommand: an incident that reached two orgs from one network is
// scoped by the operator across both (the records each org's events named,
// the sessions they used, recorded as breach.scope in each org), and
// `ward breach revoke --scope` ends those sessions in both orgs in one
// command, each org recording breach.revoke; a selector that matches
// nothing, the org filter, and the command's refusals of bad input.
func TestBreachCommand(t *testing.T) {
	dir := filepath.Join(reachableTempDir(t), "var")
	s := startServe(t, dir)
	s.noDeviceBinding()

	type member struct {
		org, user, session, token string
	}
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
		var me struct {
			User    string `json:"user_id"`
			Session string `json:"session_id"`
		}
		s.call("GET", "/v1/me", sess.Token, nil, http.StatusOK, &me)
		return member{org: org[1], user: me.User, session: me.Session, token: sess.Token}
	}
	a := signIn("Breach North", "admin@north.test")
	b := signIn("Breach South", "admin@south.test")
	var pa, pb struct {
		ID string `json:"id"`
	}
	s.call("POST", "/v1/patients", a.token, map[string]string{"name": "Hal Northway", "dob": "1950-01-02"}, http.StatusCreated, &pa)
	s.call("GET", "/v1/patients/"+pa.ID, a.token, nil, http.StatusOK, nil)
	s.call("POST", "/v1/patients", b.token, map[string]string{"name": "Sue Southby", "dob": "1961-03-04"}, http.StatusCreated, &pb)
	s.call("GET", "/v1/patients", b.token, nil, http.StatusOK, nil)
	// Org A's admin leaves an API key and a laxer session policy behind.
	var key struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	s.call("POST", "/v1/api-keys", a.token, map[string]any{"name": "nightly", "scopes": []string{"members"}},
		http.StatusCreated, &key)
	s.call("PUT", "/v1/org/session-policy", a.token, map[string]int{"session_idle_timeout_min": 30,
		"session_absolute_max_min": 60}, http.StatusOK, nil)

	// Every request of both orgs came from the loopback network.
	scopeFile := filepath.Join(t.TempDir(), "scope.json")
	mustWard(t, "breach", "scope", "--data-dir", dir, "--from", "1h", "--network", "127.0.0.0/8",
		"--format", "json", "--out", scopeFile)
	raw, err := os.ReadFile(scopeFile)
	if err != nil {
		t.Fatal(err)
	}
	var scope InstanceScope
	if err := json.Unmarshal(raw, &scope); err != nil {
		t.Fatal(err)
	}
	if len(scope.Orgs) != 2 {
		t.Fatalf("the scope names %d orgs, want 2: %s", len(scope.Orgs), raw)
	}
	byOrg := map[string]OrgScope{}
	for _, o := range scope.Orgs {
		byOrg[o.Org.String()] = o
	}
	for _, c := range []struct {
		m       member
		patient string
	}{{a, pa.ID}, {b, pb.ID}} {
		o, ok := byOrg[c.m.org]
		if !ok {
			t.Fatalf("the scope lacks org %s: %s", c.m.org, raw)
		}
		if o.PHIEvents == 0 || !slices.Contains(o.Records, uuid.MustParse(c.patient)) {
			t.Errorf("org %s: %d PHI events, records %v: want its patient %s", c.m.org, o.PHIEvents, o.Records, c.patient)
		}
		if !slices.Contains(o.Sessions, uuid.MustParse(c.m.session)) || !slices.Contains(o.Actors, uuid.MustParse(c.m.user)) {
			t.Errorf("org %s: sessions %v actors %v, want the admin's session and user", c.m.org, o.Sessions, o.Actors)
		}
		if slices.Contains(o.Records, uuid.MustParse(pa.ID)) && slices.Contains(o.Records, uuid.MustParse(pb.ID)) {
			t.Errorf("org %s names the other org's patient: %v", c.m.org, o.Records)
		}
	}
	// Org A's changes, by kind, with the key among those to revoke; none
	// in org B.
	var changed []string
	for _, g := range byOrg[a.org].Changes.Groups {
		for _, c := range g.Changes {
			changed = append(changed, g.Group+" "+c.Action+" "+c.Object.UUID.String())
			if c.Seq == 0 || c.Actor.UUID.String() != a.user {
				t.Errorf("change %+v: want its seq and org A's admin", c)
			}
		}
	}
	if want := []string{"credentials auth.api_key.create " + key.ID, "policies org.session_policy.update " + a.org}; !slices.Equal(changed, want) ||
		byOrg[a.org].Changes.Count != 2 || byOrg[b.org].Changes.Count != 0 || byOrg[b.org].Changes.Groups == nil {
		t.Errorf("changes: org A %v (%+v), want %v; org B %+v", changed, byOrg[a.org].Changes, want, byOrg[b.org].Changes)
	}
	if !slices.Contains(scope.Revoke.APIKeys, uuid.MustParse(key.ID)) {
		t.Errorf("the key org A's admin made is not among those to revoke: %v", scope.Revoke.APIKeys)
	}
	// The timeline lists each org's matching events, the patient's read among them.
	read := false
	for _, e := range scope.Timeline {
		if e.Org.String() == a.org && e.Action == "patient.read" && e.Patient.UUID.String() == pa.ID {
			read = true
		}
		if e.IP == "" {
			t.Errorf("a timeline event without an address matched the network: %+v", e)
		}
	}
	if !read || len(scope.Timeline) != scope.Events || scope.TimelineTruncated {
		t.Errorf("timeline of %d events (%d matched), truncated %v, org A's read listed %v", len(scope.Timeline),
			scope.Events, scope.TimelineTruncated, read)
	}
	// Sixty days from the day of discovery where it was discovered: with
	// no --discovered, now in the operator's time zone (the JSON gives the
	// time in UTC, whose day differs for hours of each day elsewhere).
	if scope.NotifyOrgsBy != scope.Discovered.Local().AddDate(0, 0, 60).Format("2006-01-02") {
		t.Errorf("notify by %s for discovery on %s", scope.NotifyOrgsBy, scope.Discovered)
	}

	// Only the org named; nothing for an actor no event has.
	out := mustWard(t, "breach", "scope", "--data-dir", dir, "--from", "1h", "--network", "127.0.0.1", "--org", a.org)
	if !strings.Contains(out, a.org) || strings.Contains(out, b.org) || !strings.Contains(out, "ward breach revoke") ||
		!regexp.MustCompile(`(?m)^`+a.org+` +credentials +[0-9]+ +\S+ +auth\.api_key\.create +`+key.ID+` +`+a.user+`$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^`+a.org+` +policies +[0-9]+ +\S+ +org\.session_policy\.update +`+a.org+` `).MatchString(out) ||
		!strings.Contains(out, "2 changes by them") {
		t.Errorf("scope of one org printed:\n%s", out)
	}
	if out := mustWard(t, "breach", "scope", "--data-dir", dir, "--from", "1h", "--actor", uuid.NewString()); !strings.Contains(out, "No event") {
		t.Errorf("scope of an unknown actor printed:\n%s", out)
	}

	// The scopes are in each org's log, naming the records, by the operator.
	cl, err := postgres.NewCluster(filepath.Join(dir, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	su, err := postgres.Open(context.Background(), cl.URL("postgres", "ward"))
	if err != nil {
		t.Fatal(err)
	}
	defer su.Close()
	count := func(org, action, patient string) int {
		t.Helper()
		var n int
		var named any // every event of the action when no patient is named
		if patient != "" {
			named = patient
		}
		if err := su.Pool.QueryRow(context.Background(), `select count(*) from audit.events
			where org_id = $1 and action = $2 and details->>'operator' = 'true' and actor_kind = 'anonymous'
			  and ($3::uuid is null or $3::uuid = any (result_ids))`, org, action, named).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(a.org, "breach.scope", pa.ID); n != 2 {
		t.Errorf("org A has %d operator breach.scope events naming its patient, want 2", n)
	}
	if n := count(b.org, "breach.scope", pb.ID); n != 1 {
		t.Errorf("org B has %d operator breach.scope events naming its patient, want 1", n)
	}

	// One command ends the incident's sessions in both orgs.
	out = mustWard(t, "breach", "revoke", "--data-dir", dir, "--scope", scopeFile, "--reason", "INC-42")
	if !strings.Contains(out, a.org) || !strings.Contains(out, b.org) {
		t.Errorf("revoke printed:\n%s", out)
	}
	s.call("GET", "/v1/me", a.token, nil, http.StatusUnauthorized, nil)
	s.call("GET", "/v1/me", b.token, nil, http.StatusUnauthorized, nil)
	s.call("GET", "/v1/members", key.Key, nil, http.StatusUnauthorized, nil)
	for _, m := range []member{a, b} {
		if n := count(m.org, "breach.revoke", ""); n != 1 {
			t.Errorf("org %s has %d operator breach.revoke events, want 1", m.org, n)
		}
		var reason string
		if err := su.Pool.QueryRow(context.Background(), `select revoked_reason from app.sessions where id = $1`,
			m.session).Scan(&reason); err != nil || reason != "breach" {
			t.Errorf("session %s: revoked_reason %q, %v", m.session, reason, err)
		}
	}
	if out := mustWard(t, "breach", "revoke", "--data-dir", dir, "--scope", scopeFile); !strings.Contains(out, "Nothing to end") {
		t.Errorf("a second revoke printed:\n%s", out)
	}

	// Bad input is refused before anything runs.
	notScope := filepath.Join(t.TempDir(), "other.json")
	if err := os.WriteFile(notScope, []byte(`{"hello": 1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"breach"}, "usage: ward breach"},
		{[]string{"breach", "erase"}, "unknown breach command"},
		{[]string{"breach", "scope", "--data-dir", dir, "--from", "1h"}, "name what the incident involved"},
		{[]string{"breach", "scope", "--data-dir", dir, "--all"}, "--from is required"},
		{[]string{"breach", "scope", "--data-dir", dir, "--from", "1h", "--to", "2h", "--all"}, "--from must be before --to"},
		{[]string{"breach", "scope", "--data-dir", dir, "--from", "yesterday", "--all"}, "not an RFC 3339 time"},
		{[]string{"breach", "scope", "--data-dir", dir, "--from", "1h", "--network", "10.0.0.300/8"}, "not an address or CIDR"},
		{[]string{"breach", "scope", "--data-dir", dir, "--from", "1h", "--actor", "alice"}, "not a UUID"},
		{[]string{"breach", "scope", "--data-dir", dir, "--from", "1h", "--all", "--format", "xml"}, "not text or json"},
		{[]string{"breach", "revoke", "--data-dir", dir}, "name what to end"},
		{[]string{"breach", "revoke", "--data-dir", dir, "--scope", notScope}, "is not a `ward breach scope --format json` file"},
	} {
		_, err := ward(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ward %s: %v, want %q", strings.Join(c.args, " "), err, c.want)
		}
	}
}

// TestBreachCommandRoles: on an external database the revocation runs as
// ward_ops and is refused to the server's role; the scope needs a role
// that reads every org's log (ward_audit_reader) and records as ward_ops.
func TestBreachCommandRoles(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	dir := filepath.Join(reachableTempDir(t), "var")
	mustWard(t, "migrate", "--data-dir", dir, "--database-url", env.SuperURL())
	out := mustWard(t, "org", "create", "--data-dir", dir, "--database-url", env.URL("ward_ops"),
		"--name", "Roles Clinic", "--admin-email", "admin@roles.test")
	org := regexp.MustCompile(`org_id=([0-9a-f-]{36})`).FindStringSubmatch(out)[1]

	if out := mustWard(t, "breach", "revoke", "--data-dir", dir, "--database-url", env.URL("ward_ops"),
		"--user", uuid.NewString()); !strings.Contains(out, "Nothing to end") {
		t.Errorf("revoke as ward_ops printed %q", out)
	}
	if _, err := ward(t, "breach", "revoke", "--data-dir", dir, "--database-url", env.URL("ward_app"),
		"--user", uuid.NewString()); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("revoke as ward_app: %v, want permission denied", err)
	}
	if _, err := ward(t, "breach", "scope", "--data-dir", dir, "--database-url", env.URL("ward_ops"),
		"--from", "1h", "--all"); err == nil || !strings.Contains(err.Error(), "ward_audit_reader") {
		t.Errorf("scope as ward_ops alone: %v, want a refusal naming ward_audit_reader", err)
	}
	if _, err := env.Super.Pool.Exec(ctx, `create role responder login password 'responder-pw' in role ward_ops, ward_audit_reader`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = env.Super.Pool.Exec(context.Background(), `drop role if exists responder`) })
	u, err := url.Parse(env.URL("ward_app"))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("responder", "responder-pw")
	out = mustWard(t, "breach", "scope", "--data-dir", dir, "--database-url", u.String(), "--from", "1h", "--all")
	if !strings.Contains(out, org) {
		t.Errorf("scope as a responder printed:\n%s", out)
	}
	var by string
	if err := env.Super.Pool.QueryRow(ctx, `select details->>'by' from audit.events where org_id = $1 and action = 'breach.scope'`,
		org).Scan(&by); err != nil || by != "responder" {
		t.Errorf("the scope's event: by %q, %v", by, err)
	}
}

// TestOpsFunctionsHostileArguments: the operator's functions (00251–00254)
// refuse or clamp what a caller of ward_ops passes them: too many ids,
// no org and no address, a limit out of range, and a bound credential.
func TestOpsFunctionsHostileArguments(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	dir := filepath.Join(reachableTempDir(t), "var")
	mustWard(t, "migrate", "--data-dir", dir, "--database-url", env.SuperURL())
	for _, name := range []string{"Hostile One", "Hostile Two"} {
		mustWard(t, "org", "create", "--data-dir", dir, "--database-url", env.URL("ward_ops"),
			"--name", name, "--admin-email", "admin@"+strings.ReplaceAll(strings.ToLower(name), " ", "")+".test")
	}
	ops, err := postgres.OpenAs(ctx, env.SuperURL(), "ward_ops")
	if err != nil {
		t.Fatal(err)
	}
	defer ops.Close()
	many := make([]uuid.UUID, 10001)
	for i := range many {
		many[i] = uuid.New()
	}
	code := func(sql string, args ...any) string {
		t.Helper()
		_, err := ops.Pool.Exec(ctx, sql, args...)
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return pe.Code
		}
		if err != nil {
			t.Fatal(err)
		}
		return ""
	}
	for _, c := range []struct {
		name, sql string
		args      []any
		want      string
	}{
		{"revoke 10,001 sessions", `select * from app.ops_breach_revoke($1, '{}', '{}', '{}')`, []any{many}, "22023"},
		{"revoke 10,001 users", `select * from app.ops_breach_revoke('{}', $1, null, null)`, []any{many}, "22023"},
		{"revoke nulls", `select * from app.ops_breach_revoke(null, null, null, null)`, nil, ""},
		{"members of nothing", `select * from app.ops_members(null, null)`, nil, "22023"},
		{"dsr queue, negative limit", `select * from app.ops_dsr_queue(null, -5)`, nil, ""},
	} {
		if got := code(c.sql, c.args...); got != c.want {
			t.Errorf("%s: SQLSTATE %q, want %q", c.name, got, c.want)
		}
	}
	// A call with a bound credential (an app session's) is refused.
	for _, fn := range []string{`app.ops_orgs()`, `app.ops_org_state(null)`, `app.ops_members(null, ''::bytea)`, `app.ops_dsr_queue(null, 10)`,
		`app.ops_breach_revoke('{}', '{}', '{}', '{}')`} {
		tx, err := ops.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tx.Exec(ctx, `select set_config('ward.credential', repeat('ab', 32), true)`)
		if err == nil {
			_, err = tx.Exec(ctx, `select count(*) from `+fn)
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" {
			t.Errorf("%s with a bound credential: %v, want 42501", fn, err)
		}
		_ = tx.Rollback(ctx)
	}
	var n int
	if err := ops.Pool.QueryRow(ctx, `select count(*) from app.ops_orgs()`).Scan(&n); err != nil || n != 2 {
		t.Errorf("ops_orgs: %d rows (%v), want 2", n, err)
	}
}
