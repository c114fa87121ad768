package s3test

import (
	"os/exec"
	"syscall"
)

// setProcAttr asks Linux to kill versitygw if the test binary dies without
// running its cleanups (a test timeout panic, a kill -9).
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
