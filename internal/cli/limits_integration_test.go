package cli

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/ebs/ebstest"
	"github.com/ebs-snapper/ebs-snapper/internal/fleet"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// filterValueKey is a Query API filter value parameter, Filter.N.Value.M.
var filterValueKey = regexp.MustCompile(`^Filter\.(\d+)\.Value\.\d+$`)

// tooManyFilterValues reports a request with a filter of more values than
// EC2 takes (ebs.MaxFilterValues).
func tooManyFilterValues(form url.Values) bool {
	n := map[string]int{}
	for k := range form {
		if m := filterValueKey.FindStringSubmatch(k); m != nil {
			n[m[1]]++
		}
	}
	for _, c := range n {
		if c > ebs.MaxFilterValues {
			return true
		}
	}
	return false
}

// limitProxy answers as EC2 does what moto accepts: a Describe call with a
// filter of more than 200 values, and any request using the filter name
// tooMany (standing for a stanza beyond a limit of EC2's that moto does
// not know), with FilterLimitExceeded.
func limitProxy(t *testing.T, target, tooMany string) string {
	t.Helper()
	reject := func(when func(url.Values) bool) ebstest.Rule {
		return ebstest.Rule{Action: "Describe*", Fault: ebstest.Reject, First: math.MaxInt, Code: "FilterLimitExceeded",
			Message: "The maximum number of filter values specified on a single call is 200", When: when}
	}
	p := ebstest.NewProxy(t, target, ebstest.ProxyOptions{Rules: []ebstest.Rule{
		reject(tooManyFilterValues),
		reject(func(form url.Values) bool {
			for k, v := range form {
				if strings.HasSuffix(k, ".Name") && slices.Contains(v, tooMany) {
					return true
				}
			}
			return false
		}),
	}})
	return p.URL
}

// manyInstanceIDs returns real ids spread over n values (one after the
// first 200), the rest ids of no instance.
func manyInstanceIDs(n int, real ...string) []string {
	var ids []string
	for i := range n {
		if j := i - ebs.MaxFilterValues + len(real); j >= 0 && j < len(real) {
			ids = append(ids, real[j])
			continue
		}
		ids = append(ids, fmt.Sprintf("i-%017x", 0xabc000+i))
	}
	return ids
}

// Issue 16 item 6: a stanza matching 250 instance ids, and excluding 250
// volume ids, is listed in calls within EC2's 200 values a filter, each
// instance once; a stanza EC2 still answers FilterLimitExceeded for is
// that stanza's failure only (exit 3), the others run; snapshot, clean,
// plan, report and configure -c alike.
func TestFilterValueLimitIsNotTheAccountsFailure(t *testing.T) {
	e := newEngineEnv(t)
	many := e.launch(fleet.Group{Count: 3, Tags: []inventory.Tag{{Key: "fleet", Value: "many"}}})
	e.launch(fleet.Group{Count: 2, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	var realIDs []string
	for _, i := range many {
		realIDs = append(realIDs, i.ID)
	}
	ids, _ := json.Marshal(manyInstanceIDs(250, realIDs...))
	vols := make([]string, 250)
	for i := range vols {
		vols[i] = fmt.Sprintf("vol-%017x", 0xdef000+i)
	}
	vols[230] = many[2].VolumeIDs[0] // the third instance's volume is excluded
	volsJSON, _ := json.Marshal(vols)
	e.stanza("many", fmt.Sprintf(`{"match": {"instance-id": %s}, "exclude_volumes": {"volume-id": %s}, "snapshot": {"retention": "4 days", "minimum": 2, "frequency": "1 day"}}`, ids, volsJSON))
	e.stanza("web", webStanza)
	e.stanza("beyond", `{"match": {"group-name": "x"}, "snapshot": {"retention": "4 days", "minimum": 2, "frequency": "1 day"}}`)
	proxy := limitProxy(t, e.srv.URL, "group-name")

	stdout, stderr, code := runBinaryWithEndpoint(t, e.srv, proxy, "snapshot", "--region", "us-east-1", "--json")
	if code != ExitPartial {
		t.Fatalf("snapshot: exit %d, want %d\n%s\n%s", code, ExitPartial, stdout, stderr)
	}
	var out output
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err, stdout)
	}
	rr := out.Regions[0]
	if rr.Error != "" || rr.Summary.Created != 4 || len(rr.InvalidStanzas) != 1 || rr.InvalidStanzas[0].ConfigID != "beyond" ||
		!strings.Contains(rr.InvalidStanzas[0].Error, "FilterLimitExceeded") {
		t.Errorf("snapshot: region error %q, created %d (want 2 of many, 2 of web), invalid %+v", rr.Error, rr.Summary.Created, rr.InvalidStanzas)
	}
	byVol := e.snapshots()
	for _, inst := range many {
		want := 1
		if inst.ID == many[2].ID {
			want = 0
		}
		if got := len(byVol[inst.VolumeIDs[0]]); got != want {
			t.Errorf("instance %s: %d snapshots, want %d", inst.ID, got, want)
		}
	}
	for _, args := range [][]string{{"clean", "--region", "us-east-1"}, {"plan", "--region", "us-east-1"}, {"report", "--region", "us-east-1"}, {"configure", "-c"}} {
		stdout, stderr, code := runBinaryWithEndpoint(t, e.srv, proxy, args...)
		want := code == ExitPartial
		if args[0] == "report" {
			// report does not read exclude_volumes: it counts the excluded
			// volume missing (exit 4), a fault of its own.
			want = code == ExitPartial || code == ExitLate
		}
		if !want || !strings.Contains(stdout+stderr, "beyond") || strings.Contains(stdout+stderr, "many: ") {
			t.Errorf("%s: exit %d, want %d naming beyond only\n%s\n%s", strings.Join(args, " "), code, ExitPartial, stdout, stderr)
		}
	}
}
