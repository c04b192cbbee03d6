package deploy

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// recordingS3 answers every S3API call as an account owning one bucket
// with one object would, and records each input.
type recordingS3 struct {
	inputs map[string]any
	policy string
}

func (r *recordingS3) rec(name string, in any) { r.inputs[name] = in }

func (r *recordingS3) HeadBucket(_ context.Context, in *s3.HeadBucketInput, _ ...func(*s3.Options)) (*s3.HeadBucketOutput, error) {
	r.rec("HeadBucket", in)
	return &s3.HeadBucketOutput{}, nil
}
func (r *recordingS3) CreateBucket(_ context.Context, in *s3.CreateBucketInput, _ ...func(*s3.Options)) (*s3.CreateBucketOutput, error) {
	r.rec("CreateBucket", in)
	return &s3.CreateBucketOutput{}, nil
}
func (r *recordingS3) PutPublicAccessBlock(_ context.Context, in *s3.PutPublicAccessBlockInput, _ ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error) {
	r.rec("PutPublicAccessBlock", in)
	return &s3.PutPublicAccessBlockOutput{}, nil
}
func (r *recordingS3) PutBucketEncryption(_ context.Context, in *s3.PutBucketEncryptionInput, _ ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error) {
	r.rec("PutBucketEncryption", in)
	return &s3.PutBucketEncryptionOutput{}, nil
}
func (r *recordingS3) HeadObject(_ context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	r.rec("HeadObject", in)
	return &s3.HeadObjectOutput{ETag: aws.String(`"other"`)}, nil
}
func (r *recordingS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	r.rec("PutObject", in)
	return &s3.PutObjectOutput{}, nil
}
func (r *recordingS3) DeleteObjects(_ context.Context, in *s3.DeleteObjectsInput, _ ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	r.rec("DeleteObjects", in)
	return &s3.DeleteObjectsOutput{}, nil
}
func (r *recordingS3) DeleteBucket(_ context.Context, in *s3.DeleteBucketInput, _ ...func(*s3.Options)) (*s3.DeleteBucketOutput, error) {
	r.rec("DeleteBucket", in)
	return &s3.DeleteBucketOutput{}, nil
}
func (r *recordingS3) PutBucketVersioning(_ context.Context, in *s3.PutBucketVersioningInput, _ ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error) {
	r.rec("PutBucketVersioning", in)
	return &s3.PutBucketVersioningOutput{}, nil
}
func (r *recordingS3) PutBucketTagging(_ context.Context, in *s3.PutBucketTaggingInput, _ ...func(*s3.Options)) (*s3.PutBucketTaggingOutput, error) {
	r.rec("PutBucketTagging", in)
	return &s3.PutBucketTaggingOutput{}, nil
}
func (r *recordingS3) PutBucketPolicy(_ context.Context, in *s3.PutBucketPolicyInput, _ ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error) {
	r.rec("PutBucketPolicy", in)
	r.policy = aws.ToString(in.Policy)
	return &s3.PutBucketPolicyOutput{}, nil
}
func (r *recordingS3) ListObjectVersions(_ context.Context, in *s3.ListObjectVersionsInput, _ ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error) {
	r.rec("ListObjectVersions", in)
	return &s3.ListObjectVersionsOutput{Versions: []s3types.ObjectVersion{{Key: aws.String("k"), VersionId: aws.String("v1")}}}, nil
}
func (r *recordingS3) ListBuckets(_ context.Context, in *s3.ListBucketsInput, _ ...func(*s3.Options)) (*s3.ListBucketsOutput, error) {
	r.rec("ListBuckets", in)
	return &s3.ListBucketsOutput{Buckets: []s3types.Bucket{{Name: in.Prefix}}}, nil
}

// Every S3 call deploy makes that can name the expected owner names the
// account (CreateBucket and ListBuckets have no such parameter), and the
// bucket's policy denies requests without TLS.
func TestEveryS3CallPassesTheExpectedOwner(t *testing.T) {
	const owner, bucket = "123456789012", "ebs-snapper-123456789012-eu-west-1"
	api := &recordingS3{inputs: map[string]any{}}
	ctx := context.Background()
	if _, err := ensureBucket(ctx, api, bucket, owner, "eu-west-1", true); err != nil {
		t.Fatal(err)
	}
	if _, err := upload(ctx, api, bucket, owner, "k", Code{Zip: []byte("zip")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := removeBucket(ctx, api, bucket, owner, "eu-west-1"); err != nil {
		t.Fatal(err)
	}
	for m := range reflect.TypeFor[S3API]().Methods() {
		in, called := api.inputs[m.Name]
		if !called && m.Name != "CreateBucket" {
			t.Errorf("%s was not exercised", m.Name)
			continue
		}
		if !called {
			continue
		}
		f := reflect.ValueOf(in).Elem().FieldByName("ExpectedBucketOwner")
		switch {
		case !f.IsValid():
			if m.Name != "CreateBucket" && m.Name != "ListBuckets" {
				t.Errorf("%s: no ExpectedBucketOwner", m.Name)
			}
		case f.IsNil() || f.Elem().String() != owner:
			t.Errorf("%s: ExpectedBucketOwner %v, want %s", m.Name, f, owner)
		}
	}
	for _, want := range []string{`"Effect":"Deny"`, `"Principal":"*"`, `"Action":"s3:*"`, `"arn:aws:s3:::` + bucket + `/*"`, `"Bool":{"aws:SecureTransport":"false"}`} {
		if !strings.Contains(api.policy, want) {
			t.Errorf("bucket policy %s lacks %s", api.policy, want)
		}
	}
}
