package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/lease"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/faults"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// createLeaseTable creates the stack's lease table in moto, as the
// template declares it.
func (e *engineEnv) createLeaseTable() *lease.Dynamo {
	e.t.Helper()
	api := dynamodb.NewFromConfig(e.srv.Config(e.t))
	if _, err := api.CreateTable(e.ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(lease.Table),
		AttributeDefinitions: []dbtypes.AttributeDefinition{{AttributeName: aws.String(lease.KeyAttribute), AttributeType: dbtypes.ScalarAttributeTypeS}},
		KeySchema:            []dbtypes.KeySchemaElement{{AttributeName: aws.String(lease.KeyAttribute), KeyType: dbtypes.KeyTypeHash}},
		BillingMode:          dbtypes.BillingModePayPerRequest,
	}); err != nil {
		e.t.Fatal(err)
	}
	return lease.NewDynamo(api, lease.Table)
}

// Issue 16 item 8: two snapshot runs started together on one fleet give
// every volume exactly one snapshot, with the stack's lease table and
// without a stack (lock files); the run turned away says which run holds
// the region, and exits 0: that run does the work.
func TestOverlappingSnapshotRunsNeverDoubleASnapshot(t *testing.T) {
	for _, withTable := range []bool{true, false} {
		t.Run(fmt.Sprintf("lease table %v", withTable), func(t *testing.T) {
			e := newEngineEnv(t)
			if withTable {
				e.createLeaseTable()
			}
			insts := e.launch(seeder.Group{Count: 4, Volumes: 2, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
			e.stanza("web", webStanza)
			// Each CreateSnapshot takes 200 ms, so the runs overlap.
			proxy := faults.NewProxy(t, e.srv.URL, faults.ProxyOptions{Rules: []faults.Rule{
				{Action: "CreateSnapshot", Fault: faults.Delay, Delay: 200 * time.Millisecond, First: 1 << 30},
			}})
			cache := "XDG_CACHE_HOME=" + t.TempDir()
			a := startBinaryEnv(t, e, proxy.URL, []string{cache}, "snapshot", "--region", "us-east-1", "--json")
			b := startBinaryEnv(t, e, proxy.URL, []string{cache}, "snapshot", "--region", "us-east-1", "--json")
			a.wait(t, 2*time.Minute)
			b.wait(t, 2*time.Minute)
			created, busy := 0, 0
			for _, r := range []*running{a, b} {
				if r.code != ExitOK {
					t.Errorf("exit %d\n%s\n%s", r.code, r.stdout.String(), r.stderr.String())
				}
				var out output
				if err := json.Unmarshal(r.stdout.Bytes(), &out); err != nil {
					t.Fatalf("%v\n%s", err, r.stdout.String())
				}
				created += out.Regions[0].Summary.Created
				if strings.HasPrefix(out.Regions[0].Skipped, "region busy: another run holds its snapshot lease") {
					busy++
				}
			}
			snaps := e.snapshots()
			for _, inst := range insts {
				for _, v := range inst.VolumeIDs {
					if n := len(snaps[v]); n != 1 {
						t.Errorf("volume %s has %d snapshots, want 1", v, n)
					}
				}
			}
			if created != 8 || busy != 1 {
				t.Errorf("created %d (want 8), %d runs turned away (want 1)", created, busy)
			}
		})
	}
}

// Item 8 with the stack's worker: while a worker holds a region's lease,
// snapshot, clean and replication leave that region to it; --ignore-lease
// runs anyway; a CLI run releases the leases it took.
func TestCLIRunLeavesARegionToTheWorkerHoldingIt(t *testing.T) {
	e := newEngineEnv(t)
	leases := e.createLeaseTable()
	e.launch(seeder.Group{Count: 2, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	e.stanza("web", webStanza)
	ctx := context.Background()
	for _, job := range []string{"snapshot", "clean", "replication"} {
		worker := lease.Lease{Key: lease.Key(job, "us-east-1"), Holder: "req-worker", Chain: "req-worker", Expires: time.Now().Add(10 * time.Minute)}
		if err := leases.Acquire(ctx, worker, "", time.Now()); err != nil {
			t.Fatal(err)
		}
		out := e.run(ExitOK, job)
		if r := out.Regions[0]; !strings.Contains(r.Skipped, "region busy: another run holds its "+job+" lease") || !strings.Contains(r.Skipped, "holder req-worker") {
			t.Errorf("%s: region %+v, want it left to the worker", job, r)
		}
	}
	if n := len(e.snapshots()); n != 0 {
		t.Fatalf("%d volumes snapshotted while the worker held the lease", n)
	}
	if got := e.run(ExitOK, "snapshot", "--ignore-lease").Regions[0].Summary.Created; got != 2 {
		t.Errorf("--ignore-lease: created %d, want 2", got)
	}
	// The worker's lease is left alone; a lease the CLI took is released.
	if err := leases.Release(ctx, lease.Key("snapshot", "us-east-1"), "req-worker"); err != nil {
		t.Fatal(err)
	}
	e.run(ExitOK, "snapshot")
	next := lease.Lease{Key: lease.Key("snapshot", "us-east-1"), Holder: "req-next", Expires: time.Now().Add(time.Minute)}
	if err := leases.Acquire(ctx, next, "", time.Now()); err != nil {
		t.Errorf("after the CLI's run: %v", err)
	}
}
