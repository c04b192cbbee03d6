package deploy

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfn "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ebs-snapper/ebs-snapper/internal/version"
)

// Clients are the AWS clients of one deployment region.
type Clients struct {
	S3             S3API
	CloudFormation CloudFormationAPI
	Lambda         LambdaAPI
	DynamoDB       DynamoDBAPI
	// StackSets install the spokes (the same CloudFormation client);
	// Organizations tells the hub's organization.
	StackSets     StackSetAPI
	Organizations OrganizationsAPI
	// PlainHTTP says the endpoint is plain HTTP (a local emulator), where
	// the code bucket's TLS-only policy would refuse every request.
	PlainHTTP bool
}

// NewClients builds the clients from cfg (awsclient.Load with the
// deployment region). With a custom endpoint (AWS_ENDPOINT_URL, an
// emulator) S3 is addressed path-style, since bucket host names do not
// resolve there.
func NewClients(cfg aws.Config) Clients {
	return Clients{
		S3:             s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil }),
		CloudFormation: cfn.NewFromConfig(cfg),
		Lambda:         lambda.NewFromConfig(cfg),
		DynamoDB:       dynamodb.NewFromConfig(cfg),
		StackSets:      cfn.NewFromConfig(cfg),
		Organizations:  organizations.NewFromConfig(cfg),
		PlainHTTP:      strings.HasPrefix(aws.ToString(cfg.BaseEndpoint), "http://"),
	}
}

// Options is one deploy.
type Options struct {
	Account string
	Region  string
	// Arch is arm64 or x86_64; "" keeps the stack's (arm64 for a new one).
	Arch string
	// Parameters are the operator's template parameter values (names
	// checked with CheckParameters).
	Parameters map[string]string
	// ZipPath is a prepared code zip; "" packages the binary (Package).
	ZipPath string
	// NoUpload keeps the code in the bucket as it is (and the functions'
	// code too); NoStack leaves the stack alone.
	NoUpload, NoStack bool
	// Build is the deploying binary's own: a cross-built bootstrap is
	// stamped with it, the code must be of its version, and it names the
	// published function versions.
	Build version.Info
	// AllowVersionMismatch deploys code of another version than Build's
	// (or of a version that cannot be read) instead of refusing it.
	AllowVersionMismatch bool

	// Spokes, when set, installs or updates the spoke role in those
	// organizational units or accounts through the StackSet
	// SpokeStackSet, after the stack (docs/organizations.md).
	Spokes Spokes

	// Confirm is asked before the stack is created, updated or deleted,
	// after what will change is printed on Out; nil does it (--yes).
	Confirm Confirm

	// Out gets what was done, one line per step; Progress gets the
	// waiting lines and a failed stack's events.
	Out, Progress io.Writer
}

// CheckParameters validates parameter names against the template's,
// keeps deploy's own parameters out of the operator's hands, and checks
// each value against the template's constraints (Parameter.Check) and
// each schedule expression (CheckSchedule).
func CheckParameters(params map[string]string) error {
	names := ParameterNames()
	for _, k := range slices.Sorted(maps.Keys(params)) {
		switch {
		case k == ParamBucket || k == ParamKey:
			return &ParameterError{Name: k, Value: params[k], Err: ErrReservedParameter}
		case k == ParamArchitecture:
			return &ParameterError{Name: k, Value: params[k], Err: ErrArchParameter}
		case !slices.Contains(names, k):
			return &ParameterError{Name: k, Value: params[k], Err: fmt.Errorf("%w; it has %s", ErrUnknownParameter, strings.Join(names, ", "))}
		}
	}
	for _, p := range Parameters() {
		if v, ok := params[p.Name]; ok {
			if err := p.Check(v); err != nil {
				return err
			}
		}
	}
	for _, k := range scheduleParams {
		if v, ok := params[k]; ok {
			if err := CheckSchedule(v); err != nil {
				return &ParameterError{Name: k, Value: v, Err: err}
			}
		}
	}
	return nil
}

