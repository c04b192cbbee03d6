package snapper

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// reasons maps each row's resource to "action: reason".
func reasons(rr RegionReport) map[string]string {
	out := map[string]string{}
	for _, r := range rr.Snapshots {
		out[r.VolumeID] = r.Action + ": " + r.Reason
	}
	for _, r := range rr.Clean {
		out[r.SnapshotID] = string(r.Action) + ": " + r.Reason
	}
	return out
}

// TestExclusion: exclude (instances) and exclude_volumes (volumes) are
// evaluated by EC2's filters, one listing per filter: excluded volumes are
// skipped with the filter named, and no snapshot is taken of them.
func TestExclusion(t *testing.T) {
	f := &ec2fake.Fake{Now: func() time.Time { return now }}
	f.AddVolume(inventory.Volume{ID: "vol-a1", Type: "gp3"})
	f.AddVolume(inventory.Volume{ID: "vol-a2", Type: "st1"})
	f.AddVolume(inventory.Volume{ID: "vol-a3", Type: "gp3", Tags: tags("Scratch", "tmp")})
	f.AddInstance(inventory.Instance{ID: "i-a", ImageID: "ami-1", Tags: tags("backup", "yes"), VolumeIDs: []string{"vol-a1", "vol-a2", "vol-a3"}})
	f.AddInstance(inventory.Instance{ID: "i-n", ImageID: "ami-1", Tags: tags("backup", "yes", "NoBackup", "true"), VolumeIDs: []string{"vol-n1"}})
	s := stanza(t, "daily", "1 day", 1)
	s.Exclude = []inventory.Filter{{Name: "tag:NoBackup", Values: []string{"true"}}}
	s.ExcludeVolumes = []inventory.Filter{{Name: "tag:Scratch", Values: []string{"*"}}, {Name: "volume-type", Values: []string{"st1", "sc1"}}}
	rep := runUseCase(context.Background(), useSnapshot, []EC2{client(f, "us-east-1")}, NewPolicy([]config.Stanza{s}, 0), engineOptions(now))
	got := reasons(rep.Regions[0])
	want := map[string]string{
		"vol-a1": "create: no snapshot yet",
		"vol-a2": "skip: excluded by volume-type=st1|sc1",
		"vol-a3": "skip: excluded by tag:Scratch=*",
		"vol-n1": "skip: excluded by tag:NoBackup=true",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if n := len(f.Snapshots()); n != 1 {
		t.Errorf("%d snapshots taken, want 1 (of vol-a1)", n)
	}
	// One DescribeInstances for the match, one per exclude filter; one
	// DescribeVolumes per exclude_volumes filter and one for the due
	// volume's tags: never a call per volume.
	if got, want := f.Calls(ec2fake.OpDescribeInstances), 2; got != want {
		t.Errorf("%d DescribeInstances, want %d", got, want)
	}
	if got, want := f.Calls(ec2fake.OpDescribeVolumes), 3; got != want {
		t.Errorf("%d DescribeVolumes, want %d", got, want)
	}
	// The new snapshot names its stanza.
	if id, _ := f.Snapshots()[0].Tag(retention.ConfigIDTag); id != "daily" {
		t.Errorf("config-id tag = %q, want daily", id)
	}
}

// TestOrphansFollowTheirStanza: the snapshots of a volume no stanza
// governs (vol-gone) follow the orphans policy of the stanza their
// Description names; excluded volumes' snapshots too.
func TestOrphansFollowTheirStanza(t *testing.T) {
	for _, tt := range []struct {
		orphans config.Orphans
		deleted int
	}{
		{config.Orphans{}, 0},
		{config.Orphans{Mode: config.OrphansKeep}, 0},
		{config.Orphans{Mode: config.OrphansRetain}, 2}, // minimum 2 of 4
		{config.Orphans{Mode: config.OrphansKeepLast, KeepLast: 1}, 3},
	} {
		t.Run(tt.orphans.Mode, func(t *testing.T) {
			f := webFleet()
			for i, age := range []time.Duration{100, 80, 60, 40} {
				s := snap("snap-gone-"+string(rune('a'+i)), "vol-gone", inventory.StateCompleted, (age+100)*time.Hour, "2026-11-20")
				s.Tags = append(s.Tags, inventory.Tag{Key: retention.ConfigIDTag, Value: "daily"})
				s.Description = Description("test", "i-gone", "ami-1", "vol-gone", "daily")
				f.AddSnapshot(s, "")
			}
			st := stanza(t, "daily", "1 day", 2)
			st.Orphans = tt.orphans
			rep := runUseCase(context.Background(), useClean, []EC2{client(f, "us-east-1")}, NewPolicy([]config.Stanza{st}, 0), engineOptions(now))
			if got := rep.Regions[0].Summary.Deleted; got != tt.deleted {
				t.Errorf("deleted %d, want %d: %v", got, tt.deleted, reasons(rep.Regions[0]))
			}
		})
	}
}

// The config-id tag, which anyone allowed ec2:CreateTags can rewrite, does
// not choose the orphans policy: snapshots a "keep" stanza took stay kept
// when their tags name a "keep_last 1" stanza.
func TestOrphansIgnoreARewrittenConfigIDTag(t *testing.T) {
	f := webFleet()
	for i, age := range []time.Duration{200, 180, 160} {
		s := snap("snap-gone-"+string(rune('a'+i)), "vol-gone", inventory.StateCompleted, age*time.Hour, "2026-11-20")
		s.Tags = append(s.Tags, inventory.Tag{Key: retention.ConfigIDTag, Value: "last"})
		s.Description = Description("test", "i-gone", "ami-1", "vol-gone", "keeper")
		f.AddSnapshot(s, "")
	}
	keeper, last := matching(stanza(t, "keeper", "1 day", 2), "role", "none"), matching(stanza(t, "last", "1 day", 2), "role", "none")
	keeper.Orphans, last.Orphans = config.Orphans{Mode: config.OrphansKeep}, config.Orphans{Mode: config.OrphansKeepLast, KeepLast: 1}
	rep := runUseCase(context.Background(), useClean, []EC2{client(f, "us-east-1")}, NewPolicy([]config.Stanza{keeper, last, stanza(t, "daily", "1 day", 2)}, 0), engineOptions(now))
	if got := rep.Regions[0].Summary.Deleted; got != 0 {
		t.Errorf("deleted %d, want 0: %v", got, reasons(rep.Regions[0]))
	}
	for id, reason := range reasons(rep.Regions[0]) {
		if id != "snap-gone-c" && !strings.Contains(reason, `orphans "keep" of stanza keeper`) { // c is the newest
			t.Errorf("%s: %s, want kept by keeper's orphans policy", id, reason)
		}
	}
}

// TestAdoptAndArchive: adopt with a filter makes the filter's snapshots
// without DeleteOn candidates; archive_after moves an old tier keep to the
// archive tier through ModifySnapshotTier (the fake: moto lacks the call).
func TestAdoptAndArchive(t *testing.T) {
	f := webFleet()
	dlm := func(id string, days int) {
		f.AddSnapshot(inventory.Snapshot{ID: id, VolumeID: "vol-b1", State: inventory.StateCompleted,
			StartTime: now.AddDate(0, 0, -days), Tags: tags("dlm:managed", "true")}, "")
	}
	dlm("snap-dlm-old", 200)
	dlm("snap-dlm-mid", 150)
	dlm("snap-dlm-new", 1)
	f.AddSnapshot(inventory.Snapshot{ID: "snap-hand", VolumeID: "vol-b1", State: inventory.StateCompleted, StartTime: now.AddDate(0, 0, -300)}, "")
	st := stanza(t, "daily", "1 day", 1)
	st.Adopt = config.Adopt{Filters: []inventory.Filter{{Name: "tag:dlm:managed", Values: []string{"true"}}}}
	st.Tiers = retention.Tiers{Monthly: 12}
	st.ArchiveAfter = 30 * 24 * time.Hour
	rep := runUseCase(context.Background(), useClean, []EC2{client(f, "us-east-1")}, NewPolicy([]config.Stanza{st}, 0), engineOptions(now))
	got := map[string]string{}
	for _, r := range rep.Regions[0].Clean {
		got[r.SnapshotID] = string(r.Action) + " " + r.Status
	}
	want := map[string]string{"snap-dlm-old": "archive done", "snap-dlm-mid": "archive done", "snap-dlm-new": "keep "}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("clean (-want +got):\n%s\n%v", diff, reasons(rep.Regions[0]))
	}
	if s, _ := f.Snapshot("snap-dlm-old"); s.StorageTier != inventory.TierArchive {
		t.Errorf("snap-dlm-old tier %q, want archive", s.StorageTier)
	}
	if rep.Regions[0].Summary.Archived != 2 {
		t.Errorf("summary %+v, want 2 archived", rep.Regions[0].Summary)
	}
	// The next run sees them archived (StorageTier from DescribeSnapshots).
	rep = runUseCase(context.Background(), useClean, []EC2{client(f, "us-east-1")}, NewPolicy([]config.Stanza{st}, 0), engineOptions(now))
	if n := f.Calls(ec2fake.OpModifySnapshotTier); n != 2 || rep.Regions[0].Summary.Archived != 0 {
		t.Errorf("second run: %d ModifySnapshotTier calls in all, %d archived; want 2 and 0", n, rep.Regions[0].Summary.Archived)
	}
}

