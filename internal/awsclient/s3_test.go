package awsclient_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
)

// recordingS3 keeps each PutObject's input and body.
type recordingS3 struct {
	in   []*s3.PutObjectInput
	body []string
	err  error
}

func (r *recordingS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	b, _ := io.ReadAll(in.Body)
	r.in, r.body = append(r.in, in), append(r.body, string(b))
	return &s3.PutObjectOutput{}, r.err
}

// moto neither checks ExpectedBucketOwner nor needs the encryption header,
// so what Put sends is checked here: the bucket owner condition (a bucket
// of that name someone else owns refuses the write), SSE-S3, the content
// type and length.
func TestBucketPutNamesTheOwnerAndEncrypts(t *testing.T) {
	api := &recordingS3{}
	b := awsclient.NewBucket(api, "audit", "123456789012")
	if err := b.Put(t.Context(), "ebs/123456789012/latest.html", "text/html; charset=utf-8", []byte("<p>ok</p>")); err != nil {
		t.Fatal(err)
	}
	in := api.in[0]
	if aws.ToString(in.Bucket) != "audit" || aws.ToString(in.Key) != "ebs/123456789012/latest.html" || api.body[0] != "<p>ok</p>" ||
		aws.ToInt64(in.ContentLength) != 9 || aws.ToString(in.ContentType) != "text/html; charset=utf-8" {
		t.Errorf("PutObject %s/%s %q (%d bytes, %s)", aws.ToString(in.Bucket), aws.ToString(in.Key), api.body[0], aws.ToInt64(in.ContentLength), aws.ToString(in.ContentType))
	}
	if aws.ToString(in.ExpectedBucketOwner) != "123456789012" {
		t.Errorf("ExpectedBucketOwner %q, want the account", aws.ToString(in.ExpectedBucketOwner))
	}
	if in.ServerSideEncryption != s3types.ServerSideEncryptionAes256 {
		t.Errorf("ServerSideEncryption %q, want AES256", in.ServerSideEncryption)
	}

	api.err = errors.New("AccessDenied")
	err := b.Put(t.Context(), "k", "text/csv", nil)
	if err == nil || !strings.Contains(err.Error(), "s3://audit/k") || !errors.Is(err, api.err) {
		t.Errorf("failed put: %v, want an error naming s3://audit/k and wrapping S3's", err)
	}
	if got := awsclient.S3IAMActions(); !slices.Equal(got, []string{"s3:PutObject"}) {
		t.Errorf("S3IAMActions = %v", got)
	}
}
