package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/semaphore"

	"github.com/wardhq/ward/internal/s3conn"
)

// S3PartSize is the part size of S3.Put's multipart uploads: the memory
// one upload holds, whatever the object's size, and (times S3's limit of
// 10,000 parts) the largest object S3.Put can store: 160 GiB. Objects up
// to this size are stored with a single PUT.
const S3PartSize = 16 << 20

// S3Config says where an S3 store keeps its objects.
type S3Config struct {
	// Endpoint is the server's host[:port] ("s3.eu-central-1.amazonaws.com",
	// "127.0.0.1:7070"), or an http(s):// URL whose scheme then decides
	// TLS. Empty means AWS S3's endpoint for the region (HTTPS).
	Endpoint string
	// UseTLS speaks HTTPS to a host[:port] Endpoint.
	UseTLS bool
	// Region is the bucket's region ("" asks the server, else us-east-1).
	Region string
	// Bucket holds the objects. It must exist unless Create is set, and
	// should have no Object Lock (deleting a document deletes its object);
	// give it a lifecycle rule that aborts incomplete multipart uploads
	// after a day, for uploads cut off by a crash.
	Bucket string
	// AccessKey and SecretKey sign requests (AWS Signature V4).
	AccessKey, SecretKey string
	// Prefix, if not empty, is a folder in the bucket ("ward/prod"):
	// the object at key k is <Prefix>/k, and List sees only that folder.
	Prefix string
	// Create makes the bucket if it does not exist.
	Create bool
	// MaxBuffered bounds the bytes all of the store's uploads hold in
	// part buffers at once (DefaultS3MaxBuffered when 0). An upload's
	// buffer grows with what its sender has sent (256 KiB, 2 MiB, then
	// S3PartSize), each step taken from this budget, so uploads that
	// trickle in hold little, and an upload that finds the budget spent
	// waits for it (its sender's bytes wait in TCP) instead of the process
	// running out of memory.
	MaxBuffered int64
}

// DefaultS3MaxBuffered is S3Config.MaxBuffered's default: sixteen uploads
// at full part size.
const DefaultS3MaxBuffered = 16 * S3PartSize

// S3 is a Store in an S3 bucket, through the AWS SDK for Go v2. It is
// safe for concurrent use.
type S3 struct {
	c      *s3.Client
	bucket string
	prefix string // "" or ending in "/"
	budget *semaphore.Weighted
}

var _ Store = (*S3)(nil)

// NewS3 connects to cfg.Bucket and checks that it exists (creating it
// when cfg.Create). It fails on an incomplete config, a malformed endpoint,
// a prefix that is not key syntax, or any error from the server.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("blob: s3: no bucket")
	}
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, errors.New("blob: s3: an access key and a secret key are required")
	}
	var endpoint *url.URL // nil: AWS's endpoint for the region
	switch {
	case strings.Contains(cfg.Endpoint, "://"):
		u, ok := s3conn.ParseEndpoint(cfg.Endpoint)
		if !ok {
			return nil, fmt.Errorf("blob: s3: endpoint %q is not http(s)://host[:port]", cfg.Endpoint)
		}
		if u.Scheme == "http" && cfg.UseTLS {
			return nil, fmt.Errorf("blob: s3: endpoint %q is http but UseTLS is set", cfg.Endpoint)
		}
		endpoint = u
	case cfg.Endpoint != "":
		scheme := "http"
		if cfg.UseTLS {
			scheme = "https"
		}
		u, ok := s3conn.ParseEndpoint(scheme + "://" + cfg.Endpoint)
		if !ok {
			return nil, fmt.Errorf("blob: s3: endpoint %q is not host[:port]", cfg.Endpoint)
		}
		endpoint = u
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		if err := CheckKey(prefix); err != nil {
			return nil, fmt.Errorf("blob: s3: prefix: %w", err)
		}
		prefix += "/"
	}
	c, exists, err := s3conn.Open(ctx, s3conn.Config{Endpoint: endpoint, Region: cfg.Region, AccessKey: cfg.AccessKey,
		SecretKey: cfg.SecretKey, Bucket: cfg.Bucket})
	if err != nil {
		return nil, fmt.Errorf("blob: s3: bucket %s: %w", cfg.Bucket, err)
	}
	if !exists {
		if !cfg.Create {
			return nil, fmt.Errorf("blob: s3: bucket %s does not exist", cfg.Bucket)
		}
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &cfg.Bucket,
			CreateBucketConfiguration: s3conn.CreateBucketConfiguration(c)}); err != nil {
			return nil, fmt.Errorf("blob: s3: create bucket %s: %w", cfg.Bucket, err)
		}
	}
	if cfg.MaxBuffered <= 0 {
		cfg.MaxBuffered = DefaultS3MaxBuffered
	}
	return &S3{c: c, bucket: cfg.Bucket, prefix: prefix, budget: semaphore.NewWeighted(max(cfg.MaxBuffered, S3PartSize))}, nil
}

