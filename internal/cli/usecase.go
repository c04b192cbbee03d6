package cli

import (
	"context"

	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// useCase is the engine's use case a run command runs: name is the
// pipeline its report names (the "job" of --json), run the Engine method.
type useCase struct {
	name string
	run  func(*snapper.Engine, context.Context) snapper.Report
}

// The use cases of snapshot, clean, replicate and plan.
var (
	snapshotUseCase  = useCase{snapper.PipelineSnapshot, (*snapper.Engine).Snapshot}
	cleanUseCase     = useCase{snapper.PipelineClean, (*snapper.Engine).Clean}
	replicateUseCase = useCase{snapper.PipelineReplication, (*snapper.Engine).Replicate}
	planUseCase      = useCase{snapper.PipelinePlan, (*snapper.Engine).Plan}
)

// String is the pipeline's name, as lease keys and messages write it.
func (u useCase) String() string { return u.name }
