package ebs

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// EC2 error codes. This block is the only place in the project that spells
// them: callers classify errors with the helpers below, and the in-memory
// fake (internal/testrig/ec2fake) answers with these same constants so that the
// helpers see its errors exactly as they see AWS's.
const (
	CodeSnapshotNotFound = "InvalidSnapshot.NotFound"
	CodeSnapshotInUse    = "InvalidSnapshot.InUse"
	CodeVolumeNotFound   = "InvalidVolume.NotFound"
	CodeInstanceNotFound = "InvalidInstanceID.NotFound"
	CodeAMINotFound      = "InvalidAMIID.NotFound"
	// CodeSnapshotLocked is what the fake (and the tests' patched moto)
	// answer to a DeleteSnapshot of a locked snapshot. EC2's API reference
	// lists no code for that refusal; the engine never relies on it: it
	// lists locks before planning and sends no such delete.
	CodeSnapshotLocked = "SnapshotLocked"

	CodeRequestLimitExceeded = "RequestLimitExceeded"
	CodeThrottling           = "Throttling"
	CodeThrottlingException  = "ThrottlingException"

	CodeSnapshotPerVolumeRate   = "SnapshotCreationPerVolumeRateExceeded"
	CodeConcurrentSnapshotLimit = "ConcurrentSnapshotLimitExceeded"

	// CodeResourceLimitExceeded answers a CopySnapshot over the limit of
	// copies in progress per destination region.
	CodeResourceLimitExceeded = "ResourceLimitExceeded"

	CodeAuthFailure   = "AuthFailure"
	CodeOptInRequired = "OptInRequired"
	// CodeUnauthorizedOperation answers a call the caller may not make:
	// IAM does not allow it, or a service control policy denies it (its
	// message then says "explicit deny in a service control policy").
	CodeUnauthorizedOperation = "UnauthorizedOperation"

	CodeInvalidParameterValue       = "InvalidParameterValue"
	CodeInvalidParameterCombination = "InvalidParameterCombination"
	CodeTagLimitExceeded            = "TagLimitExceeded"
	// CodeFilterLimitExceeded answers a Describe call with too many
	// filters or too many values in one filter (MaxFilterValues).
	CodeFilterLimitExceeded  = "FilterLimitExceeded"
	CodeDryRunOperation      = "DryRunOperation"
	CodeUnsupportedOperation = "UnsupportedOperation"
	// CodeIncorrectState is ModifySnapshotTier's answer for a snapshot
	// that is not completed or already archived.
	CodeIncorrectState = "IncorrectState"
)

// Sentinel errors the Client wraps around the AWS error (see classify), so
// callers can test with errors.Is and still reach the smithy.APIError with
// errors.As. The domain sentinels the engine checks,
// inventory.ErrRegionUnavailable and inventory.ErrSnapshotInUse, are
// wrapped the same way.
var (
	// ErrNotFound marks a resource that does not exist (any more).
	ErrNotFound = errors.New("not found")
	// ErrNoTags is returned, without calling EC2, when asked to create a
	// snapshot with no tags: an untagged snapshot is never cleaned up.
	ErrNoTags = errors.New("refusing to create a snapshot without tags")
)

var notFoundCodes = map[string]bool{
	CodeSnapshotNotFound: true,
	CodeVolumeNotFound:   true,
	CodeInstanceNotFound: true,
	CodeAMINotFound:      true,
}

// IsNotFound reports whether err says the resource does not exist.
func IsNotFound(err error) bool {
	return errors.Is(err, ErrNotFound) || notFoundCodes[code(err)]
}

// IsThrottle reports whether EC2 throttled the API call itself (its request
// token bucket was empty). The SDK's retryer already retried such a call
// until the context deadline or its attempt limit.
func IsThrottle(err error) bool {
	switch code(err) {
	case CodeRequestLimitExceeded, CodeThrottling, CodeThrottlingException:
		return true
	}
	return false
}

// IsSnapshotRateLimit reports whether EC2 refused a new snapshot of a volume
// because of a per-volume limit (too soon after the previous one, or too
// many pending). These are not API throttles: retrying at once fails again,
// the volume should be tried on a later run.
func IsSnapshotRateLimit(err error) bool {
	switch code(err) {
	case CodeSnapshotPerVolumeRate, CodeConcurrentSnapshotLimit:
		return true
	}
	return false
}

// IsRegionUnavailable reports whether the region is not usable by the
// account (not enabled, or not opted in). The original treats such a
// region as empty, and so do we.
func IsRegionUnavailable(err error) bool {
	if errors.Is(err, inventory.ErrRegionUnavailable) {
		return true
	}
	switch code(err) {
	case CodeAuthFailure, CodeOptInRequired:
		return true
	}
	return false
}

// filterRejected wraps a Describe error with inventory.ErrFilterRejected
// when EC2 refused the request's filters (InvalidParameterValue, "The
// filter 'tags:env' is invalid", or FilterLimitExceeded): that is the
// stanza's fault, and the engine reports that stanza instead of failing
// the region. Any other error is returned as it is.
func filterRejected(err error) error {
	if c := code(err); c == CodeInvalidParameterValue || c == CodeFilterLimitExceeded {
		return fmt.Errorf("%w: %w", inventory.ErrFilterRejected, err)
	}
	return err
}

// copyLimit wraps a CopySnapshot error with inventory.ErrCopyLimit when
// EC2 refused the copy for the number of copies in progress
// (ResourceLimitExceeded); any other error is returned as it is.
func copyLimit(err error) error {
	if code(err) == CodeResourceLimitExceeded {
		return fmt.Errorf("%w: %w", inventory.ErrCopyLimit, err)
	}
	return err
}

// classify wraps err with the sentinel its EC2 error code stands for
// (inventory.ErrRegionUnavailable, inventory.ErrSnapshotInUse,
// inventory.ErrTryLater, ErrNotFound), keeping the AWS error reachable with errors.As. Every
// Client method passes its errors through it, so the engine never needs to
// know an AWS error code. Other errors are returned unchanged.
func classify(err error) error {
	if denied := policyDenied(err); denied != nil {
		return denied
	}
	var sentinel error
	switch c := code(err); {
	case c == CodeAuthFailure, c == CodeOptInRequired:
		sentinel = inventory.ErrRegionUnavailable
	case c == CodeSnapshotInUse:
		sentinel = inventory.ErrSnapshotInUse
	case c == CodeSnapshotPerVolumeRate, c == CodeConcurrentSnapshotLimit:
		sentinel = inventory.ErrTryLater
	case notFoundCodes[c]:
		sentinel = ErrNotFound
	default:
		return err
	}
	return fmt.Errorf("%w: %w", sentinel, err)
}

// scpDeny is how EC2's UnauthorizedOperation message names a denial by
// a service control policy ("... is not authorized to perform:
// ec2:DescribeInstances with an explicit deny in a service control
// policy"); see "Troubleshoot access denied error messages" in the IAM
// User Guide.
const scpDeny = "service control policy"

// policyDenied returns an *inventory.PolicyDeniedError around err when EC2
// refused the call because a service control policy denies it, nil
// otherwise.
func policyDenied(err error) error {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != CodeUnauthorizedOperation ||
		!strings.Contains(strings.ToLower(apiErr.ErrorMessage()), scpDeny) {
		return nil
	}
	return &inventory.PolicyDeniedError{Message: apiErr.ErrorMessage(), Err: err}
}

func code(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}
