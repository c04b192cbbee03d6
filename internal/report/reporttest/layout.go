package reporttest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Layout is how a page lays out in a window of a given width.
type Layout struct {
	// Viewport is the window's inner width and ScrollWidth the document's
	// width, in CSS pixels: the page scrolls sideways when ScrollWidth >
	// Viewport.
	Viewport, ScrollWidth int
	// Screenshot is the PNG of the window, under the test's temporary
	// directory (or EBS_SNAPPER_SCREENSHOTS, to keep it).
	Screenshot string
}

var measured = regexp.MustCompile(`data-measured="(\d+)x(\d+)"`)

// Measure lays the HTML page at path out in a viewport width x height
// pixels, takes a screenshot, and measures the document's width. The page
// is shown in a frame of that size (headless Chromium's window is at least
// 500 pixels wide, wider than a phone), and the measuring script lives in
// the frame's host page, so the page under test stays script-free.
func Measure(t testing.TB, path string, width, height int) Layout {
	t.Helper()
	exe := Browser(t)
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "page.html"), page, 0o644); err != nil {
		t.Fatal(err)
	}
	host := filepath.Join(dir, "host.html")
	frame := fmt.Sprintf(`<!DOCTYPE html><html><body style="margin:0"><iframe src="page.html" width="%d" height="%d" style="border:0;display:block" `+
		`onload="document.documentElement.setAttribute('data-measured', this.contentDocument.documentElement.scrollWidth + 'x' + this.contentWindow.innerWidth)"></iframe></body></html>`,
		width, height)
	if err := os.WriteFile(host, []byte(frame), 0o644); err != nil {
		t.Fatal(err)
	}
	size := fmt.Sprintf("--window-size=%d,%d", max(width, 500), height)
	dom := run(t, exe, dir, size, "--allow-file-access-from-files", "--dump-dom", "file://"+host)
	m := measured.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("no measurement in the dumped DOM of %s:\n%s", host, dom)
	}
	l := Layout{}
	l.ScrollWidth, _ = strconv.Atoi(m[1])
	l.Viewport, _ = strconv.Atoi(m[2])
	shots := os.Getenv("EBS_SNAPPER_SCREENSHOTS")
	if shots == "" {
		shots = dir
	}
	l.Screenshot = filepath.Join(shots, fmt.Sprintf("%s-%dx%d.png", strings.TrimSuffix(filepath.Base(path), ".html"), width, height))
	run(t, exe, dir, size, "--hide-scrollbars", "--allow-file-access-from-files", "--screenshot="+l.Screenshot, "file://"+host)
	if fi, err := os.Stat(l.Screenshot); err != nil || fi.Size() == 0 {
		t.Fatalf("no screenshot at %s: %v", l.Screenshot, err)
	}
	return l
}

// run runs headless chromium with the flags Open uses (no network) plus
// args, and returns its stdout.
func run(t testing.TB, exe, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, append([]string{"--headless", "--disable-gpu", "--no-sandbox",
		"--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-default-apps", "--disable-sync", "--user-data-dir=" + filepath.Join(dir, "profile"),
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--proxy-server=http://127.0.0.1:9"}, args...)...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", exe, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}
