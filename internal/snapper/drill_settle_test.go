package snapper

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/faults"
)

// TestDrillLostCreateVolumeAnswer loses CreateVolume's answers after the
// fake acted: once (the SDK's retry, with the same client token, gets the
// same volume) and on every attempt (the outcome is unknown; the listing
// by the drill tags finds the volume). Either way the drill uses the one
// volume EC2 made, deletes it and leaves none behind.
func TestDrillLostCreateVolumeAnswer(t *testing.T) {
	for _, tt := range []struct {
		name  string
		first int
	}{{"one answer lost", 1}, {"every answer lost", 100}} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				f := drillFleet(start)
				cfg, proxy := faults.InProcess(t, f, faults.ProxyOptions{Rules: []faults.Rule{{Action: "CreateVolume", Fault: faults.DropAfter, First: tt.first}}})
				c := ebs.NewForRegion(cfg, "us-east-1", ec2fake.Unpaced())
				p := NewPolicy([]config.Stanza{drillStanza(t, config.Drill{})}, 0)
				opts := engineOptions(start)
				opts.RunToken = NewRunToken(start) // a drill volume is created after its run began
				opts.Scope = Scope{Volumes: []string{"vol-a1"}}
				rep := runUseCase(t.Context(), useDrill, []EC2{c}, p, opts)
				rr := rep.Regions[0]
				if len(rr.Drills) != 1 || rr.Drills[0].Outcome != DrillPassed || !rr.Drills[0].Deleted || rr.Summary.Failed+rr.Summary.Unknown != 0 {
					t.Fatalf("drills %+v, summary %+v: want one passed drill, its volume deleted", rr.Drills, rr.Summary)
				}
				left, err := c.VolumesMatching(t.Context(), []inventory.Filter{{Name: "tag-key", Values: []string{DrillRunTag}}})
				if err != nil || len(left) != 0 {
					t.Errorf("drill volumes left: %+v, %v", left, err)
				}
				if n := f.Calls(ec2fake.OpCreateVolume); n < 2 {
					t.Errorf("%d CreateVolume calls; want the lost one repeated", n)
				}
				if got := proxy.Counts()["CreateVolume"]; got.Faults[faults.DropAfter] == 0 {
					t.Errorf("no fault injected: %+v", got)
				}
			})
		})
	}
}
