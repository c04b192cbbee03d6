package cli

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/faults"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

// ec2Request picks EC2's Query API requests (Version 2016-11-15), leaving
// the STS and DynamoDB calls that share the endpoint alone.
func ec2Request(form url.Values) bool { return form.Get("Version") == "2016-11-15" }

// Issue 11, Done when: through the proxy against moto, with 20 % of EC2
// calls throttled, 5 % answered 500, 2 % reset before and 2 % dropped
// after forwarding, three rounds of snapshot and clean through the built
// binary: every due volume snapshotted, no volume with two snapshots from
// one period, no snapshot without its tags, no deletion below the minimum,
// of the newest snapshot, or of an AMI-backed one.
func TestFaultMixThroughTheBinary(t *testing.T) {
	e := newEngineEnv(t)
	insts := e.launch(seeder.Group{Count: 20, Volumes: 2, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	// ignore_retention puts the AMI's (orphan) snapshot up for deletion:
	// only the AMI check keeps it.
	e.stanza("web", `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 2, "frequency": "1 day"}, "ignore_retention": true}`)
	_, amiSnap, err := seeder.Image(e.ctx, e.ec2, insts[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ec2.CreateTags(e.ctx, &ec2.CreateTagsInput{Resources: []string{amiSnap}, Tags: []ec2types.Tag{{Key: aws.String("DeleteOn"), Value: aws.String(date(-3).Value)}}}); err != nil {
		t.Fatal(err)
	}
	// Ten volumes hold three expired snapshots each, two taken sixty days
	// ago and one just now, so they are not due for a new one: clean may
	// delete their snapshots only down to the minimum of 2. The thirty others are due.
	var vols []string
	seeded := map[string][]string{}
	for _, inst := range insts {
		vols = append(vols, inst.VolumeIDs...)
	}
	for _, v := range vols[:10] {
		for _, days := range []int{-5, -4, -3} {
			seeded[v] = append(seeded[v], e.snapshot(v, date(days)))
		}
		e.backdate(seeded[v][:2]...)
	}

	rules := []faults.Rule{
		{Fault: faults.Throttle, Rate: 0.20, When: ec2Request},
		{Fault: faults.ServerError, Rate: 0.05, When: ec2Request},
		{Fault: faults.ResetBefore, Rate: 0.02, When: ec2Request},
		// A dropped CreateSnapshot is settled by the run's listing, never
		// retried blindly: it must not make a second snapshot.
		{Fault: faults.DropAfter, Rate: 0.02, When: ec2Request},
	}
	proxy := faults.NewProxy(t, e.srv.URL, faults.ProxyOptions{Seed: 11, Rules: rules})
	for round := range 3 {
		for _, job := range []string{"snapshot", "clean"} {
			stdout, stderr, code := runBinaryWithEndpoint(t, e.srv, proxy.URL, job, "--region", "us-east-1", "--json")
			if code != ExitOK && code != ExitPartial {
				t.Fatalf("round %d %s: exit %d\n%s\n%s", round+1, job, code, stdout, stderr)
			}
			var out output
			if err := json.Unmarshal([]byte(stdout), &out); err != nil {
				t.Fatalf("round %d %s: %v\n%s", round+1, job, err, stdout)
			}
			s := out.Regions[0].Summary
			t.Logf("round %d %s: created %d, deleted %d, failed %d", round+1, job, s.Created, s.Deleted, s.Failed)
		}
	}
	counts := proxy.Counts()
	var faults int
	for _, c := range counts {
		for _, n := range c.Faults {
			faults += n
		}
	}
	t.Logf("EC2 faults injected: %d over %d requests", faults, counts["CreateSnapshot"].Attempts+counts["DeleteSnapshot"].Attempts+counts["DescribeSnapshots"].Attempts+counts["DescribeInstances"].Attempts)

	by := e.snapshots()
	for _, v := range vols {
		var ours []ec2types.Snapshot
		for _, s := range by[v] {
			tags := tagMap(s.Tags)
			if tags["DeleteOn"] == "" {
				t.Errorf("%s: snapshot %s has no DeleteOn tag", v, aws.ToString(s.SnapshotId))
			}
			if strings.HasPrefix(aws.ToString(s.Description), "Created from ") {
				ours = append(ours, s)
			}
		}
		// The one the run took is the volume's newest: it must survive.
		switch {
		case len(seeded[v]) > 0:
			if len(ours) != 0 {
				t.Errorf("%s: snapshotted although its last snapshot is minutes old", v)
			}
		case len(ours) == 0:
			t.Errorf("%s: not snapshotted in three rounds, or its newest snapshot deleted", v)
		case len(ours) > 1:
			t.Errorf("%s: %d snapshots from one period", v, len(ours))
		}
		if len(ours) > 0 && tagMap(ours[0].Tags)["backup"] != "yes" {
			t.Errorf("%s: snapshot %s lacks the instance's tags: %v", v, aws.ToString(ours[0].SnapshotId), tagMap(ours[0].Tags))
		}
		if n := len(by[v]); len(seeded[v]) > 0 && n != 2 {
			t.Errorf("%s: %d snapshots left, want the minimum of 2", v, n)
		}
	}
	found := false
	for _, ss := range by {
		for _, s := range ss {
			found = found || aws.ToString(s.SnapshotId) == amiSnap
		}
	}
	if !found {
		t.Errorf("the AMI's snapshot %s was deleted", amiSnap)
	}
}
