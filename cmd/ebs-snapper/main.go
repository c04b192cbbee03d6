// Command ebs-snapper is the ebs-snapper CLI and, when started by the
// Lambda runtime (AWS_LAMBDA_RUNTIME_API is set), the Lambda function that
// EBS_SNAPPER_HANDLER names.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/ebs-snapper/ebs-snapper/internal/cli"
	"github.com/ebs-snapper/ebs-snapper/internal/handler"
)

func main() {
	if os.Getenv(handler.RuntimeAPIEnv) != "" {
		h, err := handler.FromEnvironment(context.Background(), os.Getenv, cli.Version)
		if err != nil {
			// FromEnvironment set the JSON logger first; Lambda reports the
			// exit as an init error with this line in the function's log.
			slog.Error("lambda init failed", "error", err)
			os.Exit(1)
		}
		lambda.Start(h.Invoke)
		return
	}
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
