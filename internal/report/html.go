package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"time"
)

//go:embed report.html.tmpl
var pageText string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"stamp": func(t any) string {
		switch t := t.(type) {
		case *time.Time:
			return stamp(t)
		case time.Time:
			return t.Format(time.RFC3339)
		}
		return "-"
	},
	"age": func(s *int64) string {
		if s == nil {
			return "-"
		}
		return human(time.Duration(*s) * time.Second)
	},
	"dur":     func(s int64) string { return human(time.Duration(s) * time.Second) },
	"pct":     func(f float64) string { return fmt.Sprintf("%.1f%%", f) },
	"storage": func(r Report) string { return r.storageLine() },
}).Parse(pageText))

// Timeline geometry, in SVG user units: every timeline of a page has the
// same width and time axis, its tick labels under the line.
const (
	timelineWidth = 360.0
	tickCount     = 4 // intervals between ticks
)

// htmlPage is what the template reads: the report plus what html/template
// cannot compute (SVG coordinates).
type htmlPage struct {
	Report
	Attention []htmlVolume
	Regions   []htmlRegion
	// Quiet names the regions left out: read, with nothing to show.
	Quiet []string
	Bar   []barSegment
	// Axis is the time axis every timeline shares, WindowLabel its span.
	Axis        []tick
	WindowLabel string
}

type htmlRegion struct {
	Region
	Rows []htmlVolume
}

type htmlVolume struct {
	Region string
	Volume
	Dots []dot
	// LimitX is where, on the shared axis, a snapshot becomes too old to
	// count (now minus the limit).
	LimitX float64
	// Older counts snapshots older than the window, drawn at its left edge.
	Older int
}

// tick is one mark of the time axis and its label ("-7d", "now").
type tick struct {
	X      float64
	Label  string
	Anchor string
}

type dot struct {
	X     float64
	State string
	Title string
}

type barSegment struct {
	Status Status
	Count  int
	X, W   float64
}

// WriteHTML writes the report as one self-contained HTML page: inline CSS
// and SVG, no script and no external resource, so it can be mailed or
// archived and opened offline. Volumes that are not ok come first, then
// each region that has something to show (volumes, orphans, snapshots
// without DeleteOn, an error) with a timeline of each volume's snapshots;
// every timeline shares one time axis, spanning the longest retention or
// limit of the page. It fits a 1280-pixel screen and a phone's, where the
// tables turn into one block per row.
func WriteHTML(w io.Writer, r Report) error {
	p := htmlPage{Report: r}
	span := time.Duration(0)
	for _, rr := range r.Regions {
		for _, v := range rr.Volumes {
			span = max(span, time.Duration(max(v.RetentionSeconds, v.LimitSeconds))*time.Second)
		}
	}
	if span <= 0 {
		span = 24 * time.Hour
	}
	p.WindowLabel = human(span)
	for i := range tickCount + 1 {
		t := tick{X: timelineWidth * float64(i) / tickCount, Label: "-" + human(span*time.Duration(tickCount-i)/tickCount), Anchor: "middle"}
		switch i {
		case 0:
			t.Anchor = "start"
		case tickCount:
			t.Label, t.Anchor = "now", "end"
		}
		p.Axis = append(p.Axis, t)
	}
	for _, rr := range r.Regions {
		if len(rr.Volumes)+len(rr.Orphans)+len(rr.NoDeleteOn)+rr.Ignored == 0 && rr.Error == "" {
			p.Quiet = append(p.Quiet, rr.Region)
			continue
		}
		hr := htmlRegion{Region: rr}
		for _, v := range rr.Volumes {
			hv := timeline(rr.Region, v, r.Now, span)
			hr.Rows = append(hr.Rows, hv)
			if v.Status != OK {
				p.Attention = append(p.Attention, hv)
			}
		}
		p.Regions = append(p.Regions, hr)
	}
	x := 0.0
	for _, s := range []struct {
		st Status
		n  int
	}{{OK, r.Coverage.OK}, {Late, r.Coverage.Late}, {Missing, r.Coverage.Missing}, {Failed, r.Coverage.Failed}, {Pending, r.Coverage.Pending}} {
		if s.n == 0 || r.Coverage.Matched == 0 {
			continue
		}
		wd := 600.0 * float64(s.n) / float64(r.Coverage.Matched)
		p.Bar = append(p.Bar, barSegment{Status: s.st, Count: s.n, X: x, W: wd})
		x += wd
	}
	return page.Execute(w, p)
}

// timeline places a volume's snapshots on the page's window, span long
// and ending at now.
func timeline(region string, v Volume, now time.Time, span time.Duration) htmlVolume {
	start := now.Add(-span)
	xOf := func(t time.Time) float64 {
		f := float64(t.Sub(start)) / float64(span)
		return min(max(f, 0), 1) * timelineWidth
	}
	hv := htmlVolume{Region: region, Volume: v, LimitX: xOf(now.Add(-time.Duration(v.LimitSeconds) * time.Second))}
	for _, s := range v.Timeline {
		if s.StartTime.Before(start) {
			hv.Older++
		}
		hv.Dots = append(hv.Dots, dot{X: xOf(s.StartTime), State: s.State,
			Title: fmt.Sprintf("%s %s %s", s.SnapshotID, s.State, s.StartTime.Format(time.RFC3339))})
	}
	return hv
}
