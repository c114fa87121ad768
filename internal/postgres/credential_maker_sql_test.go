package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// TestCredentialMakerShared: app.create_scim_token and app.create_api_key
// check their caller through the one helper, private.credential_maker
// (00206), rather than each through its own copy; only the definers may
// call it. The behaviour is TestAttackSCIMTokenOutlivesRevocation's and
// TestAttackAPIKeyOutlivesRevocation's.
func TestCredentialMakerShared(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	for _, fn := range []string{"app.create_scim_token", "app.create_api_key"} {
		var src string
		if err := env.Super.Pool.QueryRow(ctx, `select prosrc from pg_proc where oid = $1::regproc`, fn).Scan(&src); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(src, "private.credential_maker(") {
			t.Errorf("%s does not check its caller through private.credential_maker", fn)
		}
		for _, copied := range []string{"private.me()", "for share", "step-up required"} {
			if strings.Contains(src, copied) {
				t.Errorf("%s still holds its own copy of the maker checks (%q)", fn, copied)
			}
		}
	}
	for role, want := range map[string]bool{"ward_definer": true, "ward_app": false, "ward_ops": false} {
		var may bool
		if err := env.Super.Pool.QueryRow(ctx,
			`select has_function_privilege($1, 'private.credential_maker(bytea, text)', 'execute')`, role).Scan(&may); err != nil {
			t.Fatal(err)
		}
		if may != want {
			t.Errorf("%s may execute private.credential_maker: %v, want %v", role, may, want)
		}
	}
}
