package snapper

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Outcome is a run's verdict in one word. The CLI's exit status and every
// Lambda function's error are read from it, so that "did the run fail?" has
// one answer wherever it is asked.
type Outcome string

const (
	// OutcomeOK: everything planned was done (or planned, in a dry run).
	OutcomeOK Outcome = "ok"
	// OutcomePartial: something failed (an action, an outcome left
	// unknown, a stanza EC2 rejected, a stored stanza that is invalid, a
	// region) while the rest was done. The CLI exits 3; a Lambda
	// invocation fails, so that its Errors metric and alarm see it.
	OutcomePartial Outcome = "partial"
	// OutcomeFailed: nothing could be done: every region failed, or
	// stanzas are stored but none is valid.
	OutcomeFailed Outcome = "failed"
	// OutcomeInterrupted: nothing failed, but the run stopped starting
	// work (a deadline margin, Ctrl-C) and left actions or regions not
	// started; a continuation or the next run takes them. Not a failure.
	OutcomeInterrupted Outcome = "interrupted"
)

// Verdict is a run's outcome with the counts it was judged from.
type Verdict struct {
	Outcome Outcome `json:"outcome"`
	// FailedActions counts failed actions and actions whose outcome stayed
	// unknown.
	FailedActions int `json:"failed_actions"`
	// RejectedStanzas counts (stanza, region) pairs whose match EC2
	// rejected.
	RejectedStanzas int `json:"rejected_stanzas"`
	// InvalidStanzas counts stored stanzas that failed to load.
	InvalidStanzas int `json:"invalid_stanzas"`
	// FailedRegions counts regions whose run failed as a whole, of Regions.
	FailedRegions int `json:"failed_regions"`
	Regions       int `json:"regions"`
	// NotStarted counts actions never started, plus regions never
	// started (each counts one).
	NotStarted int `json:"not_started"`
	// FirstRegionError is the first failed region's error, prefixed with
	// the region, as an example for the message; empty when none failed.
	FirstRegionError string `json:"-"`
}

// ErrPartial is wrapped by the error of a partial verdict.
var ErrPartial = errors.New("partial failure")

// ErrFailed is wrapped by the error of a failed verdict.
var ErrFailed = errors.New("run failed")

// Judge returns the verdict of a run from its report and the number of
// stored stanzas that failed to load (invalidStored). A run whose policy
// had no valid stanza has no region in its report: it is ok when nothing
// is stored at all and failed when everything stored is invalid.
func Judge(r Report, invalidStored int) Verdict {
	v := Verdict{InvalidStanzas: invalidStored, Regions: len(r.Regions)}
	for _, rr := range r.Regions {
		v.FailedActions += rr.Summary.Failed + rr.Summary.Unknown
		v.RejectedStanzas += len(rr.InvalidStanzas)
		v.NotStarted += rr.Summary.NotStarted
		if rr.Error != "" {
			if v.FailedRegions == 0 {
				v.FirstRegionError = rr.Region + ": " + rr.Error
			}
			v.FailedRegions++
		}
		if strings.HasPrefix(rr.Skipped, StatusNotStarted) {
			v.NotStarted++
		}
	}
	switch {
	case v.Regions > 0 && v.FailedRegions == v.Regions,
		v.Regions == 0 && invalidStored > 0:
		v.Outcome = OutcomeFailed
	case v.FailedActions+v.RejectedStanzas+v.InvalidStanzas+v.FailedRegions > 0:
		v.Outcome = OutcomePartial
	case v.NotStarted > 0:
		v.Outcome = OutcomeInterrupted
	default:
		v.Outcome = OutcomeOK
	}
	return v
}

// Failed reports whether the verdict is partial or failed: the condition
// for a non-zero exit status and a failed Lambda invocation.
func (v Verdict) Failed() bool {
	return v.Outcome == OutcomePartial || v.Outcome == OutcomeFailed
}

// Err returns nil unless the verdict failed; then an error wrapping
// ErrPartial or ErrFailed that says what failed, e.g. "partial failure:
// 2 actions failed, 1 stanza rejected by EC2".
func (v Verdict) Err() error {
	if !v.Failed() {
		return nil
	}
	sentinel := ErrPartial
	if v.Outcome == OutcomeFailed {
		sentinel = ErrFailed
	}
	return fmt.Errorf("%w: %s", sentinel, v.what())
}

// what names the counts behind a failed verdict.
func (v Verdict) what() string {
	var parts []string
	add := func(n int, one, many string) {
		switch {
		case n == 1:
			parts = append(parts, "1 "+one)
		case n > 1:
			parts = append(parts, strconv.Itoa(n)+" "+many)
		}
	}
	if v.FailedRegions > 0 && v.FailedRegions == v.Regions {
		parts = append(parts, "every region failed, e.g. "+v.FirstRegionError)
	} else {
		add(v.FailedRegions, "region failed", "regions failed")
	}
	add(v.FailedActions, "action failed or its outcome is unknown", "actions failed or their outcome is unknown")
	add(v.RejectedStanzas, "stanza rejected by EC2", "stanzas rejected by EC2 (counted per region)")
	if v.Regions == 0 && v.InvalidStanzas > 0 {
		parts = append(parts, "every stored stanza is invalid")
	} else {
		add(v.InvalidStanzas, "stored stanza is invalid", "stored stanzas are invalid")
	}
	return strings.Join(parts, ", ")
}
