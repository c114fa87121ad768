package httpapi_test

import (
	"context"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// TestTOTPDeleteRacesPasskeyDelete: a lead (whose bar is mfa) holding one
// passkey and a TOTP factor deletes both at once from two sessions. Which
// ever deletion takes the member's factors first goes through; the other
// waits for it, counts what it left, and answers last_factor: the member
// keeps a second factor whichever order the two take (app.totp_delete
// locks the member's passkeys and factor in app.passkey_delete's order).
func TestTOTPDeleteRacesPasskeyDelete(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("TOTP Race Org")
	w.populate(o, "trace")
	ctx := context.Background()
	lead := o.Lead.ID
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := w.env.Super.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	call := func(token, sql string, args ...any) (string, error) {
		var out string
		err := w.env.App.InTenantTx(ctx, w.cred(token), func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, sql, args...).Scan(&out)
		})
		return out, err
	}
	for _, totpFirst := range []bool{false, true} {
		t.Run(map[bool]string{false: "passkey first", true: "totp first"}[totpFirst], func(t *testing.T) {
			exec(`delete from app.passkeys where org_id = $1 and user_id = $2`, o.ID, lead)
			exec(`delete from app.totp_factors where org_id = $1 and user_id = $2`, o.ID, lead)
			pk := uuid.New()
			cred, pub := make([]byte, 32), make([]byte, 64)
			_, _ = rand.Read(cred)
			_, _ = rand.Read(pub)
			exec(`insert into app.passkeys (org_id, id, user_id, credential_id, public_key, aaguid, backup_eligible,
		    backup_state, name) values ($1, $2, $3, $4, $5, $6, false, false, 'key')`, o.ID, pk, lead, cred, pub, uuid.Nil)
			exec(`insert into app.totp_factors (org_id, user_id, secret_enc, secret_hash, confirmed_at)
		    values ($1, $2, '\x0102030405060708090a0b0c0d0e0f1011121314', sha256('race'::bytea), now())`, o.ID, lead)
			// One session stepped up with the passkey, one with TOTP.
			byPasskey, byTOTP := w.operatorSignIn(o.Lead.Email, o.ID), w.operatorSignIn(o.Lead.Email, o.ID)
			exec(`update app.sessions set amr = '{email,passkey}' where token_hash = sha256($1::bytea)`, []byte(byPasskey))

			first, second := "select app.passkey_delete($1)", "select status from app.totp_delete()"
			firstTok, secondTok := byPasskey, byTOTP
			firstArgs, secondArgs := []any{pk}, []any(nil)
			if totpFirst {
				first, second, firstTok, secondTok, firstArgs, secondArgs = second, first, secondTok, firstTok, secondArgs, firstArgs
			}
			held, release, firstDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			releaseFirst := sync.OnceFunc(func() { close(release) })
			// On a failure too: the first transaction's connection is given
			// back before the world closes its pool.
			defer releaseFirst()
			var firstOut string
			go func() {
				firstDone <- w.env.App.InTenantTx(ctx, w.cred(firstTok), func(ctx context.Context, tx pgx.Tx) error {
					err := tx.QueryRow(ctx, first, firstArgs...).Scan(&firstOut)
					close(held)
					<-release
					return err
				})
			}()
			<-held
			secondDone := make(chan struct{})
			var secondOut string
			var secondErr error
			go func() {
				secondOut, secondErr = call(secondTok, second, secondArgs...)
				close(secondDone)
			}()
			select {
			case <-secondDone:
				t.Fatalf("totp first %v: the second deletion did not wait for the first: %q %v", totpFirst, secondOut, secondErr)
			case <-time.After(300 * time.Millisecond):
			}
			releaseFirst()
			if err := <-firstDone; err != nil || firstOut != "ok" {
				t.Fatalf("totp first %v: the first deletion: %q %v", totpFirst, firstOut, err)
			}
			<-secondDone
			if secondErr != nil || secondOut != "last_factor" {
				t.Fatalf("totp first %v: the second deletion: %q %v; want last_factor", totpFirst, secondOut, secondErr)
			}
			var passkeys, factors int
			if err := w.env.Super.Pool.QueryRow(ctx, `select (select count(*) from app.passkeys where org_id = $1 and user_id = $2),
		    (select count(*) from app.totp_factors where org_id = $1 and user_id = $2)`, o.ID, lead).
				Scan(&passkeys, &factors); err != nil || passkeys+factors != 1 {
				t.Fatalf("totp first %v: the lead keeps %d passkeys and %d TOTP factors (%v); want one factor", totpFirst,
					passkeys, factors, err)
			}
		})
	}
}
