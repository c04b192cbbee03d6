package snapper

import "context"

// useCase is one of the Engine's use cases, so that a table test can run
// several; each is one pointer, so that tests can compare them.
type useCase = *engineMethod

// engineMethod is an Engine method and the pipeline it reports.
type engineMethod struct {
	name string
	run  func(*Engine, context.Context) Report
}

func (m *engineMethod) String() string { return m.name }

var (
	useSnapshot  = &engineMethod{PipelineSnapshot, (*Engine).Snapshot}
	useClean     = &engineMethod{PipelineClean, (*Engine).Clean}
	usePlan      = &engineMethod{PipelinePlan, (*Engine).Plan}
	useReplicate = &engineMethod{PipelineReplication, (*Engine).Replicate}
)

// runUseCase runs uc over clients, whose regions are the run's and the
// only enabled ones.
func runUseCase(ctx context.Context, uc useCase, clients []EC2, p Policy, opts Options) Report {
	return uc.run(New(clientRegions(clients...), p, opts), ctx)
}

// runWithOthers runs uc over the run's clients, reaching any other region
// through other (nil for a region not enabled), as a worker of one region
// reaches a replication destination.
func runWithOthers(ctx context.Context, other func(region string) EC2, uc useCase, clients []EC2, p Policy, opts Options) Report {
	return uc.run(New(othersRegions{Regions: clientRegions(clients...), other: other}, p, opts), ctx)
}

// othersRegions is clientRegions with other regions reached through other.
type othersRegions struct {
	Regions
	other func(region string) EC2
}

func (o othersRegions) Client(region string) EC2 {
	if c := o.Regions.Client(region); c != nil {
		return c
	}
	return o.other(region)
}

// clientRegions returns the Regions of clients: their regions are the
// run's and the only enabled ones.
func clientRegions(clients ...EC2) Regions {
	byName := map[string]EC2{}
	var names []string
	for _, c := range clients {
		byName[c.Region()] = c
		names = append(names, c.Region())
	}
	return NewRegions(names, nil, func(region string) EC2 { return byName[region] })
}
