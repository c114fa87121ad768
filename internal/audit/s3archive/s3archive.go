// Package s3archive keeps Ward's audit archive in an S3 bucket with Object
// Lock: the WORM archive. Every object is uploaded once, with an explicit
// per-object COMPLIANCE retention, and its retention is read back from the
// server before the write counts.
package s3archive

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/s3conn"
)

// DefaultRetentionDays is how long an Archive retains each object by
// default: 2,555 days (seven years), the audit log's retention.
const DefaultRetentionDays = 2555

// ErrNoObjectLock means the archive bucket does not have Object Lock
// enabled, so its objects could be deleted or overwritten: Ward refuses to
// archive to it.
var ErrNoObjectLock = errors.New("s3archive: the archive bucket does not have S3 Object Lock enabled")

// ErrRetention means an archived object's retention, as read back from the
// server, is not the COMPLIANCE retention Ward set on it.
var ErrRetention = errors.New("s3archive: archived object's retention is not what was set")

// Config says where an Archive keeps the log.
type Config struct {
	// Endpoint is the S3 API's URL: "https://s3.eu-central-1.amazonaws.com",
	// or "http://127.0.0.1:7070" for a test server (http means no TLS).
	// Empty means AWS S3's endpoint for the region.
	Endpoint string
	// Region is the bucket's region ("" asks the server, else us-east-1).
	Region string
	// AccessKey and SecretKey sign requests (AWS Signature V4).
	AccessKey, SecretKey string
	// Bucket must have Object Lock enabled.
	Bucket string
	// Prefix is this instance's folder in the bucket (e.g. "ward/prod"):
	// objects are <Prefix>/<org>/segments/<from>-<to>.jsonl and
	// <Prefix>/<org>/checkpoints/<size>.note, the directory layout.
	Prefix string
	// RetentionDays is the COMPLIANCE retention set on every object, from
	// its upload (default DefaultRetentionDays).
	RetentionDays int
	// Create makes the bucket, with Object Lock, if it does not exist.
	Create bool
}

// An Archive is an audit.Archive in an S3 bucket with Object Lock: the WORM
// archive. Every object is uploaded with an explicit per-object retention
// (x-amz-object-lock-mode: COMPLIANCE, x-amz-object-lock-retain-until-date
// = now + RetentionDays) and a Content-MD5, never relying on the bucket's
// default retention, and only if no object of that name exists (If-None-
// Match: *). After each upload its retention is read back with
// GetObjectRetention and the write fails unless the server reports exactly
// the mode and date set. In COMPLIANCE mode no one, the bucket owner and
// the account root included, can delete the object version, shorten its
// retention or switch it to GOVERNANCE before the date.
//
// Reading checkpoints lists every object version, so a delete marker (which
// anyone with s3:DeleteObject may add) cannot hide an archived checkpoint
// from verification.
type Archive struct {
	c      *s3.Client
	bucket string
	prefix string // "" or ending in "/"
	days   int

	mu   sync.Mutex
	last map[string]string // listing prefix → greatest key seen (keys are only added)
}

var _ audit.Archive = (*Archive)(nil)

