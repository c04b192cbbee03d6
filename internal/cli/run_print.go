package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/retention"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/texttable"
)

// printReport writes the human-readable report: one row per decision, then
// the per-region summary.
func printReport(w io.Writer, out output, width int, quiet bool) {
	for _, msg := range out.InvalidStanzas {
		fmt.Fprintf(w, "invalid stanza skipped: %s\n", strings.ReplaceAll(msg, "\n", "; "))
	}
	if !quiet {
		printRows(w, out, width)
	}
	printSummary(w, out, width)
}

// printRows writes one row per decision.
func printRows(w io.Writer, out output, width int) {
	tw := texttable.NewWidth(w, width)
	fmt.Fprintln(tw, "REGION\tRESOURCE\tCONFIG\tACTION\tSTATUS\tREASON")
	for _, rr := range out.Regions {
		for _, r := range rr.Snapshots {
			reason := r.Reason
			if r.SnapshotID != "" {
				reason += fmt.Sprintf(" -> %s (DeleteOn %s)", r.SnapshotID, r.DeleteOn)
			}
			if r.Locked {
				reason += ", locked"
			}
			if r.LockError != "" {
				reason += "; NOT LOCKED: " + r.LockError
			}
			fmt.Fprintf(tw, "%s\t%s (%s)\t%s\t%s\t%s\t%s\n", rr.Region, r.VolumeID, r.InstanceID,
				configs(r.ConfigID, r.ConfigIDs), r.Action, dash(r.Status), withError(reason, r.Error))
		}
		for _, r := range rr.Clean {
			reason := r.Reason
			if h := r.RecycleBin; h != nil {
				reason += fmt.Sprintf("; Recycle Bin rule %s keeps it billed (up to %d GiB) until %s", h.Rule, h.GiB, h.Until.Format(time.RFC3339))
			}
			fmt.Fprintf(tw, "%s\t%s (%s)\t%s\t%s\t%s\t%s\n", rr.Region, r.SnapshotID, r.VolumeID,
				configs(r.ConfigID, r.ConfigIDs), r.Action, dash(r.Status), withError(reason, r.Error))
		}
		for _, r := range rr.Replication {
			reason := r.Reason
			if r.ReplicaID != "" {
				reason += " -> " + r.ReplicaID
			}
			fmt.Fprintf(tw, "%s\t%s (%s)\t-\t%s\t%s\t%s\n", rr.Region, r.SnapshotID, r.Role,
				r.Action, dash(r.Status), withError(reason, r.Error))
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
}

// printSummary writes the per-region summary.
func printSummary(w io.Writer, out output, width int) {
	verb := map[bool]string{true: " (dry run: nothing was changed)", false: ""}[out.DryRun]
	fmt.Fprintf(w, "%s as of %s%s\n", out.Job, out.Now.Format(time.RFC3339), verb)
	if out.RunToken != "" {
		fmt.Fprintf(w, "new snapshots carry the tag %s=%s\n", snapper.RunTag, out.RunToken)
	}
	tw := texttable.NewWidth(w, width)
	fmt.Fprintln(tw, "REGION\tCREATE\tSKIP\tCOPY\tDELETE\tKEEP\tFAILED\tNOTE")
	idle := 0
	for _, rr := range out.Regions {
		if len(rr.Snapshots)+len(rr.Clean)+len(rr.Replication)+len(rr.Conflicts)+len(rr.InvalidStanzas) == 0 && rr.Skipped == "" && rr.Error == "" {
			idle++
			continue
		}
		c, cp, d := rr.Summary.Created, rr.Summary.Copied, rr.Summary.Deleted
		if out.DryRun {
			c, cp, d = countPlanned(rr)
		}
		note := rr.Skipped
		if rr.Error != "" {
			note = "error: " + rr.Error
		}
		if n := rr.Summary.Deferred; n > 0 && !out.DryRun {
			note = strings.TrimPrefix(note+"; ", "; ") + fmt.Sprintf("%d copies deferred (destination's copy limit)", n)
		}
		if rr.Summary.NotStarted > 0 {
			note = strings.TrimPrefix(note+"; ", "; ") + fmt.Sprintf("%d not started", rr.Summary.NotStarted)
		}
		if rr.Summary.Unknown > 0 {
			note = strings.TrimPrefix(note+"; ", "; ") + fmt.Sprintf("%d outcome unknown (see each row)", rr.Summary.Unknown)
		}
		for _, cf := range rr.Conflicts {
			note = strings.TrimPrefix(note+"; ", "; ") + fmt.Sprintf("%s matched by %s (the safer rule of each applies)", cf.InstanceID, strings.Join(cf.ConfigIDs, ", "))
		}
		for _, st := range rr.InvalidStanzas {
			note = strings.TrimPrefix(note+"; ", "; ") + fmt.Sprintf("invalid stanza %s: %s", st.ConfigID, st.Error)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", rr.Region, c, skipped(rr), cp, d, rr.Summary.Kept, rr.Summary.Failed, note)
	}
	tw.Flush()
	if idle > 0 {
		fmt.Fprintf(w, "%d other regions: nothing to do\n", idle)
	}
	for _, rr := range out.Regions {
		if b := rr.RecycleBin; b != nil {
			fmt.Fprintln(w, recycleBinLine(rr.Region, b, out.DryRun))
		}
		if n := len(rr.NeverDue); n > 0 {
			fmt.Fprintf(w, "%s: %d snapshots have a DeleteOn that is not a YYYY-MM-DD date and will never be deleted: %s\n",
				rr.Region, n, strings.Join(rr.NeverDue, ", "))
		}
	}
}

// configs is the CONFIG column: the deciding stanza, or every stanza
// governing the row when there are several ("db+workers").
func configs(id string, ids []string) string {
	if len(ids) > 1 {
		return strings.Join(ids, "+")
	}
	return dash(id)
}

func countPlanned(rr snapper.RegionReport) (create, copies, del int) {
	for _, r := range rr.Snapshots {
		if r.Action == snapper.Create {
			create++
		}
	}
	for _, r := range rr.Clean {
		if r.Action == retention.Delete {
			del++
		}
	}
	for _, r := range rr.Replication {
		switch r.Action {
		case snapper.Copy:
			copies++
		case snapper.DeleteReplica:
			del++
		}
	}
	return create, copies, del
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// withError appends err to reason in brackets, unless it is empty or the
// reason already is the error (a decision that could not be taken gives its
// problem as both).
func withError(reason, err string) string {
	if err == "" || err == reason {
		return reason
	}
	return reason + " [" + err + "]"
}
