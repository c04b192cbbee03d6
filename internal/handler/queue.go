package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
)

// ErrNoSpokeAccess is matched (errors.Is) by the error of a cell naming
// another account than the hub's when the stack was given no way to reach
// other accounts (Config.Spoke).
var ErrNoSpokeAccess = errors.New("this stack works on its own account only: it has no spoke role to assume in another")

// fromSQS reports whether an event record came from SQS (its eventSource
// is "aws:sqs"; an SNS record's EventSource is "aws:sns").
func fromSQS(raw json.RawMessage) bool {
	var r struct {
		EventSource string `json:"eventSource"`
	}
	return json.Unmarshal(raw, &r) == nil && r.EventSource == "aws:sqs"
}

// sqsWorker runs the cell of each SQS record (one hop of its chain,
// runHop) and answers the partial batch response Lambda's event source
// mapping reads with ReportBatchItemFailures ("Handling errors for an SQS
// event source in Lambda", Lambda Developer Guide): the message ids of the
// cells that failed, so that SQS delivers only those again (and, after
// the queue's maxReceiveCount, moves them to the dead-letter queue). A
// record whose body is not a cell message fails too: delivered again it
// would fail again, and the dead-letter queue's alarm shows it. The error
// is the cells' errors when every cell of the batch failed (one cell, with
// the stack's batch size of 1), so that the function's Errors metric and
// its alarm see a failed cell; nil when some succeeded.
func (h *Handler) sqsWorker(ctx context.Context, records []json.RawMessage, pipeline string, stop <-chan struct{}, run regionRun) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	var errs []error
	for i, raw := range records {
		var rec events.SQSMessage
		err := json.Unmarshal(raw, &rec)
		var msg regionMessage
		if err == nil {
			msg, err = cellMessage(rec.Body)
		}
		if err == nil {
			err = h.runHop(ctx, pipeline, msg, stop, run)
		}
		if err != nil {
			slog.ErrorContext(ctx, "cell failed: its message is delivered again", "record", i, "message_id", rec.MessageId,
				"account", h.accountOf(msg), "region", msg.Region, "receive_count", rec.Attributes["ApproximateReceiveCount"], "error", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			errs = append(errs, err)
		}
	}
	if len(errs) == len(records) {
		return resp, errors.Join(errs...)
	}
	return resp, nil
}

// cellMessage reads an SQS message body as a cell: a JSON object with a
// region name "region", optionally a 12-digit "account" (none is the
// hub's own) and its "ous" (organisational unit ids only: each names a key
// of the hub's table whose stanzas govern the cell, so an account id or
// any other key there would bring another account's stanzas onto this
// one), and a continuation's "hop", "chain" and "from".
func cellMessage(body string) (regionMessage, error) {
	var msg regionMessage
	if err := json.Unmarshal([]byte(body), &msg); err != nil {
		return msg, fmt.Errorf(`message %q is not a JSON object with a string "region": %w`, body, err)
	}
	switch {
	case msg.Region == "":
		return msg, fmt.Errorf(`message %q names no "region"`, body)
	case !regionName.MatchString(msg.Region):
		return msg, fmt.Errorf(`message %q: "region" is not a region name such as us-east-1`, body)
	case msg.Account != "" && !isAccountID(msg.Account):
		return msg, fmt.Errorf(`message %q: "account" is not a 12-digit account id`, body)
	case msg.Hop < 0:
		return msg, fmt.Errorf(`message %q: "hop" is negative`, body)
	}
	for i, ou := range msg.OUs {
		if !account.IsOU(ou) {
			return msg, fmt.Errorf(`message %q: "ous"[%d] %q is not an organisational unit id such as ou-ab12-cdef3456`, body, i, ou)
		}
	}
	return msg, nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