// Open connects to the bucket and checks that it has Object Lock
// enabled (creating it, with Object Lock, when cfg.Create and it does not
// exist). A bucket without Object Lock is an error wrapping ErrNoObjectLock.
func Open(ctx context.Context, cfg Config) (*Archive, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3archive: no bucket")
	}
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, errors.New("s3archive: an access key and a secret key are required")
	}
	days := cfg.RetentionDays
	if days == 0 {
		days = DefaultRetentionDays
	}
	if days < 1 || days > 36500 {
		return nil, fmt.Errorf("s3archive: retention of %d days is outside 1..36500", days)
	}
	var u *url.URL
	if cfg.Endpoint != "" {
		var ok bool
		if u, ok = s3conn.ParseEndpoint(cfg.Endpoint); !ok {
			return nil, fmt.Errorf("s3archive: endpoint %q is not http(s)://host[:port]", cfg.Endpoint)
		}
	}
	c, exists, err := s3conn.Open(ctx, s3conn.Config{Endpoint: u, Region: cfg.Region, AccessKey: cfg.AccessKey,
		SecretKey: cfg.SecretKey, Bucket: cfg.Bucket})
	if err != nil {
		return nil, fmt.Errorf("s3archive: bucket %s: %w", cfg.Bucket, err)
	}
	a := &Archive{c: c, bucket: cfg.Bucket, days: days, last: map[string]string{}}
	if p := strings.Trim(cfg.Prefix, "/"); p != "" {
		a.prefix = p + "/"
	}
	if !exists {
		if !cfg.Create {
			return nil, fmt.Errorf("s3archive: bucket %s does not exist", cfg.Bucket)
		}
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &cfg.Bucket, ObjectLockEnabledForBucket: aws.Bool(true),
			CreateBucketConfiguration: s3conn.CreateBucketConfiguration(c)}); err != nil {
			return nil, fmt.Errorf("s3archive: create bucket %s with Object Lock: %w", cfg.Bucket, err)
		}
	}
	var enabled types.ObjectLockEnabled
	lock, err := c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: &cfg.Bucket})
	switch {
	case err != nil && s3conn.Code(err) != "ObjectLockConfigurationNotFoundError":
		return nil, fmt.Errorf("s3archive: bucket %s: read Object Lock configuration: %w", cfg.Bucket, err)
	case err == nil && lock.ObjectLockConfiguration != nil:
		enabled = lock.ObjectLockConfiguration.ObjectLockEnabled
	}
	if enabled != types.ObjectLockEnabledEnabled {
		return nil, fmt.Errorf("%w: bucket %s; create a bucket with Object Lock enabled (x-amz-bucket-object-lock-enabled: "+
			"true) and point the archive at it", ErrNoObjectLock, cfg.Bucket)
	}
	return a, nil
}

// Location names the archive, as s3://bucket/prefix.
func (a *Archive) Location() string {
	return "s3://" + a.bucket + "/" + strings.TrimSuffix(a.prefix, "/")
}

// RetentionDays is the COMPLIANCE retention set on every object.
func (a *Archive) RetentionDays() int { return a.days }

func (a *Archive) orgPrefix(org uuid.UUID) string { return a.prefix + org.String() + "/" }

// PutSegment archives events (consecutive positions) of org.
func (a *Archive) PutSegment(ctx context.Context, org uuid.UUID, events []audit.ArchivedEvent) (audit.Stored, error) {
	if len(events) == 0 {
		return audit.Stored{Existed: true}, nil
	}
	data, err := audit.EncodeSegment(events)
	if err != nil {
		return audit.Stored{}, err
	}
	return a.put(ctx, a.orgPrefix(org)+audit.SegmentName(events[0].Seq, events[len(events)-1].Seq), "application/jsonl", data)
}

// PutCheckpoint archives a signed checkpoint of org.
func (a *Archive) PutCheckpoint(ctx context.Context, org uuid.UUID, cp audit.Checkpoint) (audit.Stored, error) {
	return a.put(ctx, a.orgPrefix(org)+audit.CheckpointName(cp.Size), "text/plain; charset=utf-8", []byte(cp.Note))
}

// put uploads data as key under COMPLIANCE retention unless key exists, and
// returns the retention read back. An existing key must hold the same bytes
// under COMPLIANCE retention.
func (a *Archive) put(ctx context.Context, key, contentType string, data []byte) (audit.Stored, error) {
	until := time.Now().UTC().Add(time.Duration(a.days) * 24 * time.Hour).Truncate(time.Second)
	sum := md5.Sum(data)
	out, err := a.c.PutObject(ctx, &s3.PutObjectInput{
		Bucket:                    &a.bucket,
		Key:                       &key,
		Body:                      bytes.NewReader(data),
		ContentLength:             aws.Int64(int64(len(data))),
		ContentType:               &contentType,
		ContentMD5:                aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		ObjectLockMode:            types.ObjectLockModeCompliance,
		ObjectLockRetainUntilDate: &until,
		IfNoneMatch:               aws.String("*"), // written once
	})
	if err != nil {
		if s3conn.Status(err) == http.StatusPreconditionFailed || s3conn.Code(err) == "PreconditionFailed" {
			return a.existing(ctx, key, data)
		}
		return audit.Stored{}, fmt.Errorf("put %s: %w", key, err)
	}
	st, err := a.retention(ctx, key, aws.ToString(out.VersionId))
	if err != nil {
		return st, err
	}
	if !st.WORM() || !st.RetainUntil.Equal(until) {
		return st, fmt.Errorf("%w: %s version %s: set COMPLIANCE until %s, read back %q until %s", ErrRetention, key,
			st.VersionID, until.Format(time.RFC3339), st.Mode, st.RetainUntil.Format(time.RFC3339))
	}
	return st, nil
}