// TestGovernUnionsTiers: several stanzas keep the largest count of each
// tier; adopt and archive only when all of them say so.
func TestGovernUnionsTiers(t *testing.T) {
	a, b := stanza(t, "a", "1 day", 1), stanza(t, "b", "1 day", 2)
	a.Tiers, b.Tiers = retention.Tiers{Daily: 7, Monthly: 2}, retention.Tiers{Daily: 3, Weekly: 4}
	a.Adopt, a.ArchiveAfter = config.Adopt{All: true}, 30*24*time.Hour
	b.ArchiveAfter = 60 * 24 * time.Hour
	g := NewPolicy([]config.Stanza{a, b}, 0).Govern([]string{"a", "b"})
	if want := (retention.Tiers{Daily: 7, Weekly: 4, Monthly: 2}); g.Tiers != want {
		t.Errorf("tiers %+v, want %+v", g.Tiers, want)
	}
	if g.Adopt || g.ArchiveAfter != 60*24*time.Hour {
		t.Errorf("adopt %v archive_after %v, want false and 60 days", g.Adopt, g.ArchiveAfter)
	}
	b.ArchiveAfter = 0
	if g := NewPolicy([]config.Stanza{a, b}, 0).Govern([]string{"a", "b"}); g.ArchiveAfter != 0 {
		t.Errorf("archive_after %v when b does not archive, want 0", g.ArchiveAfter)
	}
}

