package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit/s3test"
	"github.com/wardhq/ward/internal/vault/blob"
)

// TestNewS3 checks configuration errors and bucket creation.
func TestNewS3(t *testing.T) {
	srv := s3test.Start(t)
	good := blob.S3Config{Endpoint: srv.Host(), Region: s3test.Region, Bucket: "docs",
		AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey}
	for _, c := range []struct {
		name string
		edit func(*blob.S3Config)
	}{
		{"no bucket", func(c *blob.S3Config) { c.Bucket = "" }},
		{"no secret", func(c *blob.S3Config) { c.SecretKey = "" }},
		{"missing bucket without Create", func(c *blob.S3Config) {}},
		{"bad scheme", func(c *blob.S3Config) { c.Endpoint = "ftp://" + srv.Host() }},
		{"http URL with UseTLS", func(c *blob.S3Config) { c.Endpoint = srv.Endpoint(); c.UseTLS = true }},
		{"URL with a path", func(c *blob.S3Config) { c.Endpoint = srv.Endpoint() + "/x" }},
		{"bad prefix", func(c *blob.S3Config) { c.Prefix = "a/../b"; c.Create = true }},
		{"wrong secret", func(c *blob.S3Config) { c.SecretKey = "nope"; c.Create = true }},
	} {
		cfg := good
		c.edit(&cfg)
		if _, err := blob.NewS3(t.Context(), cfg); err == nil {
			t.Errorf("%s: NewS3 succeeded", c.name)
		}
	}
	cfg := good
	cfg.Create = true
	s, err := blob.NewS3(t.Context(), cfg)
	if err != nil {
		t.Fatalf("NewS3 with Create: %v", err)
	}
	if got := s.Location(); got != "s3://docs/" {
		t.Errorf("Location = %q", got)
	}
	// The bucket now exists; a URL endpoint works too.
	cfg = good
	cfg.Endpoint = srv.Endpoint()
	cfg.Prefix = "/ward/prod/"
	s, err = blob.NewS3(t.Context(), cfg)
	if err != nil {
		t.Fatalf("NewS3 of an existing bucket: %v", err)
	}
	if got := s.Location(); got != "s3://docs/ward/prod" {
		t.Errorf("Location = %q", got)
	}
}

// TestS3AbortsUploads checks that a multipart upload cut off by its
// reader or its context leaves no incomplete upload (no parts stored) in
// the bucket.
func TestS3AbortsUploads(t *testing.T) {
	s, srv := newS3(t, "")
	c := srv.Client()
	org := uuid.New()
	boom := errors.New("boom")
	if _, err := s.Put(t.Context(), objKey(org), &failingReader{n: 2*blob.S3PartSize + 10, err: boom}); !errors.Is(err, boom) {
		t.Fatalf("Put: %v, want the reader's error", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	if _, err := s.Put(ctx, objKey(org), &cancelAfter{r: &zeroReader{n: 3 * blob.S3PartSize}, n: blob.S3PartSize + 100, cancel: cancel}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put: %v, want context.Canceled", err)
	}
	cancel()
	// A started upload is visible to this listing, as the control shows.
	bucket, control := aws.String("documents"), aws.String("control")
	up, err := c.CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: bucket, Key: control})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for p := s3.NewListMultipartUploadsPaginator(c, &s3.ListMultipartUploadsInput{Bucket: bucket}); p.HasMorePages(); {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("list uploads: %v", err)
		}
		for _, u := range page.Uploads {
			names = append(names, aws.ToString(u.Key))
		}
	}
	if len(names) != 1 || names[0] != "control" {
		t.Fatalf("incomplete uploads %v, want only the control", names)
	}
	_, _ = c.AbortMultipartUpload(t.Context(), &s3.AbortMultipartUploadInput{Bucket: bucket, Key: control, UploadId: up.UploadId})
}

// An S3 store's uploads share one budget of part-buffer memory
// (S3Config.MaxBuffered), and an upload's buffer grows only with the bytes
// its sender sent: sixteen uploads that trickle in are all read at once
// on a budget of one part, each holding only the first stage's buffer;
// while an upload holds a whole part, another waits for the budget
// without reading its sender, and goes on when the first ends. Both
// objects are whole.
func TestS3PartBudget(t *testing.T) {
	srv := s3test.Start(t)
	s, err := blob.NewS3(t.Context(), blob.S3Config{Endpoint: srv.Host(), Region: s3test.Region, Bucket: "documents",
		AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey, Create: true, MaxBuffered: blob.S3PartSize})
	if err != nil {
		t.Fatal(err)
	}
	// gated is an upload whose sender sent some bytes and waits.
	type gated struct {
		pw  *io.PipeWriter
		got chan int64 // Put's result
	}
	put := func(data []byte) (*io.PipeWriter, chan int64) {
		pr, pw := io.Pipe()
		got := make(chan int64, 1)
		key := "budget/" + uuid.NewString()
		go func() {
			n, err := s.Put(t.Context(), key, pr)
			if err != nil {
				n = -1
				pr.CloseWithError(err)
			} else if back := readBack(s, key); !bytes.Equal(back, data) {
				n = -2
			}
			got <- n
		}()
		return pw, got
	}
	write := func(pw *io.PipeWriter, b []byte) chan error {
		done := make(chan error, 1)
		go func() { _, err := pw.Write(b); done <- err }()
		return done
	}
	within := func(c chan error, what string) {
		t.Helper()
		select {
		case err := <-c:
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: not read within 10 s", what)
		}
	}

	// Sixteen trickling uploads are read at once: 16 × 256 KiB is a quarter
	// of the budget. (With a whole part each, the second would wait.)
	var trickle []gated
	for i := range 16 {
		data := bytes.Repeat([]byte{byte(i)}, 100<<10)
		pw, got := put(data)
		within(write(pw, data), "a trickling upload's first bytes")
		trickle = append(trickle, gated{pw, got})
	}
	for i, g := range trickle {
		g.pw.Close()
		if n := <-g.got; n != 100<<10 {
			t.Fatalf("trickling upload %d: %d", i, n)
		}
	}

	// A holds a whole part (its first part sent, its second begun).
	a := bytes.Repeat([]byte("a"), blob.S3PartSize+1<<20)
	apw, agot := put(a)
	within(write(apw, a[:blob.S3PartSize+512<<10]), "A's first part")
	// B waits for the budget: not one of its bytes is read.
	b := bytes.Repeat([]byte("b"), 300<<10)
	bpw, bgot := put(b)
	bw := write(bpw, b)
	select {
	case err := <-bw:
		t.Fatalf("B was read while A held the whole budget (%v)", err)
	case <-time.After(500 * time.Millisecond):
	}
	within(write(apw, a[blob.S3PartSize+512<<10:]), "A's rest")
	apw.Close()
	if n := <-agot; n != int64(len(a)) {
		t.Fatalf("A: %d", n)
	}
	within(bw, "B after A")
	bpw.Close()
	if n := <-bgot; n != int64(len(b)) {
		t.Fatalf("B: %d", n)
	}
}

// readBack is the object's bytes, nil when it cannot be read.
func readBack(s blob.Store, key string) []byte {
	rc, err := s.Open(context.Background(), key, 0, -1)
	if err != nil {
		return nil
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return b
}
