package snapper

// The examples of issue 10 that moto cannot stage (instances between
// states, pending snapshots, EC2 rejecting a filter), run through the EC2
// adapter over the in-memory fake.

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// matching is stanza with its match replaced by one tag filter.
func matching(s config.Stanza, key, value string) config.Stanza {
	s.Match = []inventory.Filter{{Name: "tag:" + key, Values: []string{value}}}
	return s
}

// dbAndWorkers is issue 10's item 1: stanza db (minimum 3) and stanza
// workers with ignore_retention; the db instance, in state, has a volume
// with 4 due snapshots and a newer one.
func dbAndWorkers(t *testing.T, state string) (*ec2fake.Fake, Policy) {
	f := &ec2fake.Fake{Now: func() time.Time { return now }}
	f.AddInstance(inventory.Instance{ID: "i-db", ImageID: "ami-1", State: state, Tags: tags("role", "db"), VolumeIDs: []string{"vol-db"}})
	f.AddInstance(inventory.Instance{ID: "i-w", ImageID: "ami-1", Tags: tags("role", "worker"), VolumeIDs: []string{"vol-w"}})
	for i, age := range []time.Duration{220, 200, 180, 160} {
		f.AddSnapshot(snap("snap-due-"+string(rune('a'+i)), "vol-db", inventory.StateCompleted, age*time.Hour, "2026-11-20"), "")
	}
	f.AddSnapshot(snap("snap-new", "vol-db", inventory.StateCompleted, 2*time.Hour, "2026-12-01"), "")
	workers := matching(stanza(t, "workers", "1 day", 1), "role", "worker")
	workers.IgnoreRetention = true
	return f, NewPolicy([]config.Stanza{matching(stanza(t, "db", "1 day", 3), "role", "db"), workers}, 0)
}

func TestInstancesInEveryLiveStateGovernTheirVolumes(t *testing.T) {
	for _, state := range []string{"pending", "running", "stopping", "stopped", "shutting-down"} {
		t.Run(state, func(t *testing.T) {
			f, p := dbAndWorkers(t, state)
			rep := runUseCase(t.Context(), useClean, []EC2{client(f, "us-east-1")}, p, engineOptions(now))
			var left int
			for _, s := range f.Snapshots() {
				if s.VolumeID == "vol-db" {
					left++
				}
			}
			if left != 3 {
				t.Errorf("%d snapshots of vol-db left, want the db stanza's minimum 3", left)
			}
			for _, r := range rep.Regions[0].Clean {
				if r.ConfigID != "db" || strings.Contains(r.Reason, "ignore_retention") {
					t.Errorf("%s: config %q, reason %q; want governed by db", r.SnapshotID, r.ConfigID, r.Reason)
				}
			}
		})
	}
	t.Run("terminated is gone: an orphan", func(t *testing.T) {
		f, p := dbAndWorkers(t, "terminated")
		runUseCase(t.Context(), useClean, []EC2{client(f, "us-east-1")}, p, engineOptions(now))
		if n := len(f.Snapshots()); n != 1 {
			t.Errorf("%d snapshots left, want only the newest (ignore_retention deletes the orphan's due ones)", n)
		}
	})
}

func TestSnapshotsAreTakenOfRunningAndStoppedInstancesOnly(t *testing.T) {
	for state, want := range map[string]string{
		"running":  Create,
		"stopped":  Create,
		"pending":  Skip,
		"stopping": Skip,
	} {
		f, p := dbAndWorkers(t, state)
		rep := runUseCase(t.Context(), usePlan, []EC2{client(f, "us-east-1")}, p, engineOptions(now.Add(24*time.Hour)))
		for _, r := range rep.Regions[0].Snapshots {
			if r.VolumeID != "vol-db" {
				continue
			}
			if r.Action != want {
				t.Errorf("%s instance: %s (%s), want %s", state, r.Action, r.Reason, want)
			}
			if want == Skip && r.Reason != "instance i-db is "+state+": snapshots are taken of running or stopped instances only" {
				t.Errorf("%s instance: reason %q does not say why", state, r.Reason)
			}
		}
	}
}

