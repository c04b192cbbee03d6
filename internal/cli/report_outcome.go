package cli

import (
	"fmt"

	"github.com/ebs-snapper/ebs-snapper/internal/report"
)

// reportOutcome is report's verdict once printed: a late or missing
// volume (exit 4) wins, then every region failing (exit 1), then no volume
// protected at all (exit 4), then regions that could not be read or
// invalid stored stanzas (exit 3).
func reportOutcome(rep report.Report, failed, regions int) error {
	invalid := len(rep.InvalidStanzas)
	switch {
	case rep.Breach():
		return fmt.Errorf("%w: %d late, %d missing", ErrRPOBreach, rep.Coverage.Late, rep.Coverage.Missing)
	case failed > 0 && failed == regions:
		for _, r := range rep.Regions {
			if r.Error != "" {
				return fmt.Errorf("every region failed, e.g. %s: %s", r.Region, r.Error)
			}
		}
	case rep.Unprotected() != "":
		return fmt.Errorf("%w: %s", ErrNothingProtected, rep.Unprotected())
	case failed > 0 || invalid > 0:
		return partialError(counted(failed, "region could not be read", "regions could not be read"),
			invalidSkipped(invalid, "the volumes only it would match are not in the report"))
	}
	return nil
}
