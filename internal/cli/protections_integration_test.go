package cli

// Integration tests of what protects a snapshot: the built binary against
// moto. moto 5.2.1 implements launch templates, and images without their
// disabled state; snapshot locks, DisableImage with DescribeImages'
// IncludeDisabled, and the Recycle Bin API are added by the harness's
// patched moto (internal/testrig/motoserver/patch.py), reached through the real SDK
// calls like everything else.

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rbin"
	rbintypes "github.com/aws/aws-sdk-go-v2/service/rbin/types"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/report"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// cleanRows maps a region report's clean rows by snapshot id.
func cleanRows(out output) map[string]snapper.CleanRow {
	rows := map[string]snapper.CleanRow{}
	for _, rr := range out.Regions {
		for _, r := range rr.Clean {
			rows[r.SnapshotID] = r
		}
	}
	return rows
}

// later is when the tests plan and clean: past the 4 days of retention
// of snapshots seeded now (their StartTime + retention, which a past
// DeleteOn does not shorten), before the newest one's DeleteOn.
func later() string { return at(108 * time.Hour) }

// dueVolume launches one backup=yes instance and seeds its volume with
// n snapshots due three days ago and a newest one not due.
func (e *engineEnv) dueVolume(n int) (vol string, due []string, newest string) {
	e.t.Helper()
	inst := e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	vol = inst[0].VolumeIDs[0]
	for range n {
		due = append(due, e.snapshot(vol, date(-3)))
	}
	return vol, due, e.snapshot(vol, date(5))
}

func TestLockedSnapshotIsKeptAndCounted(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("web", webStanza) // minimum 2
	_, due, newest := e.dueVolume(3)
	until := time.Now().UTC().AddDate(0, 0, 30).Truncate(time.Second)
	if _, err := e.ec2.LockSnapshot(e.ctx, &ec2.LockSnapshotInput{SnapshotId: aws.String(due[0]),
		LockMode: ec2types.LockModeCompliance, ExpirationDate: aws.Time(until)}); err != nil {
		t.Fatal(err)
	}
	plan := cleanRows(e.run(0, "plan", "--now", later()))
	want := "kept: locked in compliance mode until " + until.Format(time.RFC3339)
	if r := plan[due[0]]; r.Action != "keep" || r.Reason != want {
		t.Errorf("locked %s: %s %q, want keep %q", due[0], r.Action, r.Reason, want)
	}
	// Four completed snapshots, the locked one counted: two deletes leave
	// the minimum of two (the locked one and the newest).
	for _, id := range due[1:] {
		if plan[id].Action != "delete" {
			t.Errorf("%s: %s %q, want delete", id, plan[id].Action, plan[id].Reason)
		}
	}
	out := e.run(0, "clean", "--now", later())
	if s := out.Regions[0].Summary; s.Deleted != 2 || s.Failed != 0 {
		t.Errorf("clean: %+v, want 2 deleted and no failure", s)
	}
	if !e.exists(e.ec2, due[0]) || !e.exists(e.ec2, newest) {
		t.Error("the locked snapshot or the newest was deleted")
	}
}

