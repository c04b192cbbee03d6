package snapper

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/smithy-go"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/faults"
)

// Each thing a principal allowed only ec2:CreateTags cannot change about
// a volume it tagged as a drill volume stops the sweep from deleting it.
func TestNotADrillVolume(t *testing.T) {
	const run = "20261125T060000Z-00000000000000aa"
	created := time.Date(2026, 11, 25, 6, 1, 0, 0, time.UTC)
	snaps := map[string]inventory.Snapshot{"snap-a1": {ID: "snap-a1", VolumeSize: 100}}
	drill := func(change func(*inventory.Volume)) inventory.Volume {
		v := inventory.Volume{ID: "vol-00000000000000001", SnapshotID: "snap-a1", Size: 100, State: inventory.VolumeAvailable, CreateTime: created,
			Tags: []inventory.Tag{{Key: DrillRunTag, Value: run}, {Key: DrillSnapshotTag, Value: "snap-a1"}, {Key: "Name", Value: drillVolumeName("snap-a1")}}}
		if change != nil {
			change(&v)
		}
		return v
	}
	for _, tt := range []struct {
		name string
		v    inventory.Volume
		want string // "" for a drill volume
	}{
		{"a drill volume", drill(nil), ""},
		{"without its Name", drill(func(v *inventory.Volume) { v.Tags = v.Tags[:2] }), ""},
		{"made by CloudFormation", drill(func(v *inventory.Volume) {
			v.Tags = append(v.Tags, inventory.Tag{Key: "aws:cloudformation:stack-name", Value: "x"})
		}), `"aws:cloudformation:stack-name"`},
		{"created within the clock skew before its run's token", drill(func(v *inventory.Volume) { v.CreateTime = created.Add(-2 * time.Minute) }), ""},
		{"attached", drill(func(v *inventory.Volume) { v.Attached = true }), "attached"},
		{"in use", drill(func(v *inventory.Volume) { v.State = inventory.VolumeInUse }), "attached"},
		{"from another snapshot", drill(func(v *inventory.Volume) { v.SnapshotID = "snap-a2" }), `created from "snap-a2"`},
		{"from no snapshot", drill(func(v *inventory.Volume) { v.SnapshotID = "" }), `created from ""`},
		{"with a tag of its own", drill(func(v *inventory.Volume) { v.Tags = append(v.Tags, inventory.Tag{Key: "team", Value: "db"}) }), `"team"`},
		{"with another Name", drill(func(v *inventory.Volume) { v.Tags[2].Value = "db-restore" }), `"Name"`},
		{"with a run tag that is no token", drill(func(v *inventory.Volume) { v.Tags[0].Value = "x" }), "not a run token"},
		{"created before its run", drill(func(v *inventory.Volume) { v.CreateTime = created.Add(-time.Hour) }), "before its run"},
		{"of a snapshot not the account's", drill(func(v *inventory.Volume) {
			v.SnapshotID, v.Tags[1].Value, v.Tags[2].Value = "snap-public", "snap-public", drillVolumeName("snap-public")
		}), "not one the account owns"},
		{"resized", drill(func(v *inventory.Volume) { v.Size = 500 }), "500 GiB, not the 100 GiB"},
	} {
		got := notADrillVolume(tt.v, snaps)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// Every CreateVolume answer lost, the drill settles by listing its run's
// tags; a tag writer who put them (run token and snapshot) on a real
// volume restored from the same snapshot meanwhile does not get it
// deleted: the drill takes only its own volume.
func TestDrillSettlingTakesOnlyItsOwnVolume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		f := drillFleet(start)
		token := NewRunToken(start)
		f.AddVolume(inventory.Volume{ID: "vol-0000000000000000f", SnapshotID: "snap-a1", Size: 100, State: inventory.VolumeAvailable,
			CreateTime: start.Add(-24 * time.Hour), AvailabilityZone: "us-east-1b",
			Tags: []inventory.Tag{{Key: DrillRunTag, Value: token}, {Key: DrillSnapshotTag, Value: "snap-a1"}, {Key: "Name", Value: drillVolumeName("snap-a1")}}})
		cfg, _ := faults.InProcess(t, f, faults.ProxyOptions{Rules: []faults.Rule{{Action: "CreateVolume", Fault: faults.DropAfter, First: 100}}})
		c := ebs.NewForRegion(cfg, "us-east-1", ec2fake.Unpaced())
		opts := engineOptions(start)
		opts.RunToken = token
		opts.Scope = Scope{Volumes: []string{"vol-a1"}}
		rep := runUseCase(t.Context(), useDrill, []EC2{c}, NewPolicy([]config.Stanza{drillStanza(t, config.Drill{})}, 0), opts)
		if _, ok := f.Volume("vol-0000000000000000f"); !ok {
			t.Fatalf("the drill deleted the tagged volume: %+v", rep.Regions[0].Drills)
		}
		if d := rep.Regions[0].Drills; len(d) != 1 || d[0].DrillVolumeID == "vol-0000000000000000f" {
			t.Errorf("drills %+v", d)
		}
	})
}

