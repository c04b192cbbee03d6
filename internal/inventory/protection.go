package inventory

import (
	"fmt"
	"strings"
	"time"
)

// ProtectionKind names what protects a snapshot.
type ProtectionKind string

// The protections the inventory knows. Each one keeps a snapshot whatever
// its DeleteOn says; all but AWS Backup's count toward the volume's
// minimum, since the snapshot stays a restore point.
const (
	// ProtectedByAMI: the snapshot backs an AMI the account owns, enabled
	// or disabled; DeleteSnapshot answers InvalidSnapshot.InUse until the
	// AMI is deregistered.
	ProtectedByAMI ProtectionKind = "ami"
	// ProtectedByLock: an EBS snapshot lock in governance or compliance
	// mode (DescribeLockedSnapshots); DeleteSnapshot is refused until the
	// lock expires or, in governance mode, is removed.
	ProtectedByLock ProtectionKind = "lock"
	// ProtectedByAWSBackup: the snapshot is an AWS Backup recovery point;
	// AWS Backup's lifecycle deletes it, EC2 refuses DeleteSnapshot.
	ProtectedByAWSBackup ProtectionKind = "aws-backup"
	// ProtectedByLaunchTemplate: the default (or latest) version of a
	// launch template maps a volume from the snapshot. EC2 lets the
	// snapshot be deleted, and every launch from that version fails.
	ProtectedByLaunchTemplate ProtectionKind = "launch-template"
	// ProtectedByDrill: a restore drill is creating a volume from the
	// snapshot, or checking one (a volume tagged as an ebs-snapper drill
	// volume, not yet deleted, whose SnapshotId is the snapshot). Clean
	// keeps the snapshot until the drill's volume is gone.
	ProtectedByDrill ProtectionKind = "drill"
)

// Protection is one reference that protects a snapshot from deletion.
type Protection struct {
	Kind ProtectionKind `json:"kind"`
	// Resource is the protecting resource: the AMI id, the launch
	// template id, or for AWS Backup the protected resource's ARN
	// (aws:backup:source-resource, when tagged). Empty for a lock.
	Resource string `json:"resource,omitempty"`
	// Name is the launch template's name.
	Name string `json:"name,omitempty"`
	// Version is the launch template version, with what makes it protect:
	// "3 (default)", "4 (latest)", "3 (default and latest)".
	Version string `json:"version,omitempty"`
	// Disabled marks a disabled AMI (DescribeImages IncludeDisabled).
	Disabled bool `json:"disabled,omitempty"`
	// Mode is the lock's state: "governance", "compliance" or
	// "compliance-cooloff".
	Mode string `json:"mode,omitempty"`
	// Until is when the lock expires (LockExpiresOn).
	Until time.Time `json:"until,omitzero"`
}

// String is the protection as a keep reason says it, e.g. "backs
// ami-0abc", "backs disabled AMI ami-0abc", "locked in compliance mode
// until 2027-01-01T00:00:00Z", "used by launch template lt-1 (web) version
// 3 (default)", "AWS Backup recovery point of arn:…, AWS Backup deletes
// it".
func (p Protection) String() string {
	switch p.Kind {
	case ProtectedByAMI:
		if p.Disabled {
			return "backs disabled AMI " + p.Resource
		}
		return "backs " + p.Resource
	case ProtectedByLock:
		until := "with no expiry date reported"
		if !p.Until.IsZero() {
			until = "until " + p.Until.UTC().Format(time.RFC3339)
		}
		return fmt.Sprintf("locked in %s mode %s", p.Mode, until)
	case ProtectedByAWSBackup:
		of := ""
		if p.Resource != "" {
			of = " of " + p.Resource
		}
		return "AWS Backup recovery point" + of + ", AWS Backup deletes it"
	case ProtectedByLaunchTemplate:
		return fmt.Sprintf("used by launch template %s (%s) version %s", p.Resource, p.Name, p.Version)
	case ProtectedByDrill:
		return "a restore drill is reading it back into volume " + p.Resource
	}
	return string(p.Kind) + " " + p.Resource
}

// Protections renders ps as one clause, joined by "; ".
func Protections(ps []Protection) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, "; ")
}

// AWSBackupSourceTag is the tag AWS Backup puts on the EBS snapshots of
// its recovery points. Tags with the aws: prefix are reserved to AWS: no
// user or role can write or remove them, so the tag is evidence.
const AWSBackupSourceTag = "aws:backup:source-resource"

// awsBackupDescription starts the description AWS Backup gives the
// snapshots it creates ("This snapshot is created by the AWS Backup
// service.").
const awsBackupDescription = "This snapshot is created by the AWS Backup service"

// AWSBackup returns the AWS Backup protection of a snapshot that is an AWS
// Backup recovery point (tagged aws:backup:source-resource, or any aws:backup:
// tag, or described as created by AWS Backup), and false otherwise.
func (s Snapshot) AWSBackup() (Protection, bool) {
	if src, ok := s.Tag(AWSBackupSourceTag); ok {
		return Protection{Kind: ProtectedByAWSBackup, Resource: src}, true
	}
	for _, t := range s.Tags {
		if strings.HasPrefix(t.Key, "aws:backup:") {
			return Protection{Kind: ProtectedByAWSBackup}, true
		}
	}
	if strings.HasPrefix(s.Description, awsBackupDescription) {
		return Protection{Kind: ProtectedByAWSBackup}, true
	}
	return Protection{}, false
}

// Protected reports whether any protection of kind holds the snapshot.
func (s Snapshot) Protected(kind ProtectionKind) bool {
	for _, p := range s.Protections {
		if p.Kind == kind {
			return true
		}
	}
	return false
}

// RecycleBinRule is a Recycle Bin retention rule for EBS snapshots
// (rbin ListRules with resource type EBS_SNAPSHOT, then GetRule): a
// snapshot it covers, once deleted, stays in the bin, billed at the
// snapshot rate, for Retention.
type RecycleBinRule struct {
	ID        string
	Retention time.Duration
	// Tags, when not empty, make the rule tag-level: it covers snapshots
	// carrying at least one of these pairs. Empty: region-level.
	Tags []Tag
	// Exclude, for a region-level rule, are pairs whose snapshots it does
	// not cover (any one of them excludes).
	Exclude []Tag
}

// Covers reports whether the rule retains s once s is deleted. A tag pair
// with an empty value matches any value of the key, as Recycle Bin's
// resource tags do.
func (r RecycleBinRule) Covers(s Snapshot) bool {
	if len(r.Tags) > 0 {
		return hasAnyTag(s.Tags, r.Tags)
	}
	return !hasAnyTag(s.Tags, r.Exclude)
}

func hasAnyTag(tags, pairs []Tag) bool {
	for _, p := range pairs {
		if v, ok := TagValue(tags, p.Key); ok && (p.Value == "" || v == p.Value) {
			return true
		}
	}
	return false
}

// Lock modes of an EBS snapshot lock (LockSnapshot's LockMode).
const (
	LockGovernance = "governance"
	LockCompliance = "compliance"
)

// Lock is a snapshot lock to place: Mode (LockGovernance or
// LockCompliance) until Until, with, in compliance mode, a cooling-off
// period CoolOff (whole hours, 1 to 72; zero for none) during which the
// lock can still be removed.
type Lock struct {
	Mode    string
	Until   time.Time
	CoolOff time.Duration
}
