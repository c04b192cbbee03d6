package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestReplicationExtras(t *testing.T) {
	const base = `"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 5, "frequency": "12 hours"}, "replication": "yes"`
	s, err := Parse("dr", []byte(`{`+base+`, "replication_copy_tags": true,
		"replication_kms_key": {"us-west-2": "alias/dr", "eu-west-1": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
		"replication_retention": "30 days"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"us-west-2": "alias/dr", "eu-west-1": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
	if !s.ReplicationCopyTags || s.ReplicationRetention != 30*24*time.Hour || !cmp.Equal(want, s.ReplicationKMSKeys) {
		t.Errorf("got copy_tags %v, retention %s, keys %v", s.ReplicationCopyTags, s.ReplicationRetention, s.ReplicationKMSKeys)
	}

	for _, mode := range []struct {
		name  string
		parse func([]byte) error
	}{
		{"Parse", func(b []byte) error { _, err := Parse("dr", b); return err }},
		{"ParseStored", func(b []byte) error { _, _, err := ParseStored("dr", b); return err }},
	} {
		err := mode.parse([]byte(`{` + base + `, "replication_copy_tags": "yes",
			"replication_kms_key": {"us-west-2": "my key", "Mars": "alias/x"}, "replication_retention": "2 hours"}`))
		if err == nil {
			t.Fatalf("%s: accepted malformed replication options", mode.name)
		}
		for _, want := range []string{
			`dr: replication_copy_tags: must be true or false, got "yes"`,
			`dr: replication_kms_key.us-west-2: must be a KMS key id, alias (alias/…) or key or alias ARN, got "my key"`,
			`dr: replication_kms_key.Mars: the key must be a region name such as us-west-2`,
			`dr: replication_retention: must be at least one day: a replica's DeleteOn is a UTC date, got "2 hours"`,
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error\n%s\nlacks %q", mode.name, err, want)
			}
		}
	}
}
