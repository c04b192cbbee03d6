// Package ebs is the EC2 adapter: the only package that imports the EC2 SDK.
// It lists instances, volumes, snapshots and images with the SDK paginators
// and server-side filters, converts SDK types into package inventory's
// types at the boundary, creates snapshots tagged in the same call, deletes
// them idempotently, and maps EC2 error codes to the helpers in errors.go.
//
// A Client serves one region:
//
//	cfg, _ := awsclient.Load(ctx, "", calls)
//	c := ebs.NewForRegion(cfg, "eu-west-1", ebs.Options{})
//	snaps, err := c.Snapshots(ctx)
//
// Tests use the in-memory fake of internal/testrig/ec2fake: ebs.New(fake,
// region), which paces nothing; a test of pacing, retries or faults runs
// the fake behind the SDK's own stack with faults.InProcess
// (internal/testrig/faults) and NewForRegion.
package ebs

import (
	"context"
	"reflect"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/rbin"
	"golang.org/x/time/rate"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
)

// EC2API lists exactly the EC2 operations the project calls, with the SDK's
// signatures, so *ec2.Client and ec2fake.Fake are interchangeable.
type EC2API interface {
	DescribeRegions(ctx context.Context, in *ec2.DescribeRegionsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error)
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeVolumes(ctx context.Context, in *ec2.DescribeVolumesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error)
	DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error)
	DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
	CreateSnapshot(ctx context.Context, in *ec2.CreateSnapshotInput, optFns ...func(*ec2.Options)) (*ec2.CreateSnapshotOutput, error)
	CreateSnapshots(ctx context.Context, in *ec2.CreateSnapshotsInput, optFns ...func(*ec2.Options)) (*ec2.CreateSnapshotsOutput, error)
	DeleteSnapshot(ctx context.Context, in *ec2.DeleteSnapshotInput, optFns ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error)
	ModifySnapshotTier(ctx context.Context, in *ec2.ModifySnapshotTierInput, optFns ...func(*ec2.Options)) (*ec2.ModifySnapshotTierOutput, error)
	CopySnapshot(ctx context.Context, in *ec2.CopySnapshotInput, optFns ...func(*ec2.Options)) (*ec2.CopySnapshotOutput, error)
	DescribeLockedSnapshots(ctx context.Context, in *ec2.DescribeLockedSnapshotsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeLockedSnapshotsOutput, error)
	DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error)
	LockSnapshot(ctx context.Context, in *ec2.LockSnapshotInput, optFns ...func(*ec2.Options)) (*ec2.LockSnapshotOutput, error)
}

var _ EC2API = (*ec2.Client)(nil)

// EC2's CreateSnapshot and DeleteSnapshot buckets: a burst of 100, then 5
// tokens a second, per account and region ("Request throttling for the
// Amazon EC2 API", EC2 Developer Guide; the whole table is BucketFor's).
const (
	DefaultRate  = 5
	DefaultBurst = 100
)

// Unlimited is the Options.Rates value of an action whose calls take no
// limiter token: no pacing at all.
const Unlimited = -1.0

// Page sizes: the maximum EC2 accepts for each call, so a listing costs
// as few requests (and Describe tokens) as possible.
const (
	maxInstancesPage = 1000
	maxSnapshotsPage = 1000
	maxImagesPage    = 1000
	maxVolumesPage   = 500
	// maxLockedPage and maxLaunchTemplatesPage are DescribeLockedSnapshots'
	// and DescribeLaunchTemplateVersions' largest pages.
	maxLockedPage          = 1000
	maxLaunchTemplatesPage = 200
	// maxDescription is one under EC2's 255: the original cut at 254 and
	// descriptions stay identical to the ones it wrote.
	maxDescription = 254
)

