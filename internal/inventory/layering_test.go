package inventory_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering enforces DESIGN.md's layers: the pure core imports no AWS
// SDK, and the engine reaches AWS only through the interfaces it owns (the
// CLI wires the adapters in).
func TestLayering(t *testing.T) {
	rules := []struct {
		pkg       string
		forbidden []string
	}{
		{"internal/inventory", []string{"github.com/aws/"}},
		{"internal/config", []string{"github.com/aws/"}},
		{"internal/schedule", []string{"github.com/aws/"}},
		{"internal/retention", []string{"github.com/aws/"}},
		{"internal/provenance", []string{"github.com/aws/"}},
		{"internal/snapper", []string{"github.com/aws/", "/internal/ebs", "/internal/configstore", "/internal/cli"}},
	}
	for _, r := range rules {
		t.Run(r.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "github.com/ebs-snapper/ebs-snapper/"+r.pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, out)
			}
			for _, dep := range strings.Fields(string(out)) {
				for _, f := range r.forbidden {
					if strings.Contains(dep, f) {
						t.Errorf("%s depends on %s", r.pkg, dep)
					}
				}
			}
		})
	}
}
