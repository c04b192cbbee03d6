package retention

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// The reason of every decision, one constructor per form, so that the
// wording lives in one place. Callers (CLI tables, JSON output, logs) show
// them verbatim, and tests compare them exactly: changing a form is a
// user-visible change.

func keptBadDate(deleteOn string) string {
	return fmt.Sprintf("kept: DeleteOn %q is not a YYYY-MM-DD date", deleteOn)
}

func keptNotDue(deleteOn string) string {
	return "kept: expires on " + deleteOn
}

func keptRetention(floor time.Time, retention time.Duration, deleteOn string) string {
	return fmt.Sprintf("kept: expires on %s, StartTime + retention %s (DeleteOn %s does not shorten it)",
		floor.UTC().Format(time.RFC3339), formatDuration(retention), deleteOn)
}

func keptIgnoredSnapshot(id string) string { return "kept: snapshot " + id + " is ignored" }
func keptIgnoredVolume(vol string) string  { return "kept: volume " + vol + " is ignored" }
func keptIgnoredInstance(i string) string  { return "kept: instance " + i + " is ignored" }
func keptNewest(vol string) string         { return "kept: newest completed snapshot of " + vol }

// keptProtected names every protection of a snapshot: "kept: backs
// ami-1", "kept: backs disabled AMI ami-1; locked in compliance mode until
// …". An AWS Backup recovery point says it is not counted.
func keptProtected(ps []inventory.Protection) string {
	r := "kept: " + inventory.Protections(ps)
	if slices.ContainsFunc(ps, func(p inventory.Protection) bool { return p.Kind == inventory.ProtectedByAWSBackup }) {
		r += " (not counted toward the minimum)"
	}
	return r
}

func keptNotCompleted(state string) string {
	return fmt.Sprintf("kept: snapshot is %q, not a completed backup yet", state)
}

func keptMinimumReached(minimum, count int, vol string) string {
	return fmt.Sprintf("kept: minimum %d reached (%d completed snapshots of %s)", minimum, count, vol)
}

func keptMinimumUnknown(vol string) string {
	return "kept: minimum unknown, volume " + vol + " is not attached to an instance any stanza matches"
}

func deleteAboveMinimum(deleteOn string, count, minimum int) string {
	return fmt.Sprintf("expired on %s, %d completed snapshots > minimum %d", deleteOn, count, minimum)
}

func deleteErrorState(deleteOn string) string {
	return "expired on " + deleteOn + ", error-state snapshot (not counted toward minimum)"
}

func deleteIgnoreRetention(deleteOn string) string {
	return "expired on " + deleteOn + ", minimum unknown and ignore_retention is set"
}

func keptOrphans(policy, vol string) string {
	return "kept: orphans " + policy + ", volume " + vol + " is not attached to an instance any stanza matches"
}

// orphansSuffix ends the reasons of a volume decided by an orphans policy.
func orphansSuffix(policy string) string { return "; orphans " + policy }

// adoptedSuffix ends the reasons of an adopted snapshot.
func adoptedSuffix(retention time.Duration) string {
	return "; adopted: no DeleteOn tag, expires StartTime + " + formatDuration(retention)
}

func archiveReason(kept string, after time.Duration, earliest time.Time) string {
	return fmt.Sprintf("archive: %s; older than archive_after %s, no rule deletes it before %s",
		strings.TrimPrefix(kept, "kept: "), formatDuration(after), earliest.UTC().Format(time.DateOnly))
}
