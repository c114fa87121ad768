package blob_test

import (
	"context"
	"errors"
	"testing"

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
