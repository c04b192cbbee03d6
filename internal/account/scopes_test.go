package account_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ebs-snapper/ebs-snapper/internal/account"
	"github.com/ebs-snapper/ebs-snapper/internal/account/accounttest"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
	"github.com/ebs-snapper/ebs-snapper/internal/testrig/ec2fake"
)

const weekly = `{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "30 days", "minimum": 2, "frequency": "7 days"}}`

// TestLoadScopes: an organisation run reads the organisation's stanzas,
// then its OUs', then the account's; for one id the narrowest key wins,
// and an invalid override hides the wider valid stanza (reported, never
// silently replaced by the wider one).
func TestLoadScopes(t *testing.T) {
	const ou = "ou-ab12-cdef3456"
	s := &configstore.Memory{}
	put := func(key, id, js string) {
		t.Helper()
		if err := s.Put(t.Context(), configstore.Item{AccountID: key, ID: id, Configuration: js}); err != nil {
			t.Fatal(err)
		}
	}
	put(account.Organization, "base", daily)
	put(account.Organization, "weekly", daily)
	put(account.Organization, "broken-override", daily)
	put(ou, "weekly", weekly)
	put(ec2fake.AccountID, "mine", weekly)
	put(ec2fake.AccountID, "broken-override", `{"match": {}}`)
	put("999999999999", "other", daily)

	src := accounttest.Sources(fakes("us-west-2"), s)
	env, err := account.Load(t.Context(), src, account.Request{Scopes: account.Scopes([]string{ou})})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for id := range env.Policy.Stanzas {
		ids = append(ids, id)
	}
	if len(ids) != 3 || env.Policy.Stanzas["base"].ID == "" || env.Policy.Stanzas["mine"].ID == "" {
		t.Fatalf("stanzas %v, want base (organisation), weekly (OU) and mine (account)", ids)
	}
	if got := env.Policy.Stanzas["weekly"].Minimum; got != 2 {
		t.Errorf("weekly minimum %d, want the OU's 2 over the organisation's 5", got)
	}
	if len(env.Invalid) != 1 || env.Invalid[0].ID != "broken-override" {
		t.Errorf("invalid %v, want the account's broken-override, hiding the organisation's", env.Invalid)
	}

	// A single-account run reads the account's stanzas only.
	env, err = account.Load(t.Context(), src, account.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if len(env.Policy.Stanzas) != 1 || env.Policy.Stanzas["mine"].ID == "" {
		t.Errorf("single-account stanzas %v, want mine only", env.Policy.Stanzas)
	}
}

// TestLoadScopeInvalidNamesKey: an invalid organisation stanza says whose
// it is.
func TestLoadScopeInvalidNamesKey(t *testing.T) {
	s := store(t, account.Organization, map[string]string{"bad": `{"match": {}}`})
	env, err := account.Load(t.Context(), accounttest.Sources(fakes("us-west-2"), s), account.Request{Scopes: account.Scopes(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if len(env.Invalid) != 1 || !strings.Contains(env.InvalidMessages()[0], "stanza of organization") {
		t.Errorf("invalid %v, want bad named as the organisation's", env.InvalidMessages())
	}
}

func TestCheckKey(t *testing.T) {
	for _, key := range []string{"123456789012", "organization", "ou-ab12-cdef3456", "ou-abcd-0123456789abcdef"} {
		if err := account.CheckKey(key); err != nil {
			t.Errorf("CheckKey(%q): %v", key, err)
		}
	}
	for _, key := range []string{"", "12345678901", "1234567890123", "Organization", "organisation", "ou-AB12-cdef3456", "ou-ab1-cdef3456", "r-ab12"} {
		var ke *account.KeyError
		if err := account.CheckKey(key); !errors.As(err, &ke) || !strings.Contains(err.Error(), "organization") {
			t.Errorf("CheckKey(%q) = %v, want a *KeyError naming the forms", key, err)
		}
	}
}

func TestSessionName(t *testing.T) {
	for in, want := range map[string]string{
		"ebs-snapper-snapshot-us-west-2": "ebs-snapper-snapshot-us-west-2",
		"ebs-snapper-cli:me/x y":         "ebs-snapper-cli-me-x-y",
		"":                               "ebs-snapper",
		strings.Repeat("a", 70):          strings.Repeat("a", 64),
	} {
		if got := account.SessionName(in); got != want {
			t.Errorf("SessionName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRoleARN(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1":     "arn:aws:iam::222222222222:role/spoke",
		"cn-north-1":    "arn:aws-cn:iam::222222222222:role/spoke",
		"us-gov-west-1": "arn:aws-us-gov:iam::222222222222:role/spoke",
	} {
		if got := account.RoleARN("222222222222", region, "spoke"); got != want {
			t.Errorf("RoleARN in %s = %s, want %s", region, got, want)
		}
	}
}

// The workers' role name is the stack's RolePath and SpokeRoleName
// ("/" + name by default, "/ebs-snapper/" + name under a path): the ARN
// assumed is the spoke role's, path included, never "role//…".
func TestRoleARNWithPath(t *testing.T) {
	for name, want := range map[string]string{
		"/ebs-snapper-spoke":             "arn:aws:iam::222222222222:role/ebs-snapper-spoke",
		"/ebs-snapper/ebs-snapper-spoke": "arn:aws:iam::222222222222:role/ebs-snapper/ebs-snapper-spoke",
		"ebs-snapper/ebs-snapper-spoke":  "arn:aws:iam::222222222222:role/ebs-snapper/ebs-snapper-spoke",
	} {
		if got := account.RoleARN("222222222222", "eu-west-1", name); got != want {
			t.Errorf("RoleARN(%q) = %s, want %s", name, got, want)
		}
	}
}
