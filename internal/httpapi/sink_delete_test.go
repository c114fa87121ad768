package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/audit/sink"
	"github.com/wardhq/ward/internal/identity"
)

// An admin deletes a sink (migration 00208): another org's admin and the
// org's lead cannot, the deletion is audited, and an org at its 10 sinks
// can add one again after deleting one (before, a sink could only be
// disabled, and an org at the limit was stuck there). The database refuses
// a session that has not stepped up in the last 10 minutes, whatever the
// server decided.
func TestAuditSinkDelete(t *testing.T) {
	w := newWorld(t)
	a := w.createOrg("Sink Delete A")
	w.populate(a, "sda")
	b := w.createOrg("Sink Delete B")
	w.populate(b, "sdb")

	create := func(o *org, name string) string {
		t.Helper()
		var out struct {
			Sink sink.Sink `json:"sink"`
		}
		w.do("POST", "/v1/audit/sinks", o.Admin.Token, map[string]any{"kind": "syslog", "name": name,
			"endpoint": "siem.example:6514"}, http.StatusCreated, &out)
		return out.Sink.ID.String()
	}
	count := func(o *org) int {
		t.Helper()
		var list struct{ Sinks []sink.Sink }
		w.do("GET", "/v1/audit/sinks", o.Admin.Token, nil, http.StatusOK, &list)
		return len(list.Sinks)
	}

	id := create(a, "siem")
	w.do("DELETE", "/v1/audit/sinks/"+id, b.Admin.Token, nil, http.StatusNotFound, nil)
	w.do("DELETE", "/v1/audit/sinks/"+id, a.Lead.Token, nil, http.StatusForbidden, nil)
	w.do("DELETE", "/v1/audit/sinks/not-a-uuid", a.Admin.Token, nil, http.StatusBadRequest, nil)
	if n := count(a); n != 1 {
		t.Fatalf("after refused deletions org A holds %d sinks, want 1", n)
	}
	w.do("DELETE", "/v1/audit/sinks/"+id, a.Admin.Token, nil, http.StatusNoContent, nil)
	if n := count(a); n != 0 {
		t.Fatalf("after the deletion org A holds %d sinks, want 0", n)
	}
	if n := w.auditCount(a.ID, "audit.sink.delete", "success"); n != 1 {
		t.Fatalf("%d audit.sink.delete events, want 1", n)
	}
	w.do("DELETE", "/v1/audit/sinks/"+id, a.Admin.Token, nil, http.StatusNotFound, nil)

	// At the limit, one deleted makes room for one more.
	var ids []string
	for i := range 10 {
		ids = append(ids, create(b, fmt.Sprintf("s%d", i)))
	}
	resp, body := w.request("POST", "/v1/audit/sinks", b.Admin.Token, map[string]any{"kind": "syslog", "name": "s10",
		"endpoint": "siem.example:6514"})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "sink_limit") {
		t.Fatalf("an eleventh sink: %d %s", resp.StatusCode, body)
	}
	w.do("DELETE", "/v1/audit/sinks/"+ids[3], b.Admin.Token, nil, http.StatusNoContent, nil)
	create(b, "s10")

	// The database's own check: an admin session that stepped up more than
	// 10 minutes ago deletes nothing, even when the statement reaches it.
	dana := w.addMember(b, "sink-delete-dana@example.test", identity.RoleAdmin)
	if _, err := w.env.Super.Pool.Exec(context.Background(),
		`update app.sessions set authenticated_at = now() - interval '11 minutes' where user_id = $1`, dana.ID); err != nil {
		t.Fatal(err)
	}
	del := func() error {
		return w.env.App.InTenantTx(context.Background(), w.cred(dana.Token), func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `delete from app.audit_sinks where id = $1`, ids[4])
			return err
		})
	}
	var pe *pgconn.PgError
	if err := del(); !errors.As(err, &pe) || pe.Code != "42501" || pe.Hint != "step_up_required" {
		t.Fatalf("a deletion by an admin who stepped up 11 minutes ago: %v, want 42501 step_up_required", err)
	}
	if _, err := w.env.Super.Pool.Exec(context.Background(),
		`update app.sessions set authenticated_at = now() where user_id = $1`, dana.ID); err != nil {
		t.Fatal(err)
	}
	if err := del(); err != nil {
		t.Fatalf("the same deletion after a step-up: %v", err)
	}
	if n := count(b); n != 9 {
		t.Fatalf("org B holds %d sinks after two deletions, want 9", n)
	}
}

