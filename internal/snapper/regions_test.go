package snapper

import (
	"slices"
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// NewRegions: the run's names sorted and distinct; a client per enabled
// region, made once, the run's or not; nil for a region not enabled.
// OnlyRegions narrows the run and keeps every client.
func TestRegions(t *testing.T) {
	made := map[string]int{}
	r := NewRegions([]string{"us-west-2", "eu-west-1", "us-west-2"}, []string{"eu-west-1", "us-east-1", "us-west-2"}, func(region string) EC2 {
		made[region]++
		return client(&ec2fake.Fake{}, region)
	})
	if got := r.Names(); !slices.Equal(got, []string{"eu-west-1", "us-west-2"}) {
		t.Errorf("names %v, want eu-west-1, us-west-2", got)
	}
	for range 2 {
		if c := r.Client("us-east-1"); c == nil || c.Region() != "us-east-1" {
			t.Fatalf("client of us-east-1 (enabled, not the run's) = %v", c)
		}
	}
	if made["us-east-1"] != 1 {
		t.Errorf("us-east-1's client made %d times, want once", made["us-east-1"])
	}
	if c := r.Client("ap-south-2"); c != nil {
		t.Errorf("client of a region not enabled = %v, want nil", c)
	}
	only := OnlyRegions(r, func(region string) bool { return region == "us-west-2" })
	if got := only.Names(); !slices.Equal(got, []string{"us-west-2"}) {
		t.Errorf("narrowed names %v, want us-west-2", got)
	}
	if only.Client("eu-west-1") == nil {
		t.Error("narrowed run lost the client of eu-west-1, which replication still reaches")
	}
}