// Issue 10, item 2, through the engine: the completed snapshot stays while
// its successor is pending, and the pending one postpones the next.
func TestPendingSnapshotIsNotABackup(t *testing.T) {
	f := webFleet()
	f.AddSnapshot(snap("snap-done", "vol-a1", inventory.StateCompleted, 48*time.Hour, "2026-11-20"), "")
	f.AddSnapshot(snap("snap-pending", "vol-a1", inventory.StatePending, time.Hour, "2026-11-20"), "")
	p := NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 1)}, 0)

	rep := runUseCase(t.Context(), usePlan, []EC2{client(f, "us-east-1")}, p, engineOptions(now))
	for _, r := range rep.Regions[0].Clean {
		if r.Action != retention.Keep {
			t.Errorf("%s: %s (%s), want kept", r.SnapshotID, r.Action, r.Reason)
		}
	}
	for _, r := range rep.Regions[0].Snapshots {
		if r.VolumeID == "vol-a1" && r.Action != Skip {
			t.Errorf("vol-a1 has a pending snapshot an hour old: %s (%s), want skip", r.Action, r.Reason)
		}
	}
}

// Issue 10, item 3, at run time: EC2 rejects one stanza's filter; the
// other stanzas run, the rejected one is reported, and ignore_retention is
// held back in that region because its instances look unmatched.
func TestRejectedStanzaDoesNotStopTheOthers(t *testing.T) {
	f := webFleet()
	f.AddInstance(inventory.Instance{ID: "i-prod", ImageID: "ami-1", Tags: tags("env", "prod"), VolumeIDs: []string{"vol-prod"}})
	f.AddSnapshot(snap("snap-prod-1", "vol-prod", inventory.StateCompleted, 90*time.Hour, "2026-11-20"), "")
	f.AddSnapshot(snap("snap-prod-2", "vol-prod", inventory.StateCompleted, 60*time.Hour, "2026-11-20"), "")
	typo := stanza(t, "a-prod", "1 day", 5)
	typo.Match = []inventory.Filter{{Name: "tags:env", Values: []string{"prod"}}}
	good := stanza(t, "web", "12 hours", 1)
	good.IgnoreRetention = true
	p := NewPolicy([]config.Stanza{typo, good}, 0)

	rep := runUseCase(t.Context(), useSnapshot, []EC2{client(f, "us-east-1")}, p, engineOptions(now))
	rr := rep.Regions[0]
	if rr.Error != "" || rr.Summary.Created != 4 {
		t.Errorf("region error %q, created %d; want the good stanza's 4 volumes snapshotted", rr.Error, rr.Summary.Created)
	}
	if len(rr.InvalidStanzas) != 1 || rr.InvalidStanzas[0].ConfigID != "a-prod" || !strings.Contains(rr.InvalidStanzas[0].Error, "tags:env") {
		t.Errorf("invalid stanzas = %+v, want a-prod naming its filter", rr.InvalidStanzas)
	}
	if rep.Failed() != 1 {
		t.Errorf("Failed() = %d, want 1 (the rejected stanza)", rep.Failed())
	}

	rep = runUseCase(t.Context(), useClean, []EC2{client(f, "us-east-1")}, p, engineOptions(now))
	for _, r := range rep.Regions[0].Clean {
		if r.VolumeID == "vol-prod" && r.Action != retention.Keep {
			t.Errorf("%s of the rejected stanza's instance: %s (%s), want kept", r.SnapshotID, r.Action, r.Reason)
		}
	}
	if _, ok := f.Snapshot("snap-prod-1"); !ok {
		t.Error("ignore_retention deleted a snapshot of the rejected stanza's instance")
	}
}

