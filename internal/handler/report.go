package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/report"
)

// ObjectStore writes the report handler's objects; awsclient.Bucket
// implements it for one S3 bucket.
type ObjectStore interface {
	// Put writes body as the object key with its content type.
	Put(ctx context.Context, key, contentType string, body []byte) error
	// Name is the bucket's name, for logs.
	Name() string
}

// reportFormats are the files the report handler writes, each with its
// content type and renderer (the CLI's --html, --output json and --output
// csv).
var reportFormats = []struct {
	ext, contentType string
	write            func(*bytes.Buffer, report.Report) error
}{
	{"html", "text/html; charset=utf-8", func(b *bytes.Buffer, r report.Report) error { return report.WriteHTML(b, r) }},
	{"json", "application/json", func(b *bytes.Buffer, r report.Report) error {
		enc := json.NewEncoder(b)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}},
	{"csv", "text/csv; charset=utf-8", func(b *bytes.Buffer, r report.Report) error { return report.WriteCSV(b, r) }},
}

// ReportKeys returns the keys the report of account as of now is written
// to, for ext ("html", "json", "csv"): one dated,
// <prefix><account>/<YYYY>/<MM>/<DD>/report-<YYYYMMDDThhmmssZ>.<ext>, kept
// as history, and <prefix><account>/latest.<ext>, replaced by every run.
// A prefix that is not empty ends with "/" (FromEnvironment adds it).
func ReportKeys(prefix, account string, now time.Time, ext string) (dated, latest string) {
	now = now.UTC()
	base := prefix + account + "/"
	return base + now.Format("2006/01/02/") + "report-" + now.Format("20060102T150405Z") + "." + ext, base + "latest." + ext
}

// reportRun collects the RPO report of the account over its regions (the
// stack's Regions when set, as the fan-outs), renders it as HTML, JSON and
// CSV and writes each twice to the report bucket: under a dated key and
// as latest. The event is only logged: what to do does not depend on it.
// The invocation fails when an object could not be written or when the
// report's verdict failed (a region could not be read, a stored stanza is
// invalid), after writing what it has, so that the function's Errors
// metric and alarm see it; late or missing volumes are the RPO alarm's,
// not an error of this function.
func (h *Handler) reportRun(ctx context.Context, event json.RawMessage) error {
	var ev events.CloudWatchEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		slog.WarnContext(ctx, "event is not a scheduled event; reporting anyway", "error", err)
	}
	slog.InfoContext(ctx, "report", "event_id", ev.ID, "source", ev.Source, "resources", ev.Resources)
	env, err := account.Load(ctx, h.cfg.Sources, account.Request{Account: h.cfg.Account})
	if err != nil {
		return fmt.Errorf("%s: %w", h.cfg.Name, err)
	}
	h.limitRegions(ctx, env)
	now := time.Now()
	if h.cfg.Now != nil {
		now = h.cfg.Now()
	}
	rep := report.Collect(ctx, report.Account{ID: env.Account, Regions: env.Regions, Policy: env.Policy, Invalid: env.InvalidMessages()},
		report.Options{Now: now})
	var errs []error
	var written []string
	for _, f := range reportFormats {
		var body bytes.Buffer
		if err := f.write(&body, rep); err != nil {
			return fmt.Errorf("render the report as %s: %w", f.ext, err)
		}
		dated, latest := ReportKeys(h.cfg.ReportPrefix, env.Account, rep.Now, f.ext)
		for _, key := range []string{dated, latest} {
			if err := h.cfg.Objects.Put(ctx, key, f.contentType, body.Bytes()); err != nil {
				slog.ErrorContext(ctx, "report not written", "bucket", h.cfg.Objects.Name(), "key", key, "error", err)
				errs = append(errs, err)
				continue
			}
			written = append(written, key)
		}
	}
	c := rep.Coverage
	slog.InfoContext(ctx, "report written", "account", env.Account, "bucket", h.cfg.Objects.Name(), "keys", strings.Join(written, ","),
		"matched", c.Matched, "ok", c.OK, "late", c.Late, "missing", c.Missing, "regions", len(rep.Regions))
	if err := rep.Verdict().Err(); err != nil {
		errs = append(errs, fmt.Errorf("report of account %s: %w", env.Account, err))
	}
	return errors.Join(errs...)
}
