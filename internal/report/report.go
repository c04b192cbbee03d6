// Package report is the RPO report of the report command and the Lambda
// report handler (not snapper.Report, the outcome of one run). It answers
// "is every volume I care about backed up recently enough, and what does
// it cost me": per region and stanza, each matched
// volume's newest completed snapshot against its stanza's frequency, the
// coverage figures, orphaned snapshots, snapshots no clean-up will ever
// delete and a storage bound. It is pure: it reads an inventory the caller
// built (the same one snapshot and clean build) and the time it is given,
// so a Lambda worker can compute it on its own inventory; rendering as
// text, JSON, HTML and CloudWatch Embedded Metric Format lives here too.
package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// Status is a matched volume's protection status.
type Status string

// Statuses, worst first: the order in which tables list volumes.
const (
	// Late: the newest completed snapshot is older than the period plus
	// the grace, or no snapshot completed although the first attempt is
	// that old.
	Late Status = "late"
	// Missing: the volume has no snapshot at all, in any state.
	Missing Status = "missing"
	// Failed: the latest attempt ended in state error.
	Failed Status = "failed"
	// Pending: no snapshot completed yet; the ones taken are in progress.
	Pending Status = "pending"
	// OK: the newest completed snapshot is recent enough.
	OK Status = "ok"
)

var statusRank = map[Status]int{Late: 0, Missing: 1, Failed: 2, Pending: 3, OK: 4}

// Breach reports whether the status breaks the recovery point objective:
// late or missing. These set the report command's exit status 4 and feed
// the VolumesLate and VolumesMissing metrics.
func (s Status) Breach() bool { return s == Late || s == Missing }

// Options tune the computation for one region.
type Options struct {
	// Now is the evaluation time (UTC or not; ages are differences).
	Now time.Time
	// Grace is added to a volume's period before it counts as late; nil
	// means one period, so a daily volume is late after two days.
	Grace *time.Duration
	// Volumes are the region's volumes by id, from one batched
	// DescribeVolumes of the matched volumes and the snapshots' source
	// volumes. They give sizes and tell a deleted source volume from one
	// no stanza matches; nil when not listed (orphans then say only that
	// no matched instance holds the volume).
	Volumes map[string]inventory.Volume
	// Scope narrows the volumes (and orphans) reported; empty holds all.
	Scope snapper.Scope
}

// Region is the report for one region.
type Region struct {
	Region string `json:"region"`
	// Skipped or Error say why the region has no figures (set by the
	// caller when its inventory could not be built).
	Skipped string `json:"skipped,omitempty"`
	Error   string `json:"error,omitempty"`
	// Volumes are the matched volumes, worst status first, then by stanza
	// and volume id.
	Volumes []Volume `json:"volumes"`
	// Ignored counts volumes of matched instances that an ignore list
	// names (the volume or its instance): not counted in the coverage.
	Ignored int `json:"ignored"`
	// Coverage sums the region; ByConfig per stanza, by id.
	Coverage Coverage   `json:"coverage"`
	ByConfig []Coverage `json:"by_config"`
	// Orphans are the snapshots of volumes no matched instance holds,
	// grouped by source volume.
	Orphans []Orphan `json:"orphans"`
	// NoDeleteOn are the snapshots without a DeleteOn tag: clean never
	// deletes them.
	NoDeleteOn []SnapshotRef `json:"no_delete_on"`
	// SnapshottedVolumeGiB is the sum of the sizes of every volume that
	// has a snapshot (matched or orphaned), in GiB. It is what the
	// snapshots protect, not what they store or cost: EBS stores and
	// bills the blocks each snapshot holds, which this does not measure
	// (see docs/report.md).
	SnapshottedVolumeGiB int64 `json:"snapshotted_volume_gib"`
	// Protected counts the snapshots held by AMIs, locks, AWS Backup and
	// launch templates, and what Recycle Bin rules would keep billed
	// (with an inventory built with snapper.NeedImages and NeedRecycleBin).
	Protected snapper.Protected `json:"protected"`
	// Drills counts the volumes with restore drills by flag.
	Drills DrillCoverage `json:"drills"`
}

// Volume is one matched volume's protection.
type Volume struct {
	VolumeID   string `json:"volume_id"`
	InstanceID string `json:"instance_id"`
	// InstanceName is the instance's Name tag, "" when it has none.
	InstanceName string `json:"instance_name,omitempty"`
	// ConfigID is the stanza whose frequency sets the limit: when several
	// govern the volume (ConfigIDs, sorted), the one with the shortest
	// period, so the stricter limit applies.
	ConfigID  string   `json:"config_id"`
	ConfigIDs []string `json:"config_ids,omitempty"`
	Frequency string   `json:"frequency"`
	// PeriodSeconds is the frequency's period (for cron, the gap between
	// the fires before and after now); LimitSeconds adds the grace.
	PeriodSeconds int64 `json:"period_seconds"`
	LimitSeconds  int64 `json:"limit_seconds"`
	// RetentionSeconds is the longest retention of the governing
	// stanzas: the HTML timeline's window.
	RetentionSeconds int64  `json:"retention_seconds"`
	Status           Status `json:"status"`
	Reason           string `json:"reason"`
	// Newest is the start time of the newest completed snapshot (UTC);
	// AgeSeconds its age at Now.
	Newest     *time.Time `json:"newest_completed,omitempty"`
	AgeSeconds *int64     `json:"age_seconds,omitempty"`
	// SizeGiB is the volume's size, 0 when unknown.
	SizeGiB int32  `json:"size_gib"`
	Counts  Counts `json:"snapshots"`
	// Timeline lists the volume's snapshots, oldest first.
	Timeline []SnapshotRef `json:"timeline"`
	// Drill is the volume's restore drills, when a governing stanza asks
	// for them.
	Drill *VolumeDrill `json:"drill,omitempty"`
}

