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

func TestValidEmail(t *testing.T) {
	for s, want := range map[string]bool{
		"alice@hospital.example":   true,
		"Bob+tag@Hospital.EXAMPLE": true,
		"nurse@hospital\u3002test": true, // UTS #46 maps it to hospital.test
		"y@b\u00fccher.example":    true,
		"x@hospital.test.":         true,
		"no-at-sign":               false,
		"a@":                       false,
		"@b.example":               false,
		"two@at@b.example":         false,
		"sp ace@b.example":         false,
		"z@under_score.example":    false, // not a host name
		"z@[127.0.0.1]":            false,
		"z@bad\u2028line.example":  false,
	} {
		if got := ValidEmail(s); got != want {
			t.Errorf("ValidEmail(%q) = %v, want %v", s, got, want)
		}
	}
}
