package docstream_test

import (
	"context"
	"errors"
	"io"
	"runtime"
	"testing"
	"time"
)

// TestReaderLifecycle closes readers part-way, cancels their context, and
// checks that their goroutines end and Read fails afterwards.
func TestReaderLifecycle(t *testing.T) {
	s := newDir(t)
	size := int64(firstPlain + 6*plainSeg)
	o := store(t, s, randomBytes(11, int(size)))
	settle := func() int {
		runtime.GC()
		return runtime.NumGoroutine()
	}
	before := settle()

	// Close after a few bytes, many times over.
	for range 20 {
		rc, err := o.f.key.Decrypt(t.Context(), s, o.key, o.aad, size, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 100)
		if _, err := io.ReadFull(rc, buf); err != nil {
			t.Fatal(err)
		}
		if err := rc.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if _, err := rc.Read(buf); err == nil {
			t.Fatal("Read after Close succeeded")
		}
		if err := rc.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	}

	// Cancel the context mid-stream: Read stops with ctx's error.
	ctx, cancel := context.WithCancel(t.Context())
	rc, err := o.f.key.Decrypt(ctx, s, o.key, o.aad, size, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(io.Discard, rc, plainSeg); err != nil {
		t.Fatal(err)
	}
	cancel()
	_, err = io.Copy(io.Discard, rc)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Read after cancel: %v, want context.Canceled", err)
	}
	rc.Close()

	// A context done before Decrypt.
	if _, err := o.f.key.Decrypt(ctx, s, o.key, o.aad, size, 0, -1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Decrypt with a done context: %v, want context.Canceled", err)
	}

	deadline := time.Now().Add(30 * time.Second)
	for settle() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines before, %d after: readers leaked", before, runtime.NumGoroutine())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
