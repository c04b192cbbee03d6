package cli

// Issue 8 through the built binary against moto: the config-id tag,
// exclusion by instance and volume tag, the orphans policies after a
// volume is deleted, and adopt. Tiers over a 60-day fleet and the archive
// tier need StartTimes and ModifySnapshotTier, which moto cannot give: they
// are tested on the fake (internal/snapper/lifecycle_test.go).

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

func TestLifecycleAgainstMoto(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("web", `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "1 day", "minimum": 1, "frequency": "1 day"},
		"exclude": {"tag:NoBackup": "true"}, "exclude_volumes": {"tag:Scratch": "*"}, "adopt": true,
		"retention_tiers": {"keep_daily": 1}}`)
	// Stanzas that match nothing, only there for their orphans policies.
	for id, orphans := range map[string]string{"keep": `"keep"`, "retain": `"retain"`, "last": `{"keep_last": 1}`} {
		e.stanza(id, `{"match": {"tag:none": "none"}, "snapshot": {"retention": "1 day", "minimum": 2, "frequency": "1 day"}, "orphans": `+orphans+`}`)
	}
	web := e.launch(seeder.Group{Count: 1, Volumes: 2, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})[0]
	skipped := e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}, {Key: "NoBackup", Value: "true"}}})[0]
	scratch := web.VolumeIDs[1]
	if _, err := e.ec2.CreateTags(e.ctx, &ec2.CreateTagsInput{Resources: []string{scratch}, Tags: []ec2types.Tag{{Key: aws.String("Scratch"), Value: aws.String("yes")}}}); err != nil {
		t.Fatal(err)
	}
	// A snapshot taken by hand, before ebs-snapper: adopt manages it.
	hand := e.snapshot(web.VolumeIDs[0])
	// Three volumes whose snapshots name a stanza, then deleted.
	orphans := map[string][]string{}
	for _, id := range []string{"keep", "retain", "last"} {
		v, err := e.ec2.CreateVolume(e.ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(1)})
		if err != nil {
			t.Fatal(err)
		}
		vol := aws.ToString(v.VolumeId)
		for range 3 {
			orphans[id] = append(orphans[id], e.snapshotBy(vol, id, date(-5), inventory.Tag{Key: "ebs-snapper:config-id", Value: id}))
		}
		if _, err := e.ec2.DeleteVolume(e.ctx, &ec2.DeleteVolumeInput{VolumeId: v.VolumeId}); err != nil {
			t.Fatal(err)
		}
	}

	start := time.Now().UTC()
	plan := e.run(0, "plan", "--now", start.Format(time.RFC3339))
	reasons := map[string]string{}
	for _, r := range plan.Regions[0].Snapshots {
		reasons[r.VolumeID] = r.Action + ": " + r.Reason
	}
	if got, want := reasons[skipped.VolumeIDs[0]], "skip: excluded by tag:NoBackup=true"; got != want {
		t.Errorf("instance excluded by tag: %q, want %q", got, want)
	}
	if got, want := reasons[scratch], "skip: excluded by tag:Scratch=*"; got != want {
		t.Errorf("volume excluded by tag: %q, want %q", got, want)
	}

	// A day on: the hand-made snapshot made the volume not due today.
	out := e.run(0, "snapshot", "--now", start.Add(25*time.Hour).Format(time.RFC3339))
	if got := out.Regions[0].Summary.Created; got != 1 {
		t.Fatalf("created %d snapshots, want 1 (excluded volumes are not snapshotted)", got)
	}
	snaps := e.snapshots()
	newest := snaps[web.VolumeIDs[0]][len(snaps[web.VolumeIDs[0]])-1]
	if got := tagMap(newest.Tags)["ebs-snapper:config-id"]; got != "web" {
		t.Errorf("new snapshot's ebs-snapper:config-id = %q, want web", got)
	}
	if n := len(snaps[scratch]) + len(snaps[skipped.VolumeIDs[0]]); n != 0 {
		t.Errorf("%d snapshots of excluded volumes", n)
	}

	// Five days on, everything is due.
	out = e.run(0, "clean", "--now", start.Add(5*24*time.Hour).Format(time.RFC3339))
	status := map[string]string{}
	for _, r := range out.Regions[0].Clean {
		status[r.SnapshotID] = string(r.Action) + ": " + r.Reason
	}
	if got := status[hand]; !strings.HasPrefix(got, "delete: ") || !strings.Contains(got, "adopted") {
		t.Errorf("hand-made snapshot: %q, want deleted as adopted", got)
	}
	// The newest is kept as the newest (snapshots seeded in one second
	// tie on StartTime, the larger id is the newer); the others by the
	// policy.
	byPolicy := 0
	for _, id := range orphans["keep"] {
		if strings.HasPrefix(status[id], `keep: kept: orphans "keep" of stanza keep`) {
			byPolicy++
		}
	}
	if byPolicy != 2 {
		t.Errorf("orphans of keep: %d kept by the policy, want 2: %v", byPolicy, status)
	}
	deleted := func(ids []string) int {
		n := 0
		for _, id := range ids {
			if strings.HasPrefix(status[id], "delete: ") {
				n++
			}
		}
		return n
	}
	if got := deleted(orphans["keep"]); got != 0 {
		t.Errorf("keep: %d deleted, want 0", got)
	}
	if got := deleted(orphans["retain"]); got != 1 {
		t.Errorf("retain (minimum 2 of 3): %d deleted, want 1: %v", got, status)
	}
	if got := deleted(orphans["last"]); got != 2 {
		t.Errorf("keep_last 1 of 3: %d deleted, want 2: %v", got, status)
	}
	left := e.snapshots()
	if len(left[web.VolumeIDs[0]]) != 1 {
		t.Errorf("web volume keeps %d snapshots, want 1 (the newest)", len(left[web.VolumeIDs[0]]))
	}
}
