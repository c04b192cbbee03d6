// Package reporttest opens the report's HTML page in a real headless
// browser for tests: Debian's chromium, run with --dump-dom and its log on
// stderr. It is used only by tests.
package reporttest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// browsers are the executable names tried, Debian's first.
var browsers = []string{"chromium", "chromium-browser", "google-chrome"}

// Browser returns the path of a headless-capable Chromium. Without one the
// test is skipped, unless CI=true: there scripts/ensure-chromium.sh
// installs it and a skipped browser test is a failure.
func Browser(t testing.TB) string {
	t.Helper()
	for _, name := range browsers {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("no browser (%s) on PATH under CI=true: run scripts/ensure-chromium.sh", strings.Join(browsers, ", "))
	}
	t.Skipf("no browser (%s) on PATH; scripts/ensure-chromium.sh installs Debian's chromium", strings.Join(browsers, ", "))
	return ""
}

// Page is what the browser made of a page.
type Page struct {
	// DOM is the document after loading (--dump-dom).
	DOM string
	// Console lists the page's console messages and uncaught exceptions.
	// Chromium logs them all at INFO, whatever their level, so a page
	// meant to have no script should have none at all.
	Console []string
	// Requests lists the URLs the browser fetched besides the page.
	Requests []string
}

var (
	consoleLine = regexp.MustCompile(`:CONSOLE[:(][^\]]*\] (.*)`)
	requestLine = regexp.MustCompile(`NotifyBeforeURLRequest: (\S+)`)
)

// Open loads the HTML file at path in headless chromium and returns its
// DOM, console messages and the URLs it fetched. Background networking is
// off, so the only requests are the page's own.
func Open(t testing.TB, path string) Page {
	t.Helper()
	exe := Browser(t)
	url := "file://" + path
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "--headless", "--disable-gpu", "--no-sandbox",
		"--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-default-apps", "--disable-sync", "--user-data-dir="+t.TempDir(),
		// Chromium still tries its own services (clock, updates, accounts)
		// despite the flags above: resolve no name and send every request
		// to a dead loopback proxy, so nothing leaves the machine.
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--proxy-server=http://127.0.0.1:9",
		"--enable-logging=stderr", "--v=1", "--dump-dom", url)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s --dump-dom %s: %v\n%s", exe, url, err, stderr.String())
	}
	p := Page{DOM: stdout.String()}
	for _, m := range consoleLine.FindAllStringSubmatch(stderr.String(), -1) {
		p.Console = append(p.Console, m[1])
	}
	for _, m := range requestLine.FindAllStringSubmatch(stderr.String(), -1) {
		if m[1] != url && !background(m[1]) {
			p.Requests = append(p.Requests, m[1])
		}
	}
	return p
}

// ownRequests are the URL prefixes of the requests Chromium makes on its
// own (network time, component updates, account check), not the page's.
var ownRequests = []string{
	"http://clients2.google.com/time/",
	"https://update.googleapis.com/service/update2/",
	"http://update.googleapis.com/service/update2/",
	"https://accounts.google.com/ListAccounts",
}

func background(url string) bool {
	for _, p := range ownRequests {
		if strings.HasPrefix(url, p) {
			return true
		}
	}
	return false
}
