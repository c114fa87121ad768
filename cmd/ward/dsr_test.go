package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// TestDSRCommand: the operator's view of the queue across two orgs: open
// requests counted by org and kind as due soon, overdue or later, closed
// ones left out, the overdue ones listed by id, the org filter, --fail-on
// overdue, the JSON form, nothing of whom a request is about, and the
// refusals (the server's role, bad flags).
func TestDSRCommand(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	dir := reachableTempDir(t)
	mustWard(t, "migrate", "--data-dir", dir, "--database-url", env.SuperURL())
	ops := env.URL("ward_ops")
	orgOf := func(name, email string) string {
		out := mustWard(t, "org", "create", "--data-dir", dir, "--database-url", ops, "--name", name, "--admin-email", email)
		return regexp.MustCompile(`org_id=([0-9a-f-]{36})`).FindStringSubmatch(out)[1]
	}
	a, b := orgOf("Queue East", "admin@east.test"), orgOf("Queue West", "admin@west.test")
	if out := mustWard(t, "dsr", "status", "--data-dir", dir, "--database-url", ops); !strings.Contains(out, "No open data-subject request") {
		t.Fatalf("an empty queue printed %q", out)
	}

	// Requests with the dates a test needs: the guard that sets them is
	// lifted for the inserts (a superuser's repair, not the server's path).
	seed := `insert into app.dsr_requests (org_id, id, kind, subject_user_id, requested_by, received_at, due_at, status,
	           closed_at, closed_by, extended_at, extended_by, extension_reason)
	         select $1, $2::uuid, $3, m.user_id, m.user_id, now() - $4::interval, now() + $5::interval, $6,
	           case when $6 = 'open' then null else now() end, case when $6 = 'open' then null else m.user_id end,
	           case when $7 then now() end, case when $7 then m.user_id end, case when $7 then 'volume' end
	           from app.memberships m where m.org_id = $1`
	const late = "7d3f1c2e-0000-4000-8000-00000000000a"
	for _, r := range []struct {
		org, id, kind, age, due, status string
		extended                        bool
	}{
		{a, late, "ccpa_know", "50 days", "-5 days", "open", true},
		{a, "7d3f1c2e-0000-4000-8000-00000000000b", "ccpa_know", "40 days", "3 days", "open", false},
		{a, "7d3f1c2e-0000-4000-8000-00000000000c", "ccpa_delete", "1 day", "44 days", "open", false},
		{a, "7d3f1c2e-0000-4000-8000-00000000000d", "ccpa_know", "60 days", "-15 days", "fulfilled", false},
		{b, "7d3f1c2e-0000-4000-8000-00000000000e", "ccpa_limit", "2 days", "13 days", "open", false},
	} {
		if _, err := env.Super.Pool.Exec(ctx, `alter table app.dsr_requests disable trigger dsr_guard`); err != nil {
			t.Fatal(err)
		}
		if _, err := env.Super.Pool.Exec(ctx, seed, r.org, r.id, r.kind, r.age, r.due, r.status, r.extended); err != nil {
			t.Fatal(err)
		}
		if _, err := env.Super.Pool.Exec(ctx, `alter table app.dsr_requests enable trigger dsr_guard`); err != nil {
			t.Fatal(err)
		}
	}

	out := mustWard(t, "dsr", "status", "--data-dir", dir, "--database-url", ops)
	for _, want := range []string{"4 open data-subject requests: 1 due within a week, 1 overdue.", "Overdue:", late} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "7d3f1c2e-0000-4000-8000-00000000000d") || strings.Contains(out, "admin@") {
		t.Errorf("status shows a closed request or an address:\n%s", out)
	}

	var q DSRQueue
	js := mustWard(t, "dsr", "status", "--data-dir", dir, "--database-url", ops, "--format", "json")
	if err := json.Unmarshal([]byte(js), &q); err != nil {
		t.Fatal(err)
	}
	got := map[string]DSROrg{}
	for _, o := range q.Orgs {
		got[o.Org.String()+" "+o.Kind] = o
	}
	for k, want := range map[string][4]int{ // open, due soon, overdue, extended
		a + " ccpa_know":   {2, 1, 1, 1},
		a + " ccpa_delete": {1, 0, 0, 0},
		b + " ccpa_limit":  {1, 0, 0, 0},
	} {
		o := got[k]
		if [4]int{o.Open, o.DueSoon, o.Overdue, o.Extended} != want {
			t.Errorf("%s: %+v, want open/due soon/overdue/extended %v", k, o, want)
		}
	}
	if len(q.Orgs) != 3 || len(q.Late) != 1 || q.Late[0].ID.String() != late || q.Truncated {
		t.Errorf("queue %+v", q)
	}

	// One org; a monitor's check.
	if out := mustWard(t, "dsr", "status", "--data-dir", dir, "--database-url", ops, "--org", b); !strings.Contains(out, "1 open") || strings.Contains(out, a) {
		t.Errorf("status of org B printed:\n%s", out)
	}
	mustWard(t, "dsr", "status", "--data-dir", dir, "--database-url", ops, "--org", b, "--fail-on", "overdue")
	if _, err := ward(t, "dsr", "status", "--data-dir", dir, "--database-url", ops, "--fail-on", "overdue"); err == nil ||
		!strings.Contains(err.Error(), "1 requests are overdue") {
		t.Errorf("--fail-on overdue with a late request: %v", err)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"dsr"}, "usage: ward dsr status"},
		{[]string{"dsr", "status", "--data-dir", dir, "--database-url", env.URL("ward_app")}, "permission denied"},
		{[]string{"dsr", "status", "--data-dir", dir, "--database-url", ops, "--org", "east"}, "--org: not a UUID"},
		{[]string{"dsr", "status", "--data-dir", dir, "--database-url", ops, "--format", "csv"}, "not text or json"},
		{[]string{"dsr", "status", "--data-dir", dir, "--database-url", ops, "--fail-on", "late"}, "is not overdue"},
	} {
		if _, err := ward(t, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ward %s: %v, want %q", strings.Join(c.args, " "), err, c.want)
		}
	}
}
