package snapper

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// drillStanza is stanza "daily" with drills every 7 days.
func drillStanza(t *testing.T, d config.Drill) config.Stanza {
	s := stanza(t, "daily", "1 day", 2)
	if d.VolumeType == "" {
		d.VolumeType = "gp3"
	}
	if d.Timeout == 0 {
		d.Timeout = 10 * time.Minute
	}
	if d.Every == 0 {
		d.Every = 7 * 24 * time.Hour
	}
	s.Drill = d
	return s
}

func dsnap(id, vol string, age time.Duration, size int32, kv ...string) inventory.Snapshot {
	return inventory.Snapshot{ID: id, VolumeID: vol, State: inventory.StateCompleted, StartTime: now.Add(-age), VolumeSize: size, Tags: tags(kv...)}
}

func TestPlanDrills(t *testing.T) {
	lastWeek := DrillRecord{At: now.Add(-8 * 24 * time.Hour), Outcome: DrillPassed, Seconds: 12}.String()
	yesterday := DrillRecord{At: now.Add(-24 * time.Hour), Outcome: DrillFailed}.String()
	today := DrillRecord{At: now.Add(-time.Hour), Outcome: DrillPassed, Seconds: 3}.String()
	r := region(map[string][]string{"i-1": {"vol-new", "vol-old", "vol-recent", "vol-err", "vol-none", "vol-arch", "vol-today"}}, map[string]string{"i-1": "daily"},
		dsnap("snap-new1", "vol-new", 48*time.Hour, 100), dsnap("snap-new2", "vol-new", 24*time.Hour, 100),
		inventory.Snapshot{ID: "snap-new3", VolumeID: "vol-new", State: inventory.StatePending, StartTime: now},
		dsnap("snap-old", "vol-old", 24*time.Hour, 50, LastDrillTag, lastWeek),
		dsnap("snap-recent", "vol-recent", 24*time.Hour, 50, LastDrillTag, yesterday),
		dsnap("snap-err1", "vol-err", 48*time.Hour, 10), inventory.Snapshot{ID: "snap-err2", VolumeID: "vol-err", State: inventory.StateError, StartTime: now.Add(-time.Hour)},
		inventory.Snapshot{ID: "snap-arch", VolumeID: "vol-arch", State: inventory.StateCompleted, StorageTier: inventory.TierArchive},
		dsnap("snap-today", "vol-today", 30*time.Hour, 20, LastDrillTag, today),
	)
	type row struct{ vol, snap, action, reason string }
	for _, tt := range []struct {
		name  string
		drill config.Drill
		want  []row
	}{
		{"every due volume", config.Drill{}, []row{
			{"vol-arch", "", ActionSkip, "only archived snapshots (snap-arch)"},
			{"vol-err", "snap-err2", ActionDrill, "never drilled; snapshot snap-err2 is in state error"},
			{"vol-new", "snap-new2", ActionDrill, "never drilled"},
			{"vol-none", "", ActionSkip, "no completed snapshot to drill"},
			{"vol-old", "snap-old", ActionDrill, "last drilled 2026-11-17T12:00:00Z (passed), 192h0m0s ago: due every 7d"},
			{"vol-recent", "snap-recent", ActionSkip, "last drilled 2026-11-24T12:00:00Z (failed); due again 2026-12-01T12:00:00Z"},
			{"vol-today", "snap-today", ActionSkip, "last drilled"},
		}},
		{"sample of 2: never drilled first", config.Drill{SampleCount: 2}, []row{
			{"vol-arch", "", ActionSkip, ""}, {"vol-err", "snap-err2", ActionDrill, ""}, {"vol-new", "snap-new2", ActionDrill, ""},
			{"vol-none", "", ActionSkip, ""}, {"vol-old", "snap-old", ActionSkip, "due, but this run's sample of 2 of 3 due volumes is taken"},
			{"vol-recent", "", ActionSkip, ""}, {"vol-today", "", ActionSkip, ""},
		}},
		{"34% of 3 due rounds up to 2", config.Drill{SamplePercent: 34}, []row{
			{"vol-arch", "", ActionSkip, ""}, {"vol-err", "", ActionDrill, ""}, {"vol-new", "", ActionDrill, ""},
			{"vol-none", "", ActionSkip, ""}, {"vol-old", "", ActionSkip, "sample of 2 of 3"},
			{"vol-recent", "", ActionSkip, ""}, {"vol-today", "", ActionSkip, ""},
		}},
		{"daily cap counts today's drills", config.Drill{MaxGiBPerDay: 135}, []row{
			{"vol-arch", "", ActionSkip, ""}, {"vol-err", "", ActionDrill, ""},
			{"vol-new", "", ActionDrill, ""},
			{"vol-none", "", ActionSkip, ""}, {"vol-old", "", ActionSkip, "due, but 50 GiB more would pass drill.max_gib_per_day 135 (120 GiB restored today)"},
			{"vol-recent", "", ActionSkip, ""}, {"vol-today", "", ActionSkip, ""},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPolicy([]config.Stanza{drillStanza(t, tt.drill)}, 0)
			ds := PlanDrills(r, p, now)
			if len(ds) != len(tt.want) {
				t.Fatalf("%d decisions, want %d: %+v", len(ds), len(tt.want), ds)
			}
			for i, w := range tt.want {
				d := ds[i]
				if d.VolumeID != w.vol || d.Action != w.action || (w.snap != "" && d.SnapshotID != w.snap) || !strings.Contains(d.Reason, w.reason) {
					t.Errorf("decision %d = %s %s %s %q, want %s %s %s reason containing %q", i, d.VolumeID, d.SnapshotID, d.Action, d.Reason, w.vol, w.snap, w.action, w.reason)
				}
			}
		})
	}
	if ds := PlanDrills(r, NewPolicy([]config.Stanza{stanza(t, "daily", "1 day", 2)}, 0), now); len(ds) != 0 {
		t.Errorf("a stanza without drill planned %d drills", len(ds))
	}
}

