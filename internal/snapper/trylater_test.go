package snapper

import (
	"testing"

	"github.com/aws/smithy-go"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// EC2's per-volume refusals are "try later": the row is deferred, not
// failed, and the next run takes the volume.
func TestRunSnapshotTryLaterIsDeferred(t *testing.T) {
	for _, code := range []string{ebs.CodeSnapshotPerVolumeRate, ebs.CodeConcurrentSnapshotLimit} {
		t.Run(code, func(t *testing.T) {
			f := webFleet()
			f.Fail(ec2fake.OpCreateSnapshot, 1, &smithy.GenericAPIError{Code: code, Message: "try later"})
			p := NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 5)}, 0)
			opts := engineOptions(now)
			opts.Workers = 1
			rep := runUseCase(t.Context(), useSnapshot, []EC2{client(f, "us-east-1")}, p, opts)
			if got := rep.Regions[0].Summary; got != (Summary{Created: 3}) || rep.Failed() != 0 {
				t.Fatalf("summary = %+v (failed %d), want 3 created and no failure", got, rep.Failed())
			}
			var deferred []string
			for _, r := range rep.Regions[0].Snapshots {
				if r.Status == StatusDeferred {
					deferred = append(deferred, r.VolumeID)
				}
			}
			if len(deferred) != 1 {
				t.Fatalf("deferred volumes %v, want one", deferred)
			}
			rep = runUseCase(t.Context(), useSnapshot, []EC2{client(f, "us-east-1")}, p, engineOptions(now.Add(MinSnapshotInterval)))
			if got := rep.Regions[0].Summary; got != (Summary{Created: 1}) || rep.Regions[0].Snapshots[0].Status == StatusFailed {
				t.Errorf("next run: summary = %+v, want the deferred volume created", got)
			}
		})
	}
}
