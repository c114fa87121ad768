package identity

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanHeader(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"curl/8.0", "curl/8.0"},
		{"a\xffb", "a\uFFFDb"},
		{"a\x00b\r\nc", "abc"},
		{"x\u202ey", "xy"}, // right-to-left override
	} {
		if got := CleanHeader(tc.in); got != tc.want {
			t.Errorf("CleanHeader(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := CleanHeader(strings.Repeat("é", 500))
	if len(long) > MaxHeaderText || !utf8.ValidString(long) {
		t.Errorf("long header: %d bytes, valid %v", len(long), utf8.ValidString(long))
	}
}

func TestRoleAtLeast(t *testing.T) {
	if !RoleAdmin.AtLeast(RoleLead) || RoleProvider.AtLeast(RoleLead) || Role("x").AtLeast(Role("y")) {
		t.Fatal("AtLeast ordering is wrong")
	}
}
