package handler

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/lease"
)

// iamPrefix maps the SDK's service ids to IAM's service prefixes; STS's
// GetCallerIdentity needs no permission (STS API reference) and is left
// out.
var iamPrefix = map[string]string{"EC2": "ec2", "DynamoDB": "dynamodb", "SQS": "sqs", "EventBridge": "events", "rbin": "rbin", "S3": "s3"}

// opRecorder records, as IAM actions, every AWS operation sent through the
// clients of an aws.Config it is added to.
type opRecorder struct {
	mu  sync.Mutex
	ops map[string]bool
}

func (r *opRecorder) addTo(cfg *aws.Config) {
	cfg.APIOptions = append(slices.Clone(cfg.APIOptions), func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("recordOperation", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			svc, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
			r.mu.Lock()
			if p, ok := iamPrefix[svc]; ok {
				r.ops[IAMAction(p+":"+op)] = true
			} else if svc != "STS" {
				r.ops[svc+":"+op] = true
			}
			r.mu.Unlock()
			return next.HandleInitialize(ctx, in)
			// After the operation's own Initialize middleware: newer SDK
			// clients (rbin) register the service and operation names
			// there, and Before would read them empty.
		}), middleware.After)
	})
}

// take returns the actions recorded since the last take, sorted, and
// forgets them.
func (r *opRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for op := range r.ops {
		out = append(out, op)
	}
	clear(r.ops)
	slices.Sort(out)
	return out
}

// The six handlers run against moto with real clients (a snapshot fan-out
// turning replication on, snapshot, clean of an expired snapshot,
// replication to another region), every AWS call recorded: each calls
// only what Calls lists for it, so a role granting Calls suffices. The
// other direction, that every listed action is one the code can call, is
// TestCallsAreTheAdaptersActions.
func TestMotoHandlersCallOnlyWhatTheirRolesGrant(t *testing.T) {
	ctx, cfg := motoAccount(t, `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 0, "frequency": "1 day"}, "replication": "yes",
		"drill": {"every": "7 days"}}`)
	rec := &opRecorder{ops: map[string]bool{}}
	recorded := cfg.Copy()
	rec.addTo(&recorded)

	west, inst := launchInRegion(t, ctx, cfg, "us-west-2")
	sqsAPI, events := sqs.NewFromConfig(recorded), eventbridge.NewFromConfig(recorded)
	queues := map[string]string{}
	for _, name := range Names() {
		out, err := sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		queues[name] = aws.ToString(out.QueueUrl)
	}
	if _, err := eventbridge.NewFromConfig(cfg).PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("replication"),
		ScheduleExpression: aws.String("rate(30 minutes)"), State: ebtypes.RuleStateDisabled}); err != nil {
		t.Fatal(err)
	}
	leases := lease.NewDynamo(dynamodb.NewFromConfig(recorded), leaseTable)
	captureLogs(t)
	now := time.Now
	run := func(name string, event []byte) {
		t.Helper()
		h := newHandler(t, Config{Name: name, Sources: account.FromAWS(recorded, motoTable), QueueURL: queues[name], SQS: sqsAPI,
			ReplicationRule: "replication", Events: events, Leases: leases, Version: "test", Now: now})
		_ = rec.take()
		if err := h.Invoke(invokeCtx(t, "req-"+name, 5*time.Minute), event); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		got := rec.take()
		want, err := Calls(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range got {
			if !slices.Contains(want, op) {
				t.Errorf("handler %s called %s, which its role does not grant (Calls: %v)", name, op, want)
			}
		}
		t.Logf("%s called %s", name, strings.Join(got, ", "))
	}
	scheduled := readJSON(t, "testdata/scheduled-event.json", nil)
	west2 := snsEvent(t, Message("us-west-2"))
	run(FanoutSnapshot, scheduled)
	run(FanoutClean, scheduled)
	run(Snapshot, west2)
	var ids []string
	for _, v := range inst.VolumeIDs {
		ids = append(ids, snapshotsOf(t, ctx, west, v)...)
	}
	if len(ids) != len(inst.VolumeIDs) {
		t.Fatalf("the snapshot worker made %d snapshots of %d volumes", len(ids), len(inst.VolumeIDs))
	}
	tag := func(ids []string, k, v string) {
		t.Helper()
		if _, err := west.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: []ec2types.Tag{{Key: aws.String(k), Value: aws.String(v)}}}); err != nil {
			t.Fatal(err)
		}
	}
	// The user's tag that asks for a copy in us-east-1.
	tag(ids, "replication_dst_region", "us-east-1")
	run(FanoutReplication, scheduled)
	run(Replication, west2)
	// Ten days on the worker's snapshots have expired; each volume gets a
	// newer one (the newest is never deleted), so the clean worker deletes.
	now = func() time.Time { return time.Now().Add(10 * 24 * time.Hour) }
	made, err := west.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: ids})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range made.Snapshots {
		if _, err := west.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: s.VolumeId, Description: s.Description,
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot, Tags: s.Tags}}}); err != nil {
			t.Fatal(err)
		}
	}
	// The drill pipeline restores the volumes' newest snapshots and
	// deletes its volumes again.
	run(FanoutDrill, scheduled)
	run(Drill, west2)
	if left, err := west.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{{Name: aws.String("tag-key"), Values: []string{"ebs-snapper:drill-run"}}}}); err != nil || len(left.Volumes) != 0 {
		t.Errorf("drill volumes left: %v, %v", left, err)
	}
	run(Clean, west2)
	for _, v := range inst.VolumeIDs {
		if n := len(snapshotsOf(t, ctx, west, v)); n != 1 {
			t.Errorf("volume %s has %d snapshots after the clean worker, want 1: the expired one kept, the delete path not exercised", v, n)
		}
	}
}

// Together the handlers' lists are exactly the actions the adapters' API
// interfaces can call: an adapter operation no handler owns, or a listed
// action no adapter calls, fails here.
func TestCallsAreTheAdaptersActions(t *testing.T) {
	var adapters, listed []string
	for _, a := range [][]string{ebs.IAMActions(), ebs.RecycleBinIAMActions(), configstore.IAMActions(), lease.IAMActions(), IAMActions(), awsclient.S3IAMActions(), awsclient.OrganizationsIAMActions(), awsclient.SpokeIAMActions()} {
		adapters = append(adapters, a...)
	}
	for _, name := range Names() {
		c, err := Calls(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(c) == 0 {
			t.Errorf("handler %s calls nothing", name)
		}
		listed = append(listed, c...)
	}
	slices.Sort(adapters)
	slices.Sort(listed)
	adapters, listed = slices.Compact(adapters), slices.Compact(listed)
	for _, a := range adapters {
		if !slices.Contains(listed, a) {
			t.Errorf("an adapter can call %s but no handler lists it: add it to calls (internal/handler/iam.go) for each handler whose code calls it, and grant it in that function's role in internal/deploy/template.json", a)
		}
	}
	for _, a := range listed {
		if !slices.Contains(adapters, a) {
			t.Errorf("a handler lists %s but no adapter calls it", a)
		}
	}
	if _, err := Calls("nope"); err == nil {
		t.Error("Calls of an unknown handler: no error")
	}
}
