package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wardhq/ward/internal/postgres"
)

// CPU time, so `ward bench` can report CPU per request beside wall-clock
// rates. On the shared 2-core VM other jobs take the CPU in turns, and
// req/s and latency move with them by 2-10x from run to run; the CPU a
// request costs (in the server, its load generator and every PostgreSQL
// process of the cluster) moves far less, so the CPU ratio to pgbench is
// what the throughput ratio would be on a machine of our own. Linux only:
// elsewhere the figures are 0 and the bench prints n/a.

// clusterCPU is the CPU time the cluster's processes (the postmaster and
// its children: backends, WAL writer, checkpointer, ...) have used so far:
// /proc/<pid>/schedstat (nanoseconds on CPU) of the live ones, plus the
// user and system time of the children the postmaster has reaped (the
// backends of connections already closed, such as pgbench's), from its
// /proc/<pid>/stat in clock ticks.
func clusterCPU(cl *postgres.Cluster) time.Duration {
	b, err := os.ReadFile(filepath.Join(cl.Dir, "pgdata", "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pm := strings.TrimSpace(first)
	total := schedTime(pm)
	if stat, err := os.ReadFile(filepath.Join("/proc", pm, "stat")); err == nil {
		s := string(stat)
		// After "pid (comm)": state ppid ... utime(14) stime(15) cutime(16) cstime(17).
		if f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]); len(f) > 14 {
			cu, _ := strconv.ParseInt(f[13], 10, 64)
			cs, _ := strconv.ParseInt(f[14], 10, 64)
			total += time.Duration(cu+cs) * time.Second / clockTicks
		}
	}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		s := string(stat)
		rest := s[strings.LastIndexByte(s, ')')+1:]
		if f := strings.Fields(rest); len(f) > 1 && f[1] == pm {
			total += schedTime(d.Name())
		}
	}
	return total
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

func schedTime(pid string) time.Duration {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "schedstat"))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	ns, _ := strconv.ParseInt(f[0], 10, 64)
	return time.Duration(ns)
}

// selfCPU is this process's user and system time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// perOp formats d/n in microseconds, or n/a when nothing was measured.
func perOp(d time.Duration, n float64) string {
	if d <= 0 || n <= 0 {
		return "n/a"
	}
	return strconv.FormatFloat(float64(d.Microseconds())/n, 'f', 0, 64)
}

// poolCPU returns a func reporting the CPU time the backends of db's idle
// connections have used so far. A single-goroutine loop reuses those
// connections, so the difference between two calls is what its statements
// cost PostgreSQL, without the cluster's background work (the audit
// integrator catching up, autovacuum after the load).
func poolCPU(ctx context.Context, db *postgres.DB) (func() time.Duration, error) {
	conns := db.Pool.AcquireAllIdle(ctx)
	pids := make([]string, 0, len(conns))
	for _, c := range conns {
		var pid int
		err := c.QueryRow(ctx, `select pg_backend_pid()`).Scan(&pid)
		c.Release()
		if err != nil {
			return nil, err
		}
		pids = append(pids, strconv.Itoa(pid))
	}
	return func() time.Duration {
		var total time.Duration
		for _, p := range pids {
			total += schedTime(p)
		}
		return total
	}, nil
}