// The run is cut off (a second Ctrl-C, the Lambda deadline) while its
// CreateVolume is in flight and the answer is lost. The drill settles by
// its tags: the volume EC2 made is found and deleted, and the drill is
// not started. When the settling listing fails too, the drill says its
// outcome is unknown (never "not started" with no word of a volume) and
// the volume, tagged, is left for the next run's sweep.
func TestDrillCutOffDuringCreateVolume(t *testing.T) {
	for _, listingFails := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			f := drillFleet(start)
			ctx, cancel := context.WithCancel(t.Context())
			var cut, failing atomic.Bool
			failing.Store(listingFails)
			f.OnCall = func(op string, _ any) error {
				switch {
				case op == ec2fake.OpCreateVolume:
					cancel()
					cut.Store(true)
				case op == ec2fake.OpDescribeVolumes && failing.Load() && cut.Load():
					return errors.New("internal error")
				}
				return nil
			}
			cfg, _ := faults.InProcess(t, f, faults.ProxyOptions{Rules: []faults.Rule{{Action: "CreateVolume", Fault: faults.DropAfter, First: 100}}})
			c := ebs.NewForRegion(cfg, "us-east-1", ec2fake.Unpaced())
			opts := engineOptions(start)
			opts.RunToken = NewRunToken(start)
			opts.Scope = Scope{Volumes: []string{"vol-a1"}}
			rep := runUseCase(ctx, useDrill, []EC2{c}, NewPolicy([]config.Stanza{drillStanza(t, config.Drill{})}, 0), opts)
			failing.Store(false)
			rr := rep.Regions[0]
			if len(rr.Drills) != 1 {
				t.Fatalf("drills %+v", rr.Drills)
			}
			d := rr.Drills[0]
			made := f.Calls(ec2fake.OpCreateVolume)
			var left []string
			vols, err := ebs.New(f, "us-east-1").VolumesMatching(t.Context(), []inventory.Filter{{Name: "tag-key", Values: []string{DrillRunTag}}})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range vols {
				left = append(left, v.ID)
			}
			switch {
			case made == 0:
				t.Fatal("no CreateVolume reached the fake")
			case !listingFails && (d.Status != StatusNotStarted || !d.Deleted || len(left) != 0):
				t.Errorf("cut off, listing works: drill %+v, volumes left %v: want not started and its volume deleted", d, left)
			case listingFails && (d.Status != StatusUnknown || !strings.Contains(d.Error, "settling listing failed") || rr.Summary.Unknown != 1):
				t.Errorf("cut off, listing fails: drill %+v, summary %+v: want its outcome unknown, saying why", d, rr.Summary)
			case listingFails && len(left) != 1:
				t.Errorf("cut off, listing fails: volumes %v, want the one EC2 made, left for the sweep", left)
			}
		})
	}
}

// Stopped while waiting, a drill whose volume EC2 refuses to delete (a
// volume must be available to be deleted) is not started, and still says
// that its volume is left for the next run's sweep.
func TestDrillStoppedWithItsVolumeUndeletedSaysSo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		f := drillFleet(start)
		f.VolumeCreatingFor = 5 * time.Minute
		f.Fail(ec2fake.OpDeleteVolume, 100, &smithy.GenericAPIError{Code: "IncorrectState", Message: "The volume is 'creating'", Fault: smithy.FaultClient})
		stop := make(chan struct{})
		time.AfterFunc(time.Minute, func() { close(stop) })
		opts := engineOptions(start)
		opts.StopStarting = stop
		opts.Scope = Scope{Volumes: []string{"vol-a1"}}
		rep := runUseCase(t.Context(), useDrill, []EC2{ebs.New(f, "us-east-1")}, NewPolicy([]config.Stanza{drillStanza(t, config.Drill{})}, 0), opts)
		d := rep.Regions[0].Drills
		if len(d) != 1 || d[0].Status != StatusNotStarted || d[0].Deleted || !strings.Contains(d[0].Error, "the next run's sweep deletes it") {
			t.Errorf("drills %+v: want not started, saying its volume is left for the sweep", d)
		}
	})
}

// A CreateVolume whose outcome is unknown (a 5xx: EC2 may have acted) and
// that the listing does not find is sent again only while the run may
// start work: once it has stopped, the drill's outcome is unknown and no
// new volume is made after the stop.
func TestDrillStoppedDoesNotResendAnUnsettledCreate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		f := drillFleet(start)
		f.Fail(ec2fake.OpCreateVolume, 2, &smithy.GenericAPIError{Code: "InternalError", Message: "internal error", Fault: smithy.FaultServer})
		stop := make(chan struct{})
		var once sync.Once
		f.OnCall = func(op string, _ any) error {
			if op == ec2fake.OpDescribeVolumes && f.Calls(ec2fake.OpCreateVolume) > 0 {
				once.Do(func() { close(stop) })
			}
			return nil
		}
		opts := engineOptions(start)
		opts.RunToken = NewRunToken(start)
		opts.StopStarting = stop
		opts.Scope = Scope{Volumes: []string{"vol-a1"}}
		rep := runUseCase(t.Context(), useDrill, []EC2{ebs.New(f, "us-east-1")}, NewPolicy([]config.Stanza{drillStanza(t, config.Drill{})}, 0), opts)
		d := rep.Regions[0].Drills
		if n := f.Calls(ec2fake.OpCreateVolume); n != 1 {
			t.Errorf("%d CreateVolume calls, want the one before the stop", n)
		}
		if len(d) != 1 || d[0].Status != StatusUnknown || !strings.Contains(d[0].Error, "not sent again as the run stopped") {
			t.Errorf("drills %+v: want the outcome unknown, saying why", d)
		}
	})
}
