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
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/faults"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/seeder"
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
	reject := func(when func(url.Values) bool) faults.Rule {
		return faults.Rule{Action: "Describe*", Fault: faults.Reject, First: math.MaxInt, Code: "FilterLimitExceeded",
			Message: "The maximum number of filter values specified on a single call is 200", When: when}
	}
	p := faults.NewProxy(t, target, faults.ProxyOptions{Rules: []faults.Rule{
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
	many := e.launch(seeder.Group{Count: 3, Tags: []inventory.Tag{{Key: "fleet", Value: "many"}}})
	e.launch(seeder.Group{Count: 2, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
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

// scpDenied is EC2's answer to a call a service control policy denies.
const scpDenied = "You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/ops/me is not authorized to perform: ec2:%s with an explicit deny in a service control policy"

// scpProxy answers every EC2 call of action ("" for all) in region as a
// service control policy denying it.
func scpProxy(t *testing.T, target, region, action string) string {
	t.Helper()
	p := faults.NewProxy(t, target, faults.ProxyOptions{Rules: []faults.Rule{{
		Action: action, Region: region, Fault: faults.Reject, First: math.MaxInt, When: ec2Request,
		Code: "UnauthorizedOperation", Message: fmt.Sprintf(scpDenied, cmpOr(action, "DescribeInstances")),
	}}})
	return p.URL
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Issue 16 item 7: a region a service control policy denies the account
// (every call answered UnauthorizedOperation, explicit deny in a service
// control policy) is skipped with one line naming the policy's answer, in
// snapshot, clean, replication, plan and report alike; the allowed region
// runs and the exit status is 0. A denial of one action in an allowed
// region stays a failure.
func TestRegionDeniedByAServiceControlPolicyIsSkipped(t *testing.T) {
	e := newEngineEnv(t)
	e.launch(seeder.Group{Count: 2, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	e.stanza("web", webStanza)
	denied := scpProxy(t, e.srv.URL, "eu-west-1", "")
	for _, job := range []string{"snapshot", "clean", "replication", "plan", "report"} {
		stdout, stderr, code := runBinaryWithEndpoint(t, e.srv, denied, job, "--region", "us-east-1", "--region", "eu-west-1", "--json")
		if code != ExitOK {
			t.Errorf("%s: exit %d, want 0\n%s\n%s", job, code, stdout, stderr)
			continue
		}
		var out struct {
			Regions []struct {
				Region, Skipped, Error string
			}
		}
		if err := json.Unmarshal([]byte(stdout), &out); err != nil {
			t.Fatalf("%s: %v\n%s", job, err, stdout)
		}
		for _, r := range out.Regions {
			if r.Region == "eu-west-1" && (r.Error != "" || !strings.Contains(r.Skipped, "region denied by a service control policy: You are not authorized")) {
				t.Errorf("%s: eu-west-1 skipped %q, error %q", job, r.Skipped, r.Error)
			}
		}
	}
	if got := e.snapshots(); len(got) != 2 {
		t.Errorf("%d volumes snapshotted in the allowed region, want 2", len(got))
	}

	// In an allowed region, a denial of one action is a failure: of each
	// volume's CreateSnapshot (exit 3), of the snapshot listing (the
	// region fails).
	e.launch(seeder.Group{Count: 1, Tags: []inventory.Tag{{Key: "backup", Value: "yes"}}})
	for _, tc := range []struct {
		action string
		code   int
		want   string
	}{
		{"CreateSnapshot", ExitPartial, `"status": "failed"`},
		// The only region failing is every region failing: exit 1.
		{"DescribeSnapshots", ExitError, "explicit deny in a service control policy"},
	} {
		proxy := scpProxy(t, e.srv.URL, "us-east-1", tc.action)
		stdout, stderr, code := runBinaryWithEndpoint(t, e.srv, proxy, "snapshot", "--region", "us-east-1", "--json")
		if code != tc.code || !strings.Contains(stdout, tc.want) || strings.Contains(stdout, "region denied") {
			t.Errorf("%s denied: exit %d (want %d), report lacks %s or skips the region\n%s\n%s", tc.action, code, tc.code, tc.want, stdout, stderr)
		}
	}
}

// Item 6, the tag limit: an instance with 40 tags whose volume has 30 more
// gets snapshots of exactly 50 tags (EC2's limit a resource), DeleteOn,
// the config id and the run token among them, instead of a CreateSnapshot
// EC2 refuses with TagLimitExceeded on every run.
func TestSnapshotTagsStayWithinEC2sLimit(t *testing.T) {
	e := newEngineEnv(t)
	var instTags, volTags []inventory.Tag
	for i := range 39 {
		instTags = append(instTags, inventory.Tag{Key: fmt.Sprintf("team-%02d", i), Value: "x"})
	}
	instTags = append(instTags, inventory.Tag{Key: "backup", Value: "yes"})
	for i := range 30 {
		volTags = append(volTags, inventory.Tag{Key: fmt.Sprintf("disk-%02d", i), Value: "y"})
	}
	e.launch(seeder.Group{Count: 1, Tags: instTags, VolumeTags: volTags})
	e.stanza("web", webStanza)
	if got := e.run(ExitOK, "snapshot").Regions[0].Summary.Created; got != 1 {
		t.Fatalf("created %d, want 1", got)
	}
	for _, snaps := range e.snapshots() {
		tags := tagMap(snaps[0].Tags)
		if len(snaps[0].Tags) != 50 || tags["DeleteOn"] == "" || tags["ebs-snapper:config-id"] != "web" || tags["ebs-snapper:run"] == "" {
			t.Errorf("snapshot with %d tags %v, want 50 with DeleteOn, the config id and the run token", len(snaps[0].Tags), tags)
		}
	}
}
