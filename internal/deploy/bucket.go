package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3API lists the S3 operations deploy calls.
type S3API interface {
	HeadBucket(ctx context.Context, in *s3.HeadBucketInput, optFns ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	CreateBucket(ctx context.Context, in *s3.CreateBucketInput, optFns ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	PutPublicAccessBlock(ctx context.Context, in *s3.PutPublicAccessBlockInput, optFns ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
	PutBucketEncryption(ctx context.Context, in *s3.PutBucketEncryptionInput, optFns ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
	DeleteBucket(ctx context.Context, in *s3.DeleteBucketInput, optFns ...func(*s3.Options)) (*s3.DeleteBucketOutput, error)
	PutBucketVersioning(ctx context.Context, in *s3.PutBucketVersioningInput, optFns ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error)
	PutBucketTagging(ctx context.Context, in *s3.PutBucketTaggingInput, optFns ...func(*s3.Options)) (*s3.PutBucketTaggingOutput, error)
	PutBucketPolicy(ctx context.Context, in *s3.PutBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error)
	ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, optFns ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
	ListBuckets(ctx context.Context, in *s3.ListBucketsInput, optFns ...func(*s3.Options)) (*s3.ListBucketsOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// errorCode is the AWS error code of err, or "".
func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// ErrBucketNotOurs is returned by Run and Delete when the code bucket's
// name is taken by a bucket this account does not own (or may not read):
// S3 bucket names are global and ebs-snapper-<account>-<region> is
// predictable, so someone else may create it first and, with a policy
// letting us in, receive our code. Every S3 call deploy makes passes
// ExpectedBucketOwner, so S3 refuses (403) to act on such a bucket.
var ErrBucketNotOurs = errors.New("the code bucket is not owned by this account")

// bucketExists reports whether the bucket exists and is the account's.
// HeadBucket with ExpectedBucketOwner answers 404 (NotFound) for a free
// name and 403 for a bucket another account owns or these credentials may
// not read (S3 API reference, HeadBucket); a bucket it finds must also be
// in the account's own ListBuckets, which lists only the buckets the
// caller's account owns, so ownership rests on two answers.
func bucketExists(ctx context.Context, api S3API, bucket, owner, region string) (bool, error) {
	_, err := api.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket), ExpectedBucketOwner: aws.String(owner)})
	switch code := errorCode(err); {
	case err == nil:
		mine, err := listed(ctx, api, bucket)
		if err != nil {
			return false, fmt.Errorf("code bucket %s (%s): list the account's buckets to confirm its owner: %w", bucket, region, err)
		}
		if !mine {
			return false, notOurs(bucket, owner, region, errors.New("the bucket is not among the account's own (ListBuckets)"))
		}
		return true, nil
	case code == "NotFound" || code == "NoSuchBucket":
		return false, nil
	case code == "Forbidden" || code == "AccessDenied" || code == "403":
		return false, notOurs(bucket, owner, region, err)
	default:
		return false, fmt.Errorf("code bucket %s (%s): %w", bucket, region, err)
	}
}

// listed reports whether the account's ListBuckets names the bucket.
func listed(ctx context.Context, api S3API, bucket string) (bool, error) {
	p := s3.NewListBucketsPaginator(api, &s3.ListBucketsInput{Prefix: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return false, err
		}
		for _, b := range page.Buckets {
			if aws.ToString(b.Name) == bucket {
				return true, nil
			}
		}
	}
	return false, nil
}

// notOurs explains that deploy stopped at a bucket it does not own.
func notOurs(bucket, owner, region string, err error) error {
	return fmt.Errorf("%w: code bucket %s (%s) exists but S3 refuses it to account %s: another account owns the name, or these credentials may not read it; deploy uploaded nothing. Check the owner (aws s3api get-bucket-acl --bucket %s with credentials of the account that made it); if it is not yours, remove it from that account or deploy under another account: deploy never uses a bucket it does not own (%v)",
		ErrBucketNotOurs, bucket, region, owner, bucket, err)
}

// bucketPolicy denies every request not sent over TLS (S3 User Guide,
// "Enforce encryption of data in transit").
func bucketPolicy(bucket, region string) string {
	arn := "arn:" + partition(region) + ":s3:::" + bucket
	return `{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*",` +
		`"Resource":["` + arn + `","` + arn + `/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
}

// partition is the ARN partition of a region.
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// ensureBucket creates the private code bucket when it is missing and
// (again, every deploy: each call is idempotent) blocks public access,
// sets default encryption, turns versioning on, tags it
// ebs-snapper:stack=<stack> and denies requests without TLS. A bucket of
// that name another account owns stops it with ErrBucketNotOurs before
// anything is written. It reports whether it created the bucket.
//
// tlsOnly false leaves the TLS policy out: over a plain-HTTP endpoint (a
// local emulator) no request carries TLS and the policy would refuse them
// all.
func ensureBucket(ctx context.Context, api S3API, bucket, owner, region string, tlsOnly bool) (bool, error) {
	exists, err := bucketExists(ctx, api, bucket, owner, region)
	if err != nil {
		return false, err
	}
	if !exists {
		in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
		// us-east-1 is the one region S3 refuses as a LocationConstraint
		// (S3 API reference, CreateBucket).
		if region != "us-east-1" {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
		}
		// CreateBucket takes no ExpectedBucketOwner: a name taken meanwhile
		// by another account answers BucketAlreadyExists.
		_, err := api.CreateBucket(ctx, in)
		switch code := errorCode(err); {
		case code == "BucketAlreadyExists":
			return false, notOurs(bucket, owner, region, err)
		case err != nil && code != "BucketAlreadyOwnedByYou":
			return false, fmt.Errorf("create code bucket %s in %s: %w", bucket, region, err)
		}
	}
	if _, err := api.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
		Bucket: aws.String(bucket), ExpectedBucketOwner: aws.String(owner),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
			BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true),
		},
	}); err != nil {
		return false, fmt.Errorf("block public access to code bucket %s (%s): %w", bucket, region, err)
	}
	if _, err := api.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
		Bucket: aws.String(bucket), ExpectedBucketOwner: aws.String(owner),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
			Rules: []s3types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256},
			}},
		},
	}); err != nil {
		return false, fmt.Errorf("encrypt code bucket %s (%s): %w", bucket, region, err)
	}
	if _, err := api.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket: aws.String(bucket), ExpectedBucketOwner: aws.String(owner),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled},
	}); err != nil {
		return false, fmt.Errorf("turn on versioning of code bucket %s (%s): %w", bucket, region, err)
	}
	if _, err := api.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{
		Bucket: aws.String(bucket), ExpectedBucketOwner: aws.String(owner),
		Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String(BucketTag), Value: aws.String(StackName(owner))}}},
	}); err != nil {
		return false, fmt.Errorf("tag code bucket %s (%s): %w", bucket, region, err)
	}
	if !tlsOnly {
		return !exists, nil
	}
	if _, err := api.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{
		Bucket: aws.String(bucket), ExpectedBucketOwner: aws.String(owner), Policy: aws.String(bucketPolicy(bucket, region)),
	}); err != nil {
		return false, fmt.Errorf("deny non-TLS access to code bucket %s (%s): %w", bucket, region, err)
	}
	return !exists, nil
}

// objectETag returns the object's ETag without quotes, or "" when there is
// no such object.
func objectETag(ctx context.Context, api S3API, bucket, owner, key string) (string, error) {
	out, err := api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ExpectedBucketOwner: aws.String(owner)})
	if code := errorCode(err); code == "NotFound" || code == "NoSuchKey" {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("look up s3://%s/%s: %w", bucket, key, err)
	}
	return strings.Trim(aws.ToString(out.ETag), `"`), nil
}

// upload puts the code unless the object already holds the same bytes
// (its ETag is the MD5 of an object uploaded in one part, as this one
// is). It reports whether it uploaded.
func upload(ctx context.Context, api S3API, bucket, owner, key string, code Code) (bool, error) {
	etag, err := objectETag(ctx, api, bucket, owner, key)
	if err != nil {
		return false, err
	}
	if etag == code.MD5Hex() {
		return false, nil
	}
	if _, err := api.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), ExpectedBucketOwner: aws.String(owner),
		Body: bytes.NewReader(code.Zip), ContentType: aws.String("application/zip"),
	}); err != nil {
		return false, fmt.Errorf("upload s3://%s/%s: %w", bucket, key, err)
	}
	return true, nil
}

