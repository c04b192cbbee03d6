package deploy

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// LambdaAPI lists the Lambda operations deploy calls.
type LambdaAPI interface {
	GetFunction(ctx context.Context, in *lambda.GetFunctionInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error)
	UpdateFunctionCode(ctx context.Context, in *lambda.UpdateFunctionCodeInput, optFns ...func(*lambda.Options)) (*lambda.UpdateFunctionCodeOutput, error)
	PublishVersion(ctx context.Context, in *lambda.PublishVersionInput, optFns ...func(*lambda.Options)) (*lambda.PublishVersionOutput, error)
	ListVersionsByFunction(ctx context.Context, in *lambda.ListVersionsByFunctionInput, optFns ...func(*lambda.Options)) (*lambda.ListVersionsByFunctionOutput, error)
	DeleteFunction(ctx context.Context, in *lambda.DeleteFunctionInput, optFns ...func(*lambda.Options)) (*lambda.DeleteFunctionOutput, error)
	GetAccountSettings(ctx context.Context, in *lambda.GetAccountSettingsInput, optFns ...func(*lambda.Options)) (*lambda.GetAccountSettingsOutput, error)
}

var _ LambdaAPI = (*lambda.Client)(nil)

// keepVersions is how many published versions of each function deploy
// keeps, newest first: the current one and the one before, to roll back to.
const keepVersions = 2

// functionUpdateWait bounds the wait for a function's previous update
// (from the stack or from deploy) to finish; Lambda refuses a code update
// meanwhile (ResourceConflictException).
const functionUpdateWait = 5 * time.Minute

// functionResult is what publishCode did to one function.
type functionResult struct {
	Name      string
	Updated   bool   // the code was replaced
	Published string // the version published, or ""
	Deleted   []string
}

func (r functionResult) changed() bool {
	return r.Updated || r.Published != "" || len(r.Deleted) > 0
}

// publishCode makes the function run the code: it updates the code unless
// its CodeSha256 already matches, publishes a version unless one already
// holds this code, and deletes all but the keepVersions newest versions.
func publishCode(ctx context.Context, api LambdaAPI, name, bucket, key string, code Code, version string) (functionResult, error) {
	res := functionResult{Name: name}
	fn, err := api.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	if err != nil {
		return res, fmt.Errorf("function %s: %w", name, err)
	}
	// Code for another architecture is another binary, so the digest alone
	// tells whether the function runs this code; the stack sets the
	// function's architecture (and moto does not keep it).
	if aws.ToString(fn.Configuration.CodeSha256) != code.SHA256() {
		if err := waitUpdated(ctx, api, name); err != nil {
			return res, err
		}
		if _, err := api.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{
			FunctionName: aws.String(name), S3Bucket: aws.String(bucket), S3Key: aws.String(key),
			Architectures: []lambdatypes.Architecture{lambdatypes.Architecture(code.Arch)},
		}); err != nil {
			return res, fmt.Errorf("update the code of function %s: %w", name, err)
		}
		res.Updated = true
	}
	versions, err := listVersions(ctx, api, name)
	if err != nil {
		return res, err
	}
	if !slices.ContainsFunc(versions, func(v lambdatypes.FunctionConfiguration) bool { return aws.ToString(v.CodeSha256) == code.SHA256() }) {
		if err := waitUpdated(ctx, api, name); err != nil {
			return res, err
		}
		// CodeSha256 makes Lambda refuse to publish other code than ours,
		// should someone update the function meanwhile.
		out, err := api.PublishVersion(ctx, &lambda.PublishVersionInput{
			FunctionName: aws.String(name), CodeSha256: aws.String(code.SHA256()), Description: aws.String("ebs-snapper " + version),
		})
		if err != nil {
			return res, fmt.Errorf("publish a version of function %s: %w", name, err)
		}
		res.Published = aws.ToString(out.Version)
		versions = append(versions, lambdatypes.FunctionConfiguration{Version: out.Version})
	}
	for i, v := range versions {
		if i >= len(versions)-keepVersions {
			break
		}
		if _, err := api.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name), Qualifier: v.Version}); err != nil {
			return res, fmt.Errorf("delete version %s of function %s: %w", aws.ToString(v.Version), name, err)
		}
		res.Deleted = append(res.Deleted, aws.ToString(v.Version))
	}
	return res, nil
}

func waitUpdated(ctx context.Context, api LambdaAPI, name string) error {
	w := lambda.NewFunctionUpdatedV2Waiter(api, func(o *lambda.FunctionUpdatedV2WaiterOptions) { o.MinDelay = time.Second })
	if err := w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, functionUpdateWait); err != nil {
		return fmt.Errorf("wait for function %s to finish its last update: %w", name, err)
	}
	return nil
}

// listVersions returns the function's published versions (not $LATEST),
// oldest first.
func listVersions(ctx context.Context, api LambdaAPI, name string) ([]lambdatypes.FunctionConfiguration, error) {
	var versions []lambdatypes.FunctionConfiguration
	p := lambda.NewListVersionsByFunctionPaginator(api, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the versions of function %s: %w", name, err)
		}
		for _, v := range page.Versions {
			if _, err := strconv.Atoi(aws.ToString(v.Version)); err == nil {
				versions = append(versions, v)
			}
		}
	}
	slices.SortFunc(versions, func(a, b lambdatypes.FunctionConfiguration) int {
		x, _ := strconv.Atoi(aws.ToString(a.Version))
		y, _ := strconv.Atoi(aws.ToString(b.Version))
		return x - y
	})
	return versions, nil
}
