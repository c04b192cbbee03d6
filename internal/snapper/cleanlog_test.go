package snapper

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// lockedLog is a buffer the default logger writes JSON lines to.
type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// Every clean row and every log line about a snapshot names its region, as the
// snapshot lines do: a run over many regions logs them interleaved.
func TestCleanRowsAndLogsNameTheRegion(t *testing.T) {
	var logs lockedLog
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	f := webFleet()
	for i, age := range []time.Duration{90, 80, 70, 10} {
		f.AddSnapshot(snap("snap-"+string(rune('a'+i)), "vol-a1", inventory.StateCompleted, (age+100)*time.Hour, "2026-11-20"), "")
	}
	f.OnCall = func(_ string, in any) error {
		if d, ok := in.(*ec2.DeleteSnapshotInput); ok && aws.ToString(d.SnapshotId) == "snap-a" {
			return &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "no"}
		}
		return nil
	}
	rep := runUseCase(t.Context(), useClean, []EC2{client(f, "eu-west-3")}, NewPolicy([]config.Stanza{stanza(t, "daily", "12 hours", 1)}, 0), engineOptions(now))
	for _, r := range rep.Regions[0].Clean {
		if r.Region != "eu-west-3" {
			t.Errorf("%s: row region %q, want eu-west-3", r.SnapshotID, r.Region)
		}
	}
	deletes := 0
	for line := range strings.Lines(logs.buf.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if _, ok := rec["snapshot_id"]; !ok {
			continue
		}
		if rec["msg"] == "snapshot deleted" {
			deletes++
		}
		if rec["region"] != "eu-west-3" {
			t.Errorf("line names region %v, want eu-west-3: %s", rec["region"], line)
		}
	}
	if deletes != 2 {
		t.Errorf("%d deletions logged, want 2", deletes)
	}
}