func TestDrillRecordRoundTrip(t *testing.T) {
	rec := DrillRecord{At: now, Outcome: DrillPassed, Seconds: 42}
	if got := rec.String(); got != "2026-11-25T12:00:00Z passed 42s" {
		t.Errorf("String() = %q", got)
	}
	back, ok := ParseDrillRecord(rec.String())
	if !ok || back != rec {
		t.Errorf("ParseDrillRecord = %+v, %v", back, ok)
	}
	rec.SnapshotID = "snap-a1"
	if back, ok := ParseDrillRecord(rec.String()); !ok || back != rec || rec.String() != "2026-11-25T12:00:00Z passed 42s snap-a1" {
		t.Errorf("ParseDrillRecord(%q) = %+v, %v", rec.String(), back, ok)
	}
	for _, bad := range []string{"", "yesterday passed 1s", "2026-11-25T12:00:00Z passed 1s vol-a1", "2026-11-25T12:00:00Z passed 1s snap-<b>x</b>", "2026-11-25T12:00:00Z passed 1s snap-", "2026-11-25T12:00:00Z passed 1s snap-a1 x", "2026-11-25T12:00:00Z maybe 1s", "2026-11-25T12:00:00Z passed -1s", "2026-11-25T12:00:00Z passed 1"} {
		if _, ok := ParseDrillRecord(bad); ok {
			t.Errorf("ParseDrillRecord(%q) accepted", bad)
		}
	}
}

