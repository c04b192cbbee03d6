package snapper

import (
	"slices"
	"sync"
)

// Regions is one account's EC2 clients by region name: the regions a run
// works on, and every region the account has enabled, which replication
// reaches when a snapshot's tags name one outside the run.
type Regions interface {
	// Names returns the run's regions, sorted and distinct.
	Names() []string
	// Client returns the EC2 client of an enabled region, one of the run's
	// or not, or nil when the account has not enabled it.
	Client(region string) EC2
}

// NewRegions returns the Regions whose run covers names and whose enabled
// regions are names and enabled (each as DescribeRegions names it).
// client makes a region's client, once, on its first use; it must make no
// call to AWS.
func NewRegions(names, enabled []string, client func(region string) EC2) Regions {
	s := &regionSet{names: slices.Compact(slices.Sorted(slices.Values(names))), enabled: map[string]bool{},
		client: client, clients: map[string]EC2{}}
	for _, r := range slices.Concat(names, enabled) {
		s.enabled[r] = true
	}
	return s
}

// OnlyRegions returns r with its run narrowed to the names among
// r.Names() that keep returns true for; Client answers as r's does, so
// replication still reaches every enabled region.
func OnlyRegions(r Regions, keep func(region string) bool) Regions {
	return narrowed{Regions: r, names: slices.DeleteFunc(r.Names(), func(n string) bool { return !keep(n) })}
}

// regionSet is the Regions of NewRegions.
type regionSet struct {
	names   []string
	enabled map[string]bool
	client  func(region string) EC2

	mu      sync.Mutex
	clients map[string]EC2
}

func (s *regionSet) Names() []string { return slices.Clone(s.names) }

func (s *regionSet) Client(region string) EC2 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[region]; ok {
		return c
	}
	if !s.enabled[region] {
		return nil
	}
	c := s.client(region)
	s.clients[region] = c
	return c
}

// narrowed is the Regions of OnlyRegions.
type narrowed struct {
	Regions
	names []string
}

func (n narrowed) Names() []string { return slices.Clone(n.names) }
