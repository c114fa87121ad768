package sso_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
	"github.com/wardhq/ward/internal/sso"
	"github.com/wardhq/ward/internal/vault/envelope"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// IndexDomains notes, as ward_ops, the domain of each address and claimed
// domain written before migration 00128 (which enforce_sso holds sessions
// to), under the instance keys as the write paths do; a second run finds
// nothing left.
func TestIndexDomains(t *testing.T) {
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
	inst, err := keys.Instance(ctx, env.Super)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := postgres.OpenAs(ctx, env.SuperURL(), "ward_ops")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ops.Close)

	// Two users and a claimed domain as a server before 00128 wrote them.
	org, conn := uuid.New(), uuid.New()
	users := map[string]uuid.UUID{"Alice@Hospital.Example": uuid.New(), "bob@elsewhere.example": uuid.New()}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := env.Super.Pool.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for email, id := range users {
		norm := envelope.NormalizeEmail(email)
		enc, err := inst.Seal([]byte(norm), keystore.UserEmailAD(id))
		if err != nil {
			t.Fatal(err)
		}
		exec(`insert into app.users (id, email_bidx, email_enc) values ($1, $2, $3)`, id, inst.BlindIndex("users.email", norm), enc)
	}
	exec(`insert into app.orgs (id, name) values ($1, 'Hospital')`, org)
	exec(`insert into app.memberships (org_id, user_id, role) values ($1, $2, 'admin')`, org, users["bob@elsewhere.example"])
	exec(`insert into app.sso_connections (org_id, id, kind, name, issuer, client_id, client_secret_enc, created_by)
	        values ($1, $2, 'oidc', 'IdP', 'https://idp.example', 'ward', '\x00', $3)`, org, conn, users["bob@elsewhere.example"])
	exec(`insert into app.sso_domains (org_id, domain, connection_id) values ($1, 'hospital.example', $2)`, org, conn)

	// A third whose sealed address cannot be opened (sealed for another
	// user), first in the order the job walks: skipped and reported by id,
	// the others indexed all the same.
	bad := uuid.MustParse("00000000-0000-4000-8000-000000000001")
	badEnc, err := inst.Seal([]byte("carol@hospital.example"), keystore.UserEmailAD(uuid.New()))
	if err != nil {
		t.Fatal(err)
	}
	exec(`insert into app.users (id, email_bidx, email_enc) values ($1, $2, $3)`, bad,
		inst.BlindIndex("users.email", "carol@hospital.example"), badEnc)

	ix, err := sso.IndexDomains(ctx, ops, keys)
	if err != nil || ix.Rows != 3 || ix.Unopened != 1 || len(ix.Skipped) != 1 || ix.Skipped[0] != bad {
		t.Fatalf("first run: %+v, %v; want 3 rows and %s skipped", ix, err, bad)
	}
	for email, id := range users {
		var got []byte
		if err := env.Super.Pool.QueryRow(ctx, `select e.domain_bidx from app.users u
			join app.email_domains e on e.email_bidx = u.email_bidx where u.id = $1`, id).Scan(&got); err != nil {
			t.Fatalf("%s: %v", email, err)
		}
		want := inst.BlindIndex(envelope.EmailDomainField, envelope.EmailDomain(envelope.NormalizeEmail(email)))
		if !bytes.Equal(got, want) {
			t.Errorf("%s: domain index %x, want %x", email, got, want)
		}
	}
	var got []byte
	if err := env.Super.Pool.QueryRow(ctx, `select domain_bidx from app.sso_domains where org_id = $1`, org).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, inst.BlindIndex(envelope.EmailDomainField, "hospital.example")) {
		t.Errorf("claimed domain's index %x", got)
	}
	if ix, err := sso.IndexDomains(ctx, ops, keys); err != nil || ix.Rows != 0 || ix.Unopened != 1 {
		t.Fatalf("second run: %+v, %v; want 0 rows, the same address skipped", ix, err)
	}
}
