package snapper

import (
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
)

// BinHold says that a deleted snapshot stays in the Recycle Bin, billed
// at the snapshot rate, until Until: the longest retention of the rules
// that cover it (when several match, Recycle Bin keeps the longest).
type BinHold struct {
	Rule string `json:"rule"`
	// GiB is the snapshot's source volume size, an upper bound of what
	// stays billed (EBS bills the blocks no other snapshot holds).
	GiB   int32     `json:"gib"`
	Until time.Time `json:"until"`
}

// RecycleBinSummary sums up, for a clean or plan of one region, what the
// deletes leave billed in the Recycle Bin.
type RecycleBinSummary struct {
	// Rules counts the region's Recycle Bin rules for EBS snapshots.
	Rules int `json:"rules"`
	// Snapshots counts the deletes a rule covers; GiB sums their source
	// volume sizes (an upper bound); Until is the latest their bin
	// retention ends.
	Snapshots int       `json:"snapshots"`
	GiB       int64     `json:"gib"`
	Until     time.Time `json:"until,omitzero"`
	// Error says why the rules are unknown (listing them failed): the
	// deletes were planned and made without knowing what they keep billed.
	Error string `json:"error,omitempty"`
}

// binHold returns what a delete of s at now leaves in the Recycle Bin
// under rules, or nil when no rule covers s.
func binHold(s inventory.Snapshot, rules []inventory.RecycleBinRule, now time.Time) *BinHold {
	var h *BinHold
	for _, r := range rules {
		if !r.Covers(s) {
			continue
		}
		if until := now.Add(r.Retention).UTC(); h == nil || until.After(h.Until) {
			h = &BinHold{Rule: r.ID, GiB: s.VolumeSize, Until: until}
		}
	}
	return h
}

// holdInBin marks each delete of rows with what it leaves in the Recycle
// Bin and returns the region's summary; nil when the region has no rule
// and listing them did not fail.
func holdInBin(inv *Inventory, rows []CleanRow, now time.Time) *RecycleBinSummary {
	if len(inv.RecycleBin) == 0 && inv.RecycleBinError == "" {
		return nil
	}
	sum := &RecycleBinSummary{Rules: len(inv.RecycleBin), Error: inv.RecycleBinError}
	if len(inv.RecycleBin) == 0 {
		return sum
	}
	byID := make(map[string]inventory.Snapshot, len(inv.Snapshots))
	for _, s := range inv.Snapshots {
		byID[s.ID] = s
	}
	for i := range rows {
		r := &rows[i]
		if r.Action != retention.Delete {
			continue
		}
		if r.RecycleBin = binHold(byID[r.SnapshotID], inv.RecycleBin, now); r.RecycleBin != nil {
			sum.Snapshots++
			sum.GiB += int64(r.RecycleBin.GiB)
			if r.RecycleBin.Until.After(sum.Until) {
				sum.Until = r.RecycleBin.Until
			}
		}
	}
	return sum
}