// Break-glass configures no sink, and the database says so on its own
// (migrations 00202, 00208 and 00209), whatever the server decided: the server
// refuses an emergency session first (break_glass_not_allowed on every
// sink route), so only SQL bound to such a session reaches the triggers'
// own refusal. Under a break-glass session of an admin who stepped up
// just now, a sink is neither created, nor re-enabled, nor renamed, nor
// disabled, nor deleted; the same statements under the admin's ordinary
// session go through.
func TestAuditSinkBreakGlassRefusedByDatabase(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Sink Glass")
	w.populate(o, "sgl")
	ctx := context.Background()
	var live, paused struct {
		Sink sink.Sink `json:"sink"`
	}
	for name, out := range map[string]any{"live": &live, "paused": &paused} {
		w.do("POST", "/v1/audit/sinks", o.Admin.Token, map[string]any{"kind": "syslog", "name": name,
			"endpoint": "siem.example:6514"}, http.StatusCreated, out)
	}
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.audit_sinks set enabled = false where id = $1`, paused.Sink.ID); err != nil {
		t.Fatal(err)
	}

	glass := w.operatorSignIn(o.Admin.Email, o.ID)
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set break_glass = true, amr = '{passkey}', idle_timeout_min = 60,
	    absolute_expires_at = least(absolute_expires_at, created_at + interval '60 minutes'), authenticated_at = now()
	    where token_hash = sha256($1::bytea)`, []byte(glass)); err != nil {
		t.Fatal(err)
	}
	stmts := []struct {
		what, sql string
		args      []any
	}{
		{"create", `insert into app.audit_sinks (org_id, kind, name, endpoint) values ($1, 'syslog', 'glass', 'siem.example:6514')`,
			[]any{o.ID}},
		{"re-enable", `update app.audit_sinks set enabled = true where id = $1`, []any{paused.Sink.ID}},
		// (00209) Nor changed otherwise: renamed, or switched off, which
		// would silence the org's SIEM stream.
		{"rename", `update app.audit_sinks set name = 'renamed' where id = $1`, []any{live.Sink.ID}},
		{"disable", `update app.audit_sinks set enabled = false where id = $1`, []any{live.Sink.ID}},
		{"delete", `delete from app.audit_sinks where id = $1`, []any{live.Sink.ID}},
	}
	run := func(token, sql string, args []any) (int64, error) {
		var n int64
		err := w.env.App.InTenantTx(ctx, w.cred(token), func(ctx context.Context, tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, sql, args...)
			n = tag.RowsAffected()
			return err
		})
		return n, err
	}
	for _, s := range stmts {
		n, err := run(glass, s.sql, s.args)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" || pe.Hint != "break_glass_not_allowed" {
			t.Errorf("%s from break-glass: %d rows, %v; want 42501 break_glass_not_allowed", s.what, n, err)
		}
	}
	var sinks, enabled, renamed int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*), count(*) filter (where enabled),
	    count(*) filter (where name = 'renamed') from app.audit_sinks where org_id = $1`, o.ID).Scan(&sinks, &enabled,
		&renamed); err != nil || sinks != 2 || enabled != 1 || renamed != 0 {
		t.Fatalf("after break-glass's statements org holds %d sinks, %d enabled, %d renamed (%v); want 2, 1 and 0",
			sinks, enabled, renamed, err)
	}
	// The same statements, the admin's own session: each changes a row.
	for _, s := range stmts {
		if n, err := run(o.Admin.Token, s.sql, s.args); err != nil || n != 1 {
			t.Errorf("%s from the admin's session: %d rows, %v", s.what, n, err)
		}
	}
}