// existing checks an object already at key: it must hold data, under
// COMPLIANCE retention of at least the configured days from its upload.
func (a *Archive) existing(ctx context.Context, key string, data []byte) (audit.Stored, error) {
	obj, err := a.c.GetObject(ctx, &s3.GetObjectInput{Bucket: &a.bucket, Key: &key})
	if err != nil {
		return audit.Stored{}, fmt.Errorf("get %s: %w", key, err)
	}
	defer obj.Body.Close()
	got, err := io.ReadAll(obj.Body)
	if err != nil {
		return audit.Stored{}, fmt.Errorf("get %s: %w", key, err)
	}
	version, modified := aws.ToString(obj.VersionId), aws.ToTime(obj.LastModified)
	if !bytes.Equal(got, data) {
		return audit.Stored{}, fmt.Errorf("s3archive: %s (version %s) holds other bytes than the database's log", key, version)
	}
	st, err := a.retention(ctx, key, version)
	st.Existed = true
	if err != nil {
		return st, err
	}
	least := modified.Add(time.Duration(a.days)*24*time.Hour - time.Hour)
	if !st.WORM() || st.RetainUntil.Before(least) {
		return st, fmt.Errorf("%w: %s version %s: read back %q until %s, want COMPLIANCE for %d days from %s", ErrRetention,
			key, st.VersionID, st.Mode, st.RetainUntil.Format(time.RFC3339), a.days, modified.UTC().Format(time.RFC3339))
	}
	return st, nil
}

// Retention reads the retention of an object version back from the
// server (the latest version when version is ""): what an auditor would
// check.
func (a *Archive) Retention(ctx context.Context, key, version string) (audit.Stored, error) {
	return a.retention(ctx, key, version)
}

// retention reads an object version's retention back from the server with
// GET ?retention (GetObjectRetention). The SDK decodes the reply whatever
// its root element: AWS answers <Retention>, versitygw v1.8.0
// <ObjectLockRetention>.
func (a *Archive) retention(ctx context.Context, key, version string) (audit.Stored, error) {
	st := audit.Stored{Name: key, VersionID: version}
	in := &s3.GetObjectRetentionInput{Bucket: &a.bucket, Key: &key}
	if version != "" {
		in.VersionId = &version
	}
	out, err := a.c.GetObjectRetention(ctx, in)
	if err != nil {
		return st, fmt.Errorf("%w: %s version %s: GetObjectRetention: %w", ErrRetention, key, version, err)
	}
	if r := out.Retention; r != nil {
		st.Mode = string(r.Mode)
		if r.RetainUntilDate != nil {
			st.RetainUntil = r.RetainUntilDate.UTC()
		}
	}
	return st, nil
}

// Archived returns how far org's log is archived.
func (a *Archive) Archived(ctx context.Context, org uuid.UUID) (audit.Position, error) {
	var pos audit.Position
	seg, err := a.greatest(ctx, a.orgPrefix(org)+"segments/", ".jsonl")
	if err != nil {
		return pos, err
	}
	if seg != "" {
		_, to, _ := strings.Cut(strings.TrimSuffix(seg, ".jsonl"), "-")
		if pos.Seq, err = strconv.ParseInt(to, 10, 64); err != nil {
			return pos, fmt.Errorf("segment %s: %w", seg, err)
		}
	}
	cp, err := a.greatest(ctx, a.orgPrefix(org)+"checkpoints/", ".note")
	if err != nil {
		return pos, err
	}
	if cp != "" {
		if pos.Checkpoint, err = strconv.ParseInt(strings.TrimSuffix(cp, ".note"), 10, 64); err != nil {
			return pos, fmt.Errorf("checkpoint %s: %w", cp, err)
		}
	}
	return pos, nil
}

