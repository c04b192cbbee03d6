package cli

// Issue 19 through the built binary against moto (patched in process:
// internal/motoserver/patch.py honours CreateVolume's ClientToken and lets
// a test tag a snapshot into state error, or make the volumes restored
// from it stay in a state). A volume stuck in "creating" until the timeout
// needs a clock: it is tested on the fake in virtual time
// (internal/snapper/drill_test.go).

import (
	"encoding/csv"
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/report"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/faults"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

const drillStanza = `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "7 days", "minimum": 1, "frequency": "1 day"},
	"drill": {"every": "7 days", "timeout": "5 minutes", "max_gib_per_day": 1000}}`

// tag tags a resource in moto.
func (e *engineEnv) tag(id string, kv ...string) {
	e.t.Helper()
	var tags []ec2types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		tags = append(tags, ec2types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	if _, err := e.ec2.CreateTags(e.ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: tags}); err != nil {
		e.t.Fatal(err)
	}
}

// drillVolumes lists moto's volumes tagged as drill volumes.
func (e *engineEnv) drillVolumes() []string {
	e.t.Helper()
	out, err := e.ec2.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{{Name: aws.String("tag-key"), Values: []string{snapper.DrillRunTag}}}})
	if err != nil {
		e.t.Fatal(err)
	}
	var ids []string
	for _, v := range out.Volumes {
		ids = append(ids, aws.ToString(v.VolumeId))
	}
	return ids
}

func (e *engineEnv) lastDrill(snapID string) string {
	e.t.Helper()
	out, err := e.ec2.DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snapID}})
	if err != nil || len(out.Snapshots) != 1 {
		e.t.Fatalf("describe %s: %v", snapID, err)
	}
	return tagMap(out.Snapshots[0].Tags)[snapper.LastDrillTag]
}

func drillRows(out output) map[string]snapper.DrillRow {
	rows := map[string]snapper.DrillRow{}
	for _, r := range out.Regions[0].Drills {
		rows[r.VolumeID] = r
	}
	return rows
}

