package awsclient

import (
	"context"
	"errors"
	"reflect"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// AssumeRole returns cfg acting as roleARN: credentials from STS
// AssumeRole with sessionName (and externalID when not empty), called once
// and kept in an aws.CredentialsCache until shortly before they expire, so
// every client made from the result shares one session. The call is made
// by the first request, or by CheckCredentials.
// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
func AssumeRole(cfg aws.Config, roleARN, externalID, sessionName string) aws.Config {
	prov := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = sessionName
		if externalID != "" {
			o.ExternalID = aws.String(externalID)
		}
	})
	out := cfg.Copy()
	out.Credentials = aws.NewCredentialsCache(prov)
	return out
}

// SpokeIAMActions returns the IAM actions AssumeRole's credentials
// provider calls ("sts:AssumeRole"), so that the workers' IAM lists
// follow the code.
func SpokeIAMActions() []string {
	return IAMActions("sts", reflect.TypeFor[stscreds.AssumeRoleAPIClient]())
}

// Refused says whether err is AWS refusing the caller: AccessDenied from
// STS AssumeRole (no such role, or its trust policy does not admit the
// caller or the external id), or AccessDenied/UnauthorizedOperation from
// a service (missing grant, or a service control policy's deny).
func Refused(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.ErrorCode() {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
		return true
	}
	return false
}

// DeniedByPolicy says whether err is a refusal that names a service
// control policy (or another organisation policy) as its cause: AWS
// writes "with an explicit deny in a service control policy" in the
// message of such a refusal.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
func DeniedByPolicy(err error) bool {
	if !Refused(err) {
		return false
	}
	var api smithy.APIError
	errors.As(err, &api)
	msg := strings.ToLower(api.ErrorMessage())
	return strings.Contains(msg, "service control policy") || strings.Contains(msg, "resource control policy")
}

// Retrieve gets cfg's credentials once, so that an assumed role's refusal
// is met before any client is made (CheckCredentials without its
// wrapping: the STS error is returned as it is).
func Retrieve(ctx context.Context, cfg aws.Config) error {
	_, err := cfg.Credentials.Retrieve(ctx)
	return err
}
