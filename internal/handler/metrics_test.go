package handler

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/account/accounttest"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/report"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

// emfLines parses a worker's output as CloudWatch Logs would see it: every
// line is one JSON object, either a log record or an EMF document, which
// it checks against the EMF specification (each metric a number in the
// root, each dimension a string in the root) and returns.
func emfLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var docs []map[string]any
	for line := range strings.Lines(out) {
		var doc map[string]any
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatalf("line is not one JSON object: %q", line)
		}
		meta, ok := doc["_aws"].(map[string]any)
		if !ok {
			if doc["msg"] == nil || doc["level"] == nil {
				t.Errorf("neither a log record nor an EMF line: %q", line)
			}
			continue
		}
		if ts, _ := meta["Timestamp"].(float64); ts <= 0 {
			t.Errorf("EMF line without a Timestamp: %q", line)
		}
		directives, _ := meta["CloudWatchMetrics"].([]any)
		// A region line of a cell's account has a second directive: its
		// coverage by [Account].
		if len(directives) == 0 || len(directives) > 2 {
			t.Fatalf("EMF line with %d directives: %q", len(directives), line)
		}
		for _, dir := range directives {
			d := dir.(map[string]any)
			if d["Namespace"] != report.Namespace {
				t.Errorf("namespace %v, want %s", d["Namespace"], report.Namespace)
			}
			for _, set := range d["Dimensions"].([]any) {
				for _, name := range set.([]any) {
					if _, ok := doc[name.(string)].(string); !ok {
						t.Errorf("dimension %v has no string value: %q", name, line)
					}
				}
			}
			for _, m := range d["Metrics"].([]any) {
				name := m.(map[string]any)["Name"].(string)
				if _, ok := doc[name].(float64); !ok {
					t.Errorf("metric %s has no number value: %q", name, line)
				}
			}
		}
		docs = append(docs, doc)
	}
	return docs
}

// A worker invocation's log holds, between its JSON log records, valid EMF
// lines with the counts of its run: the actions and the RPO coverage of the
// region (with the no-dimension set the stack's alarm watches) and of each
// stanza.
func TestWorkerWritesEMFFigures(t *testing.T) {
	fakes, store := fakeWorld(t, 3, dailyStanza)
	west := fakes["us-west-2"]
	now := time.Now()
	// vol-0000 is late (its newest snapshot is 10 days old; today's is
	// pending), vol-0001 ok (not due), vol-0002 gets its first snapshot:
	// pending, not missing.
	west.AddSnapshot(inventory.Snapshot{ID: "snap-old", VolumeID: "vol-0000", State: inventory.StateCompleted, StartTime: now.AddDate(0, 0, -10)}, ec2fake.AccountID)
	west.AddSnapshot(inventory.Snapshot{ID: "snap-new", VolumeID: "vol-0001", State: inventory.StateCompleted, StartTime: now.Add(-time.Hour)}, ec2fake.AccountID)
	out := captureLogs(t)
	h := newHandler(t, Config{Name: Snapshot, Sources: accounttest.Sources(fakes, store), Metrics: out})
	if err := h.Invoke(invokeCtx(t, "req-emf", time.Minute), snsEvent(t, Message("us-west-2"))); err != nil {
		t.Fatal(err)
	}
	docs := emfLines(t, out.String())
	if len(docs) != 2 {
		t.Fatalf("%d EMF lines, want the region's and the stanza's:\n%s", len(docs), out)
	}
	region, stanza := docs[0], docs[1]
	want := map[string]float64{"VolumesMatched": 3, "VolumesLate": 1, "VolumesMissing": 0,
		"SnapshotsCreated": 2, "SnapshotsDeleted": 0, "ActionsFailed": 0, "ActionsNotStarted": 0, "ThrottledCalls": 0}
	for k, v := range want {
		if region[k] != v {
			t.Errorf("region line %s = %v, want %v", k, region[k], v)
		}
	}
	dims := region["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Dimensions"].([]any)
	if region["Region"] != "us-west-2" || !slices.ContainsFunc(dims, func(d any) bool { return len(d.([]any)) == 0 }) {
		t.Errorf("region line %v: want Region us-west-2 and the no-dimension set", region)
	}
	if stanza["ConfigId"] != "daily" || stanza["VolumesLate"] != 1.0 || stanza["VolumesMatched"] != 3.0 || stanza["SnapshotsCreated"] != nil {
		t.Errorf("stanza line %v, want config daily with its coverage and no action figures", stanza)
	}

	// A clean worker has action figures only: it judges no coverage.
	out = captureLogs(t)
	h = newHandler(t, Config{Name: Clean, Sources: accounttest.Sources(fakes, store), Metrics: out})
	if err := h.Invoke(invokeCtx(t, "req-emf-2", time.Minute), snsEvent(t, Message("us-west-2"))); err != nil {
		t.Fatal(err)
	}
	docs = emfLines(t, out.String())
	if len(docs) != 1 || docs[0]["SnapshotsDeleted"] != 0.0 || docs[0]["VolumesMatched"] != nil {
		t.Errorf("clean EMF lines %v, want one with action figures only", docs)
	}
}

// A region the worker skipped (no valid stanza) writes no figures: a
// metric not measured is left out, never sent as 0.
func TestWorkerWithoutStanzaWritesNoFigures(t *testing.T) {
	fakes, store := fakeWorld(t, 1, "")
	out := captureLogs(t)
	h := newHandler(t, Config{Name: Snapshot, Sources: accounttest.Sources(fakes, store), Metrics: out})
	if err := h.Invoke(invokeCtx(t, "req-emf-3", time.Minute), snsEvent(t, Message("us-west-2"))); err != nil {
		t.Fatal(err)
	}
	if docs := emfLines(t, out.String()); len(docs) != 0 {
		t.Errorf("EMF lines %v, want none", docs)
	}
}