// Counts summarise a volume's snapshots.
type Counts struct {
	Count     int        `json:"count"`
	Completed int        `json:"completed"`
	Pending   int        `json:"pending"`
	Error     int        `json:"error"`
	Oldest    *time.Time `json:"oldest,omitempty"`
	Newest    *time.Time `json:"newest,omitempty"`
}

// SnapshotRef is one snapshot as the report shows it.
type SnapshotRef struct {
	SnapshotID string    `json:"snapshot_id"`
	VolumeID   string    `json:"volume_id"`
	State      string    `json:"state"`
	StartTime  time.Time `json:"start_time"`
	DeleteOn   string    `json:"delete_on,omitempty"`
}

// Orphan is the snapshots of one volume that no matched instance holds.
type Orphan struct {
	VolumeID string `json:"volume_id"`
	// Reason is "volume deleted", "volume not attached to a matched
	// instance" or, when volumes were not listed, "no matched instance
	// holds the volume".
	Reason  string `json:"reason"`
	SizeGiB int32  `json:"size_gib"`
	Counts  Counts `json:"snapshots"`
}

// ForRegion computes the report of one region from its inventory (built
// with snapper.NeedSnapshots) and the policy. The volumes, and the stanza
// governing each, are those snapshot plans (snapper.PlanSnapshots): a
// volume of several matched instances appears once; ignored ones are
// counted apart.
func ForRegion(inv *snapper.Inventory, p snapper.Policy, opts Options) Region {
	bySource := map[string][]inventory.Snapshot{}
	for _, s := range inv.Snapshots {
		bySource[s.VolumeID] = append(bySource[s.VolumeID], s)
	}
	for _, ss := range bySource {
		slices.SortFunc(ss, func(a, b inventory.Snapshot) int {
			return cmp.Or(a.StartTime.Compare(b.StartTime), cmp.Compare(a.ID, b.ID))
		})
	}

	r := Region{Region: inv.Name, Volumes: []Volume{}, Orphans: []Orphan{}, NoDeleteOn: []SnapshotRef{},
		Protected: snapper.CountProtected(inv.Snapshots, inv.RecycleBin)}
	held, shown := map[string]bool{}, map[string]bool{}
	lastDrills := snapper.LastDrills(inv.Snapshots, opts.Now)
	byConfig := map[string]*Coverage{}
	for _, d := range snapper.PlanSnapshots(inv, p, opts.Now) {
		if held[d.VolumeID] {
			continue
		}
		held[d.VolumeID] = true
		if p.Ignore[d.InstanceID] || p.Ignore[d.VolumeID] {
			r.Ignored++
			continue
		}
		ids := governing(d)
		if !opts.Scope.Holds(d.InstanceID, d.VolumeID, ids...) {
			continue
		}
		id := strictest(p, ids, opts.Now)
		stanza := p.Stanzas[id]
		v := judge(d.VolumeID, bySource[d.VolumeID], stanza.Frequency, opts)
		v.InstanceID, v.ConfigID, v.Frequency = d.InstanceID, id, stanza.Frequency.String()
		v.InstanceName = instanceName(inv.Instances[d.InstanceID])
		if len(ids) > 1 {
			v.ConfigIDs = ids
		}
		v.RetentionSeconds = seconds(p.Govern(ids).Retention)
		v.SizeGiB = opts.Volumes[d.VolumeID].Size
		v.Drill = drillOf(p, ids, lastDrills, d.VolumeID, opts.Now)
		r.Drills.add(v.Drill)
		r.Volumes = append(r.Volumes, v)
		shown[d.VolumeID] = true
		if byConfig[id] == nil {
			byConfig[id] = &Coverage{ConfigID: id}
		}
		byConfig[id].add(v.Status)
	}
	slices.SortFunc(r.Volumes, func(a, b Volume) int {
		return cmp.Or(cmp.Compare(statusRank[a.Status], statusRank[b.Status]),
			cmp.Compare(a.ConfigID, b.ConfigID), cmp.Compare(a.VolumeID, b.VolumeID))
	})
	for _, id := range slices.Sorted(maps.Keys(byConfig)) {
		c := *byConfig[id]
		c.finish()
		r.ByConfig = append(r.ByConfig, c)
		r.Coverage.merge(c)
	}
	r.Coverage.finish()

	for _, vol := range slices.Sorted(maps.Keys(bySource)) {
		if !opts.Scope.Empty() && !shown[vol] && (held[vol] || !opts.Scope.Holds("", vol)) {
			continue // out of scope
		}
		ss := bySource[vol]
		size := opts.Volumes[vol].Size
		if size == 0 {
			size = ss[len(ss)-1].VolumeSize
		}
		r.SnapshottedVolumeGiB += int64(size)
		for _, s := range ss {
			if _, ok := s.Tag("DeleteOn"); !ok {
				r.NoDeleteOn = append(r.NoDeleteOn, ref(s))
			}
		}
		if held[vol] || !opts.Scope.Holds("", vol) {
			continue
		}
		r.Orphans = append(r.Orphans, Orphan{VolumeID: vol, Reason: orphanReason(vol, opts.Volumes), SizeGiB: size, Counts: count(ss)})
	}
	return r
}

