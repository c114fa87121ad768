package httpapi_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestMemberKeyBreakGlassRefusedByDatabase (00215): a break-glass session
// that reaches the database past the server (a server bug, an injected
// statement) adds no member, changes or revokes no membership and revokes
// no API key or SCIM token: each function refuses it (42501
// break_glass_not_allowed) and nothing changes. The same calls from the
// admin's own session go through.
func TestMemberKeyBreakGlassRefusedByDatabase(t *testing.T) {
	memberKeyRefusedByDatabase(t, "mgl", `update app.sessions set break_glass = true, amr = '{passkey}', idle_timeout_min = 60,
	    absolute_expires_at = least(absolute_expires_at, created_at + interval '60 minutes'), authenticated_at = now()
	    where token_hash = sha256($1::bytea)`, "break_glass_not_allowed")
}

// TestMemberKeyStepUpRefusedByDatabase (00215): an admin's session whose
// second factor is more than 10 minutes old, reaching the database past
// the server, adds no member, changes or revokes no membership and
// revokes no API key or SCIM token (42501 step_up_required).
func TestMemberKeyStepUpRefusedByDatabase(t *testing.T) {
	memberKeyRefusedByDatabase(t, "mst", `update app.sessions set authenticated_at = now() - interval '11 minutes',
	    last_seen_at = now() where token_hash = sha256($1::bytea)`, "step_up_required")
}

// memberKeyRefusedByDatabase makes a session of a new org's admin, runs
// prepare (SQL on its token) as the superuser, and requires each member
// and key function to refuse it with hint, changing nothing, and then the
// admin's own session to go through.
func memberKeyRefusedByDatabase(t *testing.T, prefix, prepare, hint string) {
	w := newWorld(t)
	o := w.createOrg("Member Refused " + prefix)
	w.populate(o, prefix)
	ctx := context.Background()
	key := w.createKey(o, "members")
	scimTok := w.createSCIMToken(o, "provider")

	caller := w.operatorSignIn(o.Admin.Email, o.ID)
	if _, err := w.env.Super.Pool.Exec(ctx, prepare, []byte(caller)); err != nil {
		t.Fatal(err)
	}
	newUser := uuid.New()
	bidx := make([]byte, 32)
	copy(bidx, newUser[:])
	stmts := []struct {
		what, sql string
		args      []any
	}{
		{"add a member", `select user_id from app.add_member($1, $2, '\x00'::bytea, 'admin')`, []any{newUser, bidx}},
		{"promote a member", `select app.update_member($1, 'admin', false)`, []any{o.Prov.ID}},
		{"revoke a membership", `select app.update_member($1, null, true)`, []any{o.Lead.ID}},
		{"revoke an API key", `select app.revoke_api_key($1)`, []any{key.ID}},
		{"revoke a SCIM token", `select app.revoke_scim_token($1)`, []any{scimTok.ID}},
	}
	run := func(token, sql string, args []any) error {
		return w.env.App.InTenantTx(ctx, w.cred(token), func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, sql, args...)
			return err
		})
	}
	state := func() (members, admins, keys, tokens int) {
		t.Helper()
		if err := w.env.Super.Pool.QueryRow(ctx, `select
		    (select count(*) from app.memberships where org_id = $1 and revoked_at is null),
		    (select count(*) from app.memberships where org_id = $1 and revoked_at is null and role = 'admin'),
		    (select count(*) from app.api_keys where org_id = $1 and revoked_at is null),
		    (select count(*) from app.scim_tokens where org_id = $1 and revoked_at is null)`, o.ID).
			Scan(&members, &admins, &keys, &tokens); err != nil {
			t.Fatal(err)
		}
		return
	}
	m0, a0, k0, s0 := state()
	for _, s := range stmts {
		err := run(caller, s.sql, s.args)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" || pe.Hint != hint {
			t.Errorf("%s: %v; want 42501 %s", s.what, err, hint)
		}
	}
	if m, a, k, s := state(); m != m0 || a != a0 || k != k0 || s != s0 {
		t.Fatalf("after the refused calls: %d members, %d admins, %d keys, %d SCIM tokens; want %d, %d, %d, %d",
			m, a, k, s, m0, a0, k0, s0)
	}
	// The same calls from the admin's own session: each changes what it
	// names.
	for _, s := range stmts {
		if err := run(o.Admin.Token, s.sql, s.args); err != nil {
			t.Errorf("%s from the admin's session: %v", s.what, err)
		}
	}
	if m, a, k, s := state(); m != m0 || a != a0+2 || k != k0-1 || s != s0-1 {
		t.Fatalf("after the admin's calls: %d members, %d admins, %d keys, %d SCIM tokens; want %d, %d, %d, %d",
			m, a, k, s, m0, a0+2, k0-1, s0-1)
	}
}
