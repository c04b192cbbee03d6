package snapper

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/retention"
)

// RunTag is the tag key that every snapshot a run creates carries, set in
// the same CreateSnapshot call, with the run's token as value. EC2's
// CreateSnapshot has no idempotency token, so this tag is how a run (and
// an operator) finds the snapshots of creates whose answer was lost: one
// DescribeSnapshots filtered on tag:ebs-snapper:run, never a call per
// volume. Keys starting with "aws:" are reserved by AWS; this one is not.
const RunTag = "ebs-snapper:run"

// toolTagPrefix marks the tags ebs-snapper itself sets (RunTag, and the
// stanza id of the retention work); they follow DeleteOn, ahead of the
// inherited tags, so the 50-tag cap never drops them.
const toolTagPrefix = "ebs-snapper:"

// NewRunToken returns a run token: the run's start time in UTC to the
// second and 16 random hexadecimal digits, e.g.
// "20261125T060000Z-3f9c0a1b2d4e5f60". The time tells an operator when the
// run began; the random part (64 bits from crypto/rand) tells apart runs
// started in the same second, such as two Lambda workers.
func NewRunToken(start time.Time) string {
	var b [8]byte
	// crypto/rand.Read never fails (Go 1.24+: it crashes the program
	// instead, as the system's randomness is gone).
	_, _ = rand.Read(b[:])
	return start.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// WithRunTag returns tags with RunTag=token inserted right after DeleteOn
// and the tool's other "ebs-snapper:" tags that follow it, so the order of
// a new snapshot's tags is: DeleteOn, ebs-snapper:config-id (when set),
// ebs-snapper:run, then the inherited tags in SnapshotTags' order. An
// inherited RunTag (copied onto a volume by hand) is dropped: a key may
// appear once. When the list is already at MaxTags the last inherited tag
// makes room. tags is not modified.
func WithRunTag(tags []inventory.Tag, token string) []inventory.Tag {
	out := make([]inventory.Tag, 0, len(tags)+1)
	at := -1
	for i, t := range tags {
		if t.Key == RunTag {
			continue
		}
		if at < 0 && !(i == 0 && t.Key == retention.DeleteOnTag) && !strings.HasPrefix(t.Key, toolTagPrefix) {
			at = len(out)
		}
		out = append(out, t)
	}
	if at < 0 {
		at = len(out)
	}
	out = append(out[:at], append([]inventory.Tag{{Key: RunTag, Value: token}}, out[at:]...)...)
	if len(out) > MaxTags {
		out = out[:MaxTags]
	}
	return out
}
