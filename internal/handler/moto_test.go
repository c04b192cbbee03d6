package handler

// Integration tests against moto: the handlers with real AWS clients, real
// event payloads and a real SNS→SQS delivery. moto cannot invoke Lambda
// functions (no Docker), so the handlers are called in process here and the
// built bootstrap runs under the runtime interface emulator in rie_test.go.

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/lease"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

func TestMain(m *testing.M) { os.Exit(motoserver.RunTests(m)) }

const (
	motoTable  = "ebs_snapshot_configuration"
	leaseTable = "ebs_snapper_lease"
)

// motoAccount is moto with the configuration table holding stanza and an
// empty lease table, and the SDK configuration the handlers use.
func motoAccount(t *testing.T, stanza string) (context.Context, aws.Config) {
	t.Helper()
	srv := motoserver.Require(t)
	ctx := motoserver.Context(t)
	cfg := srv.Config(t)
	store := configstore.NewDynamo(dynamodb.NewFromConfig(cfg), motoTable)
	if err := store.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.Put(ctx, configstore.Item{AccountID: motoserver.AccountID, ID: "daily", Configuration: stanza}); err != nil {
		t.Fatal(err)
	}
	// As the stack's template declares it.
	if _, err := dynamodb.NewFromConfig(cfg).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(leaseTable),
		AttributeDefinitions: []dbtypes.AttributeDefinition{{AttributeName: aws.String(lease.KeyAttribute), AttributeType: dbtypes.ScalarAttributeTypeS}},
		KeySchema:            []dbtypes.KeySchemaElement{{AttributeName: aws.String(lease.KeyAttribute), KeyType: dbtypes.KeyTypeHash}},
		BillingMode:          dbtypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	return ctx, cfg
}

// launchInRegion starts one instance tagged backup=yes with two volumes in
// region.
func launchInRegion(t *testing.T, ctx context.Context, cfg aws.Config, region string) (*ec2.Client, seeder.Instance) {
	t.Helper()
	api := ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.Region = region })
	insts, err := seeder.Launch(ctx, api, seeder.Group{Count: 1, Volumes: 2, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	if err != nil {
		t.Fatal(err)
	}
	return api, insts[0]
}

// snapshotsOf returns the ids of the snapshots of the volume.
func snapshotsOf(t *testing.T, ctx context.Context, api *ec2.Client, volumeID string) []string {
	t.Helper()
	snaps, err := ebs.New(api, "").Snapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range snaps {
		if s.VolumeID == volumeID {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

func TestMotoWorkerSnapshotsTheDueVolumesOfItsRegion(t *testing.T) {
	ctx, cfg := motoAccount(t, dailyStanza)
	west, inst := launchInRegion(t, ctx, cfg, "us-west-2")
	east, other := launchInRegion(t, ctx, cfg, "eu-west-1")
	captureLogs(t)
	h := newHandler(t, Config{Name: Snapshot, Sources: account.FromAWS(cfg, motoTable), Version: "test"})
	// The payload as SNS delivers it, naming us-west-2.
	if err := h.Invoke(invokeCtx(t, "req-moto-1", 5*time.Minute), readJSON(t, "testdata/sns-event.json", nil)); err != nil {
		t.Fatal(err)
	}
	for _, v := range inst.VolumeIDs {
		if got := snapshotsOf(t, ctx, west, v); len(got) != 1 {
			t.Errorf("volume %s has %d snapshots, want 1", v, len(got))
		}
	}
	if got := snapshotsOf(t, ctx, east, other.VolumeIDs[0]); len(got) != 0 {
		t.Errorf("a volume of another region was snapshotted: %v", got)
	}
	// A second delivery of the same message finds nothing due.
	if err := h.Invoke(invokeCtx(t, "req-moto-2", 5*time.Minute), readJSON(t, "testdata/sns-event.json", nil)); err != nil {
		t.Fatal(err)
	}
	if got := snapshotsOf(t, ctx, west, inst.VolumeIDs[0]); len(got) != 1 {
		t.Errorf("after a second delivery %d snapshots, want still 1", len(got))
	}
}

// TestMotoFanoutPublishesOneMessagePerRegion follows the fan-out's messages
// into a real SQS queue (SendMessageBatch), and the replication rule
// through EventBridge.
func TestMotoFanoutPublishesOneMessagePerRegion(t *testing.T) {
	ctx, cfg := motoAccount(t, replicatingStanza)
	sqsAPI, events := sqs.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg)
	queue, err := sqsAPI.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("worker")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("replication"), ScheduleExpression: aws.String("rate(30 minutes)"),
		State: ebtypes.RuleStateDisabled}); err != nil {
		t.Fatal(err)
	}
	captureLogs(t)
	src := account.FromAWS(cfg, motoTable)
	h := newHandler(t, Config{Name: FanoutSnapshot, Sources: src, QueueURL: aws.ToString(queue.QueueUrl), SQS: sqsAPI,
		ReplicationRule: "replication", Events: events})
	if err := h.Invoke(invokeCtx(t, "req-moto-3", 5*time.Minute), readJSON(t, "testdata/scheduled-event.json", nil)); err != nil {
		t.Fatal(err)
	}

	regions, err := src.Regions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range regions {
		want = append(want, `{"region": "`+r+`"}`)
	}
	var got []string
	for len(got) < len(want) {
		out, err := sqsAPI.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			got = append(got, aws.ToString(m.Body))
			if _, err := sqsAPI.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: queue.QueueUrl, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages in the queue (-want +got):\n%s", diff)
	}
	rule, err := events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("replication")})
	if err != nil {
		t.Fatal(err)
	}
	if rule.State != ebtypes.RuleStateEnabled {
		t.Errorf("replication rule %s, want ENABLED: a stanza asks for replication", rule.State)
	}
	// Every message decodes as the workers decode it.
	for _, m := range got {
		var msg regionMessage
		if err := json.Unmarshal([]byte(m), &msg); err != nil || !slices.Contains(regions, msg.Region) {
			t.Errorf("message %s: %v", m, err)
		}
	}
}

