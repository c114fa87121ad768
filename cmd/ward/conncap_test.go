package main

import (
	"strings"
	"testing"
)

// TestTotalConnCap: the total cap is held to the open file limit less the
// reserve, 0 (no cap of Ward's own) included, and the help text says so.
func TestTotalConnCap(t *testing.T) {
	for _, c := range []struct {
		asked int
		fds   uint64
		known bool
		want  int
	}{
		{10000, 1 << 20, true, 10000},
		{10000, 4096, true, 4096 - fdReserve},
		{0, 4096, true, 4096 - fdReserve},
		{0, 1 << 20, true, 1<<20 - fdReserve},
		{0, 0, false, 0},
		{10000, 0, false, 10000},
		{0, 256, true, 0}, // too small a limit to keep the reserve: left alone
	} {
		if got := totalConnCap(c.asked, c.fds, c.known); got != c.want {
			t.Errorf("totalConnCap(%d, %d, %v) = %d, want %d", c.asked, c.fds, c.known, got, c.want)
		}
	}
	out, err := ward(t, "serve", "--help")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(out, "-max-connections ")
	if i < 0 {
		t.Fatalf("serve --help lacks --max-connections:\n%s", out)
	}
	help := out[i:]
	if j := strings.Index(help, "\n  -"); j > 0 {
		help = help[:j]
	}
	if !strings.Contains(help, "open file limit") {
		t.Errorf("--max-connections' help does not say 0 is still held to the open file limit:\n%s", help)
	}
}
