package reporttest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The checks the report's browser test relies on do see a console error,
// an uncaught exception and a fetch (to the loopback discard port).
func TestOpenSeesConsoleAndRequests(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.html")
	page := `<!DOCTYPE html><html><body><p>hello page</p><img src="http://127.0.0.1:9/x.png">
<script>console.error("boom-error"); undefinedFn();</script></body></html>`
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	p := Open(t, path)
	if !strings.Contains(p.DOM, "hello page") {
		t.Errorf("DOM lacks the page's text:\n%s", p.DOM)
	}
	console := strings.Join(p.Console, "\n")
	for _, want := range []string{"boom-error", "undefinedFn is not defined"} {
		if !strings.Contains(console, want) {
			t.Errorf("console %q lacks %q", console, want)
		}
	}
	if len(p.Requests) != 1 || p.Requests[0] != "http://127.0.0.1:9/x.png" {
		t.Errorf("requests %v, want the image's", p.Requests)
	}
}
