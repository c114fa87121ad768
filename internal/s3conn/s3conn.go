// Package s3conn connects Ward's S3 stores (the audit archive and the
// document blob store) to an S3 API through the AWS SDK for Go v2:
// path-style requests to a given endpoint, signed (Signature V4) with
// static keys, with the bucket's region asked of the server when not given.
package s3conn

import (
	"context"
	"errors"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// defaultRegion signs requests when no region is given and the server
// names none: S3's original region, and versitygw's default.
const defaultRegion = "us-east-1"

// Config says how to reach a bucket.
type Config struct {
	// Endpoint is the S3 API's base URL, http(s)://host[:port]; nil means
	// AWS S3's endpoint for the region.
	Endpoint *url.URL
	// Region is the bucket's region; "" asks the server (HeadBucket's
	// x-amz-bucket-region), else us-east-1.
	Region string
	// AccessKey and SecretKey sign requests (AWS Signature V4).
	AccessKey, SecretKey string
	// Bucket is the bucket the client is for.
	Bucket string
}

// Open returns a client for cfg.Bucket and whether the bucket exists
// (HeadBucket). Errors other than a missing bucket are returned as they
// come.
func Open(ctx context.Context, cfg Config) (*s3.Client, bool, error) {
	region := cfg.Region
	if region == "" {
		region = defaultRegion
	}
	c := newClient(cfg, region)
	out, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &cfg.Bucket})
	if cfg.Region == "" {
		// The server names the bucket's region on most answers, a
		// redirect or refusal for a request signed for another region
		// included; ask again there.
		named := bucketRegion(out, err)
		if named != "" && named != region {
			c = newClient(cfg, named)
			_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &cfg.Bucket})
		}
	}
	if err != nil {
		if Status(err) == 404 || Code(err) == "NoSuchBucket" {
			return c, false, nil
		}
		return nil, false, err
	}
	return c, true, nil
}

// newClient returns a client signing for region.
func newClient(cfg Config, region string) *s3.Client {
	o := s3.Options{
		Region:       region,
		UsePathStyle: true,
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, "")),
		// Checksums only where S3 requires one: Ward sets Content-MD5
		// itself where it wants one (Object Lock PUTs), requests are
		// signed with their payload's SHA-256 over plain HTTP, and a
		// multipart upload's parts then need no checksums at completion.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if cfg.Endpoint != nil {
		o.BaseEndpoint = aws.String(cfg.Endpoint.Scheme + "://" + cfg.Endpoint.Host)
	}
	return s3.New(o)
}

// bucketRegion is the x-amz-bucket-region the server sent, "" if none.
func bucketRegion(out *s3.HeadBucketOutput, err error) string {
	if out != nil && out.BucketRegion != nil {
		return *out.BucketRegion
	}
	var re interface{ HTTPResponse() *smithyhttp.Response }
	if errors.As(err, &re) && re.HTTPResponse() != nil && re.HTTPResponse().Response != nil {
		return re.HTTPResponse().Header.Get("X-Amz-Bucket-Region")
	}
	return ""
}

// CreateBucketConfiguration is the location constraint for creating a
// bucket in the client's region (none for us-east-1, which takes none).
func CreateBucketConfiguration(c *s3.Client) *types.CreateBucketConfiguration {
	r := c.Options().Region
	if r == "" || r == defaultRegion {
		return nil
	}
	return &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(r)}
}

// Code is the S3 error code of err ("NoSuchKey", "AccessDenied", ...), ""
// when err is not an answer from the server.
func Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Status is the HTTP status of the server's answer behind err, 0 when err
// is not an answer from the server.
func Status(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// ParseEndpoint parses an http(s)://host[:port] URL (a trailing "/"
// allowed).
func ParseEndpoint(endpoint string) (*url.URL, bool) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, false
	}
	return u, true
}
