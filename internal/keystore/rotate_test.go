package keystore_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
	"github.com/wardhq/ward/internal/vault/docstream"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// seedDataKeys stores n document versions of org (one case, one document)
// whose data keys are sealed under keys, as the server would, and returns
// the version ids and wrapped keys in id order.
func seedDataKeys(t testing.TB, env *pgtest.Env, keys *envelope.OrgKeys, org uuid.UUID, n int) ([]uuid.UUID, [][]byte) {
	t.Helper()
	ids := make([]uuid.UUID, n)
	wrapped := make([][]byte, n)
	keysOf := make([]string, n)
	for i := range ids {
		ids[i] = uuid.New()
		var err error
		if _, wrapped[i], err = docstream.NewDataKey(keys, keystore.DataKeyAD(org, ids[i])); err != nil {
			t.Fatal(err)
		}
		keysOf[i] = "orgs/" + org.String() + "/obj/" + uuid.NewString()
	}
	caseID, doc := uuid.New(), uuid.New()
	err := env.Super.InTx(context.Background(), func(ctx context.Context, tx pgx.Tx) error {
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`insert into app.cases (org_id, id, title_enc, created_by)
			  select $1, $2, '\x00', m.user_id from app.memberships m where m.org_id = $1 limit 1`, []any{org, caseID}},
			{`insert into app.documents (org_id, id, case_id, doc_type, requested_by, due_at, created_by)
			  select $1, $2, $3, 'medical_report', c.created_by, now() + interval '1 day', c.created_by
			    from app.cases c where c.org_id = $1 and c.id = $3`, []any{org, doc, caseID}},
			{`insert into app.document_versions (org_id, id, case_id, document_id, version, storage_key, data_key, size,
			    sha256, content_type, filename_enc, uploaded_by)
			  select $1, v.id, $2, $3, v.n::int, v.k, v.dk, 10, sha256(v.k::bytea), 'application/pdf', '\x00', c.created_by
			    from unnest($4::uuid[], $5::bytea[], $6::text[]) with ordinality as v(id, dk, k, n)
			    join app.cases c on c.org_id = $1 and c.id = $2`, []any{org, caseID, doc, ids, wrapped, keysOf}},
		} {
			if _, err := tx.Exec(ctx, q.sql, q.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seed data keys: %v", err)
	}
	return ids, wrapped
}

// ward keys rotate's steps, as ward_ops: a new primary key, every data key
// of the org rewrapped under it (across more than one page), the same data
// keys inside, fields sealed before still open, the server's next read of
// the org's keys seals with the new key, another org untouched, a stale
// replacement refused, each step audited in the org's log.
func TestRotateAndRewrapDataKeys(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	store := keystore.New(envelope.NewKeyring(newRoot(t), envelope.Config{}))
	org, cred := seedOrg(t, env, store.Keyring())
	other, otherCred := seedOrg(t, env, store.Keyring())
	ops, err := postgres.Open(ctx, env.URL("ward_ops"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ops.Close)

	before, err := orgKeys(env, store, cred, org)
	if err != nil {
		t.Fatal(err)
	}
	n := keystore.DataKeyPage + 3
	ids, wrapped := seedDataKeys(t, env, before, org, n)
	otherKeys, err := orgKeys(env, store, otherCred, other)
	if err != nil {
		t.Fatal(err)
	}
	_, otherWrapped := seedDataKeys(t, env, otherKeys, other, 2)
	fieldAD := envelope.AD{Table: "patients", Column: "name_enc", Org: org, Row: uuid.New()}
	field, err := before.Seal([]byte("Jane Roe"), fieldAD)
	if err != nil {
		t.Fatal(err)
	}

	st, err := store.Status(ctx, ops, org)
	if err != nil {
		t.Fatal(err)
	}
	if st.Keys != 1 || st.Primary != before.PrimaryKeyID() || !st.RotatedAt.IsZero() || st.DataKeys != n || st.DataKeysBehind != 0 {
		t.Fatalf("status before: %+v", st)
	}

	primary, err := store.Rotate(ctx, ops, org)
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	if primary == before.PrimaryKeyID() {
		t.Fatal("the rotation kept the old primary key")
	}
	st, err = store.Status(ctx, ops, org)
	if err != nil {
		t.Fatal(err)
	}
	if st.Keys != 2 || st.Primary != primary || st.RotatedAt.IsZero() || st.DataKeys != n || st.DataKeysBehind != n {
		t.Fatalf("status after the rotation, before the rewrap: %+v", st)
	}
	// The server's next read of the org's keys has the new primary, and
	// what was sealed before still opens.
	after, err := orgKeys(env, store, cred, org)
	if err != nil {
		t.Fatal(err)
	}
	if after.PrimaryKeyID() != primary {
		t.Fatalf("the server reads primary key %d, want %d", after.PrimaryKeyID(), primary)
	}
	if pt, err := after.Open(field, fieldAD); err != nil || string(pt) != "Jane Roe" {
		t.Fatalf("a field sealed before the rotation: %q, %v", pt, err)
	}

	got, err := store.RewrapDataKeys(ctx, ops, org)
	if err != nil || got != n {
		t.Fatalf("rewrap: %d, %v; want %d", got, err, n)
	}
	if again, err := store.RewrapDataKeys(ctx, ops, org); err != nil || again != 0 {
		t.Fatalf("a second rewrap: %d, %v; want 0", again, err)
	}
	st, err = store.Status(ctx, ops, org)
	if err != nil || st.DataKeysBehind != 0 || st.DataKeys != n {
		t.Fatalf("status after the rewrap: %+v, %v", st, err)
	}
	rows, err := env.Super.Pool.Query(ctx, `select id, data_key from app.document_versions where org_id = $1 order by id`, org)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[uuid.UUID][]byte{}
	var id uuid.UUID
	var dk []byte
	if _, err := pgx.ForEachRow(rows, []any{&id, &dk}, func() error { stored[id] = dk; return nil }); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		now := stored[id]
		if kid, _ := envelope.CiphertextKeyID(now); kid != primary {
			t.Fatalf("version %d's data key is under key %d, want %d", i, kid, primary)
		}
		ad := keystore.DataKeyAD(org, id)
		was, err1 := before.Open(wrapped[i], ad)
		is, err2 := after.Open(now, ad)
		if err1 != nil || err2 != nil || !bytes.Equal(was, is) {
			t.Fatalf("version %d: the data key inside changed (%v, %v)", i, err1, err2)
		}
		if _, err := docstream.OpenDataKey(after, now, ad); err != nil {
			t.Fatalf("version %d: %v", i, err)
		}
		// Bound to its row: it does not open as another version's.
		if _, err := after.Open(now, keystore.DataKeyAD(org, ids[(i+1)%n])); !errors.Is(err, envelope.ErrDecrypt) {
			t.Fatalf("version %d's data key opens as another row's: %v", i, err)
		}
	}

	// Another org: its keyset and data keys are as they were.
	ost, err := store.Status(ctx, ops, other)
	if err != nil || ost.Keys != 1 || !ost.RotatedAt.IsZero() || ost.DataKeys != 2 || ost.DataKeysBehind != 0 {
		t.Fatalf("the other org after org's rotation: %+v, %v", ost, err)
	}
	var otherNow [][]byte
	if err := env.Super.Pool.QueryRow(ctx, `select array_agg(data_key order by id) from app.document_versions where org_id = $1`,
		other).Scan(&otherNow); err != nil {
		t.Fatal(err)
	}
	for _, w := range otherWrapped {
		found := false
		for _, x := range otherNow {
			found = found || bytes.Equal(w, x)
		}
		if !found {
			t.Fatal("the other org's data keys changed")
		}
	}

	// A replacement from a stale read stores nothing.
	var oldAEAD []byte
	var ok bool
	if err := env.Super.Pool.QueryRow(ctx, `select wrapped from private.keysets where org_id = $1 and purpose = 'aead'`, org).
		Scan(&oldAEAD); err != nil {
		t.Fatal(err)
	}
	if err := ops.Pool.QueryRow(ctx, `select app.ops_replace_keyset($1, 'aead', $2, $3, 'rotate')`,
		org, []byte("stale"), []byte("new")).Scan(&ok); err != nil || ok {
		t.Fatalf("a stale replacement: %v, %v; want false", ok, err)
	}
	if _, err := ops.Pool.Exec(ctx, `select app.ops_replace_keyset($1, 'prf', $2, $3, 'rotate')`, org, oldAEAD, []byte("x")); !postgres.IsCode(err, postgres.CodeInvalidParameter) {
		t.Fatalf("rotating the PRF keyset: %v, want 22023", err)
	}
	var still []byte
	if err := env.Super.Pool.QueryRow(ctx, `select wrapped from private.keysets where org_id = $1 and purpose = 'aead'`, org).
		Scan(&still); err != nil || !bytes.Equal(still, oldAEAD) {
		t.Fatalf("the keyset changed after refused replacements (%v)", err)
	}
	// Data keys: a replacement whose old value is stale changes nothing.
	var changed int
	if err := ops.Pool.QueryRow(ctx, `select app.ops_rewrap_data_keys($1, $2, $3, $4)`, org,
		[]uuid.UUID{ids[0]}, [][]byte{wrapped[0]}, [][]byte{[]byte("x")}).Scan(&changed); err != nil || changed != 0 {
		t.Fatalf("a stale data key replacement: %d, %v", changed, err)
	}

	// Audited in the org's log, with the role that did it.
	var rotates, rewraps, count int
	err = env.Super.Pool.QueryRow(ctx, `
		select count(*) filter (where action = 'keys.rotate' and details->>'by' = 'ward_ops' and details->>'purpose' = 'aead'),
		       count(*) filter (where action = 'keys.data_keys.rewrap'),
		       coalesce(sum((details->>'count')::int) filter (where action = 'keys.data_keys.rewrap'), 0)
		  from audit.events where org_id = $1`, org).Scan(&rotates, &rewraps, &count)
	if err != nil {
		t.Fatal(err)
	}
	if rotates != 1 || rewraps != 2 || count != n {
		t.Fatalf("audit: %d keys.rotate, %d keys.data_keys.rewrap events over %d keys; want 1, 2 (two pages), %d", rotates, rewraps, count, n)
	}
}
