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
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
	DeleteBucket(ctx context.Context, in *s3.DeleteBucketInput, optFns ...func(*s3.Options)) (*s3.DeleteBucketOutput, error)
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

// bucketExists reports whether the bucket exists and is ours. HeadBucket
// answers 404 (NotFound) for a free name and 403 for a bucket another
// account owns: S3 bucket names are global.
func bucketExists(ctx context.Context, api S3API, bucket, region string) (bool, error) {
	_, err := api.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	switch code := errorCode(err); {
	case err == nil:
		return true, nil
	case code == "NotFound" || code == "NoSuchBucket":
		return false, nil
	case code == "Forbidden" || code == "AccessDenied":
		return false, fmt.Errorf("code bucket %s (%s): it exists but is not accessible with these credentials (another account may own the name): %w", bucket, region, err)
	default:
		return false, fmt.Errorf("code bucket %s (%s): %w", bucket, region, err)
	}
}

// ensureBucket creates the private code bucket when it is missing and
// (again) blocks public access and sets default encryption, both
// idempotent. It reports whether it created the bucket.
func ensureBucket(ctx context.Context, api S3API, bucket, region string) (bool, error) {
	exists, err := bucketExists(ctx, api, bucket, region)
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
		if _, err := api.CreateBucket(ctx, in); err != nil && errorCode(err) != "BucketAlreadyOwnedByYou" {
			return false, fmt.Errorf("create code bucket %s in %s: %w", bucket, region, err)
		}
	}
	if _, err := api.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
		Bucket: aws.String(bucket),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
			BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true),
		},
	}); err != nil {
		return false, fmt.Errorf("block public access to code bucket %s (%s): %w", bucket, region, err)
	}
	if _, err := api.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
		Bucket: aws.String(bucket),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
			Rules: []s3types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256},
			}},
		},
	}); err != nil {
		return false, fmt.Errorf("encrypt code bucket %s (%s): %w", bucket, region, err)
	}
	return !exists, nil
}

// objectETag returns the object's ETag without quotes, or "" when there is
// no such object.
func objectETag(ctx context.Context, api S3API, bucket, key string) (string, error) {
	out, err := api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
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
func upload(ctx context.Context, api S3API, bucket, key string, code Code) (bool, error) {
	etag, err := objectETag(ctx, api, bucket, key)
	if err != nil {
		return false, err
	}
	if etag == code.MD5Hex() {
		return false, nil
	}
	if _, err := api.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(code.Zip), ContentType: aws.String("application/zip"),
	}); err != nil {
		return false, fmt.Errorf("upload s3://%s/%s: %w", bucket, key, err)
	}
	return true, nil
}

// removeBucket empties the code bucket and deletes it. It returns how many
// objects it deleted, and false when there was no bucket.
func removeBucket(ctx context.Context, api S3API, bucket, region string) (int, bool, error) {
	exists, err := bucketExists(ctx, api, bucket, region)
	if err != nil || !exists {
		return 0, false, err
	}
	n := 0
	p := s3.NewListObjectsV2Paginator(api, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return n, true, fmt.Errorf("list code bucket %s (%s): %w", bucket, region, err)
		}
		if len(page.Contents) == 0 {
			continue
		}
		var ids []s3types.ObjectIdentifier
		for _, o := range page.Contents {
			ids = append(ids, s3types.ObjectIdentifier{Key: o.Key})
		}
		// A page holds at most 1,000 keys, DeleteObjects' limit.
		out, err := api.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return n, true, fmt.Errorf("empty code bucket %s (%s): %w", bucket, region, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return n, true, fmt.Errorf("empty code bucket %s (%s): %s: %s %s", bucket, region, aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
		}
		n += len(ids)
	}
	if _, err := api.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return n, true, fmt.Errorf("delete code bucket %s (%s): %w", bucket, region, err)
	}
	return n, true, nil
}
