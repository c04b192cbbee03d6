package cli

// Integration tests of snapshot, clean and plan: the built binary against
// moto, seeded through the real SDK. moto stamps snapshots with its own
// clock, so time moves through --now and DeleteOn tags are set directly.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/faults"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/motoserver"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// engineEnv is moto with the configuration table and SDK clients for
// seeding and checking.
type engineEnv struct {
	t     *testing.T
	srv   *motoserver.Server
	ctx   context.Context
	ec2   *ec2.Client
	store *configstore.Dynamo
}

func newEngineEnv(t *testing.T) *engineEnv {
	srv := motoserver.Require(t)
	ctx := motoserver.Context(t)
	cfg := srv.Config(t)
	e := &engineEnv{t: t, srv: srv, ctx: ctx, ec2: ec2.NewFromConfig(cfg), store: configstore.NewDynamo(dynamodb.NewFromConfig(cfg), DefaultTable)}
	if err := e.store.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

// stanza stores a stanza straight into the table (configure -s is tested
// on its own).
func (e *engineEnv) stanza(id, js string) {
	e.t.Helper()
	if err := e.store.Put(e.ctx, configstore.Item{AccountID: motoserver.AccountID, ID: id, Configuration: js}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *engineEnv) launch(g seeder.Group) []seeder.Instance {
	e.t.Helper()
	inst, err := seeder.Launch(e.ctx, e.ec2, g)
	if err != nil {
		e.t.Fatal(err)
	}
	return inst
}

func (e *engineEnv) snapshot(vol string, tags ...inventory.Tag) string {
	e.t.Helper()
	id, err := seeder.Snapshot(e.ctx, e.ec2, vol, tags...)
	if err != nil {
		e.t.Fatal(err)
	}
	// No pause between snapshots: moto stamps whole seconds, so snapshots
	// seeded together tie on StartTime, and retention then orders them by
	// DeleteOn. Seed each volume's snapshots in DeleteOn order.
	return id
}

// snapshotBy takes a snapshot of vol as ebs-snapper does for stanza: its
// Description names the stanza (what clean's orphans policies read), its
// tags are given.
func (e *engineEnv) snapshotBy(vol, stanza string, tags ...inventory.Tag) string {
	e.t.Helper()
	var ts []ec2types.Tag
	for _, t := range tags {
		ts = append(ts, ec2types.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
	}
	out, err := e.ec2.CreateSnapshot(e.ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(vol),
		Description:       aws.String(snapper.Description("test", "i-0", "ami-0", vol, stanza)),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot, Tags: ts}}})
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(out.SnapshotId)
}

// backdate moves the snapshots of us-east-1 with the given ids (every one
// when none is given) sixty days back, one second
// apart in the order retention reads them (StartTime, DeleteOn, id), so
// that the snapshots seeded with DeleteOn dates are older than their
// stanza's retention, as they would be in EC2; clean never deletes a
// snapshot younger than its retention. moto stamps StartTime with its own
// clock and its API cannot change it: the server's staging endpoint does
// (motoserver.StageSnapshot).
func (e *engineEnv) backdate(only ...string) {
	e.t.Helper()
	out, err := e.ec2.DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	if err != nil {
		e.t.Fatal(err)
	}
	snaps := out.Snapshots
	sort.Slice(snaps, func(i, j int) bool {
		a, b := snaps[i], snaps[j]
		if ta, tb := aws.ToTime(a.StartTime), aws.ToTime(b.StartTime); !ta.Equal(tb) {
			return ta.Before(tb)
		}
		if da, db := tagMap(a.Tags)["DeleteOn"], tagMap(b.Tags)["DeleteOn"]; da != db {
			return da < db
		}
		return aws.ToString(a.SnapshotId) < aws.ToString(b.SnapshotId)
	})
	base := time.Now().UTC().Add(-60 * 24 * time.Hour).Truncate(time.Second)
	for i, s := range snaps {
		if len(only) > 0 && !slices.Contains(only, aws.ToString(s.SnapshotId)) {
			continue
		}
		if err := e.srv.StageSnapshot("us-east-1", aws.ToString(s.SnapshotId), motoserver.SnapshotStage{StartTime: base.Add(time.Duration(i) * time.Second)}); err != nil {
			e.t.Fatal(err)
		}
	}
}

