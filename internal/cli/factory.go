package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"os"
	"sync"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
)

// factory builds what a command needs, one way for every command, as
// gh's cmdutil.Factory does: the streams, and on first use the AWS
// connection, the account's Sources paced by --rate and --rate-scale, and
// the writable configuration table. The wiring of adapters itself is
// account's (the composition root the Lambda handlers share); the factory
// adds the command line's flags and words the errors in them. Tests
// replace connect, sources and store.
type factory struct {
	flags *globalOptions
	io    *ioStreams
	// interrupt turns signals into a graceful stop of engine runs; nil
	// when the commands run without Main (tests).
	interrupt *interruption
	// calls counts every AWS call of the process: a run reports them.
	// nil counts none (tests).
	calls *account.Calls

	// connect returns the connection to AWS in region ("" = the tool
	// region: --table-region, else the configured one, else us-east-1),
	// its credentials checked.
	connect func(ctx context.Context, region string) (*account.AWS, error)
	// sources are the account's Sources in the tool region: the
	// configuration table (read side), STS, EC2 paced by the flags.
	sources func(ctx context.Context) (account.Sources, error)
	// store is the configuration table in the tool region, writable.
	store func(ctx context.Context) (account.Store, error)

	mu    sync.Mutex
	conns map[string]*account.AWS
}

// newFactory returns the factory of the flags g, on streams.
func newFactory(g *globalOptions, streams *ioStreams, in *interruption) *factory {
	f := &factory{flags: g, io: streams, interrupt: in, calls: &account.Calls{}, conns: map[string]*account.AWS{}}
	f.connect = f.connectAWS
	f.sources = func(ctx context.Context) (account.Sources, error) {
		pacing, err := g.pacing()
		if err != nil {
			return account.Sources{}, err
		}
		conn, err := f.connect(ctx, g.toolRegion)
		if err != nil {
			return account.Sources{}, err
		}
		return conn.Sources(g.table, pacing), nil
	}
	f.store = func(ctx context.Context) (account.Store, error) {
		conn, err := f.connect(ctx, g.toolRegion)
		if err != nil {
			return nil, err
		}
		return conn.Store(g.table), nil
	}
	return f
}

// connectAWS connects once per region with --profile and --endpoint-url
// (account.Connect) and makes sure the connection yields credentials
// before any call: a missing profile or no credentials is one line with a
// hint, and the SDK's account of every provider it tried is logged only
// under -V.
func (f *factory) connectAWS(ctx context.Context, region string) (*account.AWS, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if conn := f.conns[region]; conn != nil {
		return conn, nil
	}
	g := f.flags
	conn, err := account.Connect(ctx, account.Settings{Region: region, Profile: g.profile, Endpoint: g.endpoint, Calls: f.calls})
	var noProfile *account.ProfileError
	if errors.As(err, &noProfile) {
		slog.InfoContext(ctx, "AWS configuration", "error", noProfile.Err)
		return nil, fmt.Errorf("AWS profile %q (from %s) is not in the shared config or credentials files; `aws configure list-profiles` lists them",
			noProfile.Profile, g.profileSource())
	}
	if err != nil {
		return nil, err
	}
	err = conn.Check(ctx)
	var creds *account.CredentialsError
	if errors.As(err, &creds) {
		slog.InfoContext(ctx, "AWS credential chain", "error", creds.Err)
		return nil, errors.New("no AWS credentials: set --profile or AWS_PROFILE, run `aws sso login` for an SSO profile, " +
			"or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (-V shows what the SDK tried)")
	}
	if err != nil {
		return nil, err
	}
	f.conns[region] = conn
	return conn, nil
}

// pacing reads --rate and --rate-scale; a bad value is a usage error
// naming the flag.
func (g *globalOptions) pacing() (account.Pacing, error) {
	rates, err := account.ParseRates(g.rates)
	if err != nil {
		return account.Pacing{}, usagef("--rate: %v", err)
	}
	if !(g.rateScale > 0) || math.IsInf(g.rateScale, 0) {
		return account.Pacing{}, usagef("--rate-scale %v: want a number > 0", g.rateScale)
	}
	return account.Pacing{Rates: rates, Scale: g.rateScale}, nil
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