// holdingEC2 holds the first CreateSnapshot of a run until release is
// closed, and closes reached when it gets there.
type holdingEC2 struct {
	snapper.EC2
	once             sync.Once
	reached, release chan struct{}
}

func (e *holdingEC2) CreateSnapshot(ctx context.Context, volumeID, description string, tags []inventory.Tag) (inventory.Snapshot, error) {
	e.once.Do(func() { close(e.reached); <-e.release })
	return e.EC2.CreateSnapshot(ctx, volumeID, description, tags)
}

// Two snapshot workers on one region, with the lease in moto's DynamoDB:
// the second starts while the first has planned and is about to create
// (held there), so without the lease both would snapshot every volume.
// The volumes are snapshotted once, counted in CreateSnapshot calls, and
// the second worker is turned away. (The two do not race their PutItems:
// moto's conditional writes are not atomic under concurrent requests, as
// DynamoDB's are; the race itself is tested on lease.Memory.)
func TestMotoTwoWorkersOnOneRegionDoTheWorkOnce(t *testing.T) {
	ctx, _ := motoAccount(t, dailyStanza)
	calls := &awsclient.Calls{}
	cfg, err := awsclient.Load(ctx, "us-east-1", calls) // the environment points at moto
	if err != nil {
		t.Fatal(err)
	}
	api := ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.Region = "us-west-2" })
	insts, err := seeder.Launch(ctx, api, seeder.Group{Count: 3, Volumes: 2, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	if err != nil {
		t.Fatal(err)
	}
	logs := captureLogs(t)
	leases := lease.NewDynamo(dynamodb.NewFromConfig(cfg), leaseTable)
	worker := func(src account.Sources) *Handler {
		return newHandler(t, Config{Name: Snapshot, Sources: src, QueueURL: queueURL, SQS: &recordingSQS{}, Leases: leases, Calls: calls})
	}
	held := &holdingEC2{reached: make(chan struct{}), release: make(chan struct{})}
	first := account.FromAWS(cfg, motoTable)
	regionEC2 := first.EC2
	first.EC2 = func(region string) snapper.EC2 { held.EC2 = regionEC2(region); return held }

	done := make(chan error, 1)
	go func() {
		done <- worker(first).Invoke(invokeCtx(t, "req-moto-first", 5*time.Minute), readJSON(t, "testdata/sns-event.json", nil))
	}()
	select {
	case <-held.reached:
	case err := <-done:
		t.Fatalf("the first worker ended before creating: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("the first worker never reached CreateSnapshot")
	}
	if err := worker(account.FromAWS(cfg, motoTable)).Invoke(invokeCtx(t, "req-moto-second", 5*time.Minute), readJSON(t, "testdata/sns-event.json", nil)); err != nil {
		t.Error(err)
	}
	close(held.release)
	if err := <-done; err != nil {
		t.Error(err)
	}

	volumes := 0
	for _, inst := range insts {
		for _, v := range inst.VolumeIDs {
			volumes++
			if got := snapshotsOf(t, ctx, api, v); len(got) != 1 {
				t.Errorf("volume %s has %d snapshots, want 1", v, len(got))
			}
		}
	}
	if n := calls.Get("EC2.CreateSnapshot").Calls; n != volumes {
		t.Errorf("%d CreateSnapshot calls, want %d", n, volumes)
	}
	busy := logLines(t, logs, "region busy: another worker holds its lease and does the work")
	if len(busy) != 1 || busy[0]["request_id"] != "req-moto-second" {
		t.Errorf("turned away: %v, want the second worker", busy)
	}
	// The lease was released at the end: the next scheduled run may start.
	if err := leases.Acquire(ctx, lease.Lease{Key: lease.Key(Snapshot, "us-west-2"), Holder: "next", Expires: time.Now().Add(time.Minute)}, "", time.Now()); err != nil {
		t.Errorf("after both: %v", err)
	}
}
