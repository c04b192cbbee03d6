package cli

import (
	"encoding/csv"
	"io"
	"strings"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/report"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// newOutput is what snapshot, clean, replication and plan print, every
// list present ([] in JSON, never null).
func newOutput(rep snapper.Report, acct string, invalid []string, figures []report.Figures, calls *account.Calls) output {
	out := output{Report: rep, Account: acct, InvalidStanzas: invalid, Figures: figures, APICalls: []account.CallCount{}}
	if calls != nil {
		out.APICalls = calls.Snapshot()
	}
	// Copied, so the caller's report keeps its nil lists.
	out.Regions = make([]snapper.RegionReport, len(rep.Regions))
	copy(out.Regions, rep.Regions)
	for i := range out.Regions {
		r := &out.Regions[i]
		if r.Snapshots == nil {
			r.Snapshots = []snapper.SnapshotRow{}
		}
		if r.Clean == nil {
			r.Clean = []snapper.CleanRow{}
		}
		if r.Replication == nil {
			r.Replication = []snapper.ReplicationRow{}
		}
		if r.Drills == nil {
			r.Drills = []snapper.DrillRow{}
		}
	}
	if out.Figures == nil {
		out.Figures = []report.Figures{}
	}
	return out
}

// runCSVHeader is the header of --output csv for snapshot, clean,
// replication and plan: one row per decision, as the text table.
var runCSVHeader = []string{"region", "kind", "resource_id", "volume_id", "instance_id", "config_ids", "action", "status",
	"reason", "error", "new_id", "delete_on"}

// writeRunCSV writes one row per decision: kind is "snapshot" (a volume's
// create or skip, resource_id its volume), "clean" (a snapshot's delete or
// keep) or "replication" (resource_id the snapshot, instance_id empty);
// new_id is the snapshot or replica the action made.
func writeRunCSV(w io.Writer, out output) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(runCSVHeader)
	_ = cw.WriteAll(runCSVRows(out))
	return cw.Error()
}

// runCSVRows are writeRunCSV's rows, without the header.
func runCSVRows(out output) [][]string {
	var rows [][]string
	for _, rr := range out.Regions {
		for _, r := range rr.Snapshots {
			rows = append(rows, []string{rr.Region, "snapshot", r.VolumeID, r.VolumeID, r.InstanceID, csvIDs(r.ConfigID, r.ConfigIDs),
				r.Action, r.Status, r.Reason, r.Error, r.SnapshotID, r.DeleteOn})
		}
		for _, r := range rr.Clean {
			rows = append(rows, []string{rr.Region, "clean", r.SnapshotID, r.VolumeID, r.InstanceID, csvIDs(r.ConfigID, r.ConfigIDs),
				string(r.Action), r.Status, r.Reason, r.Error, "", r.DeleteOn})
		}
		for _, r := range rr.Replication {
			rows = append(rows, []string{rr.Region, "replication", r.SnapshotID, "", "", "", r.Action, r.Status, r.Reason, r.Error, r.ReplicaID, ""})
		}
		rows = append(rows, drillCSV(rr)...)
	}
	return rows
}

// csvIDs is the governing stanzas joined by "+", or the deciding one.
func csvIDs(id string, ids []string) string {
	if len(ids) > 1 {
		return strings.Join(ids, "+")
	}
	return id
}

// skipped counts the region's volumes that snapshot skips (not due,
// ignored, excluded, held back): the plan summary's SKIP.
func skipped(rr snapper.RegionReport) int {
	n := 0
	for _, r := range rr.Snapshots {
		if r.Action == snapper.Skip {
			n++
		}
	}
	return n
}