// removeBucket empties the code bucket, every version of every object
// (the bucket is versioned), and deletes it. It returns how many object
// versions it deleted, and false when there was no bucket.
func removeBucket(ctx context.Context, api S3API, bucket, owner, region string) (int, bool, error) {
	exists, err := bucketExists(ctx, api, bucket, owner, region)
	if err != nil || !exists {
		return 0, false, err
	}
	n := 0
	p := s3.NewListObjectVersionsPaginator(api, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), ExpectedBucketOwner: aws.String(owner)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return n, true, fmt.Errorf("list code bucket %s (%s): %w", bucket, region, err)
		}
		var ids []s3types.ObjectIdentifier
		for _, v := range page.Versions {
			ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range page.DeleteMarkers {
			ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		if len(ids) == 0 {
			continue
		}
		// A page holds at most 1,000 versions and markers together,
		// DeleteObjects' limit.
		out, err := api.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), ExpectedBucketOwner: aws.String(owner),
			Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return n, true, fmt.Errorf("empty code bucket %s (%s): %w", bucket, region, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return n, true, fmt.Errorf("empty code bucket %s (%s): %s: %s %s", bucket, region, aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
		}
		n += len(page.Versions)
	}
	if _, err := api.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket), ExpectedBucketOwner: aws.String(owner)}); err != nil {
		return n, true, fmt.Errorf("delete code bucket %s (%s): %w", bucket, region, err)
	}
	return n, true, nil
}
