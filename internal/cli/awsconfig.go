package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/term"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
)

// loadAWS loads the SDK configuration for a region ("" = the configured
// one, else us-east-1) with --profile and --endpoint-url, and makes sure it
// yields credentials before any call: a missing profile or no credentials
// is one line with a hint, and the SDK's account of every provider it
// tried is logged only under -V.
func (g *globalOptions) loadAWS(ctx context.Context, region string, calls *awsclient.Calls) (aws.Config, error) {
	cfg, err := awsclient.LoadWith(ctx, awsclient.Settings{Region: region, Profile: g.profile, Endpoint: g.endpoint}, calls)
	var noProfile *awsclient.ProfileError
	if errors.As(err, &noProfile) {
		slog.InfoContext(ctx, "AWS configuration", "error", noProfile.Err)
		return aws.Config{}, fmt.Errorf("AWS profile %q (from %s) is not in the shared config or credentials files; `aws configure list-profiles` lists them",
			noProfile.Profile, g.profileSource())
	}
	if err != nil {
		return aws.Config{}, err
	}
	err = awsclient.CheckCredentials(ctx, cfg)
	var creds *awsclient.CredentialsError
	if errors.As(err, &creds) {
		slog.InfoContext(ctx, "AWS credential chain", "error", creds.Err)
		return aws.Config{}, errors.New("no AWS credentials: set --profile or AWS_PROFILE, run `aws sso login` for an SSO profile, " +
			"or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (-V shows what the SDK tried)")
	}
	return cfg, err
}

// checkEndpoint refuses an --endpoint-url that is not an absolute http or
// https URL with a host ("" is no endpoint): the SDK would otherwise retry
// a request it cannot send until its attempts run out.
func checkEndpoint(endpoint string) error {
	if endpoint == "" {
		return nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("--endpoint-url %q: want an http:// or https:// URL with a host, such as http://127.0.0.1:5000", endpoint)
	}
	return nil
}

// profileSource names where the profile came from, for the message.
func (g *globalOptions) profileSource() string {
	if g.profile != "" {
		return "--profile"
	}
	if os.Getenv("AWS_PROFILE") != "" {
		return "AWS_PROFILE"
	}
	return "AWS_DEFAULT_PROFILE"
}

// width is the terminal's width when stdout is a terminal, so that tables
// fit it (their last column cut with "…"), and 0 otherwise: piped or
// redirected output keeps every line whole.
func (g *globalOptions) width() int {
	f, ok := g.stdout.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0
	}
	w, _, err := term.GetSize(int(f.Fd()))
	if err != nil || w <= 0 {
		return 0
	}
	return w
}
