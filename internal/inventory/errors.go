package inventory

import (
	"errors"
	"fmt"
)

// Domain sentinels that the EC2 adapter (package ebs) wraps around AWS
// errors and the engine (package snapper) tests with errors.Is. They live
// here, in the package both already import, rather than in snapper: the
// engine's own tests use the adapter, and Go forbids the import cycle an
// adapter importing the engine would make. Because they are values the
// adapter always wraps, no caller has to remember to inject a classifier:
// a handler that wires a bare ebs.Client gets the same behaviour as the CLI.
var (
	// ErrRegionUnavailable marks an error meaning the region is not usable
	// by the account (EC2 AuthFailure or OptInRequired: not enabled, not
	// opted in). The original treated such a region as empty; the engine
	// skips it and reports why, without counting a failure.
	ErrRegionUnavailable = errors.New("region not enabled for the account")
	// ErrSnapshotInUse marks a DeleteSnapshot that EC2 refused because a
	// registered AMI uses the snapshot (InvalidSnapshot.InUse). Such a
	// snapshot is skipped and reported, never an abort.
	ErrSnapshotInUse = errors.New("snapshot is in use by an AMI")
	// ErrTryLater marks a CreateSnapshot that EC2 refused because of a
	// per-volume limit: too soon after the volume's previous snapshot
	// (SnapshotCreationPerVolumeRateExceeded; EC2 asks for 15 s) or too
	// many of its snapshots still pending (ConcurrentSnapshotLimitExceeded:
	// 5, 1 for st1/sc1). Retrying at once fails again; the engine marks the
	// volume deferred, not failed, and the next run plans it again.
	ErrTryLater = errors.New("EC2 asks to try this volume later")
	// ErrCopyLimit marks a CopySnapshot that EC2 refused because the
	// destination region has too many copies in progress
	// (ResourceLimitExceeded, "Too many snapshot copies in progress"; 20
	// per destination region: Amazon EBS quotas, "Concurrent snapshot copies
	// per destination Region"). Not a failure: the
	// copy is made on a later run.
	ErrCopyLimit = errors.New("too many snapshot copies in progress in the destination region")
	// ErrOutcomeUnknown marks a mutating call (CreateSnapshot,
	// DeleteSnapshot) whose request may have reached EC2 but whose answer
	// never came: the connection broke after the request was sent, the
	// attempt timed out or its context was cancelled, or EC2 answered with
	// a 5xx. EC2 may or may not have acted. The engine settles such a call
	// with one listing before it reports it; it never counts it as done or
	// failed on a guess.
	// ErrSnapshotGone marks a call on a snapshot that no longer exists
	// (InvalidSnapshot.NotFound) where that is news to the caller: a
	// restore drill whose snapshot clean (or someone) deleted meanwhile.
	ErrSnapshotGone   = errors.New("the snapshot no longer exists")
	ErrOutcomeUnknown = errors.New("outcome unknown: the request may have reached EC2 but its answer was lost")
)

// PolicyDeniedError is a call EC2 refused with UnauthorizedOperation
// because a service control policy of the account's AWS Organizations
// organization explicitly denies it (the message says "with an explicit
// deny in a service control policy"). The adapter wraps every such
// refusal; the engine decides what it means (RegionDeniedError when the
// region's first call is refused, a failure otherwise).
type PolicyDeniedError struct {
	// Message is EC2's answer, as it gave it.
	Message string
	// Err is the call's error.
	Err error
}

func (e *PolicyDeniedError) Error() string { return e.Err.Error() }

func (e *PolicyDeniedError) Unwrap() error { return e.Err }

// RegionDeniedError says a service control policy denies the account the
// whole region: the region's first call was refused as PolicyDeniedError
// says. It matches ErrRegionUnavailable (errors.Is), so the region is
// skipped like one not enabled, and SkipReason names the policy's answer.
type RegionDeniedError struct {
	Region string
	// Answer is EC2's message refusing the region's first call.
	Answer string
	Err    error
}

func (e *RegionDeniedError) Error() string {
	return fmt.Sprintf("region %s denied by a service control policy: %v", e.Region, e.Err)
}

func (e *RegionDeniedError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrRegionUnavailable) true.
func (e *RegionDeniedError) Is(target error) bool { return target == ErrRegionUnavailable }

// DenyRegion returns a *RegionDeniedError for region when err is (or
// wraps) a *PolicyDeniedError, and err unchanged otherwise: what a caller
// does with the error of a region's first call.
func DenyRegion(region string, err error) error {
	var pd *PolicyDeniedError
	if errors.As(err, &pd) {
		return &RegionDeniedError{Region: region, Answer: pd.Message, Err: err}
	}
	return err
}

// SkipReason is the one line a report gives for a region skipped because
// of err (which matches ErrRegionUnavailable): the service control
// policy's answer for a denied region, "region not enabled for the
// account" otherwise.
func SkipReason(err error) string {
	var rd *RegionDeniedError
	if errors.As(err, &rd) {
		return "region denied by a service control policy: " + rd.Answer
	}
	return ErrRegionUnavailable.Error()
}