// drillFleet is one instance with two volumes, each with one completed
// snapshot, under a stanza with drills.
func drillFleet(at time.Time) *ec2fake.Fake {
	f := &ec2fake.Fake{}
	f.AddInstance(inventory.Instance{ID: "i-a", Tags: tags("backup", "yes"), VolumeIDs: []string{"vol-a1", "vol-a2"}})
	f.AddSnapshot(inventory.Snapshot{ID: "snap-a1", VolumeID: "vol-a1", StartTime: at.Add(-time.Hour), VolumeSize: 100, Tags: tags("DeleteOn", "2026-12-30")}, "")
	f.AddSnapshot(inventory.Snapshot{ID: "snap-a2", VolumeID: "vol-a2", StartTime: at.Add(-time.Hour), VolumeSize: 8, Encrypted: true, Tags: tags("DeleteOn", "2026-12-30")}, "")
	return f
}

func TestDrillRunRestoresChecksDeletesAndRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		f := drillFleet(start)
		f.VolumeCreatingFor = 40 * time.Second
		var created []string
		f.OnCall = func(op string, in any) error {
			if op == ec2fake.OpCreateVolume {
				created = append(created, op)
			}
			return nil
		}
		p := NewPolicy([]config.Stanza{drillStanza(t, config.Drill{})}, 0)
		opts := engineOptions(start)
		opts.Workers = 1
		rep := runUseCase(t.Context(), useDrill, []EC2{ebs.New(f, "us-east-1")}, p, opts)
		rr := rep.Regions[0]
		if rep.Job != "drill" || rr.Summary.Drilled != 2 || rr.Summary.Failed != 0 {
			t.Fatalf("report %+v", rr)
		}
		for _, r := range rr.Drills {
			if r.Status != StatusDone || r.Outcome != DrillPassed || !r.Deleted || r.SecondsToAvailable != 45 || r.DrillVolumeID == "" {
				t.Errorf("drill %+v: want done, passed, deleted, 45 s (three polls 15 s apart)", r)
			}
			if _, ok := f.Volume(r.DrillVolumeID); ok {
				t.Errorf("drill volume %s outlived its drill", r.DrillVolumeID)
			}
			s, _ := f.Snapshot(r.SnapshotID)
			if v, _ := s.Tag(LastDrillTag); v != start.UTC().Format(time.RFC3339)+" passed 45s "+r.SnapshotID {
				t.Errorf("%s tagged %s=%q", r.SnapshotID, LastDrillTag, v)
			}
		}
		if len(created) != 2 {
			t.Errorf("%d CreateVolume calls, want 2", len(created))
		}
		// The next run, a day later, finds nothing due.
		rep = runUseCase(t.Context(), useDrill, []EC2{ebs.New(f, "us-east-1")}, p, engineOptions(start.Add(24*time.Hour)))
		if n := rep.Regions[0].Summary.Drilled; n != 0 {
			t.Errorf("a day later %d drills ran, want 0", n)
		}
	})
}

func TestDrillVolumeTaggedInTheCreatingCall(t *testing.T) {
	f := drillFleet(now)
	var got []string
	f.OnCall = func(op string, in any) error {
		if op == ec2fake.OpCreateVolume {
			got = append(got, describeCreateVolume(in))
		}
		return nil
	}
	p := NewPolicy([]config.Stanza{drillStanza(t, config.Drill{VolumeType: "sc1"})}, 0)
	opts := engineOptions(now)
	opts.Workers = 1
	runUseCase(t.Context(), useDrill, []EC2{ebs.New(f, "us-east-1")}, p, opts)
	// sc1 volumes are 125 GiB at least: the 100 GiB and 8 GiB snapshots
	// are restored as gp3 (TestDrillVolumeTypeFitsTheSnapshot).
	want := []string{
		"snap-a1 us-east-1b gp3 encrypted=false token=" + drillClientToken(testRun, "snap-a1") + " tags=[ebs-snapper:drill-run=" + testRun + " ebs-snapper:drill-snapshot=snap-a1 Name=ebs-snapper restore drill of snap-a1]",
		"snap-a2 us-east-1c gp3 encrypted=true token=" + drillClientToken(testRun, "snap-a2") + " tags=[ebs-snapper:drill-run=" + testRun + " ebs-snapper:drill-snapshot=snap-a2 Name=ebs-snapper restore drill of snap-a2]",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CreateVolume requests (-want +got):\n%s", diff)
	}
}