// snapshots returns the region's snapshots by volume, oldest first.
func (e *engineEnv) snapshots() map[string][]ec2types.Snapshot {
	e.t.Helper()
	out, err := e.ec2.DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	if err != nil {
		e.t.Fatal(err)
	}
	by := map[string][]ec2types.Snapshot{}
	for _, s := range out.Snapshots {
		by[aws.ToString(s.VolumeId)] = append(by[aws.ToString(s.VolumeId)], s)
	}
	for _, ss := range by {
		sort.Slice(ss, func(i, j int) bool { return aws.ToTime(ss[i].StartTime).Before(aws.ToTime(ss[j].StartTime)) })
	}
	return by
}

// run runs the binary in us-east-1 and decodes its --json report.
func (e *engineEnv) run(wantCode int, args ...string) output {
	e.t.Helper()
	return e.runIn([]string{"us-east-1"}, wantCode, args...)
}

// runIn runs the binary in regions and decodes its --json report.
func (e *engineEnv) runIn(regions []string, wantCode int, args ...string) output {
	e.t.Helper()
	args = append(args, "--json")
	for _, r := range regions {
		args = append(args, "--region", r)
	}
	stdout, stderr, code := runBinary(e.t, e.srv, "", args...)
	if code != wantCode {
		e.t.Fatalf("ebs-snapper %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantCode, stdout, stderr)
	}
	var out output
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		e.t.Fatalf("decode report: %v\n%s", err, stdout)
	}
	return out
}

func date(days int) inventory.Tag {
	return inventory.Tag{Key: "DeleteOn", Value: time.Now().UTC().AddDate(0, 0, days).Format(time.DateOnly)}
}

func at(d time.Duration) string { return time.Now().UTC().Add(d).Format(time.RFC3339) }

func tagMap(tags []ec2types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

const webStanza = `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 2, "frequency": "12 hours"}, "ignore": []}`

func TestSnapshotFirstRunThenFrequency(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("web", webStanza)
	web := e.launch(seeder.Group{Count: 1, Volumes: 2, ImageID: "ami-0abc",
		Tags:       []inventory.Tag{{Key: "backup", Value: "yes"}, {Key: "Name", Value: "Foo"}, {Key: "Service", Value: "Bar"}},
		VolumeTags: []inventory.Tag{{Key: "Service", Value: "Baz"}, {Key: "DeleteOn", Value: "1999-01-01"}}})
	other := e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "no"}}})

	// One instant for the run and the expected DeleteOn, so that the test
	// holds when it runs across midnight UTC.
	start := time.Now().UTC()
	out := e.run(0, "snapshot", "--now", start.Format(time.RFC3339))
	if got := out.Regions[0].Summary.Created; got != 2 {
		t.Fatalf("created %d snapshots, want 2", got)
	}
	snaps := e.snapshots()
	if len(snaps[other[0].VolumeIDs[0]]) != 0 {
		t.Error("an instance not matched by the stanza was snapshotted")
	}
	// The first UTC date on which the 4 days have passed (--now has whole
	// seconds): the next midnight after start + 96h, unless that is one.
	expires := start.Truncate(time.Second).Add(96 * time.Hour)
	wantDeleteOn := expires.Format(time.DateOnly)
	if !expires.Equal(expires.Truncate(24 * time.Hour)) {
		wantDeleteOn = expires.Truncate(24*time.Hour).AddDate(0, 0, 1).Format(time.DateOnly)
	}
	for _, vol := range web[0].VolumeIDs {
		if len(snaps[vol]) != 1 {
			t.Fatalf("%s: %d snapshots, want 1", vol, len(snaps[vol]))
		}
		s := snaps[vol][0]
		wantDesc := fmt.Sprintf("Created from %s by EbsSnapper(%s) for ami-0abc from %s; stanza web", web[0].ID, builtVersion(t).Version, vol)
		if got := aws.ToString(s.Description); got != wantDesc {
			t.Errorf("description = %q, want %q", got, wantDesc)
		}
		want := map[string]string{"DeleteOn": wantDeleteOn, "ebs-snapper:config-id": "web", "Name": "Foo", "Service": "Baz", "backup": "yes", snapper.RunTag: out.RunToken}
		if got := tagMap(s.Tags); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s tags = %v, want %v", vol, got, want)
		}
	}

	// Not due again before 12 hours; due after.
	later := func(d time.Duration) string { return start.Add(d).Format(time.RFC3339) }
	if got := e.run(0, "snapshot", "--now", later(11*time.Hour)).Regions[0].Summary.Created; got != 0 {
		t.Errorf("11 hours later: created %d, want 0", got)
	}
	if got := e.run(0, "snapshot", "--now", later(13*time.Hour)).Regions[0].Summary.Created; got != 2 {
		t.Errorf("13 hours later: created %d, want 2", got)
	}
	for _, ss := range e.snapshots() {
		for _, s := range ss {
			if _, ok := tagMap(s.Tags)["DeleteOn"]; !ok {
				t.Errorf("snapshot %s has no DeleteOn tag", aws.ToString(s.SnapshotId))
			}
		}
	}
}

