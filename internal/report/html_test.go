package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/report/reporttest"
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
