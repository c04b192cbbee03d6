package snapper

import (
	"context"
	"fmt"
	"sort"

	"golang.org/x/sync/errgroup"

	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// protections are the listings of what protects snapshots, gathered
// concurrently with the rest of the inventory and then attached to the
// snapshots they protect.
type protections struct {
	amis, locks map[string]inventory.Protection
	templates   map[string][]inventory.Protection
	// drills maps a snapshot to the drill volume restored from it that is
	// not yet deleted (drillVolumes).
	drills map[string]inventory.Protection
	// count is how many snapshots attach found protected.
	count int
}

// list starts the three listings on g: AMIs (disabled ones included),
// snapshot locks and launch templates. Each failure fails the inventory:
// a plan without them would send deletes EC2 refuses (AMIs, locks) or
// break launches (templates).
func (p *protections) list(ctx context.Context, g *errgroup.Group, ec2 EC2) {
	g.Go(func() (err error) {
		p.amis, err = ec2.ImageSnapshots(ctx)
		return err
	})
	g.Go(func() (err error) {
		p.locks, err = ec2.LockedSnapshots(ctx)
		return err
	})
	g.Go(func() (err error) {
		p.templates, err = ec2.LaunchTemplateSnapshots(ctx)
		if err != nil {
			return fmt.Errorf("launch templates: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		vols, err := drillVolumes(ctx, ec2)
		if err != nil {
			return err
		}
		p.drills = map[string]inventory.Protection{}
		for _, v := range vols {
			if v.SnapshotID != "" && v.State != inventory.VolumeDeleted {
				p.drills[v.SnapshotID] = inventory.Protection{Kind: inventory.ProtectedByDrill, Resource: v.ID}
			}
		}
		return nil
	})
}

// attach sets each snapshot's Protections, in a fixed order: AWS Backup
// (from the snapshot itself), AMI, lock, then launch templates by id and
// version, then a running restore drill. Without the listings (no NeedImages) only AWS Backup's are
// known.
func (p *protections) attach(snaps []inventory.Snapshot) {
	for i := range snaps {
		s := &snaps[i]
		var ps []inventory.Protection
		if b, ok := s.AWSBackup(); ok {
			ps = append(ps, b)
		}
		if a, ok := p.amis[s.ID]; ok {
			ps = append(ps, a)
		}
		if l, ok := p.locks[s.ID]; ok {
			ps = append(ps, l)
		}
		if ts := p.templates[s.ID]; len(ts) > 0 {
			ts = append([]inventory.Protection(nil), ts...)
			sort.Slice(ts, func(a, b int) bool {
				return ts[a].Resource+" "+ts[a].Version < ts[b].Resource+" "+ts[b].Version
			})
			ps = append(ps, ts...)
		}
		if d, ok := p.drills[s.ID]; ok {
			ps = append(ps, d)
		}
		s.Protections = ps
		if len(ps) > 0 {
			p.count++
		}
	}
}
