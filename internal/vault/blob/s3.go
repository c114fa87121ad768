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

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
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
	// TLS. Empty means s3.amazonaws.com.
	Endpoint string
	// UseTLS speaks HTTPS to a host[:port] Endpoint.
	UseTLS bool
	// Region is the bucket's region ("" lets the client ask the server).
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
}

// S3 is a Store in an S3 bucket, through minio-go. It is safe for
// concurrent use.
type S3 struct {
	core   minio.Core
	bucket string
	prefix string // "" or ending in "/"
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
	host, secure := cfg.Endpoint, cfg.UseTLS
	if host == "" {
		host, secure = "s3.amazonaws.com", true
	}
	if strings.Contains(host, "://") {
		u, err := url.Parse(host)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("blob: s3: endpoint %q is not http(s)://host[:port]", cfg.Endpoint)
		}
		if u.Scheme == "http" && cfg.UseTLS {
			return nil, fmt.Errorf("blob: s3: endpoint %q is http but UseTLS is set", cfg.Endpoint)
		}
		host, secure = u.Host, u.Scheme == "https"
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		if err := CheckKey(prefix); err != nil {
			return nil, fmt.Errorf("blob: s3: prefix: %w", err)
		}
		prefix += "/"
	}
	c, err := minio.New(host, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: secure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("blob: s3: %w", err)
	}
	exists, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("blob: s3: bucket %s: %w", cfg.Bucket, err)
	}
	if !exists {
		if !cfg.Create {
			return nil, fmt.Errorf("blob: s3: bucket %s does not exist", cfg.Bucket)
		}
		if err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
			return nil, fmt.Errorf("blob: s3: create bucket %s: %w", cfg.Bucket, err)
		}
	}
	return &S3{core: minio.Core{Client: c}, bucket: cfg.Bucket, prefix: prefix}, nil
}

// Location names the store as s3://bucket/prefix. It never fails.
func (s *S3) Location() string {
	return "s3://" + s.bucket + "/" + strings.TrimSuffix(s.prefix, "/")
}

// partBuffers holds S3PartSize buffers between uploads.
var partBuffers = sync.Pool{New: func() any { b := make([]byte, S3PartSize); return &b }}

// maxParts is S3's limit on the parts of one multipart upload.
const maxParts = 10000

// Put reads r in S3PartSize parts, one part buffered at a time (buffers
// are pooled, so memory does not grow with the object or the number of
// uploads over time). An object that fits in one part is stored with a
// single PUT; a larger one with a multipart upload, completed only after
// the last part. It returns once the server has stored the object. On any
// error, including a reader error or a cancelled ctx, a multipart upload
// is aborted and no object appears at key.
func (s *S3) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := CheckKey(key); err != nil {
		return 0, err
	}
	bp := partBuffers.Get().(*[]byte)
	defer partBuffers.Put(bp)
	buf := *bp
	r = ctxReader{ctx, r}
	n, err := io.ReadFull(r, buf)
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		_, err := s.core.Client.PutObject(ctx, s.bucket, s.prefix+key, bytes.NewReader(buf[:n]), int64(n),
			minio.PutObjectOptions{ContentType: contentType, DisableMultipart: true})
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
	id, err := s.core.NewMultipartUpload(ctx, s.bucket, name, minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return 0, s.putErr(ctx, key, err)
	}
	defer func() {
		if err != nil {
			// Abort even when ctx is cancelled, so no parts linger.
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			_ = s.core.AbortMultipartUpload(actx, s.bucket, name, id)
			cancel()
		}
	}()
	var parts []minio.CompletePart
	n, last := len(buf), false
	for num := 1; ; num++ {
		if num > maxParts {
			return 0, fmt.Errorf("blob: s3: put %s: larger than %d parts of %d bytes", key, maxParts, S3PartSize)
		}
		p, err := s.core.PutObjectPart(ctx, s.bucket, name, id, num, bytes.NewReader(buf[:n]), int64(n), minio.PutObjectPartOptions{})
		if err != nil {
			return 0, s.putErr(ctx, key, err)
		}
		parts = append(parts, minio.CompletePart{PartNumber: num, ETag: p.ETag})
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
	if _, err := s.core.CompleteMultipartUpload(ctx, s.bucket, name, id, parts, minio.PutObjectOptions{ContentType: contentType}); err != nil {
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
	var opts minio.GetObjectOptions
	switch {
	case n > 0:
		err := opts.SetRange(off, off+n-1)
		if err != nil {
			return nil, fmt.Errorf("blob: s3: open %s: %w", key, err)
		}
	case off > 0:
		if err := opts.SetRange(off, 0); err != nil {
			return nil, fmt.Errorf("blob: s3: open %s: %w", key, err)
		}
	}
	rc, _, _, err := s.core.GetObject(ctx, s.bucket, s.prefix+key, opts)
	if err != nil {
		if minio.ToErrorResponse(err).Code == minio.InvalidRange {
			// The offset is at or past the end of an existing object.
			return io.NopCloser(strings.NewReader("")), nil
		}
		return nil, s.mapErr("open", key, err)
	}
	return rc, nil
}

// Size returns the object's length, or an error wrapping ErrNotFound.
func (s *S3) Size(ctx context.Context, key string) (int64, error) {
	if err := CheckKey(key); err != nil {
		return 0, err
	}
	info, err := s.core.Client.StatObject(ctx, s.bucket, s.prefix+key, minio.StatObjectOptions{})
	if err != nil {
		return 0, s.mapErr("size", key, err)
	}
	return info.Size, nil
}

// Delete removes the object; a missing object is not an error.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := s.core.Client.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{}); err != nil {
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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutine when fn fails
	for obj := range s.core.Client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("blob: s3: list %s: %w", prefix, obj.Err)
		}
		key := strings.TrimPrefix(obj.Key, s.prefix)
		if CheckKey(key) != nil {
			continue
		}
		if err := fn(key, obj.LastModified); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// mapErr wraps ErrNotFound for S3's "no such key" answers.
func (s *S3) mapErr(op, key string, err error) error {
	r := minio.ToErrorResponse(err)
	// 404 without net/http: domain packages do not import it (TestLayering).
	if r.Code == minio.NoSuchKey || r.StatusCode == 404 && r.Code != minio.NoSuchBucket {
		return fmt.Errorf("blob: s3: %s %s: %w", op, key, ErrNotFound)
	}
	return fmt.Errorf("blob: s3: %s %s: %w", op, key, err)
}
