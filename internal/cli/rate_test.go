package cli

import "testing"

// --rate, --rate-scale and --copy-limit are checked before any AWS call: a
// mistake is a usage error naming the flag and the item. snapshot and clean
// plan no copies and have no --copy-limit.
func TestRunFlagsUsageErrors(t *testing.T) {
	checkUsageErrors(t, []usageCase{
		{[]string{"snapshot", "--rate", "CreateSnapshot=fast"}, `--rate: rate "CreateSnapshot=fast": "fast" is not a number`},
		{[]string{"clean", "--rate", "Delete=3"}, `--rate: rate "Delete=3": unknown action "Delete"; one of`},
		{[]string{"plan", "--rate-scale", "0"}, "--rate-scale 0: want a number > 0"},
		{[]string{"snapshot", "--rate-scale", "x"}, `invalid argument "x" for "--rate-scale"`},
		{[]string{"replication", "--copy-limit", "0"}, "--copy-limit 0: want 1 or more"},
		{[]string{"plan", "--copy-limit", "-5"}, "--copy-limit -5: want 1 or more"},
		{[]string{"plan", "--copy-limit", "many"}, `invalid argument "many" for "--copy-limit"`},
		{[]string{"snapshot", "--copy-limit", "30"}, "unknown flag: --copy-limit"},
		// configure -c runs the engine on sources the factory paces, as
		// every run's: it reads the flags too (it ignored them).
		{[]string{"configure", "-c", "--rate", "CreateSnapshot=fast"}, `--rate: rate "CreateSnapshot=fast": "fast" is not a number`},
		{[]string{"configure", "-c", "--rate-scale", "-1"}, "--rate-scale -1: want a number > 0"},
	})
}

func TestRateFlagsParsed(t *testing.T) {
	g := &globalOptions{rates: "CreateSnapshot=3,DeleteSnapshot=4", rateScale: 0.5}
	opts, err := g.pacing()
	if err != nil || opts.Rates["CreateSnapshot"] != 3 || opts.Rates["DeleteSnapshot"] != 4 || opts.Scale != 0.5 {
		t.Errorf("pacing = %+v, %v", opts, err)
	}
}
