package cli

// Integration tests of the snapshots command and of the scoping flags
// (--instance, --volume, --stanza) of plan, report and snapshot: the
// built binary against moto.

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
)

func TestSnapshotsCommandAndScope(t *testing.T) {
	e := newEngineEnv(t)
	web := e.launch(seeder.Group{Count: 2, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}, {Key: "Name", Value: "web"}}})
	db := e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "db", Value: "yes"}}})
	e.stanza("web", webStanza)
	e.stanza("db", `{"match": {"tag:db": "yes"}, "snapshot": {"retention": "7 days", "minimum": 1, "frequency": "1 day"}}`)
	old := e.snapshot(web[0].VolumeIDs[0], date(-1))
	manual := e.snapshot(db[0].VolumeIDs[0])

	// snapshot --instance takes only that instance's volume.
	out := e.run(0, "snapshot", "--instance", web[1].ID)
	if rows := out.Regions[0].Snapshots; len(rows) != 1 || rows[0].VolumeID != web[1].VolumeIDs[0] || rows[0].Status != snapper.StatusDone {
		t.Fatalf("snapshot --instance %s: rows %+v", web[1].ID, rows)
	}
	// plan --stanza db: the db volume's rows only.
	out = e.run(0, "plan", "--stanza", "db")
	for _, r := range out.Regions[0].Snapshots {
		if r.VolumeID != db[0].VolumeIDs[0] {
			t.Errorf("plan --stanza db shows %s", r.VolumeID)
		}
	}
	if len(out.Regions[0].Snapshots) != 1 || len(out.Regions[0].Clean) != 0 {
		t.Errorf("plan --stanza db: %d snapshot rows, %d clean rows; want 1 and 0 (its snapshot has no DeleteOn)", len(out.Regions[0].Snapshots), len(out.Regions[0].Clean))
	}
	// report --volume: one volume.
	rep := reportJSON(t, e, 0, "--volume", web[0].VolumeIDs[0])
	if vs := rep.Regions[0].Volumes; len(vs) != 1 || vs[0].VolumeID != web[0].VolumeIDs[0] || vs[0].InstanceName != "web" {
		t.Errorf("report --volume: %+v", vs)
	}

	// snapshots: newest first per volume, with stanza, DeleteOn, run and
	// clean's verdict.
	stdout, stderr, code := runBinary(t, e.srv, "", "snapshots", "--region", "us-east-1", "--instance", web[0].ID+","+web[1].ID, "--json")
	var l listing
	if err := json.Unmarshal([]byte(stdout), &l); code != 0 || err != nil {
		t.Fatalf("snapshots --json: exit %d, %v\n%s\n%s", code, err, stdout, stderr)
	}
	ss := l.Regions[0].Snapshots
	byID := map[string]snapper.ListedSnapshot{}
	for _, s := range ss {
		byID[s.VolumeID] = s
	}
	taken, o := byID[web[1].VolumeIDs[0]], byID[web[0].VolumeIDs[0]]
	if len(ss) != 2 || taken.Run == "" || taken.DeleteOn == "" || taken.ConfigIDs[0] != "web" || taken.InstanceName != "web" || taken.Clean != "keep" {
		t.Errorf("snapshots: the one snapshot took: %+v", taken)
	}
	if o.SnapshotID != old || o.Run != "" || o.Clean != "keep" || !strings.Contains(o.Protection, "kept") {
		t.Errorf("snapshots: the seeded one, past its DeleteOn but the newest: %+v", o)
	}
	// moto stamps whole seconds: a second later, a newer snapshot of db.
	time.Sleep(1100 * time.Millisecond)
	newer := e.snapshot(db[0].VolumeIDs[0])
	stdout, _, code = runBinary(t, e.srv, "", "snapshots", "--region", "us-east-1", "--latest")
	if code != 0 || strings.Contains(stdout, manual) || !strings.Contains(stdout, newer) || !strings.Contains(stdout, "no DeleteOn tag: clean never deletes it") ||
		!strings.Contains(stdout, web[0].ID+" (web)") || !strings.Contains(stdout, "3 snapshots as of") {
		t.Errorf("snapshots --latest: exit %d\n%s", code, stdout)
	}
	for _, bad := range [][]string{{"snapshots", "--stanza", "nope"}, {"plan", "--instance", "vol-1"}, {"report", "--volume", "i-1"}} {
		_, stderr, code := runBinary(t, e.srv, "", append(bad, "--region", "us-east-1")...)
		if code != ExitUsage || !strings.Contains(stderr, bad[1]) {
			t.Errorf("%v: exit %d, stderr %q; want a usage error naming %s", bad, code, stderr, bad[1])
		}
	}
}
