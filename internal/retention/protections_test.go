package retention

import "github.com/ebs-snapper/ebs-snapper/internal/inventory"

// protect adds p to the snapshots of in with the given ids.
func protect(in *Input, p func(id string) inventory.Protection, ids ...string) {
	for i := range in.Snapshots {
		for _, id := range ids {
			if in.Snapshots[i].ID == id {
				in.Snapshots[i].Protections = append(in.Snapshots[i].Protections, p(id))
			}
		}
	}
}

// backsAMIs protects each snapshot named in amis with the AMI it maps to.
func backsAMIs(in *Input, amis map[string]string) {
	for id, ami := range amis {
		protect(in, func(string) inventory.Protection { return amiProtection(ami) }, id)
	}
}

func amiProtection(ami string) inventory.Protection {
	return inventory.Protection{Kind: inventory.ProtectedByAMI, Resource: ami}
}

// backedAMI returns the AMI a snapshot backs in the tests' inputs.
func backedAMI(s inventory.Snapshot) (string, bool) {
	for _, p := range s.Protections {
		if p.Kind == inventory.ProtectedByAMI {
			return p.Resource, true
		}
	}
	return "", false
}
