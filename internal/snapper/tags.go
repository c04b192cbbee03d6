package snapper

import (
	"fmt"
	"strings"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/provenance"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
)

// MaxTags is EC2's limit of tags on one resource.
const MaxTags = 50

// ReplicationDestinationTag names the region a snapshot is copied to; it is
// kept ahead of the other inherited tags so the 50-tag cap never drops it.
const ReplicationDestinationTag = "replication_dst_region"

// billingKeys come first among the inherited tags, in this order, as in the
// original: cost allocation must survive the 50-tag cap.
var billingKeys = []string{
	"Name", "BusinessUnit", "Group", "Department", "CostCenter", "Application",
	"Environment", "Project", "Owner", "Service", "Cluster", "Role", "Customer",
	"Version", "Billing1", "Billing2", "Billing3", "Billing4", "Billing5",
}

// SnapshotTags returns the tags of a new snapshot: DeleteOn first, then
// retention.ConfigIDTag with configID (the stanza that made it, which
// clean reads once the volume no longer tells), then
// replication_dst_region when inherited, then the billing keys in their fixed
// order, then the remaining instance tags and volume tags in first-seen
// order. A volume tag overrides an instance tag of the same key. Empty
// values, keys containing "aws:" (reserved by AWS) and the tool's own tags
// (ToolTag) are dropped, each key appears once, and the list stops at 50.
func SnapshotTags(deleteOn, configID string, instanceTags, volumeTags []inventory.Tag) []inventory.Tag {
	order := append([]string(nil), billingKeys...)
	values := map[string]string{}
	for _, tags := range [][]inventory.Tag{instanceTags, volumeTags} {
		for _, t := range tags {
			if _, seen := values[t.Key]; !seen && !isBillingKey(t.Key) {
				order = append(order, t.Key)
			}
			values[t.Key] = t.Value
		}
	}
	inherited := make([]inventory.Tag, 0, len(order))
	for _, k := range order {
		v, ok := values[k]
		if !ok || v == "" || strings.Contains(k, "aws:") || ToolTag(k) {
			continue
		}
		inherited = append(inherited, inventory.Tag{Key: k, Value: v})
	}

	out := []inventory.Tag{{Key: retention.DeleteOnTag, Value: deleteOn}, {Key: retention.ConfigIDTag, Value: configID}}
	if v, ok := inventory.TagValue(inherited, ReplicationDestinationTag); ok {
		out = append(out, inventory.Tag{Key: ReplicationDestinationTag, Value: v})
	}
	for _, t := range inherited {
		if len(out) == MaxTags {
			break
		}
		if t.Key != ReplicationDestinationTag {
			out = append(out, t)
		}
	}
	return out
}

// ToolTag reports the keys ebs-snapper writes to describe a snapshot's
// history or governance: DeleteOn, every "ebs-snapper:" key, and every
// "replication_" key but the user's own replication_dst_region request.
// The tool sets them or not at all; they are never inherited from an
// instance or a volume. A volume restored from a replica carries the
// replica's replication_* tags (restoring "with the snapshot's tags" is
// what the console offers), and its next backup must not read as a replica.
func ToolTag(k string) bool {
	return k == retention.DeleteOnTag || strings.HasPrefix(k, toolTagPrefix) ||
		(strings.HasPrefix(k, "replication_") && k != ReplicationDestinationTag)
}

func isBillingKey(k string) bool {
	for _, b := range billingKeys {
		if b == k {
			return true
		}
	}
	return false
}

// maxDescription is the original's cut (EC2 allows 255 characters).
const maxDescription = 254

// Description is the text of a new snapshot: the original's words, then
// the stanza that takes it (provenance.StanzaSuffix), which clean reads to
// apply that stanza's orphans policy once the volume no longer tells; EC2
// never lets a Description change, while the config-id tag can be
// rewritten by anyone allowed ec2:CreateTags. A text longer than the
// original's cut goes without the stanza, cut as the original did.
func Description(version, instanceID, imageID, volumeID, configID string) string {
	d := fmt.Sprintf("Created from %s by EbsSnapper(%s) for %s from %s", instanceID, version, imageID, volumeID)
	if withStanza := d + provenance.StanzaSuffix(configID); configID != "" && len(withStanza) <= maxDescription {
		return withStanza
	}
	if len(d) > maxDescription {
		d = d[:maxDescription]
	}
	return d
}
