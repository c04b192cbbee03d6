package cli

// Issue 10's examples through the built binary against moto: what a run
// keeps, what it names and when it snapshots. (States moto cannot stage,
// such as a stopping instance or a pending snapshot, are tested over the
// fake in internal/snapper.)

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/faults"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// Item 4: DeleteOn is the first UTC date on which the whole retention has
// passed, however late in the day the snapshot is taken.
func TestDeleteOnKeepsTheWholeRetention(t *testing.T) {
	e := newEngineEnv(t)
	e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "half-day", Value: "yes"}}})
	e.stanza("web", webStanza) // 4 days
	e.stanza("short", `{"match": {"tag:half-day": "yes"}, "snapshot": {"retention": "12 hours", "minimum": 1, "frequency": "1 day"}}`)

	out := e.run(0, "snapshot", "--now", "2026-11-25T23:30:00Z")
	got := map[string]string{}
	for _, r := range out.Regions[0].Snapshots {
		got[r.ConfigID] = r.DeleteOn
	}
	// 23:30Z + 4 days is the 29th 23:30Z: deleting on the 29th would keep
	// it 3 days 30 minutes; + 12 hours is the 26th 11:30Z.
	want := map[string]string{"web": "2026-11-30", "short": "2026-11-27"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("DeleteOn by stanza = %v, want %v", got, want)
	}
	for _, ss := range e.snapshots() {
		if d := tagMap(ss[0].Tags)["DeleteOn"]; d != want["web"] && d != want["short"] {
			t.Errorf("snapshot %s tagged DeleteOn %s", aws.ToString(ss[0].SnapshotId), d)
		}
	}
}

// Item 5: a "1 day" schedule run once a day at the same clock time; the
// snapshot is stamped a second after the run started, so the next day's
// run finds it a second short of a day old. It must still snapshot.
func TestDailyRunAtTheSameClockTimeDoesNotSkip(t *testing.T) {
	e := newEngineEnv(t)
	inst := e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	e.stanza("daily", `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "7 days", "minimum": 1, "frequency": "1 day"}}`)
	if got := e.run(0, "snapshot").Regions[0].Summary.Created; got != 1 {
		t.Fatalf("first run created %d, want 1", got)
	}
	stamped := aws.ToTime(e.snapshots()[inst[0].VolumeIDs[0]][0].StartTime)
	nextRun := stamped.Add(24*time.Hour - time.Second).UTC().Format(time.RFC3339)
	if got := e.run(0, "snapshot", "--now", nextRun).Regions[0].Summary.Created; got != 1 {
		t.Errorf("next day's run at %s: created %d, want 1", nextRun, got)
	}
	// Never two in one period: an hour after the first, nothing.
	if got := e.run(0, "snapshot", "--now", stamped.Add(time.Hour).UTC().Format(time.RFC3339)).Regions[0].Summary.Created; got != 0 {
		t.Errorf("an hour after a snapshot taken now: created %d, want 0", got)
	}
}

// rejectFilterProxy answers DescribeInstances calls that use the filter
// name as EC2 does for an unknown filter (HTTP 400 InvalidParameterValue)
// and forwards everything else to target. moto cannot stage this: it
// raises NotImplementedError for unknown filters, or ignores them when no
// instance exists.
func rejectFilterProxy(t *testing.T, target, name string) string {
	t.Helper()
	return faults.NewProxy(t, target, faults.ProxyOptions{Rules: []faults.Rule{faults.RejectFilter(name)}}).URL
}

