// Command ebs-snapper is the ebs-snapper CLI and, when started by the
// Lambda runtime (AWS_LAMBDA_RUNTIME_API is set), the Lambda function that
// EBS_SNAPPER_HANDLER names.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/ebs-snapper/ebs-snapper/internal/cli"
	"github.com/ebs-snapper/ebs-snapper/internal/handler"
	"github.com/ebs-snapper/ebs-snapper/internal/version"
)

func main() {
	if os.Getenv(handler.RuntimeAPIEnv) != "" {
		// Go's collector lets the heap grow to twice what is live before it
		// collects (GOGC=100), which can outgrow the function's memory; a
		// soft limit makes it collect sooner instead (docs/performance.md).
		if limit, ok := memoryLimit(os.Getenv); ok {
			debug.SetMemoryLimit(limit)
		}
		h, err := handler.FromEnvironment(context.Background(), os.Getenv, version.Current())
		if err != nil {
			// FromEnvironment set the JSON logger first; Lambda reports the
			// exit as an init error with this line in the function's log.
			slog.Error("lambda init failed", "error", err)
			os.Exit(1)
		}
		lambda.Start(h.Handle)
		return
	}
	// Buffered: a second signal must reach the CLI while it handles the
	// first (signal.Notify drops what a full channel cannot take).
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	os.Exit(cli.Main(os.Stdout, os.Stderr, sigs))
}

// lambdaMemoryEnv is the function's configured memory in MB, set by the
// Lambda runtime ("Defined runtime environment variables", Lambda
// Developer Guide).
const lambdaMemoryEnv = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"

// memoryLimit is the Go runtime's soft memory limit for a Lambda function,
// in bytes: 80 % of the function's memory, the rest left to the binary,
// goroutine stacks and what the runtime has not returned yet. ok is false
// when GOMEMLIMIT is set (the operator's choice wins) or the memory size
// is missing or not a positive number.
func memoryLimit(getenv func(string) string) (limit int64, ok bool) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, false
	}
	mb, err := strconv.ParseInt(getenv(lambdaMemoryEnv), 10, 64)
	if err != nil || mb <= 0 {
		return 0, false
	}
	return mb << 20 * 8 / 10, true
}
