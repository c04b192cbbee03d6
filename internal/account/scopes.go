package account

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"

	"github.com/ebs-snapper/ebs-snapper/internal/config"
	"github.com/ebs-snapper/ebs-snapper/internal/configstore"
)

// Organization is the reserved aws_account_id key of the hub's table
// whose stanzas apply to every account of an organisation run (a run
// given its accounts: --account, --all-accounts, or a cell message naming
// its account), unless the account, or an OU nearer to it, has a stanza
// of the same id.
const Organization = "organization"

// ouKey is an organisational unit id as Organizations writes it: "ou-",
// the root's 4-32 characters, "-", 8-32 characters.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_OrganizationalUnit.html
var ouKey = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)

// accountKey is a 12-digit AWS account id.
var accountKey = regexp.MustCompile(`^[0-9]{12}$`)

// KeyError is an aws_account_id key that is none of: an account id (12
// digits), Organization, or an OU id.
type KeyError struct{ Key string }

func (e *KeyError) Error() string {
	return fmt.Sprintf("aws_account_id %q: want a 12-digit account id, %q (every account of an organisation run) or an organisational unit id such as ou-ab12-cdef3456", e.Key, Organization)
}

// CheckKey returns a *KeyError unless key is an aws_account_id key the
// table may hold stanzas under.
func CheckKey(key string) error {
	if key == Organization || ouKey.MatchString(key) || accountKey.MatchString(key) {
		return nil
	}
	return &KeyError{Key: key}
}

// IsOU says whether key is an organisational unit id.
func IsOU(key string) bool { return ouKey.MatchString(key) }

// Scopes are the keys whose stanzas govern an account of an organisation
// run, widest first: Organization, then the account's OUs from the root's
// child down (as awsclient.OrgAccount.OUs lists them). The account's own
// key comes after them and wins.
func Scopes(ous []string) []string { return append([]string{Organization}, ous...) }

// loadScoped reads the stanzas of each scope key and then of acct, and
// keeps, for each id, the stanza of the narrowest key that has one: an
// account's stanza wins over an OU's, an OU's over a wider OU's or the
// organisation's. An invalid stanza still takes its id (it is reported,
// and hides the wider valid one: a broken override must not silently fall
// back). Invalid ones name their key when it is not the account's.
func loadScoped(ctx context.Context, store configstore.Lister, acct string, scopes []string) (configstore.Loaded, error) {
	type entry struct {
		st      *config.Stanza
		invalid *configstore.Invalid
	}
	byID := map[string]entry{}
	for _, key := range append(slices.Clone(scopes), acct) {
		loaded, err := configstore.Load(ctx, store, key)
		if err != nil {
			return configstore.Loaded{}, err
		}
		for i := range loaded.Stanzas {
			byID[loaded.Stanzas[i].ID] = entry{st: &loaded.Stanzas[i]}
		}
		for i := range loaded.Invalid {
			inv := loaded.Invalid[i]
			if key != acct {
				inv.Err = fmt.Errorf("%s (stanza of %s): %w", inv.ID, key, inv.Err)
			}
			byID[inv.ID] = entry{invalid: &inv}
		}
	}
	var out configstore.Loaded
	for _, id := range slices.Sorted(maps.Keys(byID)) {
		if e := byID[id]; e.st != nil {
			out.Stanzas = append(out.Stanzas, *e.st)
		} else {
			out.Invalid = append(out.Invalid, *e.invalid)
		}
	}
	return out, nil
}
