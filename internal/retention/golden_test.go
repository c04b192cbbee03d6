package retention

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current Plan")

var fleetNow = time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)

// mix is a splitmix64 hash of its arguments. The fixture is derived from
// it rather than from math/rand so that it can never change under us.
func mix(xs ...int) uint64 {
	h := uint64(0x9e3779b97f4a7c15)
	for _, x := range xs {
		h ^= uint64(x)
		h += 0x9e3779b97f4a7c15
		h = (h ^ h>>30) * 0xbf58476d1ce4e5b9
		h = (h ^ h>>27) * 0x94d049bb133111eb
		h ^= h >> 31
	}
	return h
}

// fleet is a region of 200 volumes with 12 snapshots each: governed
// volumes with minimums 0 to 6 under three stanzas, gone volumes, volumes
// of ignored instances, ignored volumes; snapshots with DeleteOn dates from
// three weeks past to two and a half weeks ahead, without DeleteOn, with a
// garbage DeleteOn or a decoy date tag, in error or pending state, backing
// AMIs, ignored, some sharing a start time; every seventh governed volume
// with a retention of 5 days that some DeleteOn tags undercut; all in
// scrambled order.
func fleet(ignoreRetention bool) Input {
	in := Input{
		Now:             fleetNow,
		Volumes:         map[string]VolumePolicy{},
		VolumeInstance:  map[string]string{},
		Ignore:          map[string]bool{},
		IgnoreRetention: ignoreRetention,
	}
	configs := []string{"daily", "hourly", "weekly"}
	garbage := []string{"", "soon", "2026-11-5", "2026-02-30", "26-11-2026", "2026-11-20T00:00:00Z"}
	for v := range 200 {
		vol := fmt.Sprintf("vol-%03d", v)
		inst := fmt.Sprintf("i-%03d", v/2) // two volumes per instance
		switch v % 20 {
		case 0: // gone, or on an instance no stanza matches
		case 10:
			inst = fmt.Sprintf("i-ignored-%03d", v)
			in.VolumeInstance[vol] = inst
			in.Ignore[inst] = true
		case 15:
			in.Ignore[vol] = true
			fallthrough
		default:
			in.Volumes[vol] = VolumePolicy{ConfigID: configs[v%3], InstanceID: inst, Minimum: int(mix(v, 1) % 7)}
			if v%7 == 3 {
				// A retention longer than some DeleteOn tags: they do not
				// shorten it.
				p := in.Volumes[vol]
				p.Retention = 5 * 24 * time.Hour
				in.Volumes[vol] = p
			}
			in.VolumeInstance[vol] = inst
		}
		var start time.Time
		for j := range 12 {
			id := fmt.Sprintf("snap-%03d-%02d", v, j)
			if j == 0 || mix(v, j, 2)%19 != 0 {
				start = fleetNow.Add(-time.Duration(12-j)*36*time.Hour + time.Duration(mix(v, j, 3)%12)*time.Hour)
			}
			s := inventory.Snapshot{ID: id, VolumeID: vol, State: inventory.StateCompleted, StartTime: start}
			if mix(v, j, 5)%10 == 0 {
				s.Tags = append(s.Tags, inventory.Tag{Key: "Expires", Value: "2020-01-01"})
			}
			deleteOn := start.AddDate(0, 0, int(mix(v, j, 4)%21)-3).Format(time.DateOnly)
			switch h := mix(v, j, 6) % 100; {
			case h < 8: // taken by hand: no DeleteOn
			case h < 11:
				s.Tags = append(s.Tags, inventory.Tag{Key: DeleteOnTag, Value: garbage[mix(v, j, 7)%uint64(len(garbage))]})
			default:
				s.Tags = append(s.Tags, inventory.Tag{Key: DeleteOnTag, Value: deleteOn})
			}
			switch {
			case mix(v, j, 8)%100 < 7:
				s.State = inventory.StateError
			case j == 11 && mix(v, j, 8)%4 == 0:
				s.State = inventory.StatePending
			}
			if mix(v, j, 9)%40 == 0 {
				s.Protections = append(s.Protections, amiProtection(fmt.Sprintf("ami-%03d%02d", v, j)))
			}
			if mix(v, j, 10)%50 == 0 {
				in.Ignore[id] = true
			}
			in.Snapshots = append(in.Snapshots, s)
		}
	}
	// A fixed Fisher-Yates shuffle: Plan must not rely on input order.
	for i := len(in.Snapshots) - 1; i > 0; i-- {
		j := int(mix(i, 11) % uint64(i+1))
		in.Snapshots[i], in.Snapshots[j] = in.Snapshots[j], in.Snapshots[i]
	}
	return in
}

