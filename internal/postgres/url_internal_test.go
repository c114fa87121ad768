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