// Errors other than a rejected filter still fail the region: planning on a
// partial picture is unsafe.
func TestThrottledListingStillFailsTheRegion(t *testing.T) {
	f := webFleet()
	f.Fail(ec2fake.OpDescribeInstances, 100, &smithy.GenericAPIError{Code: ebs.CodeRequestLimitExceeded, Message: "slow down"})
	p := NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 1)}, 0)
	rep := runUseCase(t.Context(), useClean, []EC2{client(f, "us-east-1")}, p, engineOptions(now))
	if rr := rep.Regions[0]; rr.Error == "" || len(rr.Clean) != 0 || len(rr.InvalidStanzas) != 0 {
		t.Errorf("region = %+v, want failed without a plan", rr)
	}
}

// Issue 10, item 7: an instance matched by two stanzas keeps the larger
// minimum (a plan deleted 7 of 8 due snapshots despite minimum 6), takes
// the longest retention and the frequency that fires soonest; a volume
// attached to two instances follows the same rule.
func TestConflictingStanzasResolveToTheSaferRule(t *testing.T) {
	a := stanza(t, "a", "1w", 1)
	b := matching(stanza(t, "b", "1 day", 6), "Name", "Foo")
	b.Retention = 30 * 24 * time.Hour
	p := NewPolicy([]config.Stanza{a, b}, 0)
	for name, volumeOf := range map[string]string{"instance matched by both": "vol-a1", "volume attached to both": "vol-shared"} {
		t.Run(name, func(t *testing.T) {
			f := webFleet()
			if volumeOf == "vol-shared" {
				// i-b (stanza a only) and i-x (stanza b only) share a volume.
				f.AddInstance(inventory.Instance{ID: "i-b", ImageID: "ami-1", Tags: tags("backup", "yes"), VolumeIDs: []string{"vol-b1", "vol-shared"}})
				f.AddInstance(inventory.Instance{ID: "i-x", ImageID: "ami-1", Tags: tags("Name", "Foo"), VolumeIDs: []string{"vol-shared"}})
				f.AddInstance(inventory.Instance{ID: "i-a", ImageID: "ami-1", Tags: tags("backup", "yes"), VolumeIDs: []string{"vol-a1"}})
			}
			for i := range 8 {
				f.AddSnapshot(snap("snap-"+string(rune('a'+i)), volumeOf, inventory.StateCompleted, time.Duration(900-10*i)*time.Hour, "2026-11-20"), "")
			}
			rep := runUseCase(t.Context(), usePlan, []EC2{client(f, "us-east-1")}, p, engineOptions(now))
			var deleted int
			for _, r := range rep.Regions[0].Clean {
				if r.Action == retention.Delete {
					deleted++
				}
				if r.ConfigID != "b" || !slices.Equal(r.ConfigIDs, []string{"a", "b"}) {
					t.Errorf("%s: config %q of %v, want b (minimum 6) of [a b]", r.SnapshotID, r.ConfigID, r.ConfigIDs)
				}
			}
			if deleted != 2 {
				t.Errorf("deleted %d of 8 due snapshots, want 2 (minimum 6 of stanza b)", deleted)
			}
			var planned bool
			for _, r := range rep.Regions[0].Snapshots {
				if r.VolumeID != volumeOf || r.Action != Create {
					continue
				}
				planned = true
				// Last snapshot 130 hours ago: weekly a is not due, daily b is.
				if r.ConfigID != "b" || r.DeleteOn != "2026-12-26" || !strings.Contains(r.Reason, "stanzas a, b govern it") {
					t.Errorf("%s: config %q, DeleteOn %s, reason %q; want b's frequency and 30-day retention, naming both", r.VolumeID, r.ConfigID, r.DeleteOn, r.Reason)
				}
			}
			if !planned {
				t.Errorf("%s not snapshotted though stanza b's daily frequency is due", volumeOf)
			}
		})
	}
}

