package awsclient

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// CredentialsError is a failure to get credentials from the configuration's
// chain (environment, profile, SSO, web identity, container, instance
// metadata), before any call is made. Err is the SDK's error, which names
// every provider it tried.
type CredentialsError struct{ Err error }

func (e *CredentialsError) Error() string { return "get AWS credentials: " + e.Err.Error() }

func (e *CredentialsError) Unwrap() error { return e.Err }

// CheckCredentials retrieves cfg's credentials once (the SDK caches them
// for the calls that follow) and returns a *CredentialsError when the
// chain yields none or they cannot be refreshed (an expired SSO token).
// A cancelled ctx is returned as it is.
func CheckCredentials(ctx context.Context, cfg aws.Config) error {
	if cfg.Credentials == nil {
		return &CredentialsError{Err: errors.New("no credentials provider configured")}
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &CredentialsError{Err: err}
	}
	return nil
}

// ProfileError is a profile (--profile or AWS_PROFILE) that the shared
// configuration and credentials files do not hold.
type ProfileError struct {
	Profile string
	Err     error
}

func (e *ProfileError) Error() string { return "profile " + e.Profile + ": " + e.Err.Error() }

func (e *ProfileError) Unwrap() error { return e.Err }
