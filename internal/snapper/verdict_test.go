package snapper

import (
	"errors"
	"testing"
)

// TestJudge is the one table of what makes a run fail, read by the CLI's
// exit status and by every Lambda function's error.
func TestJudge(t *testing.T) {
	region := func(mod func(*RegionReport)) RegionReport {
		rr := RegionReport{Region: "us-east-1", Summary: Summary{Created: 2, Kept: 3}}
		if mod != nil {
			mod(&rr)
		}
		return rr
	}
	fine := region(nil)
	tests := []struct {
		name     string
		regions  []RegionReport
		invalid  int
		want     Outcome
		sentinel error
	}{
		{name: "everything done", regions: []RegionReport{fine}, want: OutcomeOK},
		{name: "nothing stored", regions: nil, want: OutcomeOK},
		{name: "dry run, all planned", regions: []RegionReport{region(func(r *RegionReport) { r.Summary = Summary{} })}, want: OutcomeOK},
		{name: "deferred is not a failure", regions: []RegionReport{region(func(r *RegionReport) { r.Summary.Deferred = 4 })}, want: OutcomeOK},
		{name: "failed action", regions: []RegionReport{region(func(r *RegionReport) { r.Summary.Failed = 1 })}, want: OutcomePartial, sentinel: ErrPartial},
		{name: "unknown outcome", regions: []RegionReport{region(func(r *RegionReport) { r.Summary.Unknown = 1 })}, want: OutcomePartial, sentinel: ErrPartial},
		{name: "stanza rejected by EC2", regions: []RegionReport{region(func(r *RegionReport) {
			r.InvalidStanzas = []RejectedStanza{{ConfigID: "bad"}}
		})}, want: OutcomePartial, sentinel: ErrPartial},
		{name: "stored stanza invalid", regions: []RegionReport{fine}, invalid: 1, want: OutcomePartial, sentinel: ErrPartial},
		{name: "every stored stanza invalid", regions: nil, invalid: 2, want: OutcomeFailed, sentinel: ErrFailed},
		{name: "one region of two failed", regions: []RegionReport{fine, region(func(r *RegionReport) { r.Region, r.Error = "eu-west-1", "boom" })},
			want: OutcomePartial, sentinel: ErrPartial},
		{name: "every region failed", regions: []RegionReport{region(func(r *RegionReport) { r.Error = "boom" })}, want: OutcomeFailed, sentinel: ErrFailed},
		{name: "actions not started", regions: []RegionReport{region(func(r *RegionReport) { r.Summary.NotStarted = 3 })}, want: OutcomeInterrupted},
		{name: "region not started", regions: []RegionReport{fine, region(func(r *RegionReport) { r.Skipped = regionNotStarted })}, want: OutcomeInterrupted},
		{name: "a failure outranks not started", regions: []RegionReport{region(func(r *RegionReport) { r.Summary.NotStarted, r.Summary.Failed = 3, 1 })},
			want: OutcomePartial, sentinel: ErrPartial},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := Judge(Report{Regions: tc.regions}, tc.invalid)
			if v.Outcome != tc.want {
				t.Fatalf("outcome %q, want %q (%+v)", v.Outcome, tc.want, v)
			}
			err := v.Err()
			if tc.sentinel == nil {
				if err != nil || v.Failed() {
					t.Fatalf("Err() = %v, Failed() = %v; want no failure", err, v.Failed())
				}
				return
			}
			if !errors.Is(err, tc.sentinel) || !v.Failed() {
				t.Fatalf("Err() = %v, want it to wrap %v", err, tc.sentinel)
			}
		})
	}
}
