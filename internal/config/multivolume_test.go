package config

import (
	"strings"
	"testing"
)

func multiStanza(extra string) []byte {
	return []byte(`{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 5, "frequency": "12 hours"` + extra + `}}`)
}

// multi_volume and exclude_boot_volume are read in both modes, and a bad
// value is an error naming its JSON path in both (the keys are new: no
// stored stanza relies on a leniency).
func TestParseMultiVolume(t *testing.T) {
	for _, tt := range []struct {
		extra       string
		multi, boot bool
		err         string
	}{
		{extra: ""},
		{extra: `, "multi_volume": true`, multi: true},
		{extra: `, "multi_volume": true, "exclude_boot_volume": true`, multi: true, boot: true},
		{extra: `, "multi_volume": false, "exclude_boot_volume": false`},
		{extra: `, "multi_volume": "yes"`, err: `s: snapshot.multi_volume: must be true or false, got "yes"`},
		{extra: `, "multi_volume": null`, err: `s: snapshot.multi_volume: must be true or false, got null`},
		{extra: `, "multi_volume": true, "exclude_boot_volume": 1`, err: `s: snapshot.exclude_boot_volume: must be true or false, got 1`},
		{extra: `, "exclude_boot_volume": true`, err: `s: snapshot.exclude_boot_volume: needs "multi_volume": true`},
	} {
		t.Run(tt.extra, func(t *testing.T) {
			data := multiStanza(tt.extra)
			strict, err := Parse("s", data)
			stored, _, serr := ParseStored("s", data)
			for mode, e := range map[string]error{"Parse": err, "ParseStored": serr} {
				switch {
				case tt.err == "" && e != nil:
					t.Errorf("%s: %v", mode, e)
				case tt.err != "" && (e == nil || !strings.Contains(e.Error(), tt.err)):
					t.Errorf("%s: error %v, want one containing %q", mode, e, tt.err)
				}
			}
			if tt.err != "" {
				return
			}
			for _, s := range []Stanza{strict, stored} {
				if s.MultiVolume != tt.multi || s.ExcludeBootVolume != tt.boot {
					t.Errorf("MultiVolume, ExcludeBootVolume = %v, %v; want %v, %v", s.MultiVolume, s.ExcludeBootVolume, tt.multi, tt.boot)
				}
			}
		})
	}
}
