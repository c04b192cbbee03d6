package config

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The "drill" key: restore drills of the stanza's volumes' snapshots
// (docs/drills.md).

// Drill is a stanza's "drill": how often each governed volume's newest
// completed snapshot is restored to a throw-away volume to prove that EC2
// can read it back, and the bounds of that proof's cost.
type Drill struct {
	// Every is how long after a volume's last drill it is due again
	// ("every"); zero when the stanza asks for no drills.
	Every time.Duration
	// SampleCount and SamplePercent bound the drills of one run in one
	// region ("sample": N or "P%"): at most SampleCount volumes, or
	// SamplePercent percent of the due volumes (rounded up, at least
	// one). Both zero drills every due volume.
	SampleCount, SamplePercent int
	// VolumeType is the EBS volume type restored to ("volume_type",
	// default DefaultDrillVolumeType).
	VolumeType string
	// Timeout is how long a drill volume may take to become available
	// ("timeout", default DefaultDrillTimeout); past it the drill failed
	// and its volume is deleted.
	Timeout time.Duration
	// MaxGiBPerDay caps the GiB restored per region and UTC day, counting
	// the drills already recorded that day ("max_gib_per_day"); zero
	// means no cap.
	MaxGiBPerDay int
}

// On reports whether the stanza asks for drills.
func (d Drill) On() bool { return d.Every > 0 }

// Drill defaults and bounds.
const (
	DefaultDrillVolumeType = "gp3"
	// DefaultDrillTimeout fits a drill's wait, with room, in one stack
	// worker's invocation (WorkerTimeout 15 minutes less its deadline
	// margin), so that a volume that never becomes available fails its
	// drill there rather than being cut off as not started.
	DefaultDrillTimeout = 10 * time.Minute
	// maxDrillTimeout bounds how long a drill volume may live (and be
	// billed): the next run's sweep deletes one older than its timeout.
	maxDrillTimeout = 24 * time.Hour
	minDrillTimeout = time.Minute
)

// drillVolumeTypes are the EBS volume types CreateVolume accepts for a
// restore (io1/io2 need provisioned IOPS, which a drill does not buy).
var drillVolumeTypes = []string{"gp2", "gp3", "st1", "sc1", "standard"}

var drillKeys = []string{"every", "sample", "volume_type", "timeout", "max_gib_per_day"}

func (p *parser) drill(top map[string]json.RawMessage, s *Stanza) {
	raw, ok := top["drill"]
	if !ok {
		return
	}
	var m map[string]json.RawMessage
	if kind(raw) != '{' || json.Unmarshal(raw, &m) != nil {
		p.fail("drill", `must be an object such as {"every": "30 days", "sample": "10%", "max_gib_per_day": 500}`, raw)
		return
	}
	p.unknown(m, "drill", drillKeys)
	d := Drill{VolumeType: DefaultDrillVolumeType, Timeout: DefaultDrillTimeout}
	if raw, ok := m["every"]; ok {
		d.Every = p.positiveDuration("drill.every", raw)
		if d.Every > 0 && d.Every < 24*time.Hour {
			p.fail("drill.every", "must be at least 1 day (a drill restores a whole volume)", raw)
		}
	} else {
		p.fail("drill.every", `is required: how often each volume is drilled, e.g. "30 days"`, nil)
	}
	if raw, ok := m["sample"]; ok {
		d.SampleCount, d.SamplePercent = p.sample(raw)
	}
	if raw, ok := m["volume_type"]; ok {
		var v string
		if kind(raw) != '"' || json.Unmarshal(raw, &v) != nil || !slices.Contains(drillVolumeTypes, v) {
			p.fail("drill.volume_type", "must be one of "+strings.Join(drillVolumeTypes, ", "), raw)
		}
		d.VolumeType = v
	}
	if raw, ok := m["timeout"]; ok {
		d.Timeout = p.positiveDuration("drill.timeout", raw)
		if d.Timeout > 0 && (d.Timeout < minDrillTimeout || d.Timeout > maxDrillTimeout) {
			p.fail("drill.timeout", "must be between 1 minute and 24 hours", raw)
		}
	}
	if raw, ok := m["max_gib_per_day"]; ok {
		d.MaxGiBPerDay = p.count("drill.max_gib_per_day", raw, 1)
	}
	s.Drill = d
}

// sample reads "sample": a count of at least 1, or "P%" with P from 1 to
// 100.
func (p *parser) sample(raw json.RawMessage) (count, percent int) {
	const msg = `must be a count of at least 1 or a percentage such as "10%" (1% to 100%)`
	if kind(raw) == '"' {
		var v string
		if json.Unmarshal(raw, &v) == nil && strings.HasSuffix(v, "%") {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(v, "%")))
			if err == nil && n >= 1 && n <= 100 {
				return 0, n
			}
		}
		p.fail("drill.sample", msg, raw)
		return 0, 0
	}
	n, err := strconv.Atoi(string(raw))
	if err != nil || n < 1 {
		p.fail("drill.sample", msg, raw)
		return 0, 0
	}
	return n, 0
}
