package config

import (
	"encoding/json"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// The keys about what protects snapshots: "lock" asks for new snapshots
// to be locked, "launch_templates" says whether launch templates protect
// the snapshots they use.

// SnapshotLock is a stanza's "lock": every snapshot the stanza takes is
// locked (EC2 LockSnapshot) right after it is created.
type SnapshotLock struct {
	// Mode is inventory.LockGovernance or inventory.LockCompliance; ""
	// when the stanza asks for no lock.
	Mode string
	// Duration is how long from the snapshot's creation the lock lasts;
	// zero locks it until its DeleteOn date (the stanza's retention).
	Duration time.Duration
	// CoolOff is the compliance mode's cooling-off period (whole hours,
	// 1 to 72), during which the lock can still be removed; zero for none.
	CoolOff time.Duration
}

// On reports whether the stanza asks for locks.
func (l SnapshotLock) On() bool { return l.Mode != "" }

// Until is when a lock placed at now on a snapshot due on deleteOn
// (YYYY-MM-DD, UTC) expires: now + Duration, or 00:00 UTC of deleteOn.
func (l SnapshotLock) Until(now time.Time, deleteOn string) time.Time {
	if l.Duration > 0 {
		return now.Add(l.Duration).UTC()
	}
	t, _ := time.Parse(time.DateOnly, deleteOn)
	return t
}

// LaunchTemplatesIgnore is "launch_templates": "ignore": a snapshot that
// only a launch template uses may be deleted.
const (
	LaunchTemplatesKeep   = "keep"
	LaunchTemplatesIgnore = "ignore"
)

var lockKeys = []string{"mode", "duration", "cool_off"}

// EC2's bounds of a snapshot lock (LockSnapshot: LockDuration 1 to 36,500
// days, CoolOffPeriod 1 to 72 hours).
const (
	minLockDuration = 24 * time.Hour
	maxLockDuration = 36500 * 24 * time.Hour
	maxCoolOff      = 72 * time.Hour
)

func (p *parser) protections(top map[string]json.RawMessage, s *Stanza) {
	if raw, ok := top["lock"]; ok {
		s.Lock = p.lock(raw)
	}
	if raw, ok := top["launch_templates"]; ok {
		var v string
		if kind(raw) != '"' || json.Unmarshal(raw, &v) != nil || (v != LaunchTemplatesKeep && v != LaunchTemplatesIgnore) {
			p.fail("launch_templates", `must be "keep" (the default: a launch template's default and latest versions protect the snapshots they use) or "ignore"`, raw)
		}
		s.IgnoreLaunchTemplates = v == LaunchTemplatesIgnore
	}
}

func (p *parser) lock(raw json.RawMessage) SnapshotLock {
	var m map[string]json.RawMessage
	if kind(raw) != '{' || json.Unmarshal(raw, &m) != nil {
		p.fail("lock", `must be an object such as {"mode": "governance", "duration": "retention"}`, raw)
		return SnapshotLock{}
	}
	p.unknown(m, "lock", lockKeys)
	var l SnapshotLock
	if err := json.Unmarshal(m["mode"], &l.Mode); err != nil || (l.Mode != inventory.LockGovernance && l.Mode != inventory.LockCompliance) {
		p.fail("lock.mode", `must be "governance" or "compliance"`, m["mode"])
		l.Mode = ""
	}
	if raw, ok := m["duration"]; ok && string(raw) != `"retention"` {
		l.Duration = p.positiveDuration("lock.duration", raw)
		if l.Duration > 0 && (l.Duration < minLockDuration || l.Duration > maxLockDuration) {
			p.fail("lock.duration", `must be "retention" or between 1 day and 36500 days (EC2's bounds)`, raw)
		}
	}
	if raw, ok := m["cool_off"]; ok {
		l.CoolOff = p.positiveDuration("lock.cool_off", raw)
		switch {
		case l.Mode != inventory.LockCompliance:
			p.fail("lock.cool_off", `is for "compliance" mode only`, raw)
		case l.CoolOff > 0 && (l.CoolOff%time.Hour != 0 || l.CoolOff > maxCoolOff):
			p.fail("lock.cool_off", "must be whole hours, 1 to 72 (EC2's bounds)", raw)
		}
	}
	return l
}
