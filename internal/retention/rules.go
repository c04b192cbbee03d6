package retention

import (
	"slices"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// rule decides a candidate (ok) or lets the next rule look at it.
type rule func(v *volume, c *candidate) (a Action, reason string, ok bool)

// step is a row of the rules table. archivable marks the rules whose
// keeps the archive pass may move to the archive tier: what is kept for a
// time that can be known (not due yet, or by a tier). tiered marks the
// rule whose verdict the tiers override (the minimum's).
type step struct {
	decide             rule
	archivable, tiered bool
}

// rules are tried in order, the first one that decides wins; the last one
// always decides. A new retention rule is a new row here (or a pre- or
// post-pass in planVolume when it must see the whole volume). Only
// minimumRule deletes a completed snapshot of a volume with a known
// minimum, and it lowers the count when it does; whatever the other rules
// keep stays counted, so the count is what will remain.
var rules = []step{
	{protectedRule, false, false},
	{badDateRule, false, false},
	{notDueRule, true, false},
	{ignoredRule, false, false},
	{notCompletedRule, false, false},
	{newestRule, false, false},
	{orphansKeepRule, false, false},
	{orphansUnnamedRule, false, false},
	{unknownMinimumRule, false, false},
	{errorStateRule, false, false},
	{minimumRule, false, true},
}

// Each rule builds its reason only when it decides: one reason per
// candidate is kept, and building the others too allocated most of a
// large region's plan.

func badDateRule(_ *volume, c *candidate) (Action, string, bool) {
	if c.dateOK {
		return "", "", false
	}
	return Keep, keptBadDate(c.deleteOn), true
}

func notDueRule(v *volume, c *candidate) (Action, string, bool) {
	switch {
	case c.floor.After(c.date) && v.in.Now.Before(c.floor):
		return Keep, keptRetention(c.floor, v.retention, c.deleteOn), true
	case c.date.After(v.today):
		return Keep, keptNotDue(c.deleteOn), true
	}
	return "", "", false
}

// ignoredRule wins over everything that could delete, ignore_retention
// included: ebs_snapper deleted due snapshots of an ignored instance when
// ignore_retention was set.
func ignoredRule(v *volume, c *candidate) (Action, string, bool) {
	switch {
	case v.in.Ignore[c.snap.ID]:
		return Keep, keptIgnoredSnapshot(c.snap.ID), true
	case v.in.Ignore[v.id]:
		return Keep, keptIgnoredVolume(v.id), true
	case v.ignoredInstance != "":
		return Keep, keptIgnoredInstance(v.ignoredInstance), true
	}
	return "", "", false
}

// protectedRule keeps what EC2 would refuse to delete (an AMI's
// InvalidSnapshot.InUse, a lock, an AWS Backup recovery point) and what a
// launch template would fail to launch without, so the plan says what
// will happen rather than what will fail, and names each protection.
func protectedRule(v *volume, c *candidate) (Action, string, bool) {
	ps := c.snap.Protections
	if len(ps) == 0 {
		return "", "", false
	}
	if v.policy.IgnoreLaunchTemplates {
		ps = slices.DeleteFunc(slices.Clone(ps), func(p inventory.Protection) bool { return p.Kind == inventory.ProtectedByLaunchTemplate })
		if len(ps) == 0 {
			return "", "", false
		}
	}
	return Keep, keptProtected(ps), true
}

// notCompletedRule keeps a snapshot EC2 has not finished (pending) or
// reports in a state this tool does not know: deleting it could leave the
// volume with no backup if the completed ones go too. Error-state
// snapshots pass on to the rules that delete them.
func notCompletedRule(_ *volume, c *candidate) (Action, string, bool) {
	s := c.snap.State
	if s == inventory.StateCompleted || s == inventory.StateError {
		return "", "", false
	}
	return Keep, keptNotCompleted(s), true
}

// newestRule is restic's "refusing to delete last snapshot": whatever the
// minimum and ignore_retention say, a volume keeps one completed backup.
func newestRule(v *volume, c *candidate) (Action, string, bool) {
	if c.snap.ID != v.newest {
		return "", "", false
	}
	return Keep, keptNewest(v.id), true
}

// orphansKeepRule keeps every candidate of a volume no stanza governs
// when an orphans policy of the stanzas that made its snapshots is "keep".
func orphansKeepRule(v *volume, _ *candidate) (Action, string, bool) {
	if v.keepOrphans == "" {
		return "", "", false
	}
	return Keep, keptOrphans(v.keepOrphans, v.id), true
}

// unknownMinimumRule handles volumes no stanza governs (gone, detached, or
// on an instance no stanza matches): only ignore_retention lets clean
// delete their due snapshots.
func unknownMinimumRule(v *volume, c *candidate) (Action, string, bool) {
	if v.known {
		return "", "", false
	}
	if v.in.IgnoreRetention {
		return Delete, deleteIgnoreRetention(c.deleteOn), true
	}
	return Keep, keptMinimumUnknown(v.id), true
}

// errorStateRule deletes a due snapshot that failed: it is no backup, so it
// neither counts toward the minimum nor lowers the count. Every other
// state but completed was kept by notCompletedRule.
func errorStateRule(_ *volume, c *candidate) (Action, string, bool) {
	if c.snap.State == inventory.StateCompleted {
		return "", "", false
	}
	return Delete, deleteErrorState(c.deleteOn), true
}

// minimumRule deletes while more completed snapshots than the minimum remain.
// Candidates arrive oldest first, so the oldest go first, and the count
// goes down with each delete so that one run never crosses the minimum
// (ebs_snapper compared every candidate with the count taken before the
// run).
func minimumRule(v *volume, c *candidate) (Action, string, bool) {
	if n := v.completed; n > v.policy.Minimum {
		v.completed--
		return Delete, deleteAboveMinimum(c.deleteOn, n, v.policy.Minimum), true
	}
	return Keep, keptMinimumReached(v.policy.Minimum, v.completed, v.id), true
}
