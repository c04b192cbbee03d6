package cli

import (
	"fmt"

	"github.com/ebs-snapper/ebs-snapper/internal/report"
	"github.com/ebs-snapper/ebs-snapper/internal/snapper"
)

// reportOutcome is report's verdict once printed: a late or missing
// volume (exit 4) wins; then the verdict every command shares
// (report.Report.Verdict: here only regions fail, and stored stanzas)
// when it failed outright (every region); then no volume protected at all
// (exit 4); then a partial verdict (exit 3).
func reportOutcome(rep report.Report) error {
	if rep.Breach() {
		return fmt.Errorf("%w: %d late, %d missing", ErrRPOBreach, rep.Coverage.Late, rep.Coverage.Missing)
	}
	v := rep.Verdict()
	if v.Outcome == snapper.OutcomeFailed {
		return v.Err()
	}
	if why := rep.Unprotected(); why != "" {
		return fmt.Errorf("%w: %s", ErrNothingProtected, why)
	}
	return v.Err()
}
