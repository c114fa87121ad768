package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// dataDirLock is an exclusive lock on a data directory (flock on
// DATA_DIR/ward.lock), held by the process that owns the embedded cluster:
// `ward serve` for its whole life, an operator command while it runs. The
// file names the holder ("serve 1234") for the messages of the others. The
// kernel releases the lock when the process dies, however it dies.
type dataDirLock struct {
	f *os.File
}

// lockHolder is who holds a data directory's lock.
type lockHolder struct {
	Command string
	PID     int
}

func (h lockHolder) String() string {
	if h.PID == 0 {
		return "another ward process"
	}
	return fmt.Sprintf("ward %s (pid %d)", h.Command, h.PID)
}

// errLocked is returned by tryLockDataDir when another process holds the lock.
type errLocked struct{ holder lockHolder }

func (e *errLocked) Error() string { return "the data directory is in use by " + e.holder.String() }

// tryLockDataDir takes dir's lock for command without waiting. It returns
// *errLocked naming the holder when another process has it.
func tryLockDataDir(dir, command string) (*dataDirLock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "ward.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data dir lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := readHolder(f)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &errLocked{holder: holder}
		}
		return nil, fmt.Errorf("data dir lock: %w", err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(command+" "+strconv.Itoa(os.Getpid())+"\n"), 0)
	return &dataDirLock{f: f}, nil
}

// lockDataDir takes dir's lock for command, waiting up to wait while
// another short-lived operator command holds it. When `ward serve` holds
// it, it returns *errLocked at once: the caller decides whether to use the
// running server's cluster.
func lockDataDir(dir, command string, wait time.Duration) (*dataDirLock, error) {
	deadline := time.Now().Add(wait)
	for {
		l, err := tryLockDataDir(dir, command)
		var locked *errLocked
		if !errors.As(err, &locked) || locked.holder.Command == "serve" || time.Now().After(deadline) {
			return l, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func readHolder(f *os.File) lockHolder {
	b := make([]byte, 64)
	n, _ := f.ReadAt(b, 0)
	fields := strings.Fields(string(b[:n]))
	if len(fields) != 2 {
		return lockHolder{}
	}
	pid, _ := strconv.Atoi(fields[1])
	return lockHolder{Command: fields[0], PID: pid}
}

// Unlock releases the lock.
func (l *dataDirLock) Unlock() {
	if l != nil && l.f != nil {
		_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
		l.f.Close()
		l.f = nil
	}
}
