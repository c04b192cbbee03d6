package retention

import (
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// protect adds p to the snapshots of in with the given ids.
func protect(in *Input, p func(id string) inventory.Protection, ids ...string) {
	for i := range in.Snapshots {
		for _, id := range ids {
			if in.Snapshots[i].ID == id {
				in.Snapshots[i].Protections = append(in.Snapshots[i].Protections, p(id))
			}
		}
	}
}

// backsAMIs protects each snapshot named in amis with the AMI it maps to.
func backsAMIs(in *Input, amis map[string]string) {
	for id, ami := range amis {
		protect(in, func(string) inventory.Protection { return amiProtection(ami) }, id)
	}
}

func amiProtection(ami string) inventory.Protection {
	return inventory.Protection{Kind: inventory.ProtectedByAMI, Resource: ami}
}

// backedAMI returns the AMI a snapshot backs in the tests' inputs.
func backedAMI(s inventory.Snapshot) (string, bool) {
	for _, p := range s.Protections {
		if p.Kind == inventory.ProtectedByAMI {
			return p.Resource, true
		}
	}
	return "", false
}

// TestPlanProtections: every protection keeps its snapshot whatever
// DeleteOn says, is named, counts toward the minimum (AWS Backup's not),
// and launch templates yield to IgnoreLaunchTemplates.
func TestPlanProtections(t *testing.T) {
	until := time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC)
	lock := func(string) inventory.Protection {
		return inventory.Protection{Kind: inventory.ProtectedByLock, Mode: "governance", Until: until}
	}
	backup := func(string) inventory.Protection {
		return inventory.Protection{Kind: inventory.ProtectedByAWSBackup, Resource: "arn:aws:ec2:us-east-1::volume/vol-1"}
	}
	template := func(string) inventory.Protection {
		return inventory.Protection{Kind: inventory.ProtectedByLaunchTemplate, Resource: "lt-1", Name: "web", Version: "3 (default)"}
	}
	four := func() Input {
		return input(map[string]int{"vol-1": 2},
			snap("s1", "vol-1", 1, past), snap("s2", "vol-1", 2, past), snap("s3", "vol-1", 3, past), snap("s4", "vol-1", 4, future))
	}
	runPlanCases(t, []planCase{{
		name: "a lock keeps a due snapshot and counts toward the minimum",
		in:   with(four(), func(in *Input) { protect(in, lock, "s1") }),
		want: []verdict{
			kept("s1", "kept: locked in governance mode until 2027-01-05T00:00:00Z"),
			deleted("s2", "expired on 2026-11-20, 4 completed snapshots > minimum 2"),
			deleted("s3", "expired on 2026-11-20, 3 completed snapshots > minimum 2"),
			kept("s4", "kept: expires on 2026-12-01"),
		},
	}, {
		name: "a protection is named even before DeleteOn is due, every one of them",
		in: with(four(), func(in *Input) {
			protect(in, func(string) inventory.Protection { return amiProtection("ami-1") }, "s4")
			protect(in, lock, "s4")
		}),
		want: []verdict{
			deleted("s1", "expired on 2026-11-20, 4 completed snapshots > minimum 2"),
			deleted("s2", "expired on 2026-11-20, 3 completed snapshots > minimum 2"),
			kept("s3", "kept: minimum 2 reached (2 completed snapshots of vol-1)"),
			kept("s4", "kept: backs ami-1; locked in governance mode until 2027-01-05T00:00:00Z"),
		},
	}, {
		name: "an AWS Backup recovery point is kept and not counted",
		in:   with(four(), func(in *Input) { protect(in, backup, "s1") }),
		want: []verdict{
			kept("s1", "kept: AWS Backup recovery point of arn:aws:ec2:us-east-1::volume/vol-1, AWS Backup deletes it (not counted toward the minimum)"),
			deleted("s2", "expired on 2026-11-20, 3 completed snapshots > minimum 2"),
			kept("s3", "kept: minimum 2 reached (2 completed snapshots of vol-1)"),
			kept("s4", "kept: expires on 2026-12-01"),
		},
	}, {
		name: "a launch template protects, unless the policy ignores launch templates",
		in:   with(four(), func(in *Input) { protect(in, template, "s1", "s2") }),
		want: []verdict{
			kept("s1", "kept: used by launch template lt-1 (web) version 3 (default)"),
			kept("s2", "kept: used by launch template lt-1 (web) version 3 (default)"),
			deleted("s3", "expired on 2026-11-20, 4 completed snapshots > minimum 2"),
			kept("s4", "kept: expires on 2026-12-01"),
		},
	}, {
		name: "launch templates ignored: deleted as if unused; a lock still holds",
		in: with(four(), func(in *Input) {
			protect(in, template, "s1", "s2")
			protect(in, lock, "s2")
			p := in.Volumes["vol-1"]
			p.IgnoreLaunchTemplates = true
			in.Volumes["vol-1"] = p
		}),
		want: []verdict{
			deleted("s1", "expired on 2026-11-20, 4 completed snapshots > minimum 2"),
			kept("s2", "kept: locked in governance mode until 2027-01-05T00:00:00Z"),
			deleted("s3", "expired on 2026-11-20, 3 completed snapshots > minimum 2"),
			kept("s4", "kept: expires on 2026-12-01"),
		},
	}})
}

// TestProtectedNotArchived: a protected snapshot old enough to archive
// stays where it is.
func TestProtectedNotArchived(t *testing.T) {
	in := with(input(map[string]int{"vol-1": 1},
		snap("s1", "vol-1", 1, "DeleteOn=2027-12-01"), snap("s2", "vol-1", 2, "DeleteOn=2027-12-01"), snap("s3", "vol-1", 3, future)),
		func(in *Input) {
			p := in.Volumes["vol-1"]
			p.ArchiveAfter = 24 * time.Hour
			in.Volumes["vol-1"] = p
			protect(in, func(string) inventory.Protection { return amiProtection("ami-1") }, "s1")
		})
	got := map[string]Action{}
	for _, d := range planChecked(t, in) {
		got[d.SnapshotID] = d.Action
	}
	if got["s1"] != Keep || got["s2"] != Archive {
		t.Errorf("actions %v: want s1 (backs an AMI) kept, s2 archived", got)
	}
}
