package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/audit/s3archive"
)

// s3Flags are the connection settings of an s3:// audit archive. The secret
// key is read from the environment only (WARD_S3_SECRET_KEY), never a flag.
type s3Flags struct {
	Endpoint  string
	Region    string
	AccessKey string
	SecretKey string
	Retention string // days, parsed by openArchive
}

// addS3Flags registers the S3 flags; withRetention adds
// --audit-retention-days (only a writer sets retention).
func addS3Flags(fs *flag.FlagSet, f *s3Flags, getenv func(string) string, withRetention bool) {
	fs.StringVar(&f.Endpoint, "s3-endpoint", getenv("WARD_S3_ENDPOINT"),
		"with an s3:// archive: the S3 API URL, e.g. https://s3.eu-central-1.amazonaws.com (default https://s3.amazonaws.com; env WARD_S3_ENDPOINT)")
	fs.StringVar(&f.Region, "s3-region", getenv("WARD_S3_REGION"), "with an s3:// archive: the bucket's region (env WARD_S3_REGION)")
	fs.StringVar(&f.AccessKey, "s3-access-key", getenv("WARD_S3_ACCESS_KEY"),
		"with an s3:// archive: the access key (env WARD_S3_ACCESS_KEY; the secret key only in WARD_S3_SECRET_KEY)")
	f.SecretKey = getenv("WARD_S3_SECRET_KEY")
	if withRetention {
		fs.StringVar(&f.Retention, "audit-retention-days", envOr(getenv, "WARD_AUDIT_RETENTION_DAYS", strconv.Itoa(s3archive.DefaultRetentionDays)),
			"with an s3:// archive: COMPLIANCE retention set on every archived object, in days (env WARD_AUDIT_RETENTION_DAYS)")
	}
}

// isS3 reports whether an archive location names a bucket.
func isS3(location string) bool { return strings.HasPrefix(location, "s3://") }

// openArchive opens the audit archive at location: s3://bucket/prefix (an
// S3 bucket with Object Lock: WORM) or a directory (not WORM). create makes
// a missing bucket, with Object Lock (the archiver may; a verifier may not).
func openArchive(ctx context.Context, location string, f s3Flags, create bool) (arch audit.Archive, worm bool, err error) {
	if !isS3(location) {
		return audit.DirArchive{Dir: location}, false, nil
	}
	bucket, prefix, _ := strings.Cut(strings.TrimPrefix(location, "s3://"), "/")
	if bucket == "" {
		return nil, false, fmt.Errorf("audit archive %q: want s3://bucket/prefix", location)
	}
	if f.AccessKey == "" || f.SecretKey == "" {
		return nil, false, errors.New("audit archive " + location + ": set --s3-access-key (or WARD_S3_ACCESS_KEY) and WARD_S3_SECRET_KEY")
	}
	days := 0
	if f.Retention != "" {
		if days, err = strconv.Atoi(f.Retention); err != nil || days < 1 {
			return nil, false, fmt.Errorf("--audit-retention-days %q: want a whole number of days ≥ 1", f.Retention)
		}
	}
	s3, err := s3archive.Open(ctx, s3archive.Config{
		Endpoint:      f.Endpoint,
		Region:        f.Region,
		AccessKey:     f.AccessKey,
		SecretKey:     f.SecretKey,
		Bucket:        bucket,
		Prefix:        prefix,
		RetentionDays: days,
		Create:        create,
	})
	if err != nil {
		return nil, false, err
	}
	return s3, true, nil
}
