package snapper

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// The tags of restore drills (docs/drills.md). A drill volume carries
// DrillRunTag and DrillSnapshotTag from the CreateVolume call that makes
// it: the role may create a volume only with DrillRunTag in the request
// and delete only a volume that carries it. A drilled snapshot gets
// LastDrillTag once its drill ends.
const (
	// DrillRunTag's value is the run token of the drill that made the
	// volume.
	DrillRunTag = "ebs-snapper:drill-run"
	// DrillSnapshotTag's value is the id of the snapshot the drill volume
	// was restored from (EC2's own SnapshotId says it too).
	DrillSnapshotTag = "ebs-snapper:drill-snapshot"
	// LastDrillTag's value is the snapshot's last drill as DrillRecord
	// writes it: "2026-12-07T01:00:00Z passed 12s".
	LastDrillTag = "ebs-snapper:last-drill"
)

// Drill outcomes, as LastDrillTag and the report write them.
const (
	DrillPassed = "passed"
	DrillFailed = "failed"
)

// Drill actions.
const (
	ActionDrill = "drill"
	ActionSkip  = "skip"
)

// DrillRecord is one drill's result as LastDrillTag stores it on the
// snapshot: when it ended, its outcome, how many seconds the volume took
// to become available (0 when it never did) and the snapshot drilled. A
// drill run carries a volume's last record to its newest snapshot
// (DrillDecision.CarryTo), so that the record outlives the snapshot
// drilled when the retention is shorter than drill.every.
type DrillRecord struct {
	At         time.Time `json:"at"`
	Outcome    string    `json:"outcome"`
	Seconds    int       `json:"seconds"`
	SnapshotID string    `json:"snapshot_id,omitempty"`
}

// String is the LastDrillTag value: "<RFC 3339 UTC> <outcome> <seconds>s
// <snapshot id>" (without the id when SnapshotID is empty).
func (r DrillRecord) String() string {
	v := fmt.Sprintf("%s %s %ds", r.At.UTC().Format(time.RFC3339), r.Outcome, r.Seconds)
	if r.SnapshotID != "" {
		v += " " + r.SnapshotID
	}
	return v
}

// ParseDrillRecord reads a LastDrillTag value; false when it is not one.
// A value without the snapshot id (as the first releases wrote it) has
// an empty SnapshotID.
func ParseDrillRecord(v string) (DrillRecord, bool) {
	f := strings.Fields(v)
	if len(f) == 4 && isSnapshotID(f[3]) {
		rec, ok := ParseDrillRecord(strings.Join(f[:3], " "))
		rec.SnapshotID = f[3]
		return rec, ok
	}
	if len(f) != 3 || (f[1] != DrillPassed && f[1] != DrillFailed) || !strings.HasSuffix(f[2], "s") {
		return DrillRecord{}, false
	}
	at, err := time.Parse(time.RFC3339, f[0])
	secs, serr := strconv.Atoi(strings.TrimSuffix(f[2], "s"))
	if err != nil || serr != nil || secs < 0 {
		return DrillRecord{}, false
	}
	return DrillRecord{At: at.UTC(), Outcome: f[1], Seconds: secs}, true
}

// drillRecordSlack is how far after now a drill record may be dated and
// still count: clocks differ, and a run given --now records that time.
const drillRecordSlack = 24 * time.Hour

// isSnapshotID reports whether id has the form of an EBS snapshot id:
// "snap-" and letters or digits (EC2's are hexadecimal).
func isSnapshotID(id string) bool {
	rest, ok := strings.CutPrefix(id, "snap-")
	return ok && rest != "" && !strings.ContainsFunc(rest, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	})
}

// LastDrills returns, per volume of record, the newest drill recorded on
// any of its snapshots (LastDrillTag), with the id of the snapshot drilled
// (for a record without one, the snapshot that carries it). A record
// dated more than drillRecordSlack after now is no drill that happened
// but a tag someone wrote: it is ignored, or it would keep the volume from
// ever being due, and drill runs would carry it on.
func LastDrills(snaps []inventory.Snapshot, now time.Time) map[string]DrillRecord {
	out := map[string]DrillRecord{}
	for _, s := range snaps {
		v, ok := s.Tag(LastDrillTag)
		if !ok {
			continue
		}
		rec, ok := ParseDrillRecord(v)
		if !ok || rec.At.After(now.Add(drillRecordSlack)) {
			continue
		}
		if rec.SnapshotID == "" {
			rec.SnapshotID = s.ID
		}
		if prev, seen := out[s.VolumeID]; !seen || rec.At.After(prev.At) {
			out[s.VolumeID] = rec
		}
	}
	return out
}