func orphanReason(vol string, volumes map[string]inventory.Volume) string {
	switch _, exists := volumes[vol]; {
	case volumes == nil:
		return "no matched instance holds the volume"
	case exists:
		return "volume not attached to a matched instance"
	default:
		return "volume deleted"
	}
}

// judge decides a volume's status from its snapshots, oldest first.
func judge(vol string, ss []inventory.Snapshot, f config.Frequency, opts Options) Volume {
	v := Volume{VolumeID: vol, Counts: count(ss), Timeline: make([]SnapshotRef, 0, len(ss))}
	for _, s := range ss {
		v.Timeline = append(v.Timeline, ref(s))
	}
	period, ok := Period(f, opts.Now)
	if !ok {
		v.Status, v.Reason = OK, fmt.Sprintf("frequency %q never fires again: freshness not judged", f.String())
		if len(ss) == 0 {
			v.Status, v.Reason = Missing, "no snapshot"
		}
		return v
	}
	grace := period
	if opts.Grace != nil {
		grace = *opts.Grace
	}
	limit := period + grace
	v.PeriodSeconds, v.LimitSeconds = seconds(period), seconds(limit)

	var newest *inventory.Snapshot
	for i := range ss {
		if ss[i].State == inventory.StateCompleted {
			newest = &ss[i]
		}
	}
	if newest != nil {
		t := newest.StartTime.UTC()
		age := seconds(opts.Now.Sub(t))
		v.Newest, v.AgeSeconds = &t, &age
	}
	if len(ss) == 0 {
		v.Status, v.Reason = Missing, "no snapshot"
		return v
	}
	latest := ss[len(ss)-1]
	switch {
	case newest != nil && opts.Now.Sub(newest.StartTime) > limit:
		v.Status = Late
		v.Reason = fmt.Sprintf("newest completed snapshot %s is %s old, over %s (period %s + grace %s)",
			newest.ID, human(opts.Now.Sub(newest.StartTime)), human(limit), human(period), human(grace))
	case newest == nil && opts.Now.Sub(ss[0].StartTime) > limit:
		v.Status = Late
		v.Reason = fmt.Sprintf("no snapshot completed since the first attempt %s, %s ago (over %s)",
			ss[0].ID, human(opts.Now.Sub(ss[0].StartTime)), human(limit))
	case latest.State == inventory.StateError:
		v.Status, v.Reason = Failed, fmt.Sprintf("latest snapshot %s ended in error", latest.ID)
	case newest == nil:
		v.Status, v.Reason = Pending, fmt.Sprintf("first snapshot %s is still %s", latest.ID, latest.State)
	default:
		v.Status = OK
		v.Reason = fmt.Sprintf("newest completed snapshot %s is %s old (limit %s)", newest.ID, human(opts.Now.Sub(newest.StartTime)), human(limit))
	}
	return v
}

func count(ss []inventory.Snapshot) Counts {
	c := Counts{Count: len(ss)}
	for _, s := range ss {
		switch s.State {
		case inventory.StateCompleted:
			c.Completed++
		case inventory.StateError:
			c.Error++
		default:
			c.Pending++
		}
	}
	if len(ss) > 0 {
		oldest, newest := ss[0].StartTime.UTC(), ss[len(ss)-1].StartTime.UTC()
		c.Oldest, c.Newest = &oldest, &newest
	}
	return c
}

func ref(s inventory.Snapshot) SnapshotRef {
	d, _ := s.Tag("DeleteOn")
	return SnapshotRef{SnapshotID: s.ID, VolumeID: s.VolumeID, State: s.State, StartTime: s.StartTime.UTC(), DeleteOn: d}
}

func seconds(d time.Duration) int64 { return int64(d / time.Second) }

// human prints a duration rounded to the minute as an operator reads it:
// "2d3h", "5h10m", "42m" (config.FormatDuration).
func human(d time.Duration) string {
	d = d.Round(time.Minute)
	if d >= 24*time.Hour {
		d = d.Round(time.Hour)
	}
	return config.FormatDuration(d)
}