func TestDisabledAMIKeepsItsSnapshot(t *testing.T) {
	e := newEngineEnv(t)
	// ignore_retention lets clean delete snapshots of volumes no stanza
	// governs, such as the one moto's CreateImage makes.
	e.stanza("web", `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 2, "frequency": "12 hours"}, "ignore_retention": true}`)
	inst := e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	img, err := e.ec2.CreateImage(e.ctx, &ec2.CreateImageInput{InstanceId: aws.String(inst[0].ID), Name: aws.String("web-image")})
	if err != nil {
		t.Fatal(err)
	}
	ami := aws.ToString(img.ImageId)
	images, err := e.ec2.DescribeImages(e.ctx, &ec2.DescribeImagesInput{ImageIds: []string{ami}})
	if err != nil || len(images.Images) != 1 {
		t.Fatal(images, err)
	}
	snap := aws.ToString(images.Images[0].BlockDeviceMappings[0].Ebs.SnapshotId)
	if _, err := e.ec2.CreateTags(e.ctx, &ec2.CreateTagsInput{Resources: []string{snap}, Tags: []ec2types.Tag{{Key: aws.String("DeleteOn"), Value: aws.String(date(-3).Value)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ec2.DisableImage(e.ctx, &ec2.DisableImageInput{ImageId: aws.String(ami)}); err != nil {
		t.Fatal(err)
	}
	want := "kept: backs disabled AMI " + ami
	if r := cleanRows(e.run(0, "plan", "--now", later()))[snap]; r.Action != "keep" || r.Reason != want {
		t.Errorf("plan: %s %q, want keep %q", r.Action, r.Reason, want)
	}
	out := e.run(0, "clean", "--now", later())
	if r := cleanRows(out)[snap]; r.Action != "keep" || r.Status != "" {
		t.Errorf("clean: %s %s %q, want a keep with no delete sent", r.Action, r.Status, r.Error)
	}
	if !e.exists(e.ec2, snap) {
		t.Error("the disabled AMI's snapshot is gone")
	}
}

func TestAWSBackupRecoveryPointsAreNeverOurs(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("web", webStanza) // minimum 2
	inst := e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	vol := inst[0].VolumeIDs[0]
	// An AWS Backup recovery point that copied a due DeleteOn, as AWS
	// Backup describes its snapshots.
	res, err := e.ec2.CreateSnapshot(e.ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(vol),
		Description: aws.String("This snapshot is created by the AWS Backup service."),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot,
			Tags: []ec2types.Tag{{Key: aws.String("DeleteOn"), Value: aws.String(date(-3).Value)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	backup := aws.ToString(res.SnapshotId)
	s1, s2 := e.snapshot(vol, date(-2)), e.snapshot(vol, date(-1))
	e.snapshot(vol, date(5))
	plan := cleanRows(e.run(0, "plan", "--now", later()))
	if r := plan[backup]; r.Action != "keep" || !strings.HasPrefix(r.Reason, "kept: AWS Backup recovery point, AWS Backup deletes it (not counted toward the minimum)") {
		t.Errorf("AWS Backup's %s: %s %q", backup, r.Action, r.Reason)
	}
	// Three completed snapshots of ebs-snapper's own: one delete reaches
	// the minimum; AWS Backup's does not count toward it.
	if plan[s1].Action != "delete" || plan[s2].Action != "keep" {
		t.Errorf("s1 %s %q, s2 %s %q; want delete, keep", plan[s1].Action, plan[s1].Reason, plan[s2].Action, plan[s2].Reason)
	}
	if out := e.run(0, "clean", "--now", later()); out.Regions[0].Summary.Failed != 0 || !e.exists(e.ec2, backup) || !e.exists(e.ec2, s2) {
		t.Errorf("clean: %+v; AWS Backup's kept %v, s2 kept %v", out.Regions[0].Summary, e.exists(e.ec2, backup), e.exists(e.ec2, s2))
	}
}

func TestLaunchTemplateSnapshots(t *testing.T) {
	for _, tc := range []struct {
		name, extra string
		kept        bool
	}{
		{"default and latest versions protect", "", true},
		{"the stanza opts out", `, "launch_templates": "ignore"`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngineEnv(t)
			e.stanza("web", `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 1, "frequency": "12 hours"}`+tc.extra+`}`)
			_, due, _ := e.dueVolume(3)
			mapping := func(snap string) *ec2types.RequestLaunchTemplateData {
				return &ec2types.RequestLaunchTemplateData{BlockDeviceMappings: []ec2types.LaunchTemplateBlockDeviceMappingRequest{
					{DeviceName: aws.String("/dev/sdf"), Ebs: &ec2types.LaunchTemplateEbsBlockDeviceRequest{SnapshotId: aws.String(snap)}}}}
			}
			lt, err := e.ec2.CreateLaunchTemplate(e.ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web"), LaunchTemplateData: mapping(due[0])})
			if err != nil {
				t.Fatal(err)
			}
			id := aws.ToString(lt.LaunchTemplate.LaunchTemplateId)
			// Version 2 (an old one now) and 3 (the latest) map the others.
			for _, snap := range due[1:] {
				if _, err := e.ec2.CreateLaunchTemplateVersion(e.ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(id), LaunchTemplateData: mapping(snap)}); err != nil {
					t.Fatal(err)
				}
			}
			plan := cleanRows(e.run(0, "plan", "--now", later()))
			want := map[string]string{
				due[0]: "kept: used by launch template " + id + " (web) version 1 (default)",
				due[1]: "delete",
				due[2]: "kept: used by launch template " + id + " (web) version 3 (latest)",
			}
			if !tc.kept {
				want[due[0]], want[due[2]] = "delete", "delete"
			}
			for snap, w := range want {
				got := plan[snap].Reason
				if plan[snap].Action == "delete" {
					got = "delete"
				}
				if got != w {
					t.Errorf("%s: %q, want %q", snap, got, w)
				}
			}
		})
	}
}

func TestRecycleBinKeepsDeletesBilled(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("web", webStanza) // minimum 2
	_, due, _ := e.dueVolume(2)
	stageRecycleBinRule(t, e, 14)
	now := time.Now().UTC().Add(108 * time.Hour).Truncate(time.Second)
	until := now.AddDate(0, 0, 14)
	out := e.run(0, "plan", "--now", now.Format(time.RFC3339))
	b := out.Regions[0].RecycleBin
	if b == nil || b.Rules != 1 || b.Snapshots != 1 || b.GiB != 8 || !b.Until.Equal(until) {
		t.Fatalf("plan's Recycle Bin summary %+v, want 1 rule, 1 delete of 8 GiB billed until %s", b, until)
	}
	// The two due snapshots tie on StartTime and DeleteOn: either goes.
	for _, id := range due {
		r := cleanRows(out)[id]
		if h := r.RecycleBin; (r.Action == "delete") != (h != nil) || h != nil && (h.GiB != 8 || !h.Until.Equal(until)) {
			t.Errorf("%s: %s with hold %+v", id, r.Action, h)
		}
	}
	stdout, _, code := runBinary(t, e.srv, "", "clean", "--now", now.Format(time.RFC3339), "--region", "us-east-1")
	if code != 0 || !strings.Contains(stdout, "us-east-1: Recycle Bin: 1 snapshots deleted stay in the bin, billed, up to 8 GiB (their volumes' size) until "+until.Format(time.RFC3339)) {
		t.Errorf("clean: exit %d, output:\n%s", code, stdout)
	}
}

// TestReportAndCheckCountProtections: report counts each protection and
// the Recycle Bin's reach; configure -c notes them, exit 0.
func TestReportAndCheckCountProtections(t *testing.T) {
	e := newEngineEnv(t)
	e.stanza("web", webStanza)
	_, due, _ := e.dueVolume(2)
	if _, err := e.ec2.LockSnapshot(e.ctx, &ec2.LockSnapshotInput{SnapshotId: aws.String(due[0]), LockMode: ec2types.LockModeGovernance, LockDuration: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ec2.CreateLaunchTemplate(e.ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{BlockDeviceMappings: []ec2types.LaunchTemplateBlockDeviceMappingRequest{
			{DeviceName: aws.String("/dev/sdf"), Ebs: &ec2types.LaunchTemplateEbsBlockDeviceRequest{SnapshotId: aws.String(due[1])}}}}}); err != nil {
		t.Fatal(err)
	}
	stageRecycleBinRule(t, e, 7)
	stdout, stderr, code := runBinary(t, e.srv, "", "report", "--json", "--region", "us-east-1")
	var rep report.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 0 {
		t.Fatalf("report: exit %d, %v\n%s\n%s", code, err, stdout, stderr)
	}
	want := snapper.Protected{Lock: 1, LaunchTemplate: 1, WithDeleteOn: 2, RecycleBinRules: 1, RecycleBinCovered: 3, RecycleBinGiB: 24}
	if got := rep.Regions[0].Protected; got != want {
		t.Errorf("report's protected counts %+v, want %+v", got, want)
	}
	stdout, _, code = runBinary(t, e.srv, "", "configure", "-c")
	line := "note: us-east-1: protected snapshots: 1 locked, 1 used by launch templates (2 carry DeleteOn and are kept past it); 1 Recycle Bin rules for EBS snapshots: 3 snapshots (up to 24 GiB) would stay billed in the bin after a delete"
	if code != 0 || !slices.ContainsFunc(strings.Split(stdout, "\n"), func(l string) bool { return strings.HasSuffix(l, line) }) {
		t.Errorf("configure -c: exit %d, output:\n%s\nwant a line ending %q", code, stdout, line)
	}
}

func TestStanzaLockLocksNewSnapshots(t *testing.T) {
	for _, tc := range []struct {
		name, lock, state string
		until             func(now time.Time, deleteOn string) time.Time
	}{
		{"governance for the retention", `{"mode": "governance"}`, "governance",
			func(_ time.Time, deleteOn string) time.Time { d, _ := time.Parse(time.DateOnly, deleteOn); return d }},
		{"compliance for 30 days with a cooling-off period", `{"mode": "compliance", "duration": "30 days", "cool_off": "24 hours"}`, "compliance-cooloff",
			func(now time.Time, _ string) time.Time { return now.Add(30 * 24 * time.Hour) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngineEnv(t)
			e.stanza("web", `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 2, "frequency": "12 hours"}, "lock": `+tc.lock+`}`)
			e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
			now := time.Now().UTC().Truncate(time.Second)
			plan := e.run(0, "plan", "--now", now.Format(time.RFC3339)).Regions[0].Snapshots[0]
			until := tc.until(now, plan.DeleteOn)
			if plan.Lock == nil || !strings.Contains(plan.Reason, "; to be locked in "+plan.Lock.Mode+" mode until "+until.Format(time.RFC3339)) {
				t.Errorf("plan: lock %+v, reason %q", plan.Lock, plan.Reason)
			}
			row := e.run(0, "snapshot", "--now", now.Format(time.RFC3339)).Regions[0].Snapshots[0]
			if !row.Locked || row.LockError != "" {
				t.Fatalf("snapshot row %+v: want locked", row)
			}
			locks, err := e.ec2.DescribeLockedSnapshots(e.ctx, &ec2.DescribeLockedSnapshotsInput{SnapshotIds: []string{row.SnapshotID}})
			if err != nil || len(locks.Snapshots) != 1 {
				t.Fatalf("locks of %s: %v %v", row.SnapshotID, locks, err)
			}
			l := locks.Snapshots[0]
			if string(l.LockState) != tc.state || !aws.ToTime(l.LockExpiresOn).Equal(until) {
				t.Errorf("lock %s until %s, want %s until %s", l.LockState, aws.ToTime(l.LockExpiresOn), tc.state, until)
			}
		})
	}
}

// stageRecycleBinRule makes exactly one Recycle Bin rule for EBS
// snapshots in us-east-1, retaining them days. CreateRule takes no client
// token, so each attempt is sent once and a failed one is settled by
// listing the rules, never retried blindly: a retry after a lost answer
// would make a second rule, and the counts the tests check would be off.
func stageRecycleBinRule(t *testing.T, e *engineEnv, days int32) {
	t.Helper()
	// The listing is safe to retry (the SDK's retryer does); the create is not.
	lister := rbin.NewFromConfig(e.srv.Config(t))
	rb := rbin.NewFromConfig(e.srv.Config(t), func(o *rbin.Options) { o.RetryMaxAttempts = 1 })
	count := func() int {
		out, err := lister.ListRules(e.ctx, &rbin.ListRulesInput{ResourceType: rbintypes.ResourceTypeEbsSnapshot})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Rules)
	}
	before := count()
	for attempt := 0; attempt < 3; attempt++ {
		_, err := rb.CreateRule(e.ctx, &rbin.CreateRuleInput{ResourceType: rbintypes.ResourceTypeEbsSnapshot,
			RetentionPeriod: &rbintypes.RetentionPeriod{RetentionPeriodValue: aws.Int32(days), RetentionPeriodUnit: rbintypes.RetentionPeriodUnitDays}})
		if err == nil || count() > before {
			return
		}
		t.Logf("CreateRule: %v (no rule made; trying again)", err)
	}
	t.Fatal("no Recycle Bin rule could be staged")
}
