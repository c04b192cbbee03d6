package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/texttable"
)

// Drill flags: what needs attention in a volume's restore drills.
const (
	// DrillFlagFailed: the volume's last drill failed.
	DrillFlagFailed = "failed"
	// DrillFlagOverdue: the last drill is older than drill.every plus one
	// more drill.every (the same grace the RPO report gives snapshots).
	DrillFlagOverdue = "overdue"
	// DrillFlagNever: no drill of the volume is recorded yet.
	DrillFlagNever = "never"
)

// VolumeDrill is a volume's restore drills, for a volume governed by a
// stanza with a "drill" key (docs/drills.md).
type VolumeDrill struct {
	// ConfigID is the stanza whose drill setting applies.
	ConfigID     string `json:"config_id"`
	EverySeconds int64  `json:"every_seconds"`
	// Last is the newest drill recorded on any of the volume's snapshots
	// (tag ebs-snapper:last-drill); nil when none is.
	Last *snapper.DrillRecord `json:"last,omitempty"`
	// Flag is DrillFlagFailed, DrillFlagOverdue, DrillFlagNever or "".
	Flag string `json:"flag,omitempty"`
}

// DrillCoverage counts a region's drilled volumes by flag.
type DrillCoverage struct {
	Volumes int `json:"volumes"`
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Overdue int `json:"overdue"`
	Never   int `json:"never"`
}

// drillOf judges a volume's drills at now: ids are its governing stanzas,
// last its newest drill (LastDrills); nil when no stanza asks for drills.
func drillOf(p snapper.Policy, ids []string, last map[string]snapper.DrillRecord, vol string, now time.Time) *VolumeDrill {
	var d *VolumeDrill
	for _, id := range ids {
		s := p.Stanzas[id]
		if s.Drill.On() && (d == nil || seconds(s.Drill.Every) < d.EverySeconds) {
			d = &VolumeDrill{ConfigID: id, EverySeconds: seconds(s.Drill.Every)}
		}
	}
	if d == nil {
		return nil
	}
	rec, ok := last[vol]
	switch {
	case !ok:
		d.Flag = DrillFlagNever
		return d
	case rec.Outcome == snapper.DrillFailed:
		d.Flag = DrillFlagFailed
	case now.Sub(rec.At) > 2*time.Duration(d.EverySeconds)*time.Second:
		d.Flag = DrillFlagOverdue
	}
	d.Last = &rec
	return d
}

// add counts d.
func (c *DrillCoverage) add(d *VolumeDrill) {
	if d == nil {
		return
	}
	c.Volumes++
	switch d.Flag {
	case DrillFlagFailed:
		c.Failed++
	case DrillFlagOverdue:
		c.Overdue++
	case DrillFlagNever:
		c.Never++
	default:
		c.Passed++
	}
}

// drillCells are a volume's drill columns: last drill, outcome, seconds
// to available, flag; "-" where there is none.
func drillCells(d *VolumeDrill) (last, outcome, secs, flag string) {
	if d == nil {
		return "-", "-", "-", "-"
	}
	last, outcome, secs, flag = "-", "-", "-", d.Flag
	if d.Last != nil {
		last, outcome, secs = d.Last.At.Format(time.RFC3339), d.Last.Outcome, strconv.Itoa(d.Last.Seconds)
	}
	if flag == "" {
		flag = "-"
	}
	return last, outcome, secs, flag
}

// writeDrills writes the restore-drill table of the volumes with drills:
// flagged ones first as the volume table orders them. Nothing when no
// volume has drills.
func writeDrills(b *strings.Builder, r Report, width int) {
	var tw *texttable.Table
	for _, rr := range r.Regions {
		for _, v := range rr.Volumes {
			if v.Drill == nil {
				continue
			}
			if tw == nil {
				fmt.Fprintf(b, "\nRestore drills:\n")
				tw = texttable.NewWidth(b, width)
				fmt.Fprintln(tw, "REGION\tVOLUME\tCONFIG\tLAST DRILL\tOUTCOME\tSECONDS\tFLAG")
			}
			last, outcome, secs, flag := drillCells(v.Drill)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", rr.Region, v.VolumeID, v.Drill.ConfigID, last, outcome, secs, strings.ToUpper(flag))
		}
	}
	if tw != nil {
		tw.Flush()
	}
}