func TestDrillAgainstMoto(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("web", drillStanza)
	inst := e.launch(seeder.Group{Count: 1, Volumes: 4, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})[0]
	good, bad, stuck, spare := inst.VolumeIDs[0], inst.VolumeIDs[1], inst.VolumeIDs[2], inst.VolumeIDs[3]
	goodSnap := e.snapshot(good, date(7))
	badSnap := e.snapshot(bad, date(7))
	e.tag(badSnap, "ebs-snapper-test:snapshot-state", "error")
	stuckSnap := e.snapshot(stuck, date(7))
	e.tag(stuckSnap, "ebs-snapper-test:volume-state", "error")
	spareSnap := e.snapshot(spare, date(7))
	// A drill volume an earlier run left behind.
	left, err := e.ec2.CreateVolume(e.ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), SnapshotId: aws.String(spareSnap),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVolume, Tags: []ec2types.Tag{
			{Key: aws.String(snapper.DrillRunTag), Value: aws.String("20261101T000000Z-00000000000000aa")},
			{Key: aws.String(snapper.DrillSnapshotTag), Value: aws.String(spareSnap)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	leftover := aws.ToString(left.VolumeId)

	// A dry run plans four drills and changes nothing; CSV has a row each.
	plan := e.run(0, "drill", "--dry-run")
	rows := drillRows(plan)
	for _, v := range []string{good, bad, stuck, spare} {
		if rows[v].Action != snapper.ActionDrill || rows[v].Status != snapper.StatusPlanned {
			t.Errorf("dry run: %s %+v, want a planned drill", v, rows[v])
		}
	}
	if rows[bad].SnapshotID != badSnap || !strings.Contains(rows[bad].Reason, "is in state error") {
		t.Errorf("dry run: the snapshot in error: %+v", rows[bad])
	}
	if got := e.drillVolumes(); len(got) != 1 {
		t.Errorf("dry run left drill volumes %v, want only the leftover", got)
	}
	stdout, _, code := runBinary(t, e.srv, "", "drill", "--dry-run", "--region", "us-east-1", "--output", "csv")
	recs, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if code != 0 || err != nil || len(recs) != 5 || recs[1][1] != "drill" {
		t.Errorf("csv: exit %d, %v, %d records:\n%s", code, err, len(recs), stdout)
	}

	// A drill of the good volume, two hours on: the leftover is swept
	// first, the drill volume is created with the drill tags in the
	// creating call, found available, deleted, and the result tagged.
	var mu sync.Mutex
	var creates []url.Values
	proxy := faults.NewProxy(t, e.srv.URL, faults.ProxyOptions{Rules: []faults.Rule{{Action: "CreateVolume", Fault: faults.Delay, First: 1000, When: func(form url.Values) bool {
		mu.Lock()
		defer mu.Unlock()
		// The proxy asks each rule more than once per request.
		if form.Get("Action") == "CreateVolume" && !slices.ContainsFunc(creates, func(f url.Values) bool { return f.Encode() == form.Encode() }) {
			creates = append(creates, form)
		}
		return false
	}}}})
	later := at(2 * time.Hour)
	stdout, stderr, code := runBinaryWithEndpoint(t, e.srv, proxy.URL, "drill", "--region", "us-east-1", "--volume", good, "--now", later, "--unsafe-now", "--json")
	if code != ExitOK {
		t.Fatalf("drill: exit %d\n%s\n%s", code, stdout, stderr)
	}
	out := decode(t, stdout)
	r := drillRows(out)[good]
	if r.Outcome != snapper.DrillPassed || !r.Deleted || r.DrillVolumeID == "" || out.Regions[0].Summary.Drilled != 1 {
		t.Errorf("drill of %s: %+v", good, r)
	}
	if sw := out.Regions[0].Swept; len(sw) != 1 || sw[0].VolumeID != leftover || sw[0].Status != snapper.StatusDone {
		t.Errorf("swept %+v, want the leftover %s deleted", sw, leftover)
	}
	if got := e.drillVolumes(); len(got) != 0 {
		t.Errorf("drill volumes left: %v", got)
	}
	if got := e.lastDrill(goodSnap); !strings.HasPrefix(got, later+" passed ") {
		t.Errorf("%s tagged %s=%q, want %q passed", goodSnap, snapper.LastDrillTag, got, later)
	}
	if len(creates) != 1 || creates[0].Get("SnapshotId") != goodSnap || creates[0].Get("TagSpecification.1.ResourceType") != "volume" ||
		creates[0].Get("TagSpecification.1.Tag.1.Key") != snapper.DrillRunTag || creates[0].Get("TagSpecification.1.Tag.1.Value") != out.RunToken ||
		creates[0].Get("ClientToken") == "" || creates[0].Get("VolumeType") != "gp3" {
		t.Errorf("CreateVolume requests %v: want one from %s carrying %s=%s in its TagSpecification and a client token", creates, goodSnap, snapper.DrillRunTag, out.RunToken)
	}

	// A snapshot in state error is never drilled as a success: failed,
	// exit 3, no volume created.
	out = e.run(ExitPartial, "drill", "--volume", bad)
	if r := drillRows(out)[bad]; r.Outcome != snapper.DrillFailed || r.DrillVolumeID != "" || !strings.Contains(r.Error, "state error") {
		t.Errorf("drill of the snapshot in error: %+v", r)
	}
	if got := e.lastDrill(badSnap); !strings.Contains(got, " failed ") {
		t.Errorf("%s tagged %q, want a failed drill", badSnap, got)
	}

	// A volume that never becomes available (EC2 put it in error): failed,
	// exit 3, its volume deleted.
	out = e.run(ExitPartial, "drill", "--volume", stuck)
	if r := drillRows(out)[stuck]; r.Outcome != snapper.DrillFailed || r.DrillVolumeID == "" || !r.Deleted || !strings.Contains(r.Error, "went to state error") {
		t.Errorf("drill of a volume that never becomes available: %+v", r)
	}
	if got := e.drillVolumes(); len(got) != 0 {
		t.Errorf("drill volumes left: %v", got)
	}

	// report shows each volume's last drill and flags the failed ones and
	// the one never drilled.
	stdout, stderr, code = runBinary(t, e.srv, "", "report", "--region", "us-east-1", "--json")
	var rep report.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != ExitOK {
		t.Fatalf("report: exit %d, %v\n%s\n%s", code, err, stdout, stderr)
	}
	flags := map[string]string{}
	for _, v := range rep.Regions[0].Volumes {
		if v.Drill != nil {
			flags[v.VolumeID] = v.Drill.Flag
		}
	}
	if want := map[string]string{good: "", bad: report.DrillFlagFailed, stuck: report.DrillFlagFailed, spare: report.DrillFlagNever}; !maps.Equal(flags, want) {
		t.Errorf("report's drill flags %v, want %v", flags, want)
	}

	// The text output names each drill with its outcome.
	stdout, _, code = runBinary(t, e.srv, "", "drill", "--region", "us-east-1", "--dry-run")
	if code != 0 || !strings.Contains(stdout, "last drilled") || !strings.Contains(stdout, "drill as of") {
		t.Errorf("text: exit %d\n%s", code, stdout)
	}
}

func decode(t *testing.T, stdout string) output {
	t.Helper()
	var out output
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("decode report: %v\n%s", err, stdout)
	}
	return out
}

// Under the fault proxy, the first three CreateVolume answers are lost after
// moto acted: the SDK's retries repeat the client token and moto, patched
// to behave as EC2 does, answers with the same volume. One volume is made,
// found available and deleted. (When every attempt is lost, the drill
// settles by listing its tags: internal/snapper/drill_settle_test.go, in
// virtual time, as the SDK's backoff takes minutes.)
func TestDrillLostCreateVolumeAnswerThroughTheBinary(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("web", drillStanza)
	inst := e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})[0]
	snap := e.snapshot(inst.VolumeIDs[0], date(7))
	proxy := faults.NewProxy(t, e.srv.URL, faults.ProxyOptions{Rules: []faults.Rule{{Action: "CreateVolume", Fault: faults.DropAfter, First: 3}}})
	stdout, stderr, code := runBinaryWithEndpoint(t, e.srv, proxy.URL, "drill", "--region", "us-east-1", "--json")
	if code != ExitOK {
		t.Fatalf("drill: exit %d\n%s\n%s", code, stdout, stderr)
	}
	r := drillRows(decode(t, stdout))[inst.VolumeIDs[0]]
	if r.Outcome != snapper.DrillPassed || !r.Deleted {
		t.Errorf("drill %+v, want passed and its volume deleted", r)
	}
	if c := proxy.Counts()["CreateVolume"]; c.Faults[faults.DropAfter] < 2 {
		t.Errorf("CreateVolume counts %+v: want its answers lost and the request repeated", c)
	}
	all, err := e.ec2.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range all.Volumes {
		if aws.ToString(v.SnapshotId) == snap {
			t.Errorf("volume %s restored from %s left behind", aws.ToString(v.VolumeId), snap)
		}
	}
}