// Run deploys: package, bucket and upload, stack, functions' code. It
// refuses code of another version than opts.Build (a *VersionMismatchError)
// unless opts.AllowVersionMismatch is set, before anything is uploaded. It
// prints one line per step on Out, and a last line saying whether
// anything changed. A new stack takes the parameters of the stack of that
// name deleted last (within CloudFormation's 90 days), under the
// operator's; when the configuration table exists outside any stack (a
// deploy --delete keeps it), the new stack is made by importing it, so a
// deploy after --delete is one command that keeps the stanzas and the
// parameters.
func Run(ctx context.Context, c Clients, opts Options) error {
	name := StackName(opts.Account)
	bucket := BucketName(opts.Account, opts.Region)
	stack, err := describeStack(ctx, c.CloudFormation, name, opts.Region)
	if err != nil {
		return err
	}
	say := func(format string, a ...any) { fmt.Fprintf(opts.Out, format+"\n", a...) }
	var prior *cfntypes.Stack
	importing := false
	if stack == nil && !opts.NoStack {
		if prior, err = deletedStack(ctx, c.CloudFormation, name, opts.Region); err != nil {
			return err
		}
		if importing, err = tableExists(ctx, c.DynamoDB, opts.Region); err != nil {
			return err
		}
	}
	if stack == nil && !opts.NoStack {
		rc, ok := opts.Parameters[ParamReservedConcurrency]
		if !ok && prior != nil {
			rc, ok = stackParameter(prior, ParamReservedConcurrency)
		}
		if !ok {
			rc = defaultOf(ParamReservedConcurrency)
		}
		bucket, ok := opts.Parameters[ParamReportBucket]
		if !ok && prior != nil {
			bucket, _ = stackParameter(prior, ParamReportBucket)
		}
		warn := func(format string, a ...any) { fmt.Fprintf(opts.Progress, format+"\n", a...) }
		if err := checkConcurrency(ctx, c.Lambda, rc, bucket != "", opts.Region, warn); err != nil {
			return err
		}
	}
	arch := opts.Arch
	if arch == "" && stack != nil {
		arch, _ = stackParameter(stack, ParamArchitecture)
	}
	if arch == "" && prior != nil {
		arch, _ = stackParameter(prior, ParamArchitecture)
	}
	if arch == "" || !slices.Contains(Architectures, arch) {
		// A stack made by the Python tool has no Architecture.
		arch = Architectures[0]
	}
	key := CodeKey(arch)
	changed := false

	var code *Code
	if !opts.NoUpload {
		pkg, err := Package(ctx, PackageOptions{Arch: arch, ZipPath: opts.ZipPath, Build: opts.Build})
		if err != nil {
			return err
		}
		code = &pkg
		say("code: %s for %s, %d bytes (%s)", "bootstrap", arch, len(pkg.Zip), pkg.Source)
		if err := checkVersion(pkg, opts.Build); err != nil {
			if !opts.AllowVersionMismatch {
				return err
			}
			say("code: deploying it anyway, as asked: %v", err)
		}
		created, err := ensureBucket(ctx, c.S3, bucket, opts.Account, opts.Region, !c.PlainHTTP)
		if err != nil {
			return err
		}
		tls := "TLS only"
		if c.PlainHTTP {
			tls = "no TLS-only policy: the endpoint is plain HTTP"
		}
		if created {
			changed = true
			say("bucket %s: created (private, encrypted, versioned, %s)", bucket, tls)
		} else {
			say("bucket %s: exists", bucket)
		}
		uploaded, err := upload(ctx, c.S3, bucket, opts.Account, key, pkg)
		if err != nil {
			return err
		}
		if uploaded {
			changed = true
			say("upload s3://%s/%s: done", bucket, key)
		} else {
			say("upload s3://%s/%s: skipped, already up to date", bucket, key)
		}
	} else if !opts.NoStack {
		etag, err := objectETag(ctx, c.S3, bucket, opts.Account, key)
		if err != nil {
			return err
		}
		if etag == "" {
			return &NoCodeError{Bucket: bucket, Key: key}
		}
	}

	haveStack := stack != nil
	if !opts.NoStack {
		set := map[string]string{ParamBucket: bucket, ParamKey: key, ParamArchitecture: arch}
		for k, v := range opts.Spokes.stackParameters() {
			set[k] = v
		}
		for k, v := range opts.Parameters {
			set[k] = v
		}
		value := func(k string) string {
			if v, ok := set[k]; ok {
				return v
			}
			for _, s := range []*cfntypes.Stack{stack, prior} {
				if v, ok := paramOf(s, k); ok {
					return v
				}
			}
			return defaultOf(k)
		}
		if err := checkQueueConcurrency(value); err != nil {
			return err
		}
		if kept := keptParameters(prior, set); len(kept) > 0 {
			var kv []string
			for _, k := range kept {
				kv = append(kv, k+"="+set[k])
			}
			when := ""
			if t := aws.ToTime(prior.DeletionTime); !t.IsZero() {
				when = " " + t.UTC().Format(time.RFC3339)
			}
			say("parameters kept from stack %s deleted%s: %s", name, when, strings.Join(kv, ", "))
		}
		confirm := opts.Confirm
		if importing {
			if err := importTable(ctx, c.CloudFormation, name, opts.Region, set, confirm, opts.Out, opts.Progress); err != nil {
				return err
			}
			say("table %s (%s): imported into stack %s", Table, opts.Region, name)
			if stack, err = describeStack(ctx, c.CloudFormation, name, opts.Region); err != nil {
				return err
			}
			// The question asked covered the whole stack.
			confirm = nil
		}
		res, err := applyStack(ctx, c.CloudFormation, stack, name, opts.Region, set, confirm, opts.Out, opts.Progress)
		if err != nil {
			return err
		}
		if !notifies(stack, set) {
			say("alarms: no AlarmTopicArn or AlarmEmail is set, so the stack's alarms notify no one; set one: ebs-snapper deploy --region %s --parameter AlarmEmail=you@example.com (SNS asks the address to confirm), or --parameter AlarmTopicArn=arn:aws:sns:%s:%s:TOPIC", opts.Region, opts.Region, opts.Account)
		}
		switch res {
		case stackCreated:
			changed, haveStack = true, true
			say("stack %s (%s): created", name, opts.Region)
		case stackUpdated:
			changed = true
			if importing {
				say("stack %s (%s): created", name, opts.Region)
			} else {
				say("stack %s (%s): updated", name, opts.Region)
			}
		default:
			say("stack %s (%s): no changes", name, opts.Region)
		}
	}

	switch {
	case code == nil:
		say("functions: code left as it is (-m/--no_upload)")
	case !haveStack:
		say("functions: none, stack %s does not exist (deploy without -o/--no_stack creates it)", name)
	default:
		fns, err := functionNames(ctx, c.CloudFormation, name)
		if err != nil {
			return err
		}
		for _, fn := range fns {
			r, err := publishCode(ctx, c.Lambda, fn, bucket, key, *code, opts.Build.Version)
			if err != nil {
				return err
			}
			if !r.changed() {
				say("function %s: up to date", fn)
				continue
			}
			changed = true
			var did []string
			if r.Updated {
				did = append(did, "code updated")
			}
			if r.Published != "" {
				did = append(did, "published version "+r.Published)
			}
			if len(r.Deleted) > 0 {
				did = append(did, "deleted old versions "+strings.Join(r.Deleted, ", "))
			}
			say("function %s: %s", fn, strings.Join(did, ", "))
		}
	}
	if opts.Spokes.Set() {
		if stack, err = describeStack(ctx, c.CloudFormation, name, opts.Region); err != nil {
			return err
		}
		if stack == nil {
			return fmt.Errorf("spokes: stack %s does not exist in %s; deploy it first (without -o/--no_stack)", name, opts.Region)
		}
		if err := ensureSpokes(ctx, c, stack, opts); err != nil {
			return err
		}
	}
	if changed {
		say("deployed %s to %s in %s", opts.Build, name, opts.Region)
	} else {
		say("nothing changed: %s in %s is up to date", name, opts.Region)
	}
	return nil
}

