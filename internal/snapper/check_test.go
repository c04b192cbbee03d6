package snapper

import (
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// Check reports, sorted, a stanza that matches nothing, an instance tagged
// backup that no stanza covers (any case of the key, not when it says no),
// and the snapshots clean keeps forever; a region the account cannot use is
// left out, and a region that fails stops the check, named.
func TestCheckFindsWhatNeedsFixing(t *testing.T) {
	f := webFleet()
	f.AddInstance(inventory.Instance{ID: "i-d", Tags: tags("Backup", "true"), VolumeIDs: []string{"vol-d1"}})
	f.AddInstance(inventory.Instance{ID: "i-e", Tags: tags("BACKUP", "no"), VolumeIDs: []string{"vol-e1"}})
	f.AddSnapshot(snap("snap-x", "vol-a1", inventory.StateCompleted, 0, "tomorrow"), "")
	optIn := webFleet()
	optIn.Fail(ec2fake.OpDescribeInstances, 100, &smithy.GenericAPIError{Code: "AuthFailure", Message: "not enabled"})
	nothing := stanza(t, "nothing", "12 hours", 1)
	nothing.Match = []inventory.Filter{{Name: "tag:backup", Values: []string{"never"}}}
	p := NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 1), nothing}, 0)

	rep := New(clientRegions(client(f, "us-east-1"), client(optIn, "ap-east-1")), p, engineOptions(now)).Check(t.Context())
	if rep.Err != nil {
		t.Fatal(rep.Err)
	}
	want := []string{
		"(stanza nothing)",
		"instance i-d in us-east-1",
		"1 snapshots in us-east-1 have a DeleteOn that is not a YYYY-MM-DD date and will never be deleted: snap-x",
	}
	if len(rep.Findings) != len(want) {
		t.Fatalf("findings %q, want %d", rep.Findings, len(want))
	}
	for i, w := range want {
		if !strings.Contains(rep.Findings[i], w) {
			t.Errorf("finding %d = %q, want it to say %q", i, rep.Findings[i], w)
		}
	}

	bad := webFleet()
	bad.Fail(ec2fake.OpDescribeInstances, 100, &smithy.GenericAPIError{Code: "InternalError", Message: "boom"})
	rep = New(clientRegions(client(f, "us-east-1"), client(bad, "eu-west-1")), p, engineOptions(now)).Check(t.Context())
	if rep.Err == nil || !strings.Contains(rep.Err.Error(), "eu-west-1") || len(rep.Findings) != 0 {
		t.Errorf("check with a failing region: %+v, want its error naming eu-west-1 and no findings", rep)
	}
}

// Without a valid stanza the check says so and lists nothing.
func TestCheckWithoutStanzas(t *testing.T) {
	f := webFleet()
	rep := New(clientRegions(client(f, "us-east-1")), NewPolicy(nil, 0), engineOptions(now)).Check(t.Context())
	if len(rep.Findings) != 1 || rep.Findings[0] != "No configurations existed for this account" || len(f.AllCalls()) != 0 {
		t.Errorf("findings %q, calls %v; want the one finding and no call", rep.Findings, f.AllCalls())
	}
}