func TestSnapshotCronFrequency(t *testing.T) {
	e := newEngineEnv(t)
	// Daily at a time three hours from now (UTC), so the test does not
	// depend on when it runs.
	fire := time.Now().UTC().Add(3 * time.Hour).Truncate(time.Minute)
	e.stanza("nightly", fmt.Sprintf(`{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "7 days", "minimum": 1, "frequency": "%d %d * * *"}}`, fire.Minute(), fire.Hour()))
	e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	if got := e.run(0, "snapshot").Regions[0].Summary.Created; got != 1 {
		t.Fatalf("first run created %d, want 1", got)
	}
	// Due from the slack (10 minutes for a daily cron) before the fire.
	before := fire.Add(-11 * time.Minute).Format(time.RFC3339)
	after := fire.Add(time.Minute).Format(time.RFC3339)
	if got := e.run(0, "snapshot", "--now", before).Regions[0].Summary.Created; got != 0 {
		t.Errorf("11 minutes before the cron fires: created %d, want 0", got)
	}
	if got := e.run(0, "snapshot", "--now", after).Regions[0].Summary.Created; got != 1 {
		t.Errorf("a minute after the cron fires: created %d, want 1", got)
	}
}

func TestIgnoreByInstanceVolumeAndSnapshot(t *testing.T) {
	e := newEngineEnv(t)
	inst := e.launch(seeder.Group{Count: 3, Volumes: 2, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	ignoredInstance, ignoredVolume := inst[0], inst[1].VolumeIDs[1]
	kept := e.snapshot(inst[2].VolumeIDs[0], date(-3))
	e.snapshot(inst[2].VolumeIDs[0], date(-2))
	e.snapshot(inst[2].VolumeIDs[0], date(5))
	// Due snapshots of the ignored instance and volume, one a volume-level
	// newest is not protecting (two each).
	for _, vol := range []string{ignoredInstance.VolumeIDs[0], ignoredVolume} {
		e.snapshot(vol, date(-3))
		e.snapshot(vol, date(-2))
	}
	e.stanza("web", fmt.Sprintf(`{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 0, "frequency": "1 hour"},
		"ignore": [%q, %q, %q], "ignore_retention": true}`, ignoredInstance.ID, ignoredVolume, kept))
	e.backdate()

	out := e.run(0, "snapshot")
	created := map[string]bool{}
	for _, r := range out.Regions[0].Snapshots {
		if r.Action == "create" {
			created[r.VolumeID] = true
		}
	}
	for _, vol := range append(ignoredInstance.VolumeIDs, ignoredVolume) {
		if created[vol] {
			t.Errorf("ignored %s was snapshotted", vol)
		}
	}
	if !created[inst[1].VolumeIDs[0]] {
		t.Errorf("%s (not ignored) was not snapshotted", inst[1].VolumeIDs[0])
	}

	out = e.run(0, "clean")
	deleted := map[string]bool{}
	for _, r := range out.Regions[0].Clean {
		if r.Action == "delete" {
			deleted[r.SnapshotID] = true
		}
		if r.VolumeID == ignoredVolume || r.VolumeID == ignoredInstance.VolumeIDs[0] {
			if r.Action != "keep" || !strings.Contains(r.Reason, "ignored") {
				t.Errorf("%s of ignored %s: %s (%s), want kept as ignored", r.SnapshotID, r.VolumeID, r.Action, r.Reason)
			}
		}
	}
	if deleted[kept] {
		t.Errorf("ignored snapshot %s was deleted", kept)
	}
	if len(deleted) != 1 {
		t.Errorf("deleted %v, want exactly the one due, unignored snapshot", deleted)
	}
}

func TestCleanDownToMinimumInOneRun(t *testing.T) {
	e := newEngineEnv(t)
	inst := e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	vol := inst[0].VolumeIDs[0]
	var ids []string
	// Oldest first: two due more than 7 days ago, three due recently, two
	// not due; a future DeleteOn next to another tag holding a past date.
	for _, d := range []int{-30, -12, -6, -2, -1, 3, 4} {
		tags := []inventory.Tag{date(d)}
		if d == 3 {
			tags = append(tags, inventory.Tag{Key: "Expires", Value: time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)})
		}
		ids = append(ids, e.snapshot(vol, tags...))
	}
	e.stanza("web", `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 3, "frequency": "12 hours"}}`)
	e.backdate()

	// 7 snapshots, minimum 3: the four oldest due go, the fifth due one
	// stays because the minimum is reached.
	out := e.run(0, "clean")
	actions := map[string]string{}
	for _, r := range out.Regions[0].Clean {
		actions[r.SnapshotID] = string(r.Action) + ":" + r.Status
	}
	want := map[string]string{ids[0]: "delete:done", ids[1]: "delete:done", ids[2]: "delete:done", ids[3]: "delete:done",
		ids[4]: "keep:", ids[5]: "keep:", ids[6]: "keep:"}
	if fmt.Sprint(actions) != fmt.Sprint(want) {
		t.Errorf("clean decisions = %v\nwant %v", actions, want)
	}
	left := e.snapshots()[vol]
	if len(left) != 3 {
		t.Errorf("%d snapshots left, want the minimum 3", len(left))
	}
	// A second run deletes nothing more.
	if got := e.run(0, "clean").Regions[0].Summary.Deleted; got != 0 {
		t.Errorf("second clean deleted %d, want 0", got)
	}
}

func TestCleanKeepsOrphansUnlessIgnoreRetention(t *testing.T) {
	e := newEngineEnv(t)
	e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	gone := e.launch(seeder.Group{Count: 1})
	vol := gone[0].VolumeIDs[0]
	old1, old2, newest := e.snapshot(vol, date(-9)), e.snapshot(vol, date(-5)), e.snapshot(vol, date(-1))
	e.backdate()
	if err := seeder.Terminate(e.ctx, e.ec2, gone[0].ID); err != nil {
		t.Fatal(err)
	}
	e.stanza("web", webStanza)
	for _, r := range e.run(0, "clean").Regions[0].Clean {
		want := "minimum unknown"
		if r.SnapshotID == newest {
			want = "newest completed snapshot"
		}
		if r.Action != "keep" || !strings.Contains(r.Reason, want) {
			t.Errorf("orphan %s: %s (%s), want kept: %s", r.SnapshotID, r.Action, r.Reason, want)
		}
	}

	e.stanza("orphans", `{"match": {"tag:none": "none"}, "snapshot": {"retention": "1 day", "minimum": 9, "frequency": "1 day"}, "ignore_retention": true}`)
	out := e.run(0, "clean")
	deleted := map[string]bool{}
	for _, r := range out.Regions[0].Clean {
		if r.Action == "delete" && r.Status == "done" {
			deleted[r.SnapshotID] = true
		}
	}
	if !deleted[old1] || !deleted[old2] || deleted[newest] || len(deleted) != 2 {
		t.Errorf("deleted %v, want %s and %s but never the newest %s", deleted, old1, old2, newest)
	}
}

func TestCleanKeepsSnapshotBackingAnAMI(t *testing.T) {
	e := newEngineEnv(t)
	inst := e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	ami, amiSnap, err := seeder.Image(e.ctx, e.ec2, inst[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ec2.CreateTags(e.ctx, &ec2.CreateTagsInput{Resources: []string{amiSnap}, Tags: []ec2types.Tag{{Key: aws.String("DeleteOn"), Value: aws.String(date(-3).Value)}}}); err != nil {
		t.Fatal(err)
	}
	e.backdate()
	// moto's AMI snapshot names a volume that does not exist: an orphan,
	// which ignore_retention would delete were it not for the AMI.
	e.stanza("web", `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 0, "frequency": "12 hours"}, "ignore_retention": true}`)
	out := e.run(0, "clean")
	var found bool
	for _, r := range out.Regions[0].Clean {
		if r.SnapshotID == amiSnap {
			found = true
			if r.Action != "keep" || !strings.Contains(r.Reason, ami) {
				t.Errorf("AMI snapshot: %s (%s), want kept naming %s", r.Action, r.Reason, ami)
			}
		}
	}
	if !found {
		t.Fatalf("AMI snapshot %s not among the clean candidates", amiSnap)
	}
}

func TestBadStanzaDoesNotStopGoodOnes(t *testing.T) {
	e := newEngineEnv(t)
	e.launch(seeder.Group{Count: 2, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	e.stanza("a-broken", `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 months", "minimum": 5, "frequency": "12 hours"}}`)
	e.stanza("b-garbage", `{, 123 bare words :: }`)
	e.stanza("web", webStanza)

	out := e.run(ExitPartial, "snapshot")
	if got := out.Regions[0].Summary.Created; got != 2 {
		t.Errorf("created %d, want 2 from the good stanza", got)
	}
	joined := strings.Join(out.InvalidStanzas, "\n")
	for _, want := range []string{"a-broken: snapshot.retention", "b-garbage"} {
		if !strings.Contains(joined, want) {
			t.Errorf("invalid stanzas %q do not mention %q", joined, want)
		}
	}
}

// With no valid stanza a run does nothing, and --json still prints the
// report's shape (no region, the invalid stanzas), so a script can parse it.
// Stanzas stored but none valid is a failed run (exit 1: nothing was done).
func TestNoValidStanzaStillPrintsJSON(t *testing.T) {
	e := newEngineEnv(t)
	out := e.run(0, "plan")
	if out.Job != "plan" || len(out.Regions) != 0 || out.Account != motoserver.AccountID {
		t.Errorf("plan --json with no stanza: job %q, %d regions, account %q", out.Job, len(out.Regions), out.Account)
	}
	e.stanza("b-garbage", `{, 123 bare words :: }`)
	out = e.run(ExitError, "clean")
	if len(out.Regions) != 0 || len(out.InvalidStanzas) != 1 || !strings.Contains(out.InvalidStanzas[0], "b-garbage") {
		t.Errorf("clean --json with only an invalid stanza: %d regions, invalid %q", len(out.Regions), out.InvalidStanzas)
	}
}

func TestDryRunAndPlanChangeNothing(t *testing.T) {
	e := newEngineEnv(t)
	inst := e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	e.snapshot(inst[0].VolumeIDs[0], date(-2))
	e.snapshot(inst[0].VolumeIDs[0], date(-1))
	e.backdate()
	e.stanza("web", `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 0, "frequency": "1 hour"}}`)
	before := len(e.snapshots()[inst[0].VolumeIDs[0]])

	for _, args := range [][]string{{"snapshot", "--dry-run", "--now", at(2 * time.Hour)}, {"clean", "--dry-run"}, {"plan", "--now", at(2 * time.Hour)}} {
		out := e.run(0, args...)
		if !out.DryRun {
			t.Errorf("%v: report not marked dry run", args)
		}
	}
	if after := len(e.snapshots()[inst[0].VolumeIDs[0]]); after != before {
		t.Errorf("dry runs changed the snapshot count from %d to %d", before, after)
	}
	stdout, _, code := runBinary(t, e.srv, "", "plan", "--region", "us-east-1", "--now", at(2*time.Hour))
	if code != 0 {
		t.Fatalf("plan exit %d", code)
	}
	for _, want := range []string{"REGION", "create", "expired on", "kept: newest completed snapshot of"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestThrottledCallsAreRetried(t *testing.T) {
	e := newEngineEnv(t)
	e.launch(seeder.Group{Count: 1, Volumes: 2, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	e.stanza("web", webStanza)

	// Two throttles per action, absorbed by the SDK's retries.
	var rules []faults.Rule
	for _, action := range []string{"DescribeInstances", "DescribeSnapshots", "CreateSnapshot"} {
		rules = append(rules, faults.Rule{Action: action, Fault: faults.Throttle, First: 2})
	}
	proxy := faults.NewProxy(t, e.srv.URL, faults.ProxyOptions{Rules: rules})
	stdout, stderr, code := runBinaryWithEndpoint(t, e.srv, proxy.URL, "snapshot", "--region", "us-east-1", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n := len(e.snapshots()); n != 2 {
		t.Errorf("%d volumes snapshotted, want 2", n)
	}
	var out output
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	calls := map[string]awsclient.Count{}
	for _, c := range out.APICalls {
		calls[c.Operation] = c
	}
	// Each throttled action was sent twice more than it succeeded, and the
	// report says so.
	want := []awsclient.Count{
		{Operation: "EC2.DescribeInstances", Calls: 3, Throttled: 2},
		{Operation: "EC2.DescribeSnapshots", Calls: 3, Throttled: 2},
		{Operation: "EC2.CreateSnapshot", Calls: 4, Throttled: 2},
		{Operation: "EC2.DescribeVolumes", Calls: 1},
	}
	for _, w := range want {
		if got := calls[w.Operation]; got != w {
			t.Errorf("%s: got %+v, want %+v", w.Operation, got, w)
		}
	}
}

// runBinaryWithEndpoint is runBinary with every AWS call sent to endpoint
// (such as a throttling proxy in front of moto).
func runBinaryWithEndpoint(t *testing.T, srv *motoserver.Server, endpoint string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runBinaryEnv(t, append(srv.Env(), "AWS_ENDPOINT_URL="+endpoint), "", args...)
}

func TestUnknownRegionIsAUsageError(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("web", webStanza)
	_, stderr, code := runBinary(t, e.srv, "", "plan", "--region", "us-east-1", "--region", "us-eest-1")
	if code != ExitUsage || !strings.Contains(stderr, `--region "us-eest-1": not a region enabled for this account`) {
		t.Errorf("exit %d, stderr %q; want exit 2 naming the flag and the region", code, stderr)
	}
}
