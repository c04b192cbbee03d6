package handler

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/report"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// workerFigures are the EMF figures of a worker's run in one region: the actions
// it took (report.ActionsOf) and, for a snapshot run (inv set), the RPO
// coverage of the region and of each stanza, as report judges it. The
// coverage is judged on the run's own inventory with the snapshots it just
// created added as pending, so a volume snapshotted for the first time
// counts as pending rather than missing, and a late one stays late until a
// snapshot completes. A region the run skipped has no figures.
func workerFigures(rr snapper.RegionReport, inv *snapper.Inventory, p snapper.Policy, now time.Time, throttled int) []report.Figures {
	if rr.Skipped != "" {
		return nil
	}
	actions := report.ActionsOf(rr, throttled)
	if inv == nil {
		return []report.Figures{{Region: rr.Region, Actions: actions}}
	}
	after := *inv
	after.Snapshots = append([]inventory.Snapshot(nil), inv.Snapshots...)
	for _, r := range rr.Snapshots {
		if r.Status == snapper.StatusDone {
			after.Snapshots = append(after.Snapshots, inventory.Snapshot{ID: r.SnapshotID, VolumeID: r.VolumeID,
				State: inventory.StatePending, StartTime: now})
		}
	}
	figs := report.ForRegion(&after, p, report.Options{Now: now}).Figures()
	figs[0].Actions = actions // the region-wide line
	return figs
}

// withAccount sets the account of the cell on every figure, for the EMF
// lines' Account dimension (report.EMF).
func withAccount(account string, figs []report.Figures) []report.Figures {
	for i := range figs {
		figs[i].Account = account
	}
	return figs
}

// emit writes figs as CloudWatch EMF lines to Config.Metrics, one Write
// per line, so that a line is one CloudWatch Logs event and never
// interleaves with the logger's records on the same writer.
func (h *Handler) emit(ctx context.Context, figs ...report.Figures) {
	if h.cfg.Metrics == nil {
		return
	}
	for line := range bytes.Lines(report.EMF(time.Now(), figs...)) {
		if _, err := h.cfg.Metrics.Write(line); err != nil {
			slog.WarnContext(ctx, "metrics not written", "error", err)
			return
		}
	}
}

// heartbeat writes the fan-out's pipeline heartbeat (report.PipelineEMF)
// to Config.Metrics: how many valid and invalid stanzas it found. The
// pipeline is the handler's name without "fanout-".
func (h *Handler) heartbeat(ctx context.Context, valid, invalid int) {
	if h.cfg.Metrics == nil {
		return
	}
	line := report.PipelineEMF(time.Now(), strings.TrimPrefix(h.cfg.Name, "fanout-"), valid, invalid)
	if _, err := h.cfg.Metrics.Write(line); err != nil {
		slog.WarnContext(ctx, "heartbeat not written", "error", err)
	}
}

// throttledIn is how many calls to region AWS has throttled so far in this
// execution environment; a worker's figure is the difference over its run
// (Lambda runs one invocation at a time per environment).
func (h *Handler) throttledIn(region string) int { return h.cfg.Calls.ThrottledIn(region) }
