package snapper

import (
	"fmt"
	"strings"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// Protected counts a region's snapshots by what protects them from
// deletion (a snapshot with several protections counts under each), and
// the Recycle Bin rules that keep deleted snapshots billed.
type Protected struct {
	AMI            int `json:"ami"`
	Lock           int `json:"lock"`
	AWSBackup      int `json:"aws_backup"`
	LaunchTemplate int `json:"launch_template"`
	// WithDeleteOn counts the protected snapshots that carry a DeleteOn
	// tag: clean keeps them past that date, for as long as the protection
	// lasts.
	WithDeleteOn int `json:"with_delete_on"`
	// RecycleBinRules counts the Recycle Bin rules for EBS snapshots;
	// RecycleBinCovered the snapshots one of them would keep in the bin,
	// billed, once deleted, and RecycleBinGiB their source volumes' size.
	RecycleBinRules   int   `json:"recycle_bin_rules"`
	RecycleBinCovered int   `json:"recycle_bin_covered"`
	RecycleBinGiB     int64 `json:"recycle_bin_gib"`
}

// CountProtected counts what protects snaps (with their Protections, as
// BuildInventory attaches them) and what rules cover.
func CountProtected(snaps []inventory.Snapshot, rules []inventory.RecycleBinRule) Protected {
	p := Protected{RecycleBinRules: len(rules)}
	for _, s := range snaps {
		counted := map[inventory.ProtectionKind]bool{}
		for _, pr := range s.Protections {
			if counted[pr.Kind] {
				continue
			}
			counted[pr.Kind] = true
			switch pr.Kind {
			case inventory.ProtectedByAMI:
				p.AMI++
			case inventory.ProtectedByLock:
				p.Lock++
			case inventory.ProtectedByAWSBackup:
				p.AWSBackup++
			case inventory.ProtectedByLaunchTemplate:
				p.LaunchTemplate++
			}
		}
		if _, ok := s.Tag("DeleteOn"); ok && len(s.Protections) > 0 {
			p.WithDeleteOn++
		}
		for _, r := range rules {
			if r.Covers(s) {
				p.RecycleBinCovered++
				p.RecycleBinGiB += int64(s.VolumeSize)
				break
			}
		}
	}
	return p
}

// Any reports whether anything is protected or a Recycle Bin rule exists.
func (p Protected) Any() bool { return p != Protected{} }

// String is the counts as one sentence, e.g. "3 snapshots back AMIs, 2
// are locked, 1 is AWS Backup's, 1 is used by a launch template (4 of
// them carry DeleteOn); 1 Recycle Bin rule keeps 5 snapshots (40 GiB)
// billed after a delete".
func (p Protected) String() string {
	var parts []string
	for _, c := range []struct {
		n    int
		what string
	}{{p.AMI, "back AMIs"}, {p.Lock, "locked"}, {p.AWSBackup, "AWS Backup recovery points"}, {p.LaunchTemplate, "used by launch templates"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	s := ""
	if len(parts) > 0 {
		s = "protected snapshots: " + strings.Join(parts, ", ") + fmt.Sprintf(" (%d carry DeleteOn and are kept past it)", p.WithDeleteOn)
	}
	if p.RecycleBinRules > 0 {
		if s != "" {
			s += "; "
		}
		s += fmt.Sprintf("%d Recycle Bin rules for EBS snapshots: %d snapshots (up to %d GiB) would stay billed in the bin after a delete",
			p.RecycleBinRules, p.RecycleBinCovered, p.RecycleBinGiB)
	}
	return s
}
