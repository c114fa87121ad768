package main

import (
	"os"
	"strings"
	"testing"
)

// TestPolicyFlagsRefusedBeforeStart: an instance policy flag beyond the
// database's hard caps is refused with the flag's name before anything
// starts (no cluster initialised in the data directory); before, `ward
// serve --link-ttl 2h` started the embedded cluster and then failed naming
// a CHECK constraint.
func TestPolicyFlagsRefusedBeforeStart(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--link-ttl", "2h"}, "--link-ttl: 2h0m0s is not a whole number of minutes from 1m to 1h"},
		{[]string{"serve", "--link-ttl", "90s"}, "--link-ttl"},
		{[]string{"serve", "--session-idle-max", "25h"}, "--session-idle-max"},
		{[]string{"serve", "--session-absolute-max", "1m"}, "--session-absolute-max"},
		{[]string{"serve", "--link-rate-email", "101"}, "--link-rate-email: 101 is not from 1 to 100"},
		{[]string{"serve", "--link-rate-ip", "-3"}, "--link-rate-ip"},
		{[]string{"serve", "--session-idle-max", "8h", "--session-absolute-max", "2h"}, "must not exceed"},
		{[]string{"migrate", "--link-rate-email-all", "1001"}, "--link-rate-email-all"},
	} {
		dir := t.TempDir()
		_, err := ward(t, append(tc.args, "--data-dir", dir)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ward %s: %v, want an error saying %q", strings.Join(tc.args, " "), err, tc.want)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("ward %s: the data directory holds %d entries; nothing should have started", strings.Join(tc.args, " "), len(entries))
		}
	}
}
