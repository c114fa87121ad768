package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// Migration 00349: a sink naming another org, inserted by a caller of org
// B (or by no one), is refused by its policy without waiting for org A's
// sink writers in flight (it waited for A's lock, 55P03 under a 300 ms
// lock_timeout); A's own admin still waits for it, as the limit needs.
func TestOtherOrgSinkWaitsForNothing(t *testing.T) {
	env := pgtest.New(t)
	s := seedRLS(t, env)
	ctx := context.Background()
	A := s.must("A")
	release, held, locked := make(chan struct{}), make(chan error, 1), make(chan struct{})
	done := sync.OnceFunc(func() { close(release) })
	defer done()
	go func() {
		held <- env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock(hashtextextended('ward.audit_sinks.' || $1, 0))`, A); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	const insert = `insert into app.audit_sinks (org_id, kind, name, endpoint) values ($1, 'syslog', 'probe', 'x.example:6514')`
	for _, actor := range []string{"b_admin", "anonymous"} {
		if got := otherOrgError(t, env, s, actor, insert, A); got.Code != postgres.CodeInsufficientPrivilege {
			t.Errorf("%s's sink naming org A while A's sink lock is held: %s, want 42501 at once", actor, describePgError(got))
		}
	}
	// The lock still orders A's own admin's insert behind it.
	if got := otherOrgError(t, env, s, "a_admin", insert, A); got.Code != "55P03" {
		t.Errorf("a_admin's sink while A's sink lock is held: %s, want a lock wait", describePgError(got))
	}
	done()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
}
