package cli

import (
	"context"
	"errors"
	"io"
)

// runCheck is configure -c; it is being written with the snapshot engine.
func runCheck(ctx context.Context, g *globalOptions, account, extra string, out io.Writer) error {
	return errors.New("configure -c is not available yet")
}
