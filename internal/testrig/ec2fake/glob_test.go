package ec2fake

import "testing"

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"web-1", "web-1", true},
		{"web", "web-1", false},
		{"web-*", "web-", true},
		{"web-*", "web-123", true},
		{"*", "", true},
		{"*-1", "db-1", true},
		{"???-1", "web-1", true},
		{"???-1", "db-1", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{`web\*`, "web*", true},
		{`web\*`, "web-1", false},
		{`a\?`, "ab", false},
		{"Prod", "prod", false},
		{"é?", "éé", true},
	} {
		if got := glob(tc.pattern, tc.s); got != tc.want {
			t.Errorf("glob(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}
