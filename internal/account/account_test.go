package account_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/account/accounttest"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

const daily = `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 5, "frequency": "1 day"}}`

func store(t *testing.T, account string, stanzas map[string]string) *configstore.Memory {
	t.Helper()
	s := &configstore.Memory{}
	for id, js := range stanzas {
		if err := s.Put(t.Context(), configstore.Item{AccountID: account, ID: id, Configuration: js}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func fakes(regions ...string) map[string]*ec2fake.Fake {
	m := map[string]*ec2fake.Fake{}
	for _, r := range regions {
		m[r] = &ec2fake.Fake{}
	}
	return m
}

func TestLoadEveryEnabledRegion(t *testing.T) {
	s := store(t, ec2fake.AccountID, map[string]string{"daily": daily, "broken": `{"match": {}}`})
	env, err := account.Load(t.Context(), accounttest.Sources(fakes("us-west-2", "eu-west-1"), s), account.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if env.Account != ec2fake.AccountID {
		t.Errorf("account %q, want the discovered %s", env.Account, ec2fake.AccountID)
	}
	if diff := cmp.Diff([]string{"eu-west-1", "us-west-2"}, env.Regions.Names()); diff != "" {
		t.Errorf("regions (-want +got):\n%s", diff)
	}
	var clientRegions []string
	for _, r := range env.Regions.Names() {
		clientRegions = append(clientRegions, env.Regions.Client(r).Region())
	}
	if diff := cmp.Diff(env.Regions.Names(), clientRegions); diff != "" {
		t.Errorf("one client per region (-want +got):\n%s", diff)
	}
	if _, ok := env.Policy.Stanzas["daily"]; !ok || len(env.Policy.Stanzas) != 1 {
		t.Errorf("policy stanzas %v, want only daily", env.Policy.Stanzas)
	}
	if len(env.Invalid) != 1 || env.Invalid[0].ID != "broken" || !strings.Contains(env.InvalidMessages()[0], "broken") {
		t.Errorf("invalid %v, want broken reported by name", env.Invalid)
	}
}

func TestLoadGivenAccountAndRegions(t *testing.T) {
	src := accounttest.Sources(fakes("us-west-2", "eu-west-1", "us-east-1"), store(t, "112233445566", map[string]string{"daily": daily}))
	src.Identify = func(context.Context) (string, error) {
		return "", errors.New("STS must not be asked when the account is given")
	}
	env, err := account.Load(t.Context(), src, account.Request{Account: "112233445566", Regions: []string{"us-west-2", "eu-west-1", "us-west-2"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"eu-west-1", "us-west-2"}, env.Regions.Names()); diff != "" {
		t.Errorf("regions sorted and distinct (-want +got):\n%s", diff)
	}
	// Replication reaches an enabled region outside the run, never one the
	// account has not enabled.
	if c := env.Regions.Client("us-east-1"); c == nil || c.Region() != "us-east-1" {
		t.Errorf("client of us-east-1 (enabled, not in the run) = %v, want its client", c)
	}
	if c := env.Regions.Client("ap-south-2"); c != nil {
		t.Errorf("client of ap-south-2 (not enabled) = %v, want nil", c)
	}
	if len(env.Policy.Stanzas) != 1 {
		t.Errorf("stanzas of the given account not read: %v", env.Policy.Stanzas)
	}

	_, err = account.Load(t.Context(), src, account.Request{Account: "112233445566", Regions: []string{"us-west-3"}})
	if !errors.Is(err, account.ErrRegionNotEnabled) || !strings.Contains(err.Error(), `"us-west-3"`) || !strings.Contains(err.Error(), "eu-west-1, us-east-1, us-west-2") {
		t.Errorf("got %v, want ErrRegionNotEnabled naming us-west-3 and the enabled regions", err)
	}
}

func TestLoadErrorsStop(t *testing.T) {
	boom := errors.New("boom")
	for name, breakIt := range map[string]func(*account.Sources){
		"identify": func(s *account.Sources) { s.Identify = func(context.Context) (string, error) { return "", boom } },
		"regions":  func(s *account.Sources) { s.Regions = func(context.Context) ([]string, error) { return nil, boom } },
	} {
		src := accounttest.Sources(fakes("us-east-1"), &configstore.Memory{})
		breakIt(&src)
		if _, err := account.Load(t.Context(), src, account.Request{}); !errors.Is(err, boom) {
			t.Errorf("%s: got %v, want its error", name, err)
		}
	}
}