// encodeGolden writes one decision per line, so that a diff of the file
// is a diff of decisions, and leaves > unescaped so that reasons read as
// they print.
func encodeGolden(t *testing.T, ds []Decision) []byte {
	t.Helper()
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false)
	var b bytes.Buffer
	b.WriteString("[\n")
	for i, d := range ds {
		line.Reset()
		if err := enc.Encode(d); err != nil {
			t.Fatal(err)
		}
		b.Write(bytes.TrimSuffix(line.Bytes(), []byte("\n")))
		if i < len(ds)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]\n")
	return b.Bytes()
}

// TestPlanGolden pins the plan of the fleet fixture, and in a second file
// the decisions that ignore_retention changes, which must all be on
// volumes no stanza governs.
func TestPlanGolden(t *testing.T) {
	governed := fleet(false).Volumes
	plain := planChecked(t, fleet(false))
	withIR := planChecked(t, fleet(true))
	if len(plain) != len(withIR) {
		t.Fatalf("%d decisions without ignore_retention, %d with", len(plain), len(withIR))
	}
	var changed []Decision
	for i, d := range withIR {
		if !cmp.Equal(d, plain[i]) {
			changed = append(changed, d)
			if _, known := governed[d.VolumeID]; known {
				t.Errorf("ignore_retention changed %s of governed volume %s: %q -> %q",
					d.SnapshotID, d.VolumeID, plain[i].Reason, d.Reason)
			}
		}
	}
	if len(changed) == 0 {
		t.Error("ignore_retention changed nothing in the fleet")
	}
	checkGolden(t, "fleet.golden.json", plain)
	checkGolden(t, "fleet_ignore_retention_changes.golden.json", changed)

	// The fixture is only worth its size if it exercises every outcome.
	forms := map[string]int{}
	lifecycle := planChecked(t, lifecycleFleet())
	checkGolden(t, "fleet_lifecycle.golden.json", lifecycle)
	for _, d := range slices.Concat(plain, withIR, lifecycle) {
		forms[reasonForm(d)]++
	}
	for _, f := range reasonForms {
		if forms[f.name] == 0 {
			t.Errorf("no decision in the fleet fixture gives a %q reason", f.name)
		}
	}
}

// lifecycleFleet is the fleet with issue 8's rules: tiers on a third of
// the governed volumes (weekly 20 with archive_after 7 days on some),
// adopt on every seventh, and the gone volumes' snapshots naming stanzas
// whose orphans policies are keep, retain and keep_last 2.
func lifecycleFleet() Input {
	in := fleet(false)
	in.Orphans = map[string]OrphanPolicy{
		"daily":  {Keep: true, Name: "keep"},
		"hourly": {Minimum: 3, Tiers: Tiers{Daily: 2}, Name: "retain"},
		"weekly": {Minimum: 2, Name: "keep_last 2"},
	}
	configs := []string{"daily", "hourly", "weekly"}
	for i, s := range in.Snapshots {
		var v int
		fmt.Sscanf(s.VolumeID, "vol-%d", &v)
		if v%20 == 0 && mix(i, 12)%4 != 0 {
			in.Snapshots[i].Tags = append(slices.Clone(s.Tags), inventory.Tag{Key: ConfigIDTag, Value: configs[(v/20)%3]})
			in.Snapshots[i].Description = madeBy(configs[(v/20)%3])
		}
		if mix(i, 13)%5 == 0 {
			in.Snapshots[i].StorageTier = inventory.TierArchive
		}
	}
	for vol, p := range in.Volumes {
		var v int
		fmt.Sscanf(vol, "vol-%d", &v)
		switch v % 6 {
		case 1:
			p.Tiers = Tiers{Daily: 3, Weekly: 2, Last: 2}
		case 4:
			p.Tiers, p.ArchiveAfter = Tiers{Weekly: 20, Within: 36 * time.Hour}, 7*24*time.Hour
		}
		if v%7 == 0 {
			p.Adopt = &Adopt{Retention: 5 * 24 * time.Hour}
		}
		in.Volumes[vol] = p
	}
	return in
}

func checkGolden(t *testing.T, file string, ds []Decision) {
	t.Helper()
	got := encodeGolden(t, ds)
	path := filepath.Join("testdata", file)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run TestPlanGolden -update creates it)", err)
	}
	var decoded []Decision
	if err := json.Unmarshal(want, &decoded); err != nil {
		t.Fatalf("%s is not a JSON list of decisions: %v", path, err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("Plan(fleet) differs from %s (-want +got):\n%s", path, diff)
	}
}
