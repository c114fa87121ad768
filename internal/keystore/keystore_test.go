package keystore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
	"github.com/wardhq/ward/internal/vault/envelope"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// countingRoot counts unwraps under the root, to see when the keyring's
// cache answers.
type countingRoot struct {
	envelope.Root
	decrypts atomic.Int64
}

func (r *countingRoot) Decrypt(ct, ad []byte) ([]byte, error) {
	r.decrypts.Add(1)
	return r.Root.Decrypt(ct, ad)
}

func newRoot(t testing.TB) *envelope.LocalRoot {
	t.Helper()
	r, err := envelope.LoadOrCreateLocalRoot(filepath.Join(t.TempDir(), "root.json"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// seedOrg writes, as the superuser, an org whose keysets are wrapped under
// ring, one admin and a live session, and returns the org and the
// credential the server would bind for that session.
func seedOrg(t testing.TB, env *pgtest.Env, ring *envelope.Keyring) (uuid.UUID, postgres.Credential) {
	t.Helper()
	ctx := context.Background()
	org, user := uuid.New(), uuid.New()
	w, err := ring.NewOrgKeys(org)
	if err != nil {
		t.Fatal(err)
	}
	token := make([]byte, 32)
	_, _ = rand.Read(token)
	sum := sha256.Sum256(token)
	bidx := make([]byte, 32)
	_, _ = rand.Read(bidx)
	err = env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`insert into app.orgs (id, name) values ($1, 'Keystore Clinic')`, []any{org}},
			{`insert into private.keysets (org_id, purpose, wrapped) values ($1, 'aead', $2), ($1, 'prf', $3)`,
				[]any{org, w.AEAD, w.PRF}},
			{`insert into app.users (id, email_bidx, email_enc) values ($1, $2, '\x00')`, []any{user, bidx}},
			{`insert into app.memberships (org_id, user_id, role) values ($1, $2, 'admin')`, []any{org, user}},
			// An admin's DPoP-bound session (a new org requires staff sessions bound).
			{`insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, assurance, amr,
			    dpop_jkt)
			  values ($1, $2, $3, 60, $4, 2, '{email,totp}', $5)`, []any{org, user, sum[:], time.Now().Add(time.Hour), keystoreJKT}},
		} {
			if _, err := tx.Exec(ctx, q.sql, q.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	return org, postgres.Credential{Hash: hex.EncodeToString(sum[:]), Org: org.String(), Request: "keystore-test",
		DPoP: keystoreJKT}
}

// keystoreJKT is the thumbprint the test sessions are bound to.
var keystoreJKT = strings.Repeat("K", 43)

// orgKeys calls Org in a transaction bound to cred, as the server does.
func orgKeys(env *pgtest.Env, keys *keystore.Store, cred postgres.Credential, org uuid.UUID) (*envelope.OrgKeys, error) {
	var k *envelope.OrgKeys
	err := env.App.InTenantTx(context.Background(), cred, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		k, err = keys.Org(ctx, tx, org)
		return err
	})
	return k, err
}

// Every Org call asks the database, so a credential that stops being live
// gets no keys even while the unwrapped keys are cached; the cache saves
// only the unwrap.
func TestOrgAsksTheDatabaseEveryCall(t *testing.T) {
	env := pgtest.New(t)
	root := &countingRoot{Root: newRoot(t)}
	keys := keystore.New(envelope.NewKeyring(root, envelope.Config{}))
	orgA, credA := seedOrg(t, env, keys.Keyring())
	orgB, credB := seedOrg(t, env, keys.Keyring())

	first, err := orgKeys(env, keys, credA, orgA)
	if err != nil {
		t.Fatalf("live credential: %v", err)
	}
	if first.OrgID() != orgA {
		t.Fatalf("keys of %s, want %s", first.OrgID(), orgA)
	}
	unwraps := root.decrypts.Load()
	if unwraps != 2 {
		t.Fatalf("first call unwrapped %d keysets, want 2 (AEAD and PRF)", unwraps)
	}
	second, err := orgKeys(env, keys, credA, orgA)
	if err != nil {
		t.Fatalf("live credential, second call: %v", err)
	}
	if second != first || root.decrypts.Load() != unwraps {
		t.Fatalf("second call unwrapped again (%d root decrypts, want %d)", root.decrypts.Load(), unwraps)
	}

	// Org A's keys are cached now; a credential of org B, no credential and
	// a revoked credential must still get nothing for org A.
	if _, err := orgKeys(env, keys, credB, orgA); !errors.Is(err, keystore.ErrNoKeys) {
		t.Errorf("another org's credential: %v, want ErrNoKeys", err)
	}
	if _, err := orgKeys(env, keys, postgres.Credential{Org: orgA.String()}, orgA); !errors.Is(err, keystore.ErrNoKeys) {
		t.Errorf("no credential: %v, want ErrNoKeys", err)
	}
	if _, err := env.Super.Pool.Exec(context.Background(),
		`update app.sessions set revoked_at = now(), revoked_reason = 'logout' where org_id = $1`, orgA); err != nil {
		t.Fatal(err)
	}
	if _, err := orgKeys(env, keys, credA, orgA); !errors.Is(err, keystore.ErrNoKeys) {
		t.Errorf("revoked credential right after a successful call: %v, want ErrNoKeys", err)
	}
	// Org B's own credential is unaffected.
	if _, err := orgKeys(env, keys, credB, orgB); err != nil {
		t.Errorf("org B's live credential: %v", err)
	}
}

// Instance only reads; EnsureInstance, on a privileged connection, creates
// the keyset once; ward_app may not create it.
func TestInstance(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	root := newRoot(t)
	keys := keystore.New(envelope.NewKeyring(root, envelope.Config{}))

	_, err := keys.Instance(ctx, env.App)
	if !errors.Is(err, keystore.ErrNoKeys) || !strings.Contains(err.Error(), "ward migrate") {
		t.Fatalf("Instance before any EnsureInstance: %v, want ErrNoKeys telling the operator to run `ward migrate`", err)
	}

	// ward_app cannot store the instance keyset, neither through the Store
	// nor by calling the function itself.
	if err := keys.EnsureInstance(ctx, env.App); !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
		t.Fatalf("EnsureInstance as ward_app: %v, want 42501", err)
	}
	_, err = env.App.Pool.Exec(ctx, `select * from app.ensure_instance_keyset('\x00', '\x00')`)
	if !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
		t.Fatalf("ward_app calling app.ensure_instance_keyset: %v, want 42501", err)
	}
	if _, err := keys.Instance(ctx, env.App); !errors.Is(err, keystore.ErrNoKeys) {
		t.Fatalf("Instance after ward_app's attempts: %v, want ErrNoKeys", err)
	}

	ops, err := postgres.Open(ctx, env.URL("ward_ops"))
	if err != nil {
		t.Fatal(err)
	}
	defer ops.Close()
	if err := keys.EnsureInstance(ctx, ops); err != nil {
		t.Fatalf("EnsureInstance as ward_ops: %v", err)
	}
	var wrapped []byte
	if err := env.Super.Pool.QueryRow(ctx, `select wrapped from private.keysets where org_id = $1 and purpose = 'aead'`,
		keystore.InstanceOrg).Scan(&wrapped); err != nil {
		t.Fatal(err)
	}
	// A second EnsureInstance (another node, or the superuser) keeps what
	// is stored.
	if err := keys.EnsureInstance(ctx, env.Super); err != nil {
		t.Fatalf("EnsureInstance again: %v", err)
	}
	var again []byte
	if err := env.Super.Pool.QueryRow(ctx, `select wrapped from private.keysets where org_id = $1 and purpose = 'aead'`,
		keystore.InstanceOrg).Scan(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(wrapped, again) {
		t.Fatal("a second EnsureInstance replaced the stored instance keyset")
	}

	// The app and another node (a fresh keyring, same root) read the same keys.
	inst, err := keys.Instance(ctx, env.App)
	if err != nil {
		t.Fatalf("Instance as ward_app: %v", err)
	}
	other, err := keystore.New(envelope.NewKeyring(root, envelope.Config{})).Instance(ctx, env.App)
	if err != nil {
		t.Fatalf("Instance on another node: %v", err)
	}
	if inst.OrgID() != keystore.InstanceOrg ||
		!bytes.Equal(inst.BlindIndex("users.email", "a@example.test"), other.BlindIndex("users.email", "a@example.test")) {
		t.Fatal("two nodes read different instance keys")
	}

	// A Store that read the keyset serves it again without the database
	// (here a closed pool, which a fresh Store finds closed).
	closed, err := postgres.Open(ctx, env.URL("ward_app"))
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	if _, err := keystore.New(envelope.NewKeyring(root, envelope.Config{})).Instance(ctx, closed); err == nil {
		t.Fatal("a fresh Store read the instance keyset through a closed pool")
	}
	again2, err := keys.Instance(ctx, closed)
	if err != nil {
		t.Fatalf("Instance read again: %v", err)
	}
	if !bytes.Equal(again2.BlindIndex("users.email", "a@example.test"), inst.BlindIndex("users.email", "a@example.test")) {
		t.Fatal("the instance keys read again differ from the first read")
	}

	// Another root key cannot open what is stored: both calls say so.
	wrong := keystore.New(envelope.NewKeyring(newRoot(t), envelope.Config{}))
	if err := wrong.EnsureInstance(ctx, env.Super); !errors.Is(err, envelope.ErrUnwrap) {
		t.Fatalf("EnsureInstance under another root: %v, want ErrUnwrap", err)
	}
	if _, err := wrong.Instance(ctx, env.App); !errors.Is(err, envelope.ErrUnwrap) {
		t.Fatalf("Instance under another root: %v, want ErrUnwrap", err)
	}
}

// QueueOrg in a batch bound to a credential returns what Org returns in a
// bound transaction: the org's keys for its live credential, ErrNoKeys for
// another org's.
func TestQueueOrgMatchesOrg(t *testing.T) {
	env := pgtest.New(t)
	keys := keystore.New(envelope.NewKeyring(newRoot(t), envelope.Config{}))
	orgA, credA := seedOrg(t, env, keys.Keyring())
	_, credB := seedOrg(t, env, keys.Keyring())
	want, err := orgKeys(env, keys, credA, orgA)
	if err != nil {
		t.Fatal(err)
	}
	queued := func(cred postgres.Credential) (*envelope.OrgKeys, error) {
		b := &pgx.Batch{}
		k := keys.QueueOrg(b, orgA)
		if err := env.App.InTenantBatch(context.Background(), cred, b); err != nil {
			if _, kerr := k(); errors.Is(kerr, keystore.ErrNoKeys) {
				return nil, kerr
			}
			return nil, err
		}
		return k()
	}
	got, err := queued(credA)
	if err != nil || got != want {
		t.Errorf("QueueOrg, the org's credential: %p %v, want Org's %p", got, err, want)
	}
	if _, err := queued(credB); !errors.Is(err, keystore.ErrNoKeys) {
		t.Errorf("QueueOrg, another org's credential: %v, want ErrNoKeys", err)
	}
}
