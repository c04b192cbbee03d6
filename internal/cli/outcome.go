package cli

import "errors"

// ErrNothingProtected reports that a report found no volume protected at
// all: no valid stanza, an account (-a) with none, or stanzas that match
// no volume in the regions read. It exits with ExitLate, as a late volume
// does: an alert on exit 4 must fire when the configuration is gone.
var ErrNothingProtected = errors.New("no volume is protected")
