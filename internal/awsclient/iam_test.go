package awsclient_test

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
)

type stsAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
	// Options is not an operation: it must not become an action.
	Options() sts.Options
}

func TestIAMActions(t *testing.T) {
	got := awsclient.IAMActions("sts", reflect.TypeFor[stsAPI]())
	want := []string{"sts:AssumeRole", "sts:GetCallerIdentity"}
	if !slices.Equal(got, want) {
		t.Errorf("IAMActions = %v, want %v", got, want)
	}
}