func TestDrillNeverAvailableFailsAndDeletesItsVolume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		f := drillFleet(start)
		f.HoldVolumes("snap-a1", inventory.VolumeCreating)
		f.HoldVolumes("snap-a2", inventory.VolumeError)
		p := NewPolicy([]config.Stanza{drillStanza(t, config.Drill{Timeout: 5 * time.Minute})}, 0)
		rep := runUseCase(t.Context(), useDrill, []EC2{ebs.New(f, "us-east-1")}, p, engineOptions(start))
		rr := rep.Regions[0]
		if rr.Summary.DrillsFailed != 2 || rr.Summary.Failed != 2 || Judge(rep, 0).Outcome != OutcomePartial {
			t.Fatalf("summary %+v, verdict %s; want 2 failed drills", rr.Summary, Judge(rep, 0).Outcome)
		}
		wantErr := map[string]string{"snap-a1": "still creating after the 5m allowed (drill.timeout)", "snap-a2": "went to state error"}
		for _, r := range rr.Drills {
			if r.Outcome != DrillFailed || !r.Deleted || !strings.Contains(r.Error, wantErr[r.SnapshotID]) {
				t.Errorf("drill %+v: want failed, volume deleted, error containing %q", r, wantErr[r.SnapshotID])
			}
			if _, ok := f.Volume(r.DrillVolumeID); ok {
				t.Errorf("volume %s left behind", r.DrillVolumeID)
			}
			s, _ := f.Snapshot(r.SnapshotID)
			if v, _ := s.Tag(LastDrillTag); !strings.Contains(v, " failed 0s") {
				t.Errorf("%s tagged %q, want a failed drill", r.SnapshotID, v)
			}
		}
		if elapsed := time.Since(start); elapsed < 5*time.Minute || elapsed > 6*time.Minute {
			t.Errorf("the run took %s of virtual time, want the 5-minute timeout and one poll at most", elapsed)
		}
	})
}

func TestDrillOfSnapshotInErrorNeverPasses(t *testing.T) {
	f := drillFleet(now)
	f.AddSnapshot(inventory.Snapshot{ID: "snap-a1x", VolumeID: "vol-a1", State: inventory.StateError, StartTime: now, VolumeSize: 100}, "")
	p := NewPolicy([]config.Stanza{drillStanza(t, config.Drill{})}, 0)
	opts := engineOptions(now)
	opts.Scope = Scope{Volumes: []string{"vol-a1"}}
	rep := runUseCase(t.Context(), useDrill, []EC2{ebs.New(f, "us-east-1")}, p, opts)
	rr := rep.Regions[0]
	if len(rr.Drills) != 1 || rr.Drills[0].SnapshotID != "snap-a1x" || rr.Drills[0].Outcome != DrillFailed || rr.Summary.Failed != 1 {
		t.Fatalf("drills %+v, summary %+v; want snap-a1x failed", rr.Drills, rr.Summary)
	}
	if n := f.Calls(ec2fake.OpCreateVolume); n != 0 {
		t.Errorf("%d CreateVolume calls for a snapshot in state error", n)
	}
}