// DrillDecision is the verdict on one volume whose stanza asks for drills.
type DrillDecision struct {
	Region     string `json:"region"`
	InstanceID string `json:"instance_id"`
	VolumeID   string `json:"volume_id"`
	// ConfigID is the stanza whose drill setting decided (the most
	// frequent when several govern the volume).
	ConfigID string `json:"config_id"`
	// SnapshotID is the snapshot drilled: the volume's newest completed
	// one (or, when its newest is in state error, that one: it fails).
	SnapshotID string `json:"snapshot_id,omitempty"`
	// SnapshotState is the snapshot's state when planned.
	SnapshotState string `json:"snapshot_state,omitempty"`
	SizeGiB       int32  `json:"size_gib,omitempty"`
	Encrypted     bool   `json:"encrypted,omitempty"`
	// VolumeType and Timeout are the stanza's drill.volume_type and
	// drill.timeout.
	VolumeType string        `json:"volume_type,omitempty"`
	Timeout    time.Duration `json:"-"`
	Action     string        `json:"action"`
	Reason     string        `json:"reason"`
	// LastDrill is the volume's previous drill, when one is recorded.
	LastDrill *DrillRecord `json:"last_drill,omitempty"`
	// CarryTo is, for a volume not drilled in this run, its newest
	// snapshot when that one does not carry LastDrill yet: the run tags
	// it with the record, which then outlives the snapshot drilled.
	CarryTo string `json:"carry_record_to,omitempty"`
	// target is the LastDrillTag value of the snapshot SnapshotID.
	target string
}

// drillSetting returns the stanza, among ids, whose drill decides for a
// volume: the one with drills on and the shortest drill.every (the first
// id on a tie); false when none asks for drills.
func drillSetting(p Policy, ids []string) (config.Stanza, bool) {
	var best config.Stanza
	found := false
	for _, id := range ids {
		s := p.Stanzas[id]
		if s.Drill.On() && (!found || s.Drill.Every < best.Drill.Every) {
			best, found = s, true
		}
	}
	return best, found
}

// PlanDrills decides, for every volume governed by a stanza with "drill",
// whether its newest completed snapshot is drilled in this run. It is pure
// and deterministic. A volume is due when no drill of it is recorded or
// its last one ended drill.every ago or more. Per stanza, the due volumes
// are taken most overdue first (never drilled first, then by volume id)
// until the stanza's sample for this run, then its daily GiB cap (which
// counts the GiB of the drills already recorded today, UTC) is reached;
// the others are skipped with that reason. A volume whose newest snapshot
// is in state error is drilled too: that drill fails without a volume.
// Pending, archived and ignored snapshots are never drilled.
func PlanDrills(r *Inventory, p Policy, now time.Time) []DrillDecision {
	stanzas, instance, _ := governed(r, p)
	bySnap := map[string][]inventory.Snapshot{}
	for _, s := range r.Snapshots {
		bySnap[s.VolumeID] = append(bySnap[s.VolumeID], s)
	}
	last := LastDrills(r.Snapshots, now)
	var out []DrillDecision
	due := map[string][]int{} // stanza id → indexes into out
	for _, vol := range slices.Sorted(maps.Keys(stanzas)) {
		s, ok := drillSetting(p, stanzas[vol])
		if !ok || p.Ignore[vol] {
			continue
		}
		d := DrillDecision{Region: r.Name, InstanceID: instance[vol], VolumeID: vol, ConfigID: s.ID,
			VolumeType: s.Drill.VolumeType, Timeout: s.Drill.Timeout, Action: ActionSkip}
		if rec, ok := last[vol]; ok {
			d.LastDrill = &rec
		}
		snap, why := drillTarget(bySnap[vol], p.Ignore)
		note := ""
		if snap.ID != "" {
			d.SnapshotID, d.SnapshotState, d.SizeGiB, d.Encrypted = snap.ID, snap.State, snap.VolumeSize, snap.Encrypted
			d.target, _ = snap.Tag(LastDrillTag)
			d.VolumeType, note = drillVolumeType(s.Drill.VolumeType, snap.VolumeSize)
		}
		switch {
		case why != "":
			d.Reason = why
		case d.LastDrill != nil && now.Before(d.LastDrill.At.Add(s.Drill.Every)):
			d.Reason = fmt.Sprintf("last drilled %s (%s); due again %s", d.LastDrill.At.Format(time.RFC3339), d.LastDrill.Outcome,
				d.LastDrill.At.Add(s.Drill.Every).UTC().Format(time.RFC3339))
		default:
			d.Action = ActionDrill
			d.Reason = "never drilled"
			if d.LastDrill != nil {
				d.Reason = fmt.Sprintf("last drilled %s (%s), %s ago: due every %s", d.LastDrill.At.Format(time.RFC3339), d.LastDrill.Outcome,
					now.Sub(d.LastDrill.At).Round(time.Minute), config.FormatDuration(s.Drill.Every))
			}
			if d.SnapshotState == inventory.StateError {
				d.Reason += fmt.Sprintf("; snapshot %s is in state error: EC2 cannot restore it", d.SnapshotID)
			}
			if note != "" {
				d.Reason += "; " + note
			}
			due[s.ID] = append(due[s.ID], len(out))
		}
		out = append(out, d)
	}
	for _, id := range slices.Sorted(maps.Keys(due)) {
		limitDrills(out, due[id], p.Stanzas[id].Drill, drilledToday(r.Snapshots, stanzas, id, now))
	}
	for i := range out {
		d := &out[i]
		if d.Action == ActionSkip && d.LastDrill != nil && d.SnapshotID != "" && d.SnapshotState != inventory.StateError && d.target != d.LastDrill.String() {
			d.CarryTo = d.SnapshotID
		}
	}
	return out
}

