package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The server says when it loses the database and when it has it back.
func TestWatchDatabase(t *testing.T) {
	var up atomic.Bool
	up.Store(true)
	ping := func(context.Context) error {
		if up.Load() {
			return nil
		}
		return errors.New("connection refused")
	}
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		watchDatabase(ctx, ping, slog.New(slog.NewJSONHandler(logs, nil)), 10*time.Millisecond)
		close(done)
	}()
	wait := func(s string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !strings.Contains(logs.String(), s); {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the log:\n%s", s, logs.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if logs.String() != "" {
		t.Fatalf("logged while the database was up: %s", logs.String())
	}
	up.Store(false)
	wait("database unreachable")
	up.Store(true)
	wait("database reachable again")
	cancel()
	<-done
	if n := strings.Count(logs.String(), "database unreachable"); n != 1 {
		t.Errorf("the outage was logged %d times, want once", n)
	}
}
