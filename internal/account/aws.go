package account

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/lease"
)

// Settings say how a process reaches AWS: what its command line (the
// CLI's --profile, --endpoint-url, --table-region) or its function's
// environment sets over the standard AWS configuration chain.
type Settings struct {
	// Region overrides the configured region ("" keeps it, else
	// us-east-1).
	Region string
	// Profile selects a shared configuration profile, as AWS_PROFILE
	// does ("" keeps the default or AWS_PROFILE).
	Profile string
	// Endpoint sends every call to this URL, as AWS_ENDPOINT_URL does.
	Endpoint string
	// Calls, when non-nil, counts every API call made through the
	// connection, retries included.
	Calls *Calls
}

// Calls counts a process's AWS calls by "Service.Operation", retries
// included, and those AWS throttled (awsclient.Calls). Safe for
// concurrent use; a nil *Calls counts nothing.
type Calls = awsclient.Calls

// CallCount is one operation's row of Calls.Snapshot.
type CallCount = awsclient.Count

// ProfileError is a profile (Settings.Profile or AWS_PROFILE) that the
// shared configuration and credentials files do not hold; Connect
// returns it.
type ProfileError = awsclient.ProfileError

// CredentialsError is a credential chain that yields no credentials, or
// credentials that cannot be refreshed (an expired SSO token); AWS.Check
// returns it. Its Err names every provider the SDK tried.
type CredentialsError = awsclient.CredentialsError

// Store is the writable configuration table (configure -s and -d); the
// engine's Sources hold only its read side.
type Store = configstore.Store

// Item is one stored stanza as the table holds it.
type Item = configstore.Item

// ParseItem parses a stored stanza leniently, as a run reads it: the
// error says what is wrong (snapshot and clean skip such a stanza); a
// spelling it accepts but would rather not see is logged as a warning.
func ParseItem(ctx context.Context, it Item) error {
	_, err := configstore.Parse(ctx, it)
	return err
}

// AWS is one process's connection to AWS: the SDK configuration that
// every adapter of the process is built from, so that the CLI's commands
// and the Lambda handlers wire them one way.
type AWS struct{ cfg aws.Config }

// Connect loads the SDK configuration with set over the standard chain,
// with the product's retryer (awsclient.Retryer). It makes no call: a
// profile the shared files do not hold is a *ProfileError; Check asks for
// the credentials.
func Connect(ctx context.Context, set Settings) (*AWS, error) {
	cfg, err := awsclient.LoadWith(ctx, awsclient.Settings{Region: set.Region, Profile: set.Profile, Endpoint: set.Endpoint}, set.Calls)
	if err != nil {
		return nil, err
	}
	return &AWS{cfg: cfg}, nil
}

// Check retrieves the credentials once, before any call (the SDK caches
// them for the calls that follow): a chain that yields none is a
// *CredentialsError; a cancelled ctx is returned as it is.
func (a *AWS) Check(ctx context.Context) error { return awsclient.CheckCredentials(ctx, a.cfg) }

// Region is the connection's region: Settings.Region, else the
// configured one, else us-east-1.
func (a *AWS) Region() string { return a.cfg.Region }

// Config is the SDK configuration, for the adapters of a use case that
// wires its own clients from it (deploy.NewClients, the handler's SNS and
// EventBridge clients).
func (a *AWS) Config() aws.Config { return a.cfg }

// Sources are the account's Sources in the connection's region: the
// stanzas in the configuration table, read with Query only, and EC2
// clients paced by p (FromAWSWith).
func (a *AWS) Sources(table string, p Pacing) Sources { return FromAWSWith(a.cfg, table, p) }

// Store is the configuration table in the connection's region, writable.
func (a *AWS) Store(table string) Store { return configstore.FromConfig(a.cfg, table) }

// Leases is the lease table named table in the connection's region.
func (a *AWS) Leases(table string) lease.Store { return lease.FromConfig(a.cfg, table) }

// AccountID is the account of the connection's credentials (STS
// GetCallerIdentity).
func (a *AWS) AccountID(ctx context.Context) (string, error) { return awsclient.AccountID(ctx, a.cfg) }

// Bucket is the S3 bucket name in the connection's region, which
// account must own (the report handler's objects).
func (a *AWS) Bucket(name, account string) *awsclient.Bucket {
	return awsclient.BucketFromConfig(a.cfg, name, account)
}