func TestDrillSweepsLeftoverVolumesFirst(t *testing.T) {
	f := drillFleet(now)
	old := now.Add(-2 * time.Hour)
	// CreateVolume makes the leftovers (the fake stamps them with Now).
	f.Now = func() time.Time { return old }
	c := ebs.New(f, "us-east-1")
	mk := func(snapID, run, taggedSnap string) string {
		v, err := c.CreateVolume(t.Context(), inventory.VolumeRequest{SnapshotID: snapID, AvailabilityZone: "us-east-1a", Type: "gp3",
			Tags: []inventory.Tag{{Key: DrillRunTag, Value: run}, {Key: DrillSnapshotTag, Value: taggedSnap}}})
		if err != nil {
			t.Fatal(err)
		}
		return v.ID
	}
	leftover := mk("snap-a1", "20261125T080000Z-00000000000000aa", "snap-a1")
	forged := mk("snap-a2", "20261125T080000Z-00000000000000aa", "snap-a1")
	f.Now = func() time.Time { return now.Add(-5 * time.Minute) }
	young := mk("snap-a2", "20261125T115500Z-00000000000000bb", "snap-a2")
	f.Now = func() time.Time { return now }
	p := NewPolicy([]config.Stanza{drillStanza(t, config.Drill{Timeout: 30 * time.Minute})}, 0)
	opts := engineOptions(now)
	opts.Scope = Scope{Volumes: []string{"vol-none"}} // no drill of its own
	rep := runUseCase(t.Context(), useDrill, []EC2{c}, p, opts)
	rr := rep.Regions[0]
	if _, ok := f.Volume(leftover); ok {
		t.Errorf("leftover drill volume %s not swept", leftover)
	}
	for _, id := range []string{forged, young} {
		if _, ok := f.Volume(id); !ok {
			t.Errorf("volume %s swept", id)
		}
	}
	if rr.Summary.Swept != 1 || len(rr.Swept) != 2 {
		t.Fatalf("swept %+v, summary %+v: want the leftover deleted and the forged one reported", rr.Swept, rr.Summary)
	}
	if !strings.Contains(rr.Swept[0].Reason+rr.Swept[1].Reason, `tagged as the drill volume of "snap-a1" but created from "snap-a2": not provably a drill volume, left alone`) {
		t.Errorf("sweep reasons %+v", rr.Swept)
	}
}

func TestCleanKeepsTheSnapshotOfARunningDrill(t *testing.T) {
	f := drillFleet(now)
	f.AddSnapshot(inventory.Snapshot{ID: "snap-a1old", VolumeID: "vol-a1", StartTime: now.Add(-30 * 24 * time.Hour), VolumeSize: 100, Tags: tags("DeleteOn", "2026-11-01")}, "")
	f.AddSnapshot(inventory.Snapshot{ID: "snap-a1mid", VolumeID: "vol-a1", StartTime: now.Add(-20 * 24 * time.Hour), VolumeSize: 100, Tags: tags("DeleteOn", "2026-11-01")}, "")
	p := NewPolicy([]config.Stanza{drillStanza(t, config.Drill{})}, 0)
	c := ebs.New(f, "us-east-1")
	before := PlanOnly(t, c, p)
	// A drill is reading snap-a1old back.
	if _, err := c.CreateVolume(t.Context(), inventory.VolumeRequest{SnapshotID: "snap-a1old", AvailabilityZone: "us-east-1a",
		Tags: []inventory.Tag{{Key: DrillRunTag, Value: testRun}, {Key: DrillSnapshotTag, Value: "snap-a1old"}}}); err != nil {
		t.Fatal(err)
	}
	rep := runUseCase(t.Context(), useClean, []EC2{c}, p, engineOptions(now))
	if _, ok := f.Snapshot("snap-a1old"); !ok {
		t.Fatal("clean deleted the snapshot a drill is reading")
	}
	if _, ok := f.Snapshot("snap-a1mid"); ok {
		t.Error("snap-a1mid, due and not drilled, was kept")
	}
	for _, r := range rep.Regions[0].Clean {
		if r.SnapshotID == "snap-a1old" && !strings.Contains(r.Reason, "a restore drill is reading it back into volume vol-") {
			t.Errorf("keep reason %q", r.Reason)
		}
	}
	if before["snap-a1old"] != "delete" {
		t.Errorf("without the drill, snap-a1old would be %q; the test needs it due", before["snap-a1old"])
	}
}

