package cli

import (
	"fmt"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// recycleBinLine says what a region's deletes leave billed in the Recycle
// Bin: a delete there saves nothing until the rule's retention ends.
func recycleBinLine(region string, b *snapper.RecycleBinSummary, dryRun bool) string {
	if b.Error != "" {
		return fmt.Sprintf("%s: Recycle Bin rules unknown (%s): deleted snapshots may stay billed in the bin", region, b.Error)
	}
	verb := "deleted"
	if dryRun {
		verb = "to delete"
	}
	if b.Snapshots == 0 {
		return fmt.Sprintf("%s: %d Recycle Bin rules for EBS snapshots; none covers the snapshots %s", region, b.Rules, verb)
	}
	return fmt.Sprintf("%s: Recycle Bin: %d snapshots %s stay in the bin, billed, up to %d GiB (their volumes' size) until %s at the latest",
		region, b.Snapshots, verb, b.GiB, b.Until.Format(time.RFC3339))
}
