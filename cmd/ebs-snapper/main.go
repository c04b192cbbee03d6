// Command ebs-snapper is the ebs-snapper CLI.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ebs-snapper/ebs-snapper/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.NewRootCommand(os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ebs-snapper:", err)
		if errors.Is(err, context.Canceled) {
			os.Exit(130)
		}
	}
	os.Exit(cli.ExitCode(err))
}