// Location names the store as s3://bucket/prefix. It never fails.
func (s *S3) Location() string {
	return "s3://" + s.bucket + "/" + strings.TrimSuffix(s.prefix, "/")
}

// bufStages are the sizes an upload's part buffer grows through as its
// bytes arrive; the last is S3PartSize.
var bufStages = [...]int{256 << 10, 2 << 20, S3PartSize}

// bufPools hold each stage's buffers between uploads.
var bufPools = func() (p [len(bufStages)]sync.Pool) {
	for i, n := range bufStages {
		p[i].New = func() any { b := make([]byte, n); return &b }
	}
	return
}()

// partBuf is an upload's part buffer, its size held from the store's
// budget.
type partBuf struct {
	s     *S3
	b     *[]byte
	stage int
}

// newPartBuf takes the first stage's buffer, waiting for the budget.
func (s *S3) newPartBuf(ctx context.Context) (*partBuf, error) {
	if err := s.budget.Acquire(ctx, int64(bufStages[0])); err != nil {
		return nil, err
	}
	return &partBuf{s: s, b: bufPools[0].Get().(*[]byte)}, nil
}

// fill reads r into the buffer until it is full at S3PartSize or r ends,
// growing it a stage at a time as it fills; errors as io.ReadFull's (a
// budget wait that ctx ended returns ctx's error).
func (p *partBuf) fill(ctx context.Context, r io.Reader) (int, error) {
	n := 0
	for {
		m, err := io.ReadFull(r, (*p.b)[n:])
		n += m
		if errors.Is(err, io.EOF) && n > 0 {
			err = io.ErrUnexpectedEOF
		}
		if err != nil || p.stage == len(bufStages)-1 {
			return n, err
		}
		next := p.stage + 1
		if err := p.s.budget.Acquire(ctx, int64(bufStages[next]-bufStages[p.stage])); err != nil {
			return n, err
		}
		b := bufPools[next].Get().(*[]byte)
		copy(*b, (*p.b)[:n])
		bufPools[p.stage].Put(p.b)
		p.b, p.stage = b, next
	}
}

// release gives the buffer back to its pool and its size to the budget.
func (p *partBuf) release() {
	bufPools[p.stage].Put(p.b)
	p.s.budget.Release(int64(bufStages[p.stage]))
}

// maxParts is S3's limit on the parts of one multipart upload.
const maxParts = 10000

// Put reads r in S3PartSize parts, one part buffered at a time, in a
// buffer that grows with the bytes that arrived (S3Config.MaxBuffered);
// buffers are pooled, so memory does not grow with the object or the
// number of uploads over time. An object that fits in one part is stored
// with a single PUT; a larger one with a multipart upload, completed only
// after the last part. It returns once the server has stored the object.
// On any error, including a reader error or a cancelled ctx, a multipart
// upload is aborted and no object appears at key.
func (s *S3) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := CheckKey(key); err != nil {
		return 0, err
	}
	r = ctxReader{ctx, r}
	pb, err := s.newPartBuf(ctx)
	if err != nil {
		return 0, s.putErr(ctx, key, err)
	}
	defer pb.release()
	n, err := pb.fill(ctx, r)
	buf := *pb.b
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		_, err := s.c.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key),
			Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)), ContentType: aws.String(contentType)})
		if err != nil {
			return 0, s.putErr(ctx, key, err)
		}
		return int64(n), nil
	case err != nil:
		return 0, s.putErr(ctx, key, err)
	}
	return s.putMultipart(ctx, key, r, buf)
}

// contentType is the type of every object: ciphertext.
const contentType = "application/octet-stream"

