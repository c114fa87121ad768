// Package pgtest gives each test a fresh, migrated PostgreSQL database.
//
// A test package calls Main from TestMain. Main starts a throwaway cluster
// (initdb into a temporary directory, Unix socket only, run as the postgres
// user when the tests run as root) or, when WARD_TEST_DATABASE_URL names a
// superuser connection, uses that server. It migrates a template database
// once; New clones it for each test. When PostgreSQL cannot be found, Main
// fails the package: tests that need the database never skip.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
)

var (
	mu       sync.Mutex
	server   *serverInfo
	template string
)

type serverInfo struct {
	cluster  *postgres.Cluster // nil when WARD_TEST_DATABASE_URL is used
	superURL func(db string) string
	roleURL  func(role, db string) string
}

// Main runs the package's tests against a throwaway cluster and returns the
// exit code for os.Exit.
func Main(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	stop, err := start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: PostgreSQL is required for these tests and could not be started: %v\n", err)
		return 1
	}
	code := m.Run()
	stop()
	return code
}

func start(ctx context.Context) (func(), error) {
	if u := os.Getenv("WARD_TEST_DATABASE_URL"); u != "" {
		base, err := url.Parse(u)
		if err != nil {
			return nil, fmt.Errorf("WARD_TEST_DATABASE_URL: cannot parse")
		}
		server = &serverInfo{
			superURL: func(db string) string { c := *base; c.Path = "/" + db; return c.String() },
			roleURL: func(role, db string) string {
				c := *base
				c.Path = "/" + db
				c.User = url.User(role)
				return c.String()
			},
		}
	} else {
		reapOrphans(ctx)
		dir, err := os.MkdirTemp("", "wardpg")
		if err != nil {
			return nil, err
		}
		// Whoever finds this cluster after our process died (a test binary
		// killed by its timeout never runs its cleanup) stops and removes it.
		if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			return nil, err
		}
		c, err := postgres.NewCluster(dir)
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		c.Unsafe = true
		if err := c.Start(ctx); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		server = &serverInfo{
			cluster:  c,
			superURL: func(db string) string { return c.URL("postgres", db) },
			roleURL:  func(role, db string) string { return c.URL(role, db) },
		}
	}
	template = "ward_tmpl_" + randHex(6)
	if err := createDB(ctx, template, "template0"); err != nil {
		return nil, err
	}
	if _, err := postgres.Migrate(ctx, server.superURL(template)); err != nil {
		return nil, err
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = dropDB(ctx, template)
		if server.cluster != nil {
			_ = server.cluster.Stop(ctx)
			_ = os.RemoveAll(server.cluster.Dir)
		}
	}, nil
}

// reapOrphans stops and removes throwaway clusters whose test process is
// gone.
func reapOrphans(ctx context.Context) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "wardpg*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || syscall.Kill(pid, 0) == nil {
			continue // malformed, or its owner is alive
		}
		if c, err := postgres.NewCluster(d); err == nil {
			_ = c.Stop(ctx)
		}
		_ = os.RemoveAll(d)
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func adminExec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, server.superURL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func createDB(ctx context.Context, name, from string) error {
	mu.Lock()
	defer mu.Unlock()
	return adminExec(ctx, fmt.Sprintf("create database %s template %s", name, from))
}

func dropDB(ctx context.Context, name string) error {
	return adminExec(ctx, fmt.Sprintf("drop database if exists %s with (force)", name))
}

// Env is one test's database.
type Env struct {
	// Name is the database name.
	Name string
	// Super is a pool as the superuser (the test's oracle and its tamperer).
	Super *postgres.DB
	// App is a pool as ward_app, the server's role.
	App *postgres.DB
	// Cluster is the throwaway cluster, nil under WARD_TEST_DATABASE_URL.
	Cluster *postgres.Cluster
}

// URL returns a connection URL to this test's database as role.
func (e *Env) URL(role string) string { return server.roleURL(role, e.Name) }

// SuperURL returns a superuser connection URL to this test's database.
func (e *Env) SuperURL() string { return server.superURL(e.Name) }

// New creates a fresh migrated database for t, dropped when t ends.
func New(t testing.TB) *Env {
	t.Helper()
	if server == nil {
		t.Fatal("pgtest: call pgtest.Main from TestMain")
	}
	ctx := context.Background()
	name := "ward_t_" + strings.ToLower(randHex(8))
	if err := createDB(ctx, name, template); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	e := &Env{Name: name, Cluster: server.cluster}
	var err error
	if e.Super, err = postgres.Open(ctx, e.SuperURL()); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if e.App, err = postgres.Open(ctx, e.URL("ward_app")); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		e.App.Close()
		e.Super.Close()
		if err := dropDB(context.Background(), name); err != nil {
			t.Errorf("pgtest: drop database: %v", err)
		}
	})
	return e
}
