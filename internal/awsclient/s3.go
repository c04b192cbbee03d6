package awsclient

import (
	"bytes"
	"context"
	"fmt"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3API lists exactly the S3 operations the Lambda report handler calls,
// with the SDK's signatures: *s3.Client implements it, tests record the
// calls.
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// S3IAMActions returns, sorted, the IAM actions of S3API ("s3:PutObject"),
// so that the handlers' IAM lists follow the code.
func S3IAMActions() []string { return IAMActions("s3", reflect.TypeFor[S3API]()) }

// Bucket writes objects into one S3 bucket that a given account owns.
type Bucket struct {
	api   S3API
	name  string
	owner string
}

// NewBucket returns the Bucket name, whose every write S3 refuses
// (403 Access Denied) unless account owns the bucket: a bucket of that
// name deleted and re-created by someone else never receives the
// objects (S3 User Guide, "Verifying bucket ownership with bucket owner
// condition").
func NewBucket(api S3API, name, account string) *Bucket {
	return &Bucket{api: api, name: name, owner: account}
}

// BucketFromConfig is NewBucket with an S3 client of cfg; with an endpoint
// set (an emulator) it addresses buckets by path instead of by host name.
func BucketFromConfig(cfg aws.Config, name, account string) *Bucket {
	return NewBucket(s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil }), name, account)
}

// Name returns the bucket's name.
func (b *Bucket) Name() string { return b.name }

// Put writes body as the object key with the content type given
// ("text/html; charset=utf-8"), encrypted at rest by S3 with its managed
// keys (SSE-S3, AES256), replacing any object of that key (S3 API
// Reference, PutObject). Errors name the bucket and key.
//
// IAM: s3:PutObject on the key.
func (b *Bucket) Put(ctx context.Context, key, contentType string, body []byte) error {
	_, err := b.api.PutObject(ctx, &s3.PutObjectInput{
		Bucket:               aws.String(b.name),
		Key:                  aws.String(key),
		Body:                 bytes.NewReader(body),
		ContentLength:        aws.Int64(int64(len(body))),
		ContentType:          aws.String(contentType),
		ExpectedBucketOwner:  aws.String(b.owner),
		ServerSideEncryption: s3types.ServerSideEncryptionAes256,
	})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", b.name, key, err)
	}
	return nil
}
