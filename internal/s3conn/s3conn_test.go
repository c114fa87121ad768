package s3conn_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/wardhq/ward/internal/s3conn"
)

// regionServer answers HEAD /<bucket> as S3 does for a bucket in region:
// 200 to a request signed for region, else 301 naming the region in
// x-amz-bucket-region; any other bucket is 404. It records each request's
// path and signing region.
type regionServer struct {
	bucket, region string
	mu             sync.Mutex
	seen           []string // "path region"
}

func (s *regionServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Credential=<key>/<date>/<region>/s3/aws4_request
	_, cred, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	parts := strings.Split(cred, "/")
	signed := ""
	if len(parts) > 2 {
		signed = parts[2]
	}
	s.mu.Lock()
	s.seen = append(s.seen, r.URL.Path+" "+signed)
	s.mu.Unlock()
	switch {
	case r.URL.Path != "/"+s.bucket:
		w.WriteHeader(http.StatusNotFound)
	case signed != s.region:
		w.Header().Set("X-Amz-Bucket-Region", s.region)
		w.WriteHeader(http.StatusMovedPermanently)
	default:
		w.Header().Set("X-Amz-Bucket-Region", s.region)
	}
}

func open(t *testing.T, srv *httptest.Server, bucket, region string) (*s3.Client, bool, error) {
	t.Helper()
	u, ok := s3conn.ParseEndpoint(srv.URL)
	if !ok {
		t.Fatalf("ParseEndpoint(%q) failed", srv.URL)
	}
	return s3conn.Open(context.Background(), s3conn.Config{Endpoint: u, Region: region, AccessKey: "k", SecretKey: "s",
		Bucket: bucket})
}

// Without a region, Open asks the server (path-style, at the endpoint) and
// signs for the region it names; a given region is used as it is.
func TestOpenRegion(t *testing.T) {
	rs := &regionServer{bucket: "docs", region: "eu-central-1"}
	srv := httptest.NewServer(rs)
	t.Cleanup(srv.Close)

	c, exists, err := open(t, srv, "docs", "")
	if err != nil || !exists {
		t.Fatalf("Open without a region: exists %v, %v", exists, err)
	}
	if got := c.Options().Region; got != "eu-central-1" {
		t.Errorf("region %q, want the server's eu-central-1", got)
	}
	if want := []string{"/docs us-east-1", "/docs eu-central-1"}; strings.Join(rs.seen, ",") != strings.Join(want, ",") {
		t.Errorf("requests %q, want %q", rs.seen, want)
	}
	cfg := s3conn.CreateBucketConfiguration(c)
	if cfg == nil || cfg.LocationConstraint != types.BucketLocationConstraint("eu-central-1") {
		t.Errorf("CreateBucketConfiguration = %+v, want eu-central-1", cfg)
	}

	rs.seen = nil
	c, exists, err = open(t, srv, "docs", "eu-central-1")
	if err != nil || !exists || len(rs.seen) != 1 || c.Options().Region != "eu-central-1" {
		t.Errorf("Open with the region: exists %v, %v, requests %q", exists, err, rs.seen)
	}

	// A missing bucket is not an error; us-east-1 takes no location constraint.
	c, exists, err = open(t, srv, "missing", "")
	if err != nil || exists {
		t.Errorf("Open of a missing bucket: exists %v, %v", exists, err)
	}
	if c.Options().Region != "us-east-1" || s3conn.CreateBucketConfiguration(c) != nil {
		t.Errorf("missing bucket: region %q, location constraint %+v", c.Options().Region, s3conn.CreateBucketConfiguration(c))
	}
}

// Code and Status read the server's answer out of the SDK's error; other
// errors have neither.
func TestCodeStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>` +
			`<Message>Access Denied</Message></Error>`))
	}))
	t.Cleanup(srv.Close)
	c, _, err := open(t, srv, "b", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	key, bucket := "k", "b"
	_, err = c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if s3conn.Code(err) != "AccessDenied" || s3conn.Status(err) != http.StatusForbidden {
		t.Errorf("GetObject: %v: code %q, status %d", err, s3conn.Code(err), s3conn.Status(err))
	}
	if err := context.Canceled; s3conn.Code(err) != "" || s3conn.Status(err) != 0 {
		t.Errorf("a non-S3 error has code %q, status %d", s3conn.Code(err), s3conn.Status(err))
	}
}

func TestParseEndpoint(t *testing.T) {
	for in, ok := range map[string]bool{
		"http://127.0.0.1:7070": true, "https://s3.eu-central-1.amazonaws.com/": true,
		"ftp://h": false, "http://h/x": false, "127.0.0.1:7070": false, "http://": false,
	} {
		if _, got := s3conn.ParseEndpoint(in); got != ok {
			t.Errorf("ParseEndpoint(%q) ok = %v, want %v", in, got, ok)
		}
	}
}
