package handler

import (
	"context"
	"io"
	"log/slog"
	"sync"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// NewLogger returns the JSON logger the Lambda functions use: one JSON
// object a line on w with the keys of the CLI (region, config_id,
// instance_id, volume_id, snapshot_id, action, ...) plus request_id, the
// invocation's AWS request id, on every record logged with a context that
// carries it (lambdacontext). level may change while the logger is in use.
//
// It is not aws-lambda-go's lambdacontext.NewLogHandler, which does the same
// (request id from the context, level from AWS_LAMBDA_LOG_LEVEL, which
// FromEnvironment reads too), because that handler writes to os.Stdout
// itself and renames the keys: the functions' EMF metric lines share stdout
// with the log records through one syncWriter, so that no line is cut into
// by another, which a handler with its own writer would break; and the
// records keep the CLI's keys (msg, time, request_id rather than message,
// timestamp, requestId), which docs/lambda.md documents and its CloudWatch
// Logs Insights queries use.
func NewLogger(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(requestIDHandler{slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})})
}

// requestIDHandler adds request_id from the Lambda context, so that every
// log line of one invocation can be found in CloudWatch Logs Insights.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.String("request_id", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// syncWriter serialises the Writes of the logger and of the EMF lines on
// one writer (stdout), so that each line reaches it whole.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
