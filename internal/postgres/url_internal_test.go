package postgres

import (
	"context"
	"strings"
	"testing"
)

// A malformed database URL says which part is wrong, and never repeats the
// password.
func TestBadURLSaysWhichPart(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"mysql://u:s3cret@h/db", `scheme "mysql"`},
		{"postgres://u:s3cret@h:54x2/db", `port "54x2"`},
		{"postgres://u:s3cret@h:99999/db", `port "99999"`},
		{"postgres://u:s3cret@h/db?sslmode=maybe", `sslmode "maybe"`},
		{"just-a-word", "not a connection string"},
	} {
		_, err := Open(context.Background(), tc.url)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q) = %v, want an error naming %s without the password", tc.url, err, tc.want)
		}
	}
}

// The pool is sized explicitly: the URL's pool_max_conns, else
// DefaultMaxConns (at least 8, never pgxpool's 4 on a small machine, which
// four slow requests could hold); an Option wins over both.
func TestPoolSize(t *testing.T) {
	const url = "postgres://u:p@localhost:5432/db"
	for _, tc := range []struct {
		url  string
		opts []Option
		want int32
	}{
		{url, nil, DefaultMaxConns()},
		{url + "?pool_max_conns=3", nil, 3},
		{url + "?pool_max_conns=3", []Option{MaxConns(64)}, 64},
	} {
		cfg, err := poolConfig(tc.url, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.MaxConns != tc.want {
			t.Errorf("%s: MaxConns %d, want %d", tc.url, cfg.MaxConns, tc.want)
		}
	}
	if DefaultMaxConns() < 8 {
		t.Fatalf("DefaultMaxConns %d", DefaultMaxConns())
	}
}