// Options tunes NewForRegion's client-side rate limiters, which keep a run
// just under EC2's request buckets (BucketFor) so that the run does not
// bounce off them and the account's other tools are not starved, and the
// timeout of one attempt of a call.
type Options struct {
	// Burst, when positive, is the size of every bucket instead of the
	// table's (DefaultBurst for the mutating calls).
	Burst int
	// Rates sets the rate of the bucket of each named action (a
	// RateActions entry), in requests a second, instead of the table's;
	// Unlimited (any negative rate) takes no token at all (tests and
	// benchmarks that count calls, not time). ParseRates reads it from a
	// --rate flag or EBS_SNAPPER_RATES, and accepts only rates above 0.
	Rates map[string]float64
	// RateScale multiplies every rate, table or set; zero means 1. A
	// region whose limits AWS raised (a support case) sets it above 1; a
	// run sharing the account with other busy tools, below.
	RateScale float64
	// AttemptTimeout bounds one attempt of one call made through
	// NewForRegion: an answer that never comes costs one attempt, which
	// the SDK retries. Zero means DefaultAttemptTimeout; negative, none.
	AttemptTimeout time.Duration
}

// rate returns the limit of b, the bucket of action, under o.
func (o Options) rate(action string, b Bucket) (rate.Limit, int) {
	r := b.Refill
	if set, ok := o.Rates[action]; ok {
		r = set
	}
	burst := b.Burst
	if o.Burst > 0 {
		burst = o.Burst
	}
	if r < 0 {
		return rate.Inf, burst
	}
	if o.RateScale > 0 {
		r *= o.RateScale
	}
	return rate.Limit(r), burst
}

// Client is the EC2 adapter for one region. It is safe for concurrent use.
type Client struct {
	api    EC2API
	region string
	// rbin lists the region's Recycle Bin rules: the SDK's client from
	// NewForRegion, or api itself when it has Recycle Bin operations too
	// (the fake); nil otherwise.
	rbin RecycleBinAPI
}

// New returns a Client that calls api for region as it is: nothing paces
// or bounds its calls (NewForRegion's middleware does that for the SDK
// client). When api also implements RecycleBinAPI, it answers
// RecycleBinRules.
func New(api EC2API, region string) *Client {
	rb, _ := api.(RecycleBinAPI)
	return &Client{api: api, region: region, rbin: rb}
}

// NewForRegion builds the SDK client for region from cfg (as returned by
// awsclient.Load) and wraps it.
//
// Every attempt of every call, retries included, first waits for a token
// of its EC2 bucket's client-side limiter (BucketFor, paced as opts says),
// then has opts.AttemptTimeout to get its answer (attempts.go): EC2 counts
// retries against its buckets too, and a retry that skipped the limiter
// would bounce off an empty bucket.
//
// Every call shares cfg's retryer (awsclient.Retryer: the SDK's standard
// retryer without a retry quota, so it keeps no state that a throttled
// DeleteSnapshot could use to slow down CreateSnapshot). Should a retryer
// with state return, each EC2 bucket needs its own.
func NewForRegion(cfg aws.Config, region string, opts Options) *Client {
	mw := newAttempts(opts)
	c := New(ec2.NewFromConfig(cfg, func(o *ec2.Options) {
		o.Region = region
		o.APIOptions = append(o.APIOptions, mw.register)
	}), region)
	c.rbin = rbin.NewFromConfig(cfg, func(o *rbin.Options) { o.Region = region })
	return c
}

// Region is the region the client serves.
func (c *Client) Region() string { return c.region }

// IAMActions returns the IAM actions the adapter can call, sorted: one per
// EC2API operation, plus ec2:CreateTags, because CreateSnapshot(s) tags the
// snapshots in the same call (and CopySnapshot its copy) and EC2 authorises
// tagging on create as CreateTags with the condition
// ec2:CreateAction=CreateSnapshot or CopySnapshot (EC2 User
// Guide, "Grant permission to tag Amazon EC2 resources during creation").
// The deploy package checks the Lambda role against it.
func IAMActions() []string {
	actions := append(awsclient.IAMActions("ec2", reflect.TypeFor[EC2API]()), "ec2:CreateTags")
	slices.Sort(actions)
	return actions
}