// drillVolumeSizes are the sizes in GiB CreateVolume accepts per volume
// type where they are narrower than gp3's (EC2 API Reference,
// CreateVolume, Size): a restore is made at the snapshot's size.
var drillVolumeSizes = map[string][2]int32{"st1": {125, 16384}, "sc1": {125, 16384}, "standard": {1, 1024}}

// drillVolumeType is the type a snapshot of size GiB is restored to: the
// stanza's, or gp3 when that type cannot hold the snapshot's size (EC2
// would refuse the volume and the drill would fail with the snapshot
// sound), with the note that says so.
func drillVolumeType(want string, size int32) (string, string) {
	b, ok := drillVolumeSizes[want]
	if !ok || size == 0 || (size >= b[0] && size <= b[1]) {
		return want, ""
	}
	return config.DefaultDrillVolumeType, fmt.Sprintf("restored as %s: %s volumes are %d to %d GiB and the snapshot is %d GiB",
		config.DefaultDrillVolumeType, want, b[0], b[1], size)
}

// drillTarget picks the snapshot to drill among a volume's: the newest
// that is not pending, not ignored, and standard tier. It returns why
// there is none when so.
func drillTarget(snaps []inventory.Snapshot, ignore map[string]bool) (inventory.Snapshot, string) {
	var best inventory.Snapshot
	archived := ""
	for _, s := range snaps {
		switch {
		case ignore[s.ID] || s.State == inventory.StatePending:
			continue
		case s.StorageTier == inventory.TierArchive:
			archived = s.ID
			continue
		}
		if best.ID == "" || s.StartTime.After(best.StartTime) || (s.StartTime.Equal(best.StartTime) && s.ID > best.ID) {
			best = s
		}
	}
	switch {
	case best.ID != "":
		return best, ""
	case archived != "":
		return inventory.Snapshot{}, "only archived snapshots (" + archived + "): restore one from the archive tier to drill it"
	}
	return inventory.Snapshot{}, "no completed snapshot to drill"
}

// drilledToday is the GiB of the drills recorded today (UTC date of now)
// on the snapshots of the volumes stanza id decides the drills of; a
// record carried to several snapshots counts once.
func drilledToday(snaps []inventory.Snapshot, stanzas map[string][]string, id string, now time.Time) int {
	today := now.UTC().Format(time.DateOnly)
	gib := 0
	seen := map[string]bool{}
	for _, s := range snaps {
		v, ok := s.Tag(LastDrillTag)
		if !ok {
			continue
		}
		rec, ok := ParseDrillRecord(v)
		if rec.SnapshotID == "" {
			rec.SnapshotID = s.ID
		}
		if ok && !seen[rec.String()] && rec.At.Format(time.DateOnly) == today && slices.Contains(stanzas[s.VolumeID], id) {
			seen[rec.String()] = true
			gib += int(s.VolumeSize)
		}
	}
	return gib
}

// limitDrills keeps, of the due decisions at idx (in volume order), the
// most overdue within d's sample and daily cap, and turns the others into
// skips with the reason.
func limitDrills(ds []DrillDecision, idx []int, d config.Drill, spentGiB int) {
	idx = slices.Clone(idx)
	slices.SortStableFunc(idx, func(a, b int) int {
		la, lb := ds[a].LastDrill, ds[b].LastDrill
		switch {
		case la == nil && lb == nil:
			return 0
		case la == nil:
			return -1
		case lb == nil:
			return 1
		}
		return la.At.Compare(lb.At)
	})
	sample := len(idx)
	switch {
	case d.SampleCount > 0:
		sample = min(sample, d.SampleCount)
	case d.SamplePercent > 0:
		sample = max(1, (len(idx)*d.SamplePercent+99)/100)
	}
	for n, i := range idx {
		size := int(ds[i].SizeGiB)
		switch {
		case n >= sample:
			ds[i].Action = ActionSkip
			ds[i].Reason = fmt.Sprintf("due, but this run's sample of %d of %d due volumes is taken: a later run drills it", sample, len(idx))
		case d.MaxGiBPerDay > 0 && spentGiB+size > d.MaxGiBPerDay:
			ds[i].Action = ActionSkip
			ds[i].Reason = fmt.Sprintf("due, but %d GiB more would pass drill.max_gib_per_day %d (%d GiB restored today): a later day drills it",
				size, d.MaxGiBPerDay, spentGiB)
		default:
			spentGiB += size
		}
	}
}
