package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/mail"
	"github.com/wardhq/ward/internal/mail/mailtest"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/records"
)

// TestDSRReminders: each live admin of the org is mailed once when an open
// data-subject request is due within seven days and once when it is
// overdue, again after an extension moves the due date; two nodes at once
// send each reminder once; a closed request, a revoked admin and other
// members get nothing; the mail names the request, not its subject; each
// reminder is audited.
func TestDSRReminders(t *testing.T) {
	mp := mailtest.Start(t)
	w := newWorld(t, withMailer(mail.NewSMTP(mail.SMTPConfig{Addr: mp.SMTPAddr(), From: "ward@ward.example"})))
	o := w.createOrg("DSR Reminder Org")
	w.populate(o, "dsrr")
	admin2 := w.addMember(o, "dsrr-admin2@example.test", identity.RoleAdmin)
	gone := w.addMember(o, "dsrr-gone@example.test", identity.RoleAdmin)
	w.do("DELETE", "/v1/members/"+gone.ID.String(), o.Admin.Token, nil, http.StatusNoContent, nil)
	ctx := context.Background()
	ops, err := postgres.OpenAs(ctx, w.env.SuperURL(), "ward_ops")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ops.Close)
	job := records.NewDSRReminders(ops, w.keys, mail.NewSMTP(mail.SMTPConfig{Addr: mp.SMTPAddr(), From: "ward@ward.example"}), w.base, nil)

	const base = "/v1/compliance/dsr"
	var access, closed dsrJSON
	w.do("POST", base, o.PatUser.Token, map[string]any{"kind": "access", "patient_id": o.P1}, http.StatusCreated, &access)
	w.do("POST", base, o.Admin.Token, map[string]any{"kind": "access", "patient_id": o.P2}, http.StatusCreated, &closed)
	w.do("POST", base+"/"+closed.ID.String()+"/close", o.Admin.Token, map[string]any{"outcome": "fulfilled"}, http.StatusOK, nil)
	// The guard keeps due dates; the test moves them as a replica would.
	due := func(id uuid.UUID, at string) {
		t.Helper()
		tx, err := w.env.Super.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, `set local session_replication_role = replica`); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `update app.dsr_requests set due_at = now() + $2::interval where id = $1`, id, at); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	reminded := func() map[string]int { // kind → rows for this org
		t.Helper()
		rows, err := w.env.Super.Pool.Query(ctx, `select kind || '/' || (dsr_id = $2)::text, count(*)::int
			from app.dsr_reminders where org_id = $1 group by 1`, o.ID, access.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int{}
		for rows.Next() {
			var k string
			var n int
			if err := rows.Scan(&k, &n); err != nil {
				t.Fatal(err)
			}
			out[k] = n
		}
		return out
	}
	pass := func() {
		t.Helper()
		var wg sync.WaitGroup
		for range 2 { // two nodes at once
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := job.Remind(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	count := func(to string) int {
		t.Helper()
		n, err := mp.Count(ctx, to)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Hostile batch sizes are clamped, not refused or obeyed (nothing is
	// due yet, so these claim nothing).
	for _, max := range []any{nil, -1, 0, int64(1)<<31 - 1} {
		var n int
		if err := ops.Pool.QueryRow(ctx, `select count(*) from app.dsr_due_reminders($1)`, max).Scan(&n); err != nil || n != 0 {
			t.Fatalf("dsr_due_reminders(%v): %d %v", max, n, err)
		}
	}
	// Due in 30 days: nothing yet.
	pass()
	if r := reminded(); len(r) != 0 {
		t.Fatalf("reminders of a request due in 30 days: %v", r)
	}
	// Due in three days: one "due soon" mail to each live admin, once.
	due(access.ID, "3 days")
	due(closed.ID, "-1 day")
	pass()
	pass()
	if r := reminded(); len(r) != 1 || r["due_soon/true"] != 2 {
		t.Fatalf("due-soon reminders: %v, want 2 of the open request", r)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	m, err := mp.WaitFor(wctx, admin2.Email)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Subject, "falls due") || !strings.Contains(m.Text, access.ID.String()) ||
		!strings.Contains(m.Text, "§164.524") || strings.Contains(m.Text, "Patient") || strings.Contains(m.Text, "MRN") {
		t.Fatalf("the reminder: %q\n%s", m.Subject, m.Text)
	}
	if _, err := mp.WaitFor(wctx, o.Admin.Email); err != nil {
		t.Fatal(err)
	}
	// Extended by 30 days: due in 33, nothing; then overdue: one more each.
	w.do("POST", base+"/"+access.ID.String()+"/extend", o.Admin.Token, map[string]any{"reason": "volume"}, http.StatusOK, nil)
	pass()
	if r := reminded(); len(r) != 1 || r["due_soon/true"] != 2 {
		t.Fatalf("after the extension: %v", r)
	}
	due(access.ID, "-1 minute")
	pass()
	pass()
	if r := reminded(); len(r) != 2 || r["overdue/true"] != 2 {
		t.Fatalf("overdue reminders: %v, want 2", r)
	}
	for _, who := range []*member{o.Admin, admin2} {
		deadline := time.Now().Add(10 * time.Second)
		for count(who.Email) < 2 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if n := count(who.Email); n != 2 {
			t.Fatalf("mails to admin %s: %d, want 2", who.Email, n)
		}
	}
	for _, who := range []*member{gone, o.Lead, o.Prov, o.PatUser} {
		if n := count(who.Email); n != 0 {
			t.Fatalf("mails to %s: %d, want none", who.Email, n)
		}
	}
	var events int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and action = 'dsr.remind'
		and object_id = $2 and actor_id in ($3, $4)`, o.ID, access.ID, o.Admin.ID, admin2.ID).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != 4 {
		t.Fatalf("dsr.remind events: %d, want 4", events)
	}
}
