package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/texttable"
)

// Report is the report of every region of a run.
type Report struct {
	Account string    `json:"account,omitempty"`
	Now     time.Time `json:"now"`
	// Grace is the grace in prose ("6h"), or "one period";
	// GraceSeconds the same in seconds, absent for one period.
	Grace        string `json:"grace"`
	GraceSeconds *int64 `json:"grace_seconds,omitempty"`
	// ValidStanzas counts the stanzas the report judged by;
	// InvalidStanzas are the stored ones that failed to load (SetInvalid).
	ValidStanzas   int      `json:"valid_stanzas"`
	InvalidStanzas []string `json:"invalid_stanzas"`
	// Coverage sums every region.
	Coverage Coverage `json:"coverage"`
	Regions  []Region `json:"regions"`
	// SnapshottedVolumeGiB sums the regions' figures (see Region).
	SnapshottedVolumeGiB int64 `json:"snapshotted_volume_gib"`
	// Figures are the metrics the report measures, per region and stanza:
	// the same figures the Lambda workers publish in EMF.
	Figures []Figures `json:"figures"`
}

// New sums regions into a report. grace is nil for the default (one
// period).
func New(account string, now time.Time, grace *time.Duration, regions []Region) Report {
	r := Report{Account: account, Now: now.UTC(), Grace: "one period", Regions: regions, Figures: []Figures{}, InvalidStanzas: []string{}}
	if grace != nil {
		r.Grace = human(*grace)
		secs := seconds(*grace)
		r.GraceSeconds = &secs
	}
	for i := range r.Regions {
		r.Regions[i].ensureLists()
	}
	for _, rr := range regions {
		r.Coverage.merge(rr.Coverage)
		r.SnapshottedVolumeGiB += rr.SnapshottedVolumeGiB
		if rr.Skipped == "" && rr.Error == "" {
			r.Figures = append(r.Figures, rr.Figures()...)
		}
	}
	r.Coverage.finish()
	return r
}

// Breach reports whether any volume is late or missing.
func (r Report) Breach() bool { return r.Coverage.Late+r.Coverage.Missing > 0 }

// WriteText writes the report for a terminal or a log: the coverage line,
// every volume (late and missing first), orphans, snapshots without
// DeleteOn, and the storage bound.
func WriteText(w io.Writer, r Report) error {
	return WriteTextWidth(w, r, 0)
}

// WriteTextWidth is WriteText with its tables cut to width runes (a
// terminal's width; 0 keeps lines whole): the reason is what is cut.
func WriteTextWidth(w io.Writer, r Report, width int) error {
	var b strings.Builder
	for _, msg := range r.InvalidStanzas {
		fmt.Fprintf(&b, "invalid stanza skipped: %s\n", strings.ReplaceAll(msg, "\n", "; "))
	}
	fmt.Fprintf(&b, "Coverage as of %s: %s\n\n", r.Now.Format(time.RFC3339), r.headline())

	tw := texttable.NewWidth(&b, width)
	fmt.Fprintln(tw, "REGION\tSTATUS\tVOLUME\tINSTANCE\tCONFIG\tNEWEST COMPLETED\tAGE\tLIMIT\tSNAPSHOTS\tREASON")
	for _, rr := range r.Regions {
		for _, v := range rr.Volumes {
			newest, age := "-", "-"
			if v.Newest != nil {
				newest, age = v.Newest.Format(time.RFC3339), human(time.Duration(*v.AgeSeconds)*time.Second)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", rr.Region, v.Status, v.VolumeID, InstanceLabel(v.InstanceID, v.InstanceName),
				v.ConfigID, newest, age, human(time.Duration(v.LimitSeconds)*time.Second), v.Counts.Count, v.Reason)
		}
	}
	tw.Flush()

	fmt.Fprintln(&b)
	tw = texttable.NewWidth(&b, width)
	fmt.Fprintln(tw, "REGION\tCONFIG\tMATCHED\tOK\tLATE\tMISSING\tFAILED\tPENDING\tCOVERAGE\tNOTE")
	for _, rr := range r.Regions {
		note := rr.Skipped
		if rr.Error != "" {
			note = "error: " + rr.Error
		}
		if rr.Ignored > 0 {
			note = strings.TrimPrefix(note+"; ", "; ") + fmt.Sprintf("%d ignored volumes", rr.Ignored)
		}
		if rr.Coverage.Matched == 0 && note == "" {
			continue
		}
		rows := rr.ByConfig
		if len(rows) != 1 {
			all := rr.Coverage
			all.ConfigID = "(all)"
			rows = append([]Coverage{all}, rows...)
		}
		for _, c := range rows {
			cfg := c.ConfigID
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f%%\t%s\n", rr.Region, cfg, c.Matched, c.OK, c.Late, c.Missing, c.Failed, c.Pending, c.Percent, note)
			note = ""
		}
	}
	tw.Flush()

	writeDrills(&b, r, width)

	orphans, noDeleteOn := 0, 0
	for _, rr := range r.Regions {
		orphans += len(rr.Orphans)
		noDeleteOn += len(rr.NoDeleteOn)
	}
	if orphans > 0 {
		fmt.Fprintf(&b, "\nOrphaned snapshots (no matched instance holds their volume):\n")
		tw = texttable.NewWidth(&b, width)
		fmt.Fprintln(tw, "REGION\tVOLUME\tREASON\tSNAPSHOTS\tOLDEST\tNEWEST\tSIZE")
		for _, rr := range r.Regions {
			for _, o := range rr.Orphans {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%d GiB\n", rr.Region, o.VolumeID, o.Reason, o.Counts.Count,
					stamp(o.Counts.Oldest), stamp(o.Counts.Newest), o.SizeGiB)
			}
		}
		tw.Flush()
	}
	if noDeleteOn > 0 {
		fmt.Fprintf(&b, "\nSnapshots with no DeleteOn tag (clean never deletes them): %d\n", noDeleteOn)
		for _, rr := range r.Regions {
			for _, s := range rr.NoDeleteOn {
				fmt.Fprintf(&b, "  %s  %s of %s, %s\n", rr.Region, s.SnapshotID, s.VolumeID, s.StartTime.Format(time.RFC3339))
			}
		}
	}
	for _, rr := range r.Regions {
		if rr.Protected.Any() {
			fmt.Fprintf(&b, "\n%s: %s", rr.Region, rr.Protected)
		}
	}
	fmt.Fprintf(&b, "\n%s\n", r.storageLine())
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteHeadline writes only the invalid stanzas and the coverage line
// (the report command's --quiet).
func WriteHeadline(w io.Writer, r Report) error {
	var b strings.Builder
	for _, msg := range r.InvalidStanzas {
		fmt.Fprintf(&b, "invalid stanza skipped: %s\n", strings.ReplaceAll(msg, "\n", "; "))
	}
	fmt.Fprintf(&b, "Coverage as of %s: %s\n", r.Now.Format(time.RFC3339), r.headline())
	_, err := io.WriteString(w, b.String())
	return err
}

// storageLine says what the snapshotted-volume figure is, and what it is
// not: EBS snapshots are incremental, so what they store can be less
// than one volume size (few changed blocks) or more (many snapshots of
// a volume whose blocks churn), and only the EBS direct APIs or the bill
// measure it.
func (r Report) storageLine() string {
	return fmt.Sprintf("Snapshotted volumes: %d GiB (the sizes of the volumes that have snapshots; not what the snapshots store, which is their changed blocks and is not measured)",
		r.SnapshottedVolumeGiB)
}

func stamp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}
