package tenancy_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres/pgtest"
	"github.com/wardhq/ward/internal/tenancy"
	"github.com/wardhq/ward/internal/vault/envelope"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestCreateOrg(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	root, err := envelope.LoadOrCreateLocalRoot(filepath.Join(t.TempDir(), "root.json"))
	if err != nil {
		t.Fatal(err)
	}
	keys := keystore.New(envelope.NewKeyring(root, envelope.Config{}))
	if err := keys.EnsureInstance(ctx, env.Super); err != nil {
		t.Fatal(err)
	}
	first, err := tenancy.CreateOrg(ctx, env.Super, keys, "Sunrise Dietetics", "Lead@Sunrise.test")
	if err != nil {
		t.Fatal(err)
	}
	// The same name and admin again: refused, naming the existing org.
	_, err = tenancy.CreateOrg(ctx, env.Super, keys, "Sunrise Dietetics", "lead@sunrise.test")
	if !errors.Is(err, tenancy.ErrExists) || !strings.Contains(errkind.PublicText(err), first.ID.String()) {
		t.Fatalf("second create: %v (public %q), want ErrExists naming %s", err, errkind.PublicText(err), first.ID)
	}
	// The same admin may start another org; the same name with another admin is another org.
	second, err := tenancy.CreateOrg(ctx, env.Super, keys, "Sunrise Dietetics East", "lead@sunrise.test")
	if err != nil || second.AdminID != first.AdminID {
		t.Fatalf("another org for the same admin: %+v, %v", second, err)
	}
	if _, err := tenancy.CreateOrg(ctx, env.Super, keys, "Sunrise Dietetics", "other@sunrise.test"); err != nil {
		t.Fatalf("same name, another admin: %v", err)
	}
	var events int
	if err := env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and action in ('org.create', 'membership.add')`,
		first.ID).Scan(&events); err != nil || events != 2 {
		t.Errorf("org creation events: %d, %v", events, err)
	}
	for _, bad := range []struct{ name, email string }{{"", "a@b.test"}, {strings.Repeat("x", 201), "a@b.test"},
		{"tab\tname", "a@b.test"}, {"Fine", "not-an-email"}} {
		if _, err := tenancy.CreateOrg(ctx, env.Super, keys, bad.name, bad.email); !errors.Is(err, tenancy.ErrInvalidInput) {
			t.Errorf("CreateOrg(%q, %q) = %v, want ErrInvalidInput", bad.name, bad.email, err)
		}
	}
	// The server's own role may not create orgs.
	if _, err := tenancy.CreateOrg(ctx, env.App, keys, "By The App", "app@sunrise.test"); !errors.Is(err, tenancy.ErrForbidden) {
		t.Errorf("CreateOrg as ward_app = %v, want ErrForbidden", err)
	}
}
