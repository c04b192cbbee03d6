package inventory

import "errors"

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
	ErrOutcomeUnknown = errors.New("outcome unknown: the request may have reached EC2 but its answer was lost")
)
