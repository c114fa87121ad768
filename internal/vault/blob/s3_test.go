package blob_test

import (
	"testing"

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
