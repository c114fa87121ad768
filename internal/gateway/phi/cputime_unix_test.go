//go:build linux || darwin

package phi

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU is the CPU time the calling thread has used. Measured with
// the goroutine locked to its thread, it leaves out the time the thread
// waited for a core, which a loaded machine hands out unevenly between a
// short run and a long one.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return time.Duration(time.Now().UnixNano())
	}
	return time.Duration(ts.Nano())
}
