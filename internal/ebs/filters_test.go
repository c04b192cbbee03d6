package ebs_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// Issue 16 item 6 beyond one long filter: two filters over EC2's 200
// values each (volume ids ANDed with tag values) are listed as every
// combination of their chunks (2 × 2 calls), each volume once, exactly
// the volumes both filters match; the fake refuses a call over the limit
// as EC2 does, so one call too big fails the test.
func TestVolumesMatchingSplitsEveryLongFilter(t *testing.T) {
	f := &ec2fake.Fake{}
	var ids, envs []string
	want := map[string]bool{}
	for i := range 300 {
		id := fmt.Sprintf("vol-%017x", i)
		env := fmt.Sprintf("env-%d", i)
		f.AddVolume(inventory.Volume{ID: id, Tags: []inventory.Tag{{Key: "env", Value: env}}})
		ids = append(ids, id)
		// Tag values: every even volume's, and some no volume has.
		if i%2 == 0 {
			envs = append(envs, env)
			want[id] = true
		} else {
			envs = append(envs, "none-"+env)
		}
	}
	// A volume id listed twice, in both chunks.
	ids = append(ids, ids[0])
	c := ebs.New(f, "us-east-1")
	got, err := c.VolumesMatching(t.Context(), []inventory.Filter{{Name: "volume-id", Values: ids}, {Name: "tag:env", Values: envs}})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, v := range got {
		if seen[v.ID] || !want[v.ID] {
			t.Errorf("volume %s listed twice or not matched by both filters", v.ID)
		}
		seen[v.ID] = true
	}
	if len(seen) != len(want) {
		t.Errorf("%d volumes, want %d", len(seen), len(want))
	}
	if n := f.Calls(ec2fake.OpDescribeVolumes); n != 4 {
		t.Errorf("%d DescribeVolumes calls, want 4 (2 chunks of ids × 2 of values)", n)
	}
	// Within the limit: one call, the filters as given.
	before := f.Calls(ec2fake.OpDescribeVolumes)
	if _, err := c.VolumesMatching(t.Context(), []inventory.Filter{{Name: "volume-id", Values: slices.Clone(ids[:ebs.MaxFilterValues])}}); err != nil {
		t.Fatal(err)
	}
	if n := f.Calls(ec2fake.OpDescribeVolumes) - before; n != 1 {
		t.Errorf("%d calls for %d values, want 1", n, ebs.MaxFilterValues)
	}
}
