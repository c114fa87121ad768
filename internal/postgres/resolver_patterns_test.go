package postgres_test

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// TestResolverPatterns: the resolver checks the credential hash, the org
// hint, and whoami the DPoP thumbprint, jti hash and iat, without regular
// expressions since 00115. Each check must accept exactly what the
// patterns it replaced accepted; the Go regexps below are those patterns,
// and every input is bound as a parameter, whatever its form.
func TestResolverPatterns(t *testing.T) {
	env := pgtest.New(t)
	s := seedPrincipals(t, env)
	ctx := context.Background()
	resolve := func(cred, org string) (string, error) {
		var got *string
		err := env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `select set_config('ward.credential', $1, true), set_config('ward.org', $2, true)`,
				cred, org); err != nil {
				return err
			}
			return tx.QueryRow(ctx, `select user_id::text from private.me_pending()`).Scan(&got)
		})
		if got == nil {
			return "nobody", err
		}
		return *got, err
	}

	hashRE := regexp.MustCompile(`^[0-9a-f]{64}$`)
	for _, h := range []string{s.adminHash, strings.ToUpper(s.adminHash), s.adminHash[:63], s.adminHash + "0",
		s.adminHash + "\n", " " + s.adminHash[1:], s.adminHash[:62] + "é", s.adminHash[:63] + "g", ""} {
		want := "nobody"
		if hashRE.MatchString(h) {
			want = s.admin
		}
		if got, err := resolve(h, ""); err != nil || got != want {
			t.Errorf("credential %q: %s %v, want %s", h, got, err, want)
		}
	}

	uuidRE := regexp.MustCompile(`(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	org := s.org
	for _, hint := range []string{org, strings.ToUpper(org), "{" + org + "}", strings.ReplaceAll(org, "-", ""),
		org[:8] + org[9:13] + "-" + org[13:], org[:35] + "-", org + "\n", " " + org[1:], org[:34] + "é", org[:35] + "g", "-" + org[1:], org[:8] + "--" + org[10:], "0c000000-0000-4000-8000-000000000002", ""} {
		want := "nobody"
		if hint == "" || uuidRE.MatchString(hint) && strings.EqualFold(hint, org) {
			want = s.admin
		}
		got, err := resolve(s.adminHash, hint)
		if err != nil || got != want {
			t.Errorf("org hint %q: %s %v, want %s", hint, got, err, want)
		}
	}

	// whoami: a thumbprint (43 characters of the base64url alphabet) must
	// come with a jti hash (64 lowercase hex digits) and, since 00227, its
	// proof's iat: refused with 22023 otherwise. The admin's session is
	// bound to no key, so without a thumbprint it resolves. An iat of
	// another form than 1 to 12 digits counts as none (22023); one outside
	// the jti memory's window is refused as a replay would be (23505).
	jktRE := regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	jkt := strings.Repeat("aZ09_-", 7) + "q"
	whoami := func(dpop, jti, iat string) (string, error) {
		var got *string
		err := env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `select set_config('ward.credential', $1, true), set_config('ward.dpop', $2, true),
				set_config('ward.dpop_jti', $3, true), set_config('ward.dpop_iat', $4, true)`, s.adminHash, dpop, jti, iat); err != nil {
				return err
			}
			return tx.QueryRow(ctx, `select coalesce((select user_id::text from app.whoami()), 'nobody')`).Scan(&got)
		})
		if got == nil {
			return "", err
		}
		return *got, err
	}
	for _, dpop := range []string{jkt, jkt[:42], jkt + "a", jkt[:42] + "+", jkt[:42] + "=", jkt + "\n", "browser", ""} {
		for _, jti := range []string{s.leadHash, strings.ToUpper(s.leadHash), s.leadHash[:63], ""} {
			got, err := whoami(dpop, jti, "")
			var pgErr *pgconn.PgError
			switch {
			case jktRE.MatchString(dpop): // no iat, and maybe no jti hash either
				if !errors.As(err, &pgErr) || pgErr.Code != "22023" {
					t.Errorf("thumbprint %q, jti %q: %s %v, want 22023", dpop, jti, got, err)
				}
			default:
				if err != nil || got != s.admin {
					t.Errorf("dpop %q, jti %q: %s %v, want the plain session", dpop, jti, got, err)
				}
			}
		}
	}
	// The iat, on a session bound to the thumbprint: 1 to 12 digits are an
	// iat, anything else none (22023); an iat far in the future is outside
	// the memory's window (23505).
	if _, err := env.Super.Pool.Exec(ctx, `with b as (update app.sessions set dpop_jkt = $1 where id = $2)
		select setval('app.dpop_jti_epoch', floor(extract(epoch from now()))::bigint - 300, true)`, jkt, s.adminSession); err != nil {
		t.Fatal(err)
	}
	iatRE := regexp.MustCompile(`^[0-9]{1,12}$`)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	for i, iat := range []string{now, "0" + now, "+" + now, now + "\n", " " + now, "1e9", "", "1234567890123", "x", "9999999999"} {
		jti := strings.Repeat("0", 63) + string("0123456789abcdef"[i])
		got, err := whoami(jkt, jti, iat)
		var pgErr *pgconn.PgError
		switch {
		case iat == "9999999999":
			if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
				t.Errorf("iat %q: %s %v, want 23505 (outside the jti memory's window)", iat, got, err)
			}
		case iatRE.MatchString(iat):
			if err != nil || got != s.admin {
				t.Errorf("iat %q: %s %v, want the bound session", iat, got, err)
			}
		default:
			if !errors.As(err, &pgErr) || pgErr.Code != "22023" {
				t.Errorf("iat %q: %s %v, want 22023 (a bound key needs its proof's iat)", iat, got, err)
			}
		}
	}
}