// Issue 10, item 11: snapshots whose DeleteOn is not a date are kept and
// named in the report.
func TestNeverDueSnapshotsAreNamed(t *testing.T) {
	f := webFleet()
	for i, v := range []string{"2026-13-45", "tomorrow", "", "2026/11/01", "2026-11-20"} {
		f.AddSnapshot(snap("snap-"+string(rune('a'+i)), "vol-a1", inventory.StateCompleted, time.Duration(100-i)*time.Hour, ""), "")
		f.AddSnapshot(inventory.Snapshot{ID: "snap-bad-" + string(rune('a'+i)), VolumeID: "vol-b1", State: inventory.StateCompleted,
			StartTime: now.Add(-time.Duration(100-i) * time.Hour), Tags: tags("DeleteOn", v)}, "")
	}
	p := NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 0)}, 0)
	rep := runUseCase(t.Context(), useClean, []EC2{client(f, "us-east-1")}, p, engineOptions(now))
	want := []string{"snap-bad-a", "snap-bad-b", "snap-bad-c", "snap-bad-d"}
	if got := rep.Regions[0].NeverDue; !slices.Equal(got, want) {
		t.Errorf("never due = %v, want %v", got, want)
	}
	for _, id := range want {
		if _, ok := f.Snapshot(id); !ok {
			t.Errorf("%s deleted", id)
		}
	}
}

// The frequency and the retention of conflicting stanzas are chosen
// separately: when the stanza that fires soonest has the shorter retention,
// the new snapshot still gets the longest one.
func TestConflictingStanzasTakeTheLongestRetentionFromAnotherStanza(t *testing.T) {
	daily := stanza(t, "daily", "1 day", 1) // fires soonest, 4-day retention
	weekly := matching(stanza(t, "weekly", "1w", 1), "Name", "Foo")
	weekly.Retention = 30 * 24 * time.Hour
	f := webFleet()
	f.AddSnapshot(snap("snap-old", "vol-a1", inventory.StateCompleted, 30*time.Hour, "2026-11-28"), "")
	rep := runUseCase(t.Context(), usePlan, []EC2{client(f, "us-east-1")}, NewPolicy([]config.Stanza{daily, weekly}, 0), engineOptions(now))
	var planned bool
	for _, r := range rep.Regions[0].Snapshots {
		if r.VolumeID != "vol-a1" {
			continue
		}
		planned = r.Action == Create
		if r.ConfigID != "daily" || r.DeleteOn != "2026-12-26" || !strings.Contains(r.Reason, "retention of weekly (longest)") {
			t.Errorf("%s: %s by %q, DeleteOn %s, reason %q; want daily's frequency with weekly's 30-day retention (DeleteOn 2026-12-26)", r.VolumeID, r.Action, r.ConfigID, r.DeleteOn, r.Reason)
		}
	}
	if !planned {
		t.Error("vol-a1 not snapshotted though stanza daily is due")
	}
}

// An ignored instance protects its volumes' snapshots also when a volume is
// attached to another instance as well (EBS Multi-Attach), whichever of the
// two ids sorts first.
func TestIgnoredInstanceProtectsASharedVolume(t *testing.T) {
	for _, ignored := range []string{"i-a", "i-z"} {
		t.Run(ignored, func(t *testing.T) {
			f := webFleet()
			f.AddInstance(inventory.Instance{ID: "i-z", ImageID: "ami-1", Tags: tags("backup", "yes"), VolumeIDs: []string{"vol-a1"}})
			for i := range 4 {
				f.AddSnapshot(snap("snap-"+string(rune('a'+i)), "vol-a1", inventory.StateCompleted, time.Duration(200-10*i)*time.Hour, "2026-11-20"), "")
			}
			p := NewPolicy([]config.Stanza{stanza(t, "s", "1 day", 1, ignored)}, 0)
			rep := runUseCase(t.Context(), usePlan, []EC2{client(f, "us-east-1")}, p, engineOptions(now))
			for _, r := range rep.Regions[0].Clean {
				if r.Action == retention.Delete || !strings.Contains(r.Reason, "instance "+ignored+" is ignored") {
					t.Errorf("%s: %s (%s); want kept: instance %s is ignored", r.SnapshotID, r.Action, r.Reason, ignored)
				}
			}
		})
	}
}
