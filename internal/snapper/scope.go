package snapper

import "slices"

// Scope narrows what a run acts on and what plan, report and snapshots
// show: the volumes of these instances, these volumes, and the volumes
// these stanzas govern. Each non-empty list must hold (one of its ids
// matches); an empty Scope holds everything. Planning always reads the
// whole region, so a scoped run decides exactly as an unscoped one would,
// for fewer volumes: a volume's minimum and retention still come from
// every stanza governing it.
type Scope struct {
	Instances []string
	Volumes   []string
	Stanzas   []string
}

// Empty reports whether the scope holds everything.
func (s Scope) Empty() bool {
	return len(s.Instances) == 0 && len(s.Volumes) == 0 && len(s.Stanzas) == 0
}

// Holds reports whether a volume of instance (may be "") governed by the
// stanzas configIDs (may be empty) is in scope.
func (s Scope) Holds(instance, volume string, configIDs ...string) bool {
	if len(s.Instances) > 0 && !slices.Contains(s.Instances, instance) {
		return false
	}
	if len(s.Volumes) > 0 && !slices.Contains(s.Volumes, volume) {
		return false
	}
	if len(s.Stanzas) > 0 && !slices.ContainsFunc(configIDs, func(id string) bool { return id != "" && slices.Contains(s.Stanzas, id) }) {
		return false
	}
	return true
}

// scopeRows keeps the rows in scope.
func scopeRows[R any](s Scope, rows []R, key func(R) (instance, volume string, ids []string)) []R {
	if s.Empty() {
		return rows
	}
	return slices.DeleteFunc(rows, func(r R) bool {
		inst, vol, ids := key(r)
		return !s.Holds(inst, vol, ids...)
	})
}

func snapshotRowKey(r SnapshotRow) (string, string, []string) {
	return r.InstanceID, r.VolumeID, append([]string{r.ConfigID}, r.ConfigIDs...)
}

func cleanRowKey(r CleanRow) (string, string, []string) {
	return r.InstanceID, r.VolumeID, append([]string{r.ConfigID}, r.ConfigIDs...)
}
