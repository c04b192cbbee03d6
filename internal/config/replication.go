package config

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// The stanza keys that tune replication beyond ebs_snapper's (see
// docs/replication.md). Each is optional.
const (
	keyCopyTags  = "replication_copy_tags"
	keyKMSKey    = "replication_kms_key"
	keyRetention = "replication_retention"
)

// regionName is the form of an AWS region name, such as us-east-1 or
// us-gov-west-1.
var regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// IsRegionName reports whether name has the form of an AWS region name
// (not whether the region exists).
func IsRegionName(name string) bool { return regionName.MatchString(name) }

// kmsKey is what CopySnapshot's KmsKeyId accepts: a key id (UUID or
// multi-Region mrk-…), an alias name, or a key or alias ARN (EC2 API
// reference, CopySnapshot, KmsKeyId).
var kmsKey = regexp.MustCompile(`^(alias/[A-Za-z0-9/_-]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}|arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[A-Za-z0-9/_-]+)$`)

// replicationExtras reads replication_copy_tags, replication_kms_key and
// replication_retention into s. They are errors in either mode when
// malformed: each changes what a copy carries, and none existed in
// ebs_snapper, so no stored stanza can hold an old form of them.
func (p *parser) replicationExtras(top map[string]json.RawMessage, s *Stanza) {
	if raw, ok := top[keyCopyTags]; ok {
		if err := json.Unmarshal(raw, &s.ReplicationCopyTags); err != nil || kind(raw) == 'n' {
			p.fail(keyCopyTags, "must be true or false", raw)
		}
	}
	if raw, ok := top[keyKMSKey]; ok {
		s.ReplicationKMSKeys = p.kmsKeys(raw)
	}
	if raw, ok := top[keyRetention]; ok {
		var v string
		if kind(raw) != '"' || json.Unmarshal(raw, &v) != nil {
			p.fail(keyRetention, `must be a duration such as "30 days"`, raw)
			return
		}
		d, err := ParseDuration(v)
		switch {
		case err != nil:
			p.fail(keyRetention, err.Error(), raw)
		case d < RetentionFloor:
			p.fail(keyRetention, "must be at least one day: a replica's DeleteOn is a UTC date", raw)
		default:
			s.ReplicationRetention = d
		}
	}
}

func (p *parser) kmsKeys(raw json.RawMessage) map[string]string {
	var m map[string]json.RawMessage
	if kind(raw) != '{' || json.Unmarshal(raw, &m) != nil {
		p.fail(keyKMSKey, `must be an object of destination regions to KMS keys, e.g. {"us-west-2": "alias/dr"}`, raw)
		return nil
	}
	keys := map[string]string{}
	for _, region := range slices.Sorted(maps.Keys(m)) {
		at := path(keyKMSKey, region)
		if !regionName.MatchString(region) {
			p.fail(at, "the key must be a region name such as us-west-2", nil)
			continue
		}
		var v string
		if kind(m[region]) != '"' || json.Unmarshal(m[region], &v) != nil || !kmsKey.MatchString(strings.TrimSpace(v)) {
			p.fail(at, "must be a KMS key id, alias (alias/…) or key or alias ARN", m[region])
			continue
		}
		keys[region] = strings.TrimSpace(v)
	}
	return keys
}
