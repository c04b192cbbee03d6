package snapper

import (
	"fmt"
	"github.com/ebs-snapper/ebs-snapper/internal/provenance"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

func tags(kv ...string) []inventory.Tag {
	var out []inventory.Tag
	for i := 0; i < len(kv); i += 2 {
		out = append(out, inventory.Tag{Key: kv[i], Value: kv[i+1]})
	}
	return out
}

func TestSnapshotTags(t *testing.T) {
	tests := []struct {
		name          string
		instance, vol []inventory.Tag
		want          []inventory.Tag
	}{
		{
			// The original's test_perform_snapshot: billing keys first,
			// volume overrides instance, the rest in first-seen order.
			name:     "original test_perform_snapshot",
			instance: tags("Name", "Foo", "Service", "Bar", "backup", "yes"),
			vol:      tags("Service", "Baz"),
			want:     tags("DeleteOn", "2026-11-29", "ebs-snapper:config-id", "web", "Name", "Foo", "Service", "Baz", "backup", "yes"),
		},
		{
			name:     "empty values, aws: keys and stray DeleteOn and config-id dropped",
			instance: tags("Owner", "", "aws:cloudformation:stack-name", "s", "team:aws:x", "y", "DeleteOn", "2020-01-01", "env", "prod", "ebs-snapper:config-id", "old"),
			vol:      tags("Project", "p"),
			want:     tags("DeleteOn", "2026-11-29", "ebs-snapper:config-id", "web", "Project", "p", "env", "prod"),
		},
		{
			name:     "replication destination kept ahead of billing keys, once",
			instance: tags("Name", "db", "replication_dst_region", "us-west-2"),
			want:     tags("DeleteOn", "2026-11-29", "ebs-snapper:config-id", "web", "replication_dst_region", "us-west-2", "Name", "db"),
		},
		{
			// A volume restored from a replica carries the replica's tags;
			// its backups are not replicas, nor run by another run.
			name:     "the tool's own tags of a restored volume are not inherited",
			instance: tags("replication_snapshot_id", "snap-0a", "ebs-snapper:run", "r1", "env", "dr"),
			vol: tags("replication_src_region", "us-east-1", "replication_snapshot_id", "snap-0b", "replication_volume_id", "vol-0c",
				"ebs-snapper:anything", "x", "DeleteOn", "2000-01-01", "replication_dst_region", "eu-west-1", "replicated", "yes"),
			want: tags("DeleteOn", "2026-11-29", "ebs-snapper:config-id", "web", "replication_dst_region", "eu-west-1", "env", "dr", "replicated", "yes"),
		},
		{
			name:     "volume adds keys after instance keys",
			instance: tags("a", "1", "b", "2"),
			vol:      tags("c", "3", "a", "9"),
			want:     tags("DeleteOn", "2026-11-29", "ebs-snapper:config-id", "web", "a", "9", "b", "2", "c", "3"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SnapshotTags("2026-11-29", "web", tt.instance, tt.vol)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("SnapshotTags() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// The original's test_calculate_relevant_tags, with a strong assertion:
// exactly 50 tags, DeleteOn and the config id first, billing tags kept,
// the overflow cut.
func TestSnapshotTagsCapAt50(t *testing.T) {
	instance := tags("Foo", "Bar", "BusinessUnit", "Dept1")
	for i := 0; i < 8; i++ {
		instance = append(instance, inventory.Tag{Key: fmt.Sprintf("foo-%d", i), Value: fmt.Sprintf("bar-%d", 100+i)})
	}
	vol := tags("Foo", "Baz", "BusinessUnit", "Dept2", "Cluster", "Bank")
	for i := 0; i < 47; i++ {
		vol = append(vol, inventory.Tag{Key: fmt.Sprintf("foo-%d", i), Value: fmt.Sprintf("bar-%d", 100+i)})
	}
	got := SnapshotTags("2026-11-25", "web", instance, vol)
	if len(got) != MaxTags {
		t.Fatalf("got %d tags, want %d", len(got), MaxTags)
	}
	want := tags("DeleteOn", "2026-11-25", "ebs-snapper:config-id", "web", "BusinessUnit", "Dept2", "Cluster", "Bank", "Foo", "Baz")
	if diff := cmp.Diff(want, got[:5]); diff != "" {
		t.Errorf("first tags mismatch (-want +got):\n%s", diff)
	}
	seen := map[string]bool{}
	for _, tg := range got {
		if seen[tg.Key] {
			t.Errorf("duplicate key %q", tg.Key)
		}
		seen[tg.Key] = true
	}
	// 5 leading tags + foo-0..foo-44 = 50: foo-45 is the first one cut.
	if !seen["foo-44"] || seen["foo-45"] {
		t.Errorf("cap cut the wrong tag: foo-44 present=%v, foo-45 present=%v", seen["foo-44"], seen["foo-45"])
	}
}

func TestDescription(t *testing.T) {
	got := Description("0.10.6", "i-05d0486d6c8b1ae49", "ami-c7c546d1", "vol-0d4be5bde49115a56", "web")
	want := "Created from i-05d0486d6c8b1ae49 by EbsSnapper(0.10.6) for ami-c7c546d1 from vol-0d4be5bde49115a56; stanza web"
	if got != want {
		t.Errorf("Description() = %q, want %q", got, want)
	}
	if id, ok := provenance.CreatedStanza(got); !ok || id != "web" {
		t.Errorf("CreatedStanza(%q) = %q, %v; want web", got, id, ok)
	}
	// Too long for the stanza: cut as the original did, naming none
	// rather than a cut id that could be another stanza's.
	long := Description(strings.Repeat("v", 300), "i-1", "ami-1", "vol-1", "web")
	if _, named := provenance.CreatedStanza(long); len(long) != 254 || named {
		t.Errorf("long description has %d characters, names a stanza: %v; want 254 and none", len(long), named)
	}
	near := Description(strings.Repeat("v", 180), "i-1", "ami-1", "vol-1", strings.Repeat("s", 40))
	if _, named := provenance.CreatedStanza(near); len(near) > 254 || named {
		t.Errorf("description %q (%d characters): the stanza does not fit whole, so none is named", near, len(near))
	}
}