// putMultipart uploads buf (full) and the rest of r as a multipart upload.
func (s *S3) putMultipart(ctx context.Context, key string, r io.Reader, buf []byte) (total int64, err error) {
	name := s.prefix + key
	up, err := s.c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: &name,
		ContentType: aws.String(contentType)})
	if err != nil {
		return 0, s.putErr(ctx, key, err)
	}
	id := up.UploadId
	defer func() {
		if err != nil {
			// Abort even when ctx is cancelled, so no parts linger.
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			_, _ = s.c.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &name, UploadId: id})
			cancel()
		}
	}()
	var parts []types.CompletedPart
	n, last := len(buf), false
	for num := 1; ; num++ {
		if num > maxParts {
			return 0, fmt.Errorf("blob: s3: put %s: larger than %d parts of %d bytes", key, maxParts, S3PartSize)
		}
		p, err := s.c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &s.bucket, Key: &name, UploadId: id,
			PartNumber: aws.Int32(int32(num)), Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n))})
		if err != nil {
			return 0, s.putErr(ctx, key, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(num)), ETag: p.ETag})
		total += int64(n)
		if last {
			break
		}
		var rerr error
		n, rerr = io.ReadFull(r, buf)
		if errors.Is(rerr, io.EOF) {
			break
		}
		if errors.Is(rerr, io.ErrUnexpectedEOF) {
			last = true
		} else if rerr != nil {
			return 0, s.putErr(ctx, key, rerr)
		}
	}
	if _, err := s.c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &s.bucket, Key: &name, UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		return 0, s.putErr(ctx, key, err)
	}
	return total, nil
}

// putErr reports ctx's error if ctx is done, and otherwise err.
func (s *S3) putErr(ctx context.Context, key string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return fmt.Errorf("blob: s3: put %s: %w", key, err)
}

// Open returns the object's bytes [off, off+n) (n < 0: to the end), cut
// at the end of the object, as one ranged GET. It returns an error
// wrapping ErrNotFound for a missing object.
func (s *S3) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, fmt.Errorf("blob: s3: open %s at offset %d: %w", key, off, ErrInvalidRange)
	}
	if n == 0 {
		// No bytes to read, but the object must exist.
		if _, err := s.Size(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(strings.NewReader("")), nil
	}
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key)}
	switch {
	case n > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", off, off+n-1))
	case off > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", off))
	}
	out, err := s.c.GetObject(ctx, in)
	if err != nil {
		if s3conn.Code(err) == "InvalidRange" {
			// The offset is at or past the end of an existing object.
			return io.NopCloser(strings.NewReader("")), nil
		}
		return nil, s.mapErr("open", key, err)
	}
	return out.Body, nil
}

// Size returns the object's length, or an error wrapping ErrNotFound.
func (s *S3) Size(ctx context.Context, key string) (int64, error) {
	if err := CheckKey(key); err != nil {
		return 0, err
	}
	out, err := s.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key)})
	if err != nil {
		return 0, s.mapErr("size", key, err)
	}
	return aws.ToInt64(out.ContentLength), nil
}

// Delete removes the object; a missing object is not an error.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if _, err := s.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key)}); err != nil {
		if errors.Is(s.mapErr("delete", key, err), ErrNotFound) {
			return nil
		}
		return fmt.Errorf("blob: s3: delete %s: %w", key, err)
	}
	return nil
}

// List calls fn, in key order, for every object under the store's prefix
// whose key starts with prefix. Objects whose names are not valid keys
// (put there by something else) are skipped.
func (s *S3) List(ctx context.Context, prefix string, fn func(key string, modified time.Time) error) error {
	if err := checkPrefix(prefix); err != nil {
		return err
	}
	in := &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(s.prefix + prefix)}
	for p := s3.NewListObjectsV2Paginator(s.c, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("blob: s3: list %s: %w", prefix, err)
		}
		for _, obj := range page.Contents {
			key := strings.TrimPrefix(aws.ToString(obj.Key), s.prefix)
			if CheckKey(key) != nil {
				continue
			}
			if err := fn(key, aws.ToTime(obj.LastModified)); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// mapErr wraps ErrNotFound for S3's "no such key" answers.
func (s *S3) mapErr(op, key string, err error) error {
	code := s3conn.Code(err)
	// 404 without net/http: domain packages do not import it (TestLayering).
	if code == "NoSuchKey" || s3conn.Status(err) == 404 && code != "NoSuchBucket" {
		return fmt.Errorf("blob: s3: %s %s: %w", op, key, ErrNotFound)
	}
	return fmt.Errorf("blob: s3: %s %s: %w", op, key, err)
}
