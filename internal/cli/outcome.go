package cli

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNothingProtected reports that a report found no volume protected at
// all: no valid stanza, an account (-a) with none, or stanzas that match
// no volume in the regions read. It exits with ExitLate, as a late volume
// does: an alert on exit 4 must fire when the configuration is gone.
var ErrNothingProtected = errors.New("no volume is protected")

// partialFailure is an exit-3 outcome worded by what happened (an action
// failed, a region could not be read, a stored stanza is invalid and was
// skipped), without ErrPartial's "some actions failed" when none ran.
// errors.Is(err, ErrPartial) holds.
type partialFailure struct{ msg string }

func (e *partialFailure) Error() string { return e.msg }

// Is makes a partialFailure an ErrPartial, for ExitCode.
func (e *partialFailure) Is(target error) bool { return target == ErrPartial }

// partialError is a partialFailure naming the non-empty parts, e.g. "1
// region could not be read, 2 stored stanzas are invalid and were
// skipped".
func partialError(parts ...string) error {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return &partialFailure{msg: strings.Join(kept, ", ")}
}

// invalidSkipped words n invalid stored stanzas for the exit-3 message of
// a command: what it did with them (what, e.g. "not planned").
func invalidSkipped(n int, what string) string {
	return counted(n, "stored stanza is invalid and was skipped ("+what+")",
		"stored stanzas are invalid and were skipped ("+what+")")
}

// everyStanzaInvalid is the outcome of a command that found stored
// stanzas but no valid one: nothing was done, and that is a partial
// failure (exit 3), not success.
func everyStanzaInvalid(invalid []string) error {
	return &partialFailure{msg: fmt.Sprintf("every stored stanza is invalid, so nothing was done:\n%s", strings.Join(invalid, "\n"))}
}