// paramOf is stackParameter of a stack that may be nil.
func paramOf(s *cfntypes.Stack, name string) (string, bool) {
	if s == nil {
		return "", false
	}
	return stackParameter(s, name)
}

// defaultOf is the template's default of a parameter.
func defaultOf(name string) string {
	for _, p := range Parameters() {
		if p.Name == name {
			return p.Default
		}
	}
	return ""
}

// notifies reports whether the stack's alarms notify anyone: AlarmTopicArn
// or AlarmEmail set now (set) or kept from the stack.
func notifies(stack *cfntypes.Stack, set map[string]string) bool {
	for _, k := range []string{"AlarmTopicArn", "AlarmEmail"} {
		v, ok := set[k]
		if !ok && stack != nil {
			v, _ = stackParameter(stack, k)
		}
		if v != "" {
			return true
		}
	}
	return false
}

// Delete removes the stack and the code bucket of the account and region,
// and says that the configuration table stays.
func Delete(ctx context.Context, c Clients, opts Options) error {
	name := StackName(opts.Account)
	bucket := BucketName(opts.Account, opts.Region)
	say := func(format string, a ...any) { fmt.Fprintf(opts.Out, format+"\n", a...) }
	stack, err := describeStack(ctx, c.CloudFormation, name, opts.Region)
	if err != nil {
		return err
	}
	say("deleting the spoke role from every account of stack set %s, if any", SpokeStackSet)
	say("deleting stack %s (%s), its functions, topics, schedules, alarms, roles, lease table and failed-events queue, and the code bucket %s", name, opts.Region, bucket)
	say("kept: the configuration table %s with its stanzas, and the functions' log groups (/aws/lambda/%s-*), each until its retention ends", Table, name)
	if err := ask(opts.Confirm, fmt.Sprintf("Delete stack %s and bucket %s in %s, and the spoke role from every account of stack set %s there, if any?", name, bucket, opts.Region, SpokeStackSet)); err != nil {
		return err
	}
	// The spokes first: their roles trust the stack's.
	if err := deleteSpokes(ctx, c, opts); err != nil {
		return err
	}
	if stack == nil {
		say("stack %s (%s): none", name, opts.Region)
	} else {
		if err := deleteStack(ctx, c.CloudFormation, name, opts.Region, opts.Progress); err != nil {
			return err
		}
		say("stack %s (%s): deleted", name, opts.Region)
	}
	n, existed, err := removeBucket(ctx, c.S3, bucket, opts.Account, opts.Region)
	if err != nil {
		return err
	}
	if existed {
		objects := "object versions"
		if n == 1 {
			objects = "object version"
		}
		say("bucket %s: emptied (%d %s) and deleted", bucket, n, objects)
	} else {
		say("bucket %s: none", bucket)
	}
	say("table %s (%s) is retained with its stanzas; to install again with it and with this stack's parameters: ebs-snapper deploy --region %s", Table, opts.Region, opts.Region)
	say("to remove the table too: aws dynamodb delete-table --table-name %s --region %s", Table, opts.Region)
	return nil
}
