package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/report/reporttest"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

func htmlReport(t *testing.T) (Report, string) {
	t.Helper()
	inv, p := fleet(t)
	p.Ignore["vol-ignored"] = true
	rep := New("123456789012", now, nil, []Region{ForRegion(inv, p, Options{Now: now})})
	var b strings.Builder
	if err := WriteHTML(&b, rep); err != nil {
		t.Fatal(err)
	}
	return rep, b.String()
}

// The page is one file: no script, no stylesheet or image to fetch.
func TestHTMLIsSelfContained(t *testing.T) {
	_, page := htmlReport(t)
	for _, bad := range []string{"<script", "<link", "src=", "href=", "url(", "@import", "<iframe", "<object"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	// The attention table lists every volume that is not ok before the
	// region's full table.
	attention := page[strings.Index(page, `id="attention"`):strings.Index(page, `class="region"`)]
	for _, vol := range []string{"vol-late", "vol-missing", "vol-stuck", "vol-failed", "vol-pending"} {
		if !strings.Contains(attention, vol) {
			t.Errorf("attention table lacks %s", vol)
		}
	}
	if strings.Contains(attention, "vol-ok") {
		t.Error("attention table lists the ok volume")
	}
}

func TestHTMLInBrowser(t *testing.T) {
	rep, page := htmlReport(t)
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	got := reporttest.Open(t, path)
	if len(got.Console) > 0 || len(got.Requests) > 0 {
		t.Errorf("console %q, requests %q; want neither", got.Console, got.Requests)
	}
	for _, want := range []string{"14.3%", "1 of 7 matched volumes ok", "Needs attention", "vol-late", "vol-missing", "vol-gone", "volume", "snap-gone1"} {
		if !strings.Contains(got.DOM, want) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
	// One timeline per volume plus the coverage bar.
	if n, want := strings.Count(got.DOM, "<svg"), len(rep.Regions[0].Volumes)+1; n != want {
		t.Errorf("%d svg elements, want %d", n, want)
	}
	// A snapshot of vol-ok three hours old sits near the right end of its
	// seven-day window.
	if !strings.Contains(got.DOM, `<title>snap-ok2 completed 2026-03-14T09:00:00Z</title>`) {
		t.Error("timeline lacks snap-ok2")
	}
}

// layoutReport is a report of four regions: one with volumes (an instance
// with a long Name tag, long reasons), one with nothing to show, one with
// only orphans, one that failed.
func layoutReport(t *testing.T) Report {
	t.Helper()
	inv, p := fleet(t)
	inst := inv.Instances["i-late"]
	inst.Tags = []inventory.Tag{{Key: "Name", Value: "billing-database-primary-eu"}}
	inv.Instances["i-late"] = inst
	main := ForRegion(inv, p, Options{Now: now})
	empty := ForRegion(&snapper.Inventory{Name: "us-west-1"}, p, Options{Now: now})
	orphans := ForRegion(&snapper.Inventory{Name: "ap-south-1", Snapshots: []inventory.Snapshot{snap("snap-x", "vol-x", "completed", 5*time.Hour)}}, p, Options{Now: now})
	return New("123456789012", now, nil, []Region{main, empty, orphans, {Region: "sa-east-1", Error: "DescribeInstances: AccessDenied"}})
}

// Regions with nothing to show are left out; every timeline has the same
// axis with tick labels, and the page has a legend; an instance's Name
// tag is next to its id.
func TestHTMLRegionsAxisAndNames(t *testing.T) {
	var b strings.Builder
	if err := WriteHTML(&b, layoutReport(t)); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, `id="region-us-west-1"`) || !strings.Contains(page, "Left out, nothing to show: us-west-1.") {
		t.Error("the empty region is on the page, or not named as left out")
	}
	for _, r := range []string{"eu-west-1", "ap-south-1", "sa-east-1"} {
		if !strings.Contains(page, `id="region-`+r+`"`) {
			t.Errorf("region %s left out", r)
		}
	}
	axis := `text-anchor="start">-7d</text>`
	if n, want := strings.Count(page, axis), strings.Count(page, `<svg class="timeline"`); n != want || want == 0 || strings.Count(page, `text-anchor="end">now</text>`) != want {
		t.Errorf("%d of %d timelines carry the shared axis (-7d … now)", n, want)
	}
	if !strings.Contains(page, `id="legend"`) || !strings.Contains(page, "one axis for every volume") {
		t.Error("no legend")
	}
	if !strings.Contains(page, "<code>i-late</code> billing-database-primary-eu") {
		t.Error("the instance's Name tag is not next to its id")
	}
}

// The page fits a 1280-pixel window and a phone's 390 without scrolling
// sideways; the screenshots of both are taken (EBS_SNAPPER_SCREENSHOTS
// keeps them).
func TestHTMLFitsDesktopAndPhone(t *testing.T) {
	var b strings.Builder
	if err := WriteHTML(&b, layoutReport(t)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, size := range [][2]int{{1280, 900}, {390, 844}} {
		l := reporttest.Measure(t, path, size[0], size[1])
		if l.Viewport != size[0] || l.ScrollWidth > l.Viewport {
			t.Errorf("%dx%d: document %d px wide in a %d px window (screenshot %s)", size[0], size[1], l.ScrollWidth, l.Viewport, l.Screenshot)
		}
	}
}