// TestSixtyDaysOfDailies is issue 8's fleet: 60 daily snapshots of a
// volume, all due, under keep_daily 7, keep_weekly 4, keep_monthly 2 and
// minimum 3; clean keeps exactly the 7 last days, the newest of the two
// ISO weeks before them and of October, each naming its tier. It runs on
// the fake: moto stamps StartTime with its own clock (see
// docs/retention.md, "Testing").
func TestSixtyDaysOfDailies(t *testing.T) {
	f := webFleet()
	for k := range 60 {
		start := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC).AddDate(0, 0, -k)
		f.AddSnapshot(inventory.Snapshot{ID: "snap-" + start.Format("0102"), VolumeID: "vol-b1", State: inventory.StateCompleted,
			StartTime: start, Tags: tags("DeleteOn", start.AddDate(0, 0, 1).Format(time.DateOnly), retention.ConfigIDTag, "daily")}, "")
	}
	st := stanza(t, "daily", "1 day", 3)
	st.Retention = 24 * time.Hour // the snapshots are dated StartTime + 1 day
	st.Tiers = retention.Tiers{Daily: 7, Weekly: 4, Monthly: 2}
	rep := runUseCase(context.Background(), useClean, []EC2{client(f, "us-east-1")}, NewPolicy([]config.Stanza{st}, 0), engineOptions(now))
	kept := map[string]string{}
	for _, r := range rep.Regions[0].Clean {
		if r.Action == retention.Keep {
			kept[r.SnapshotID] = r.Reason
		}
	}
	want := map[string]string{
		"snap-1031": "kept: monthly 2026-10",
		"snap-1108": "kept: weekly 2026-W45",
		"snap-1115": "kept: weekly 2026-W46",
		"snap-1119": "kept: daily 2026-11-19",
		"snap-1120": "kept: daily 2026-11-20",
		"snap-1121": "kept: daily 2026-11-21",
		"snap-1122": "kept: daily 2026-11-22, weekly 2026-W47",
		"snap-1123": "kept: daily 2026-11-23",
		"snap-1124": "kept: daily 2026-11-24",
		"snap-1125": "kept: expires on 2026-11-26T02:00:00Z, StartTime + retention 1d (DeleteOn 2026-11-26 does not shorten it)",
	}
	if diff := cmp.Diff(want, kept); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
	if got := len(f.Snapshots()); got != 10 {
		t.Errorf("%d snapshots left, want 10", got)
	}
}