// PlanOnly is the clean plan's action per snapshot.
func PlanOnly(t *testing.T, c EC2, p Policy) map[string]string {
	t.Helper()
	opts := engineOptions(now)
	opts.DryRun = true
	out := map[string]string{}
	for _, r := range runUseCase(t.Context(), useClean, []EC2{c}, p, opts).Regions[0].Clean {
		out[r.SnapshotID] = string(r.Action)
	}
	return out
}

func TestDrillChangesNothingCleanDecides(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		f := drillFleet(start)
		for i, age := range []time.Duration{72, 48, 30} {
			f.AddSnapshot(inventory.Snapshot{ID: "snap-b" + string(rune('0'+i)), VolumeID: "vol-a1", StartTime: start.Add(-age * 24 * time.Hour), VolumeSize: 100,
				Tags: tags("DeleteOn", start.Add(-time.Duration(i)*24*time.Hour).Format(time.DateOnly))}, "")
		}
		p := NewPolicy([]config.Stanza{drillStanza(t, config.Drill{})}, 0)
		c := ebs.New(f, "us-east-1")
		plan := func() []CleanRow {
			opts := engineOptions(start.Add(time.Hour))
			opts.DryRun = true
			return runUseCase(t.Context(), useClean, []EC2{c}, p, opts).Regions[0].Clean
		}
		before := plan()
		if rep := runUseCase(t.Context(), useDrill, []EC2{c}, p, engineOptions(start)); rep.Regions[0].Summary.Drilled != 2 {
			t.Fatalf("drill %+v", rep.Regions[0])
		}
		if diff := cmp.Diff(before, plan()); diff != "" {
			t.Errorf("a drill changed clean's plan (-before +after):\n%s", diff)
		}
	})
}

func describeCreateVolume(in any) string {
	cv := in.(*ec2.CreateVolumeInput)
	var ts []string
	for _, sp := range cv.TagSpecifications {
		for _, t := range sp.Tags {
			ts = append(ts, *t.Key+"="+*t.Value)
		}
	}
	enc := cv.Encrypted != nil && *cv.Encrypted
	return fmt.Sprintf("%s %s %s encrypted=%v token=%s tags=%v", *cv.SnapshotId, *cv.AvailabilityZone, cv.VolumeType, enc, *cv.ClientToken, ts)
}

// A run told to stop starting work (the Lambda deadline margin) while its
// drills wait deletes their volumes and reports them not started, not
// failed: the continuation drills them again.
func TestDrillStoppedWhileWaitingIsNotStarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		f := drillFleet(start)
		f.VolumeCreatingFor = 5 * time.Minute
		stop := make(chan struct{})
		time.AfterFunc(time.Minute, func() { close(stop) })
		opts := engineOptions(start)
		opts.StopStarting = stop
		rep := runUseCase(t.Context(), useDrill, []EC2{ebs.New(f, "us-east-1")}, NewPolicy([]config.Stanza{drillStanza(t, config.Drill{})}, 0), opts)
		rr := rep.Regions[0]
		if rr.Summary.NotStarted != 2 || rr.Summary.Failed != 0 || rr.Summary.Drilled != 0 {
			t.Fatalf("summary %+v, want 2 drills not started and none failed", rr.Summary)
		}
		for _, r := range rr.Drills {
			if r.Status != StatusNotStarted || !r.Deleted {
				t.Errorf("drill %+v: want not started, its volume deleted", r)
			}
			if _, ok := f.Volume(r.DrillVolumeID); ok {
				t.Errorf("volume %s left behind", r.DrillVolumeID)
			}
			if s, _ := f.Snapshot(r.SnapshotID); len(s.Tags) != 1 {
				t.Errorf("%s tagged %v: a drill that proved nothing records nothing", r.SnapshotID, s.Tags)
			}
		}
	})
}
