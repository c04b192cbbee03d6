package deploy

import (
	"errors"
	"fmt"
)

// The errors below say what went wrong in deploy's own terms (Options
// fields, template parameters); the CLI words them with its flags
// (errors.As), as a library never names a command line's flags.

// ErrReservedParameter, ErrArchParameter and ErrUnknownParameter are the
// Err of a ParameterError whose name is the problem.
var (
	// ErrReservedParameter: deploy sets the code bucket and key itself
	// (Options.ZipPath deploys other code).
	ErrReservedParameter = errors.New("deploy sets it (the code bucket and key)")
	// ErrArchParameter: the architecture is Options.Arch.
	ErrArchParameter = errors.New("deploy sets it from the architecture (Options.Arch)")
	// ErrUnknownParameter: the template has no parameter of that name.
	ErrUnknownParameter = errors.New("the template has no such parameter")
)

// ParameterError is a template parameter that CheckParameters refuses:
// one the operator may not set or the template does not have (Err is
// ErrReservedParameter, ErrArchParameter, or wraps ErrUnknownParameter
// with the template's names), or a Value its constraints refuse (Err says
// what the parameter wants).
type ParameterError struct {
	Name, Value string
	Err         error
}

// NameProblem reports whether the parameter's name, not its value, is
// what CheckParameters refuses.
func (e *ParameterError) NameProblem() bool {
	return errors.Is(e.Err, ErrReservedParameter) || errors.Is(e.Err, ErrArchParameter) || errors.Is(e.Err, ErrUnknownParameter)
}

func (e *ParameterError) Error() string {
	if e.NameProblem() {
		return fmt.Sprintf("parameter %s: %v", e.Name, e.Err)
	}
	return fmt.Sprintf("parameter %s=%s: %v", e.Name, e.Value, e.Err)
}

func (e *ParameterError) Unwrap() error { return e.Err }

// NoCodeError is returned by Run when Options.NoUpload deploys the code
// already in the bucket and there is none at Bucket/Key.
type NoCodeError struct{ Bucket, Key string }

func (e *NoCodeError) Error() string {
	return fmt.Sprintf("there is no code at s3://%s/%s to deploy", e.Bucket, e.Key)
}

// ZipError is a code zip (Options.ZipPath) that could not be read (Read)
// or is not a deployable Lambda zip, or fails its SHA256SUMS.
type ZipError struct {
	Path string
	Read bool
	Err  error
}

func (e *ZipError) Error() string {
	if e.Read {
		return fmt.Sprintf("read the code zip: %v", e.Err)
	}
	return fmt.Sprintf("code zip %s: %v", e.Path, e.Err)
}

func (e *ZipError) Unwrap() error { return e.Err }

// NoPackageError is returned by Package when it cannot package the code
// itself: the running binary is not a static Linux build of GOARCH and
// Why it cannot build one. A zip (Options.ZipPath) avoids it: Zip names
// the one to use; Else, when set, is what else would work.
type NoPackageError struct {
	GOARCH, Why, Zip, Else string
}

func (e *NoPackageError) Error() string { return e.Advise("deploy a code zip") }

// Advise is the error with what to do worded by the caller: useZip says
// how to give a zip ("pass --zip" on the command line).
func (e *NoPackageError) Advise(useZip string) string {
	do := useZip
	if e.Else != "" {
		do = e.Else + ", or " + useZip
	}
	return fmt.Sprintf("the running binary is not a static linux/%s build and %s: %s (%s)", e.GOARCH, e.Why, do, e.Zip)
}

// ConcurrencyQuotaError is the stack's reserved concurrency that would
// leave less than Lambda keeps unreserved (errors.Is ErrConcurrencyQuota):
// Want reserved (PerWorker for each of the 3 workers, 1 for each of
// Singles) of Unreserved in Region, where Lambda keeps Keep unreserved
// of a quota of Limit. Parameter is the template parameter that sets it.
type ConcurrencyQuotaError struct {
	Parameter                                string
	Want, PerWorker, Unreserved, Keep, Limit int
	Singles, Region                          string
}

func (e *ConcurrencyQuotaError) Error() string {
	return fmt.Sprintf("%v: %s reserves %d (3 workers × %d, %s × 1) of the %d unreserved in %s, leaving less than the %d Lambda keeps unreserved (quota %d)",
		ErrConcurrencyQuota, e.Parameter, e.Want, e.PerWorker, e.Singles, e.Unreserved, e.Region, e.Keep, e.Limit)
}

// Is makes errors.Is(err, ErrConcurrencyQuota) true.
func (e *ConcurrencyQuotaError) Is(target error) bool { return target == ErrConcurrencyQuota }

// StackStateError is a stack that must be deleted before deploy can
// update it: its creation failed (CreateFailed: ROLLBACK_COMPLETE,
// ROLLBACK_FAILED, CREATE_FAILED), or its deletion did (DELETE_FAILED).
type StackStateError struct {
	Stack, Status string
	CreateFailed  bool
}

func (e *StackStateError) Error() string { return e.Advise("deploy.Delete") }

// Advise is the error with the way to delete the stack worded by the
// caller: del is the command that does it ("ebs-snapper deploy --delete").
func (e *StackStateError) Advise(del string) string {
	if e.CreateFailed {
		return fmt.Sprintf("stack %s is %s: its creation failed and CloudFormation cannot update it; delete it (%s, or aws cloudformation delete-stack --stack-name %s) and deploy again; the reason is in its events (aws cloudformation describe-stack-events --stack-name %s)",
			e.Stack, e.Status, del, e.Stack, e.Stack)
	}
	return fmt.Sprintf("stack %s is %s: delete it again (%s) and deploy", e.Stack, e.Status, del)
}
