package awsclient

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// AccountID returns the account of the configured credentials, from STS
// GetCallerIdentity. That one call replaces the original's chain of
// guesses (IAM users, instance metadata, instance owners): it needs no
// permission and works for users, roles and Lambda alike.
func AccountID(ctx context.Context, cfg aws.Config) (string, error) {
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("discover the AWS account id with sts:GetCallerIdentity (pass -a/--aws_account_id to skip this): %w", err)
	}
	id := aws.ToString(out.Account)
	if id == "" {
		return "", errors.New("discover the AWS account id: sts:GetCallerIdentity returned no account (pass -a/--aws_account_id)")
	}
	return id, nil
}
