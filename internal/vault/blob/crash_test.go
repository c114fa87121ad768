package blob_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit/s3test"
	"github.com/wardhq/ward/internal/vault/blob"
)

// Environment of the child process of TestKillDuringPut.
const (
	envCrashChild = "WARD_BLOB_CRASH_CHILD" // "dir" or "s3"
	envCrashArg   = "WARD_BLOB_CRASH_ARG"   // the directory, or the S3 endpoint
	envCrashKey   = "WARD_BLOB_CRASH_KEY"
	envCrashReady = "WARD_BLOB_CRASH_READY" // a file the child creates once bytes are flowing
)

// stallingReader yields n zero bytes, announces it by creating a file,
// then blocks forever: the Put is in flight when the parent kills us.
type stallingReader struct {
	n     int
	ready string
}

func (r *stallingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		_ = os.WriteFile(r.ready, nil, 0o600)
		select {}
	}
	k := min(len(p), r.n)
	clear(p[:k])
	r.n -= k
	return k, nil
}

// TestMain runs the crash child when asked to, and the tests otherwise.
func TestMain(m *testing.M) {
	if which := os.Getenv(envCrashChild); which != "" {
		crashChild(which)
		return
	}
	os.Exit(m.Run())
}

// crashChild starts a Put that never finishes.
func crashChild(which string) {
	var (
		s   blob.Store
		err error
	)
	arg := os.Getenv(envCrashArg)
	switch which {
	case "dir":
		s, err = blob.NewDir(arg)
	case "s3":
		s, err = blob.NewS3(context.Background(), blob.S3Config{Endpoint: arg, Region: s3test.Region, Bucket: "documents",
			AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey, Create: true})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	_, err = s.Put(context.Background(), os.Getenv(envCrashKey), &stallingReader{n: 2*blob.S3PartSize + 5, ready: os.Getenv(envCrashReady)})
	fmt.Fprintln(os.Stderr, "Put returned:", err)
	os.Exit(3)
}

// TestKillDuringPut kills -9 a process in the middle of a Put (after two
// S3 parts, or 32 MiB into the directory's temporary file) and checks
// that no object exists at the key afterwards. For the directory store
// the temporary file is left, invisible to List, and RemoveTemp takes it.
func TestKillDuringPut(t *testing.T) {
	srv := s3test.Start(t)
	for _, which := range []string{"dir", "s3"} {
		t.Run(which, func(t *testing.T) {
			tmp := t.TempDir()
			arg := filepath.Join(tmp, "store")
			if which == "s3" {
				arg = srv.Host()
			}
			key := objKey(uuid.New())
			ready := filepath.Join(tmp, "ready")
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), envCrashChild+"="+which, envCrashArg+"="+arg, envCrashKey+"="+key, envCrashReady+"="+ready)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(30 * time.Second)
			for {
				if _, err := os.Stat(ready); err == nil {
					break
				}
				if time.Now().After(deadline) {
					_ = cmd.Process.Kill()
					t.Fatalf("child never got going: %s", stderr.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child did not die of SIGKILL: %v; %s", err, stderr.String())
			}
			var s blob.Store
			if which == "dir" {
				d, err := blob.NewDir(arg)
				if err != nil {
					t.Fatal(err)
				}
				s = d
				// The temporary file holds what was written so far.
				temps := 0
				for name := range files(t, arg) {
					if strings.HasPrefix(filepath.Base(name), ".put-") {
						temps++
					}
				}
				if temps != 1 {
					t.Fatalf("%d temporary files after the crash, want 1", temps)
				}
				defer func() {
					n, err := d.RemoveTemp(t.Context(), time.Now().Add(time.Second))
					if err != nil || n != 1 {
						t.Fatalf("RemoveTemp = %d, %v; want 1", n, err)
					}
				}()
			} else {
				s3s, err := blob.NewS3(t.Context(), blob.S3Config{Endpoint: arg, Region: s3test.Region, Bucket: "documents",
					AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey})
				if err != nil {
					t.Fatal(err)
				}
				s = s3s
			}
			if _, err := s.Size(t.Context(), key); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("after kill -9: Size %v, want ErrNotFound", err)
			}
			if _, err := s.Open(t.Context(), key, 0, -1); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("after kill -9: Open %v, want ErrNotFound", err)
			}
			listed := 0
			if err := s.List(t.Context(), "", func(string, time.Time) error { listed++; return nil }); err != nil {
				t.Fatal(err)
			}
			if listed != 0 {
				t.Fatalf("after kill -9: List shows %d objects, want 0", listed)
			}
		})
	}
}