// Item 3 at run time: a stanza whose filter EC2 rejects is an invalid
// stanza of that region (exit 3, in the JSON and the table); the other
// stanzas run.
func TestRejectedFilterIsAnInvalidStanza(t *testing.T) {
	// configure -s refuses names outside EC2's documented list (tags:env),
	// so the run-time case is a name we accept that EC2 still rejects:
	// group-name was documented once and stored stanzas may use it.
	e := newEngineEnv(t)
	e.launch(seeder.Group{Count: 2, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	e.stanza("a-prod", `{"match": {"group-name": "prod"}, "snapshot": {"retention": "4 days", "minimum": 2, "frequency": "1 day"}}`)
	e.stanza("web", webStanza)
	proxy := rejectFilterProxy(t, e.srv.URL, "group-name")

	stdout, stderr, code := runBinaryWithEndpoint(t, e.srv, proxy, "snapshot", "--region", "us-east-1", "--json")
	if code != ExitPartial {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitPartial, stdout, stderr)
	}
	for _, want := range []string{`"created": 2`, `"config_id": "a-prod"`, `The filter 'group-name' is invalid`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("JSON report lacks %s:\n%s", want, stdout)
		}
	}
	stdout, _, code = runBinaryWithEndpoint(t, e.srv, proxy, "plan", "--region", "us-east-1")
	if code != ExitPartial || !strings.Contains(stdout, "invalid stanza a-prod: ") {
		t.Errorf("plan: exit %d, table without the invalid stanza:\n%s", code, stdout)
	}
	stdout, stderr, code = runBinaryWithEndpoint(t, e.srv, proxy, "configure", "-c")
	if code != ExitPartial || !strings.Contains(stdout, "stanza a-prod: EC2 rejected its match in ") {
		t.Errorf("configure -c: exit %d, findings:\n%s\n%s", code, stdout, stderr)
	}
}

// Item 7: an instance matched by two stanzas keeps the larger minimum, and
// every report names both.
func TestConflictingStanzasKeepTheLargestMinimum(t *testing.T) {
	e := newEngineEnv(t)
	inst := e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}, {Key: "Name", Value: "db"}}})
	vol := inst[0].VolumeIDs[0]
	for i := range 8 {
		// moto stamps whole seconds; distinct past DeleteOn dates order
		// snapshots taken in the same second.
		if _, err := seeder.Snapshot(e.ctx, e.ec2, vol, date(-20+i)); err != nil {
			t.Fatal(err)
		}
	}
	e.backdate()
	e.stanza("a-low", `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "1 day", "minimum": 1, "frequency": "1 day"}}`)
	e.stanza("b-high", `{"match": {"tag:Name": "db"}, "snapshot": {"retention": "30 days", "minimum": 6, "frequency": "1 week"}}`)

	stdout, _, code := runBinary(t, e.srv, "", "plan", "--region", "us-east-1")
	if code != 0 || !strings.Contains(stdout, "a-low+b-high") || !strings.Contains(stdout, "matched by a-low, b-high") {
		t.Errorf("plan: exit %d, table does not name both stanzas:\n%s", code, stdout)
	}
	out := e.run(0, "clean")
	for _, r := range out.Regions[0].Clean {
		if r.ConfigID != "b-high" || !slices.Equal(r.ConfigIDs, []string{"a-low", "b-high"}) {
			t.Errorf("%s: config %s of %v, want b-high of [a-low b-high]", r.SnapshotID, r.ConfigID, r.ConfigIDs)
		}
	}
	if left := len(e.snapshots()[vol]); left != 6 {
		t.Errorf("%d snapshots left of 8 due, want b-high's minimum 6", left)
	}
}

// Item 11: snapshots whose DeleteOn is not a date are kept, and clean and
// configure -c count and name them.
func TestNeverDueSnapshotsAreCountedAndNamed(t *testing.T) {
	e := newEngineEnv(t)
	inst := e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	var ids []string
	for _, v := range []string{"2026-13-45", "tomorrow", "", "2026/11/01"} {
		id, err := seeder.Snapshot(e.ctx, e.ec2, inst[0].VolumeIDs[0], inventory.Tag{Key: "DeleteOn", Value: v})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	e.stanza("web", webStanza)
	want := "4 snapshots have a DeleteOn that is not a YYYY-MM-DD date and will never be deleted: " + strings.Join(ids, ", ")

	stdout, stderr, code := runBinary(t, e.srv, "", "clean", "--region", "us-east-1")
	if code != 0 || !strings.Contains(stdout, "us-east-1: "+want) {
		t.Errorf("clean: exit %d, summary lacks %q:\n%s\n%s", code, want, stdout, stderr)
	}
	if left := len(e.snapshots()[inst[0].VolumeIDs[0]]); left != 4 {
		t.Errorf("%d snapshots left, want all 4 kept", left)
	}
	stdout, stderr, code = runBinary(t, e.srv, "", "configure", "-c")
	if code != ExitPartial || !strings.Contains(stdout, "4 snapshots in us-east-1 have a DeleteOn that is not a YYYY-MM-DD date and will never be deleted: "+strings.Join(ids, ", ")) {
		t.Errorf("configure -c: exit %d, findings lack the never-due snapshots:\n%s\n%s", code, stdout, stderr)
	}
}
