// Command ebs-snapper is the ebs-snapper CLI and, when started by the
// Lambda runtime (AWS_LAMBDA_RUNTIME_API is set), the Lambda function that
// EBS_SNAPPER_HANDLER names.
package main

import (
	"context"
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
	// Buffered: a second signal must reach the CLI while it handles the
	// first (signal.Notify drops what a full channel cannot take).
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	os.Exit(cli.Main(os.Stdout, os.Stderr, sigs))
}
