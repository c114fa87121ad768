package audit_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// Several archivers (one per node) on one database: exactly one is active;
// when it lets go, or its node dies, another takes over at its next step.
func TestArchiverLease(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	node := func() *audit.Archiver {
		t.Helper()
		db, err := postgres.Open(ctx, env.SuperURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		a := audit.NewArchiver(db, audit.DirArchive{Dir: t.TempDir()}, slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)))
		t.Cleanup(a.Release)
		return a
	}
	step := func(name string, a *audit.Archiver, want bool) {
		t.Helper()
		active, _, err := a.Step(ctx)
		if err != nil {
			t.Fatalf("%s: step: %v", name, err)
		}
		if active != want || a.Status().Active != want {
			t.Fatalf("%s: active %v (status %v), want %v", name, active, a.Status().Active, want)
		}
	}
	a1, a2, a3 := node(), node(), node()
	step("first node", a1, true)
	step("second node", a2, false)
	step("third node", a3, false)
	step("first node again", a1, true)

	// The active node stops: the next to step takes over, the others wait.
	a1.Release()
	if a1.Status().Active {
		t.Fatal("released archiver still reports itself active")
	}
	step("second node after release", a2, true)
	step("first node after release", a1, false)
	step("third node after release", a3, false)

	// The active node dies (its database session ends without a word): the
	// lock dies with it.
	var killed int
	if err := env.Super.Pool.QueryRow(ctx,
		`select count(*) from (select pg_terminate_backend(l.pid) from pg_locks l
		  where l.locktype = 'advisory' and l.granted and l.database = (select oid from pg_database where datname = current_database())) k`,
	).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("%d sessions held the archiver lease, want 1", killed)
	}
	// pg_terminate_backend signals; the backend exits (and lets go) a
	// moment later.
	for i := 0; ; i++ {
		var held int
		if err := env.Super.Pool.QueryRow(ctx, `select count(*) from pg_locks l where l.locktype = 'advisory'
			and l.database = (select oid from pg_database where datname = current_database())`).Scan(&held); err != nil {
			t.Fatal(err)
		}
		if held == 0 {
			break
		}
		if i == 600 {
			t.Fatal("the terminated session still holds the archiver lease after 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	step("third node after the active one died", a3, true)
	// The dead node notices its lease is gone and stands by.
	step("second node after its session died", a2, false)

	var b strings.Builder
	a3.WriteMetrics(&b)
	if !strings.Contains(b.String(), "ward_audit_archiver_active 1\n") {
		t.Errorf("active archiver's metrics:\n%s", b.String())
	}
	b.Reset()
	a2.WriteMetrics(&b)
	if !strings.Contains(b.String(), "ward_audit_archiver_active 0\n") {
		t.Errorf("standby archiver's metrics:\n%s", b.String())
	}
}