// greatest returns the greatest name (relative to prefix) of an object
// under prefix with suffix, "" when none. Keys are only ever added, so it
// lists only what sorts after the greatest key it saw last time.
func (a *Archive) greatest(ctx context.Context, prefix, suffix string) (string, error) {
	a.mu.Lock()
	last := a.last[prefix]
	a.mu.Unlock()
	greatest := last
	in := &s3.ListObjectsV2Input{Bucket: &a.bucket, Prefix: &prefix}
	if last != "" {
		in.StartAfter = &last
	}
	for p := s3.NewListObjectsV2Paginator(a.c, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("list %s: %w", prefix, err)
		}
		for _, o := range page.Contents {
			if k := aws.ToString(o.Key); strings.HasSuffix(k, suffix) && !strings.Contains(strings.TrimPrefix(k, prefix), "/") {
				greatest = max(greatest, k)
			}
		}
	}
	a.mu.Lock()
	a.last[prefix] = max(a.last[prefix], greatest)
	a.mu.Unlock()
	return strings.TrimPrefix(greatest, prefix), nil
}

// Checkpoints returns org's archived checkpoint notes, in name order (by
// size), from every version of every checkpoint object, identical notes
// once (unverified: open each with OpenCheckpoint).
func (a *Archive) Checkpoints(ctx context.Context, org uuid.UUID) ([]string, error) {
	prefix := a.orgPrefix(org) + "checkpoints/"
	type version struct{ key, id string }
	var versions []version
	for p := s3.NewListObjectVersionsPaginator(a.c, &s3.ListObjectVersionsInput{Bucket: &a.bucket, Prefix: &prefix}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		for _, o := range page.Versions { // not page.DeleteMarkers
			if k := aws.ToString(o.Key); strings.HasSuffix(k, ".note") {
				versions = append(versions, version{k, aws.ToString(o.VersionId)})
			}
		}
	}
	sort.SliceStable(versions, func(i, j int) bool { return versions[i].key < versions[j].key })
	seen := map[string]bool{}
	var out []string
	for _, v := range versions {
		obj, err := a.c.GetObject(ctx, &s3.GetObjectInput{Bucket: &a.bucket, Key: &v.key, VersionId: &v.id})
		if err != nil {
			return nil, fmt.Errorf("get %s version %s: %w", v.key, v.id, err)
		}
		b, err := io.ReadAll(io.LimitReader(obj.Body, 64<<10))
		obj.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("get %s version %s: %w", v.key, v.id, err)
		}
		if n := string(b); !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

// Orgs lists the orgs the archive holds (any version of any object).
func (a *Archive) Orgs(ctx context.Context) ([]uuid.UUID, error) {
	seen := map[uuid.UUID]bool{}
	var out []uuid.UUID
	in := &s3.ListObjectVersionsInput{Bucket: &a.bucket, Prefix: &a.prefix, Delimiter: aws.String("/")}
	for p := s3.NewListObjectVersionsPaginator(a.c, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", a.Location(), err)
		}
		var keys []*string
		for _, cp := range page.CommonPrefixes {
			keys = append(keys, cp.Prefix)
		}
		for _, o := range page.Versions {
			keys = append(keys, o.Key)
		}
		for _, o := range page.DeleteMarkers {
			keys = append(keys, o.Key)
		}
		for _, k := range keys {
			key := aws.ToString(k)
			name := strings.TrimSuffix(strings.TrimPrefix(key, a.prefix), "/")
			if id, err := uuid.Parse(name); err == nil && strings.HasSuffix(key, "/") && !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out, nil
}
