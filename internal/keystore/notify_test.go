package keystore_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// TestListenForget: a node listening as the server's role drops an org's
// cached keys when the database announces a change to them: a rotation
// through app.ops_replace_keyset (the next use unwraps again, and another
// org's cached keys stay), a shred's notice, and, after its connection was
// cut (a notice may have been lost), every org's.
func TestListenForget(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	root := &countingRoot{Root: newRoot(t)}
	store := keystore.New(envelope.NewKeyring(root, envelope.Config{}))
	org, cred := seedOrg(t, env, store.Keyring())
	other, otherCred := seedOrg(t, env, store.Keyring())
	ops, err := postgres.Open(ctx, env.URL("ward_ops"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ops.Close)

	cfg, err := pgx.ParseConfig(env.URL("ward_app"))
	if err != nil {
		t.Fatal(err)
	}
	lctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	ready := make(chan struct{}, 4)
	go func() {
		defer close(done)
		keystore.ListenForget(lctx, cfg, store.Keyring(), slog.New(slog.NewTextHandler(io.Discard, nil)),
			func() { ready <- struct{}{} })
	}()
	t.Cleanup(func() { stop(); <-done })
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("the listener did not start")
	}

	// unwraps uses o's keys as the server does and says how many root
	// decrypts that took (0: served from the cache).
	unwraps := func(o uuid.UUID, c postgres.Credential) int64 {
		t.Helper()
		before := root.decrypts.Load()
		if _, err := orgKeys(env, store, c, o); err != nil {
			t.Fatal(err)
		}
		return root.decrypts.Load() - before
	}
	// eventually waits for the next use of o's keys to unwrap again.
	eventually := func(what string, o uuid.UUID, c postgres.Credential) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for unwraps(o, c) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the org's keys are still served from the cache", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	unwraps(org, cred)
	unwraps(other, otherCred)
	if n := unwraps(org, cred) + unwraps(other, otherCred); n != 0 {
		t.Fatalf("warm cache unwrapped %d times", n)
	}

	// A rotation announces itself on the channel, naming the org.
	watch, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close(ctx)
	if _, err := watch.Exec(ctx, "listen ward_keys"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Rotate(ctx, ops, org); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	n, err := watch.WaitForNotification(wctx)
	cancel()
	if err != nil || n.Payload != org.String() {
		t.Fatalf("after a rotation: notice %+v, %v; want one naming %s", n, err, org)
	}
	// The new keyset is unwrapped and cached. The listener forgets the org
	// when it reads the rotation's notice, which may come after this
	// watch saw it: the keyset is then unwrapped once more, and cached
	// from then on (a keyset unwrapped at every use fails at the deadline).
	for deadline := time.Now().Add(10 * time.Second); ; {
		unwraps(org, cred)
		n := unwraps(org, cred)
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rotated keyset unwrapped again (%d)", n)
		}
	}
	// A notice alone (a shred's) drops the org's entry at once.
	if _, err := env.Super.Pool.Exec(ctx, `select pg_notify('ward_keys', $1)`, org.String()); err != nil {
		t.Fatal(err)
	}
	eventually("after a notice", org, cred)
	if n := unwraps(other, otherCred); n != 0 {
		t.Errorf("another org's keys were dropped by a notice about %s (%d unwraps)", org, n)
	}
	// A payload that is not an org id is ignored.
	if _, err := env.Super.Pool.Exec(ctx, `select pg_notify('ward_keys', 'not-an-org')`); err != nil {
		t.Fatal(err)
	}

	// The listening connection cut: on reconnecting, every org is forgotten.
	unwraps(org, cred)
	if _, err := env.Super.Pool.Exec(ctx, `select pg_terminate_backend(pid) from pg_stat_activity
		where usename = 'ward_app' and query = 'listen ward_keys'`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("the listener did not reconnect")
	}
	if n := unwraps(org, cred); n == 0 {
		t.Error("after a reconnection org A's keys were still cached")
	}
	if n := unwraps(other, otherCred); n == 0 {
		t.Error("after a reconnection org B's keys were still cached")
	}
}
