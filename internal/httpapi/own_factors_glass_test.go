package httpapi_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// glassSQL makes the session whose token is $1 a break-glass session, as
// app.break_glass_activate would have issued it.
const glassSQL = `update app.sessions set break_glass = true, assurance = 2, amr = '{passkey}', idle_timeout_min = 60,
    absolute_expires_at = least(absolute_expires_at, created_at + interval '60 minutes'), authenticated_at = now()
    where token_hash = sha256($1::bytea)`

// TestOwnFactorsBreakGlassRefusedByDatabase (00218): a break-glass session
// renames none of its member's passkeys, remembers no device and joins no
// case. Renaming is a route without a step-up, so the server let
// emergency access through to the database, which renamed the passkey; now
// the client gets 403 break_glass_not_allowed. Reaching the three
// functions in SQL past the server (a server bug, an injected statement),
// each refuses it (42501 break_glass_not_allowed) and nothing changes;
// the same calls from an ordinary session go through.
func TestOwnFactorsBreakGlassRefusedByDatabase(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Own Factors Glass")
	ctx := context.Background()
	kase := w.landingCase(o, "Glass Case")
	inv, invTok := w.inviteOutbox(o.Admin.Token, kase, "glass-party@example.test", "attorney", []string{"view"},
		time.Now().Add(24*time.Hour))

	glass := w.operatorSignIn(o.Admin.Email, o.ID)
	w.registerPasskey(&glass, w.newDevice(), "Desk key")
	var pk uuid.UUID
	if err := w.env.Super.Pool.QueryRow(ctx, `select id from app.passkeys where org_id = $1 and user_id = $2`,
		o.ID, o.Admin.ID).Scan(&pk); err != nil {
		t.Fatal(err)
	}
	if _, err := w.env.Super.Pool.Exec(ctx, glassSQL, []byte(glass)); err != nil {
		t.Fatal(err)
	}
	name := func() string {
		t.Helper()
		var n string
		if err := w.env.Super.Pool.QueryRow(ctx, `select name from app.passkeys where id = $1`, pk).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	devices := func() int {
		t.Helper()
		var n int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.known_devices where org_id = $1 and user_id = $2`,
			o.ID, o.Admin.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// The route: a clear refusal, the passkey keeps its name.
	resp, b := w.request("PATCH", "/v1/auth/passkeys/"+pk.String(), glass, map[string]any{"name": "Renamed by glass"})
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "break_glass_not_allowed" {
		t.Errorf("rename from break-glass: %d %s; want 403 break_glass_not_allowed", resp.StatusCode, b)
	}

	hash32 := func() []byte {
		h := make([]byte, 32)
		_, _ = rand.Read(h)
		return h
	}
	tokHash := sha256.Sum256([]byte(invTok))
	stmts := []struct {
		what, sql string
		args      []any
	}{
		{"rename a passkey", `select app.passkey_rename($1, 'Renamed in SQL')`, []any{pk}},
		{"remember a device", `select app.remember_device($1)`, []any{hash32()}},
		{"accept a case invitation", `select status from app.accept_case_invite($1, $2)`, []any{tokHash[:], hash32()}},
	}
	run := func(token, sql string, args []any) error {
		return w.env.App.InTenantTx(ctx, w.cred(token), func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, sql, args...)
			return err
		})
	}
	d0 := devices()
	for _, s := range stmts {
		err := run(glass, s.sql, s.args)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" || pe.Hint != "break_glass_not_allowed" {
			t.Errorf("%s from break-glass: %v; want 42501 break_glass_not_allowed", s.what, err)
		}
	}
	if n := name(); n != "Desk key" {
		t.Errorf("after break-glass the passkey is named %q", n)
	}
	if n := devices(); n != d0 {
		t.Errorf("after break-glass the member has %d known devices; want %d", n, d0)
	}
	if accepted, _ := w.inviteState(inv); accepted {
		t.Error("break-glass accepted the invitation")
	}

	// The same calls from an ordinary session of the member (new, so in
	// its first minute for remember_device) go through.
	plain := w.operatorSignIn(o.Admin.Email, o.ID)
	for _, s := range stmts {
		if err := run(plain, s.sql, s.args); err != nil {
			t.Errorf("%s from an ordinary session: %v", s.what, err)
		}
	}
	if n := name(); n != "Renamed in SQL" {
		t.Errorf("after the ordinary session the passkey is named %q", n)
	}
	if n := devices(); n != d0+1 {
		t.Errorf("after the ordinary session the member has %d known devices; want %d", n, d0+1)
	}
	if accepted, _ := w.inviteState(inv); !accepted {
		t.Error("the ordinary call did not accept the invitation")
	}
}

// TestInviteAcceptBreakGlassBrowser (00218): a browser whose session is
// the invitee's break-glass session accepts no invitation through the
// server either (the acceptance runs unbound, so the server asks):
// 403 break_glass_not_allowed, nothing spent, the session unchanged.
func TestInviteAcceptBreakGlassBrowser(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Invite Glass Browser")
	ctx := context.Background()
	kase := w.landingCase(o, "Glass Browser Case")
	b := w.browser(t)
	_, first := w.inviteOutbox(o.Admin.Token, kase, "glass-attorney@example.test", "attorney", []string{"view"},
		time.Now().Add(24*time.Hour))
	if resp, body := b.postForm("/v1/case-invites/accept", first); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the first acceptance: %d %s", resp.StatusCode, body)
	}
	sess := b.session()
	if _, err := w.env.Super.Pool.Exec(ctx, glassSQL, []byte(sess)); err != nil {
		t.Fatal(err)
	}
	kase2 := w.landingCase(o, "Glass Browser Case Two")
	inv, second := w.inviteOutbox(o.Admin.Token, kase2, "glass-attorney@example.test", "attorney", []string{"view"},
		time.Now().Add(24*time.Hour))
	resp, body := b.postForm("/v1/case-invites/accept", second)
	if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "break_glass_not_allowed" {
		t.Errorf("acceptance from a break-glass browser: %d %s; want 403 break_glass_not_allowed", resp.StatusCode, body)
	}
	if accepted, _ := w.inviteState(inv); accepted {
		t.Error("the break-glass browser accepted the invitation")
	}
	if _, live := w.sessionLive(sess); !live || b.session() != sess {
		t.Error("the break-glass session was replaced or ended")
	}
}
