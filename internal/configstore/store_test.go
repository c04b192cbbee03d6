package configstore_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
)

// captureLogs sends slog's default logger to a buffer for the test.
func captureLogs(t *testing.T) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return &buf
}

func TestLoadKeepsGoodStanzasNextToBadOnes(t *testing.T) {
	ctx := context.Background()
	logs := captureLogs(t)
	s := &configstore.Memory{}
	for _, it := range []configstore.Item{
		{AccountID: "112233445566", ID: "daily_tagged", Configuration: dailyTagged},
		{AccountID: "112233445566", ID: "tagged_instances", Configuration: taggedInstances},
		// The same JSON under a second id: the original collapsed the two.
		{AccountID: "112233445566", ID: "tagged_twice", Configuration: taggedInstances},
		// The original's test fixture for a broken item.
		{AccountID: "112233445566", ID: "broken_json", Configuration: `{, 123 bare words :: }`},
		{AccountID: "112233445566", ID: "no_snapshot", Configuration: `{"match": {"tag:backup": "yes"}}`},
		// Read leniently, with a warning: ebs_snapper took "false" as true.
		{AccountID: "112233445566", ID: "loose", Configuration: `{"match": {"tag:backup": "loose"}, "snapshot": {"retention": "1 day", "minimum": 1, "frequency": "1 day"}, "ignore_retention": "false"}`},
		{AccountID: "999999999999", ID: "other_account", Configuration: dailyTagged},
	} {
		if err := s.Put(ctx, it); err != nil {
			t.Fatal(err)
		}
	}

	loaded, err := configstore.Load(ctx, s, "112233445566")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, st := range loaded.Stanzas {
		ids = append(ids, st.ID)
	}
	if diff := cmp.Diff([]string{"daily_tagged", "loose", "tagged_instances", "tagged_twice"}, ids); diff != "" {
		t.Errorf("valid stanzas (-want +got):\n%s", diff)
	}
	for _, st := range loaded.Stanzas {
		if st.ID == "loose" && st.IgnoreRetention {
			t.Error(`loose: ignore_retention "false" read as true`)
		}
	}

	want := map[string]string{
		"broken_json": "broken_json: $: invalid JSON at line 1, column 2",
		"no_snapshot": "no_snapshot: snapshot: is required",
	}
	if len(loaded.Invalid) != len(want) {
		t.Fatalf("invalid = %+v, want %d", loaded.Invalid, len(want))
	}
	for i, inv := range loaded.Invalid {
		if i > 0 && loaded.Invalid[i-1].ID >= inv.ID {
			t.Errorf("invalid items not sorted by id: %+v", loaded.Invalid)
		}
		var verr *config.ValidationError
		if !errors.As(inv.Err, &verr) {
			t.Errorf("%s: error %T is not a *config.ValidationError", inv.ID, inv.Err)
		}
		if !strings.HasPrefix(inv.Err.Error(), want[inv.ID]) {
			t.Errorf("%s: error = %q, want it to start with %q", inv.ID, inv.Err, want[inv.ID])
		}
	}

	for _, w := range []string{"level=WARN", "config_id=loose", `problem="loose: ignore_retention: must be true or false; read as false`} {
		if !strings.Contains(logs.String(), w) {
			t.Errorf("logs lack %q:\n%s", w, logs)
		}
	}
	if strings.Count(logs.String(), "\n") != 1 {
		t.Errorf("want exactly one warning (for loose), got:\n%s", logs)
	}
}

type failingStore struct{ configstore.Memory }

func (*failingStore) List(context.Context, string) ([]configstore.Item, error) {
	return nil, errors.New("throttled")
}

func TestLoadReportsAListingError(t *testing.T) {
	_, err := configstore.Load(context.Background(), &failingStore{}, "112233445566")
	if err == nil || err.Error() != "load the configuration of account 112233445566: throttled" {
		t.Errorf("Load error = %v", err)
	}
}

func TestLoadOfAnEmptyAccount(t *testing.T) {
	loaded, err := configstore.Load(context.Background(), &configstore.Memory{}, "112233445566")
	if err != nil || len(loaded.Stanzas) != 0 || len(loaded.Invalid) != 0 {
		t.Errorf("Load = %+v, %v; want nothing", loaded, err)
	}
}
