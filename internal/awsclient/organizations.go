package awsclient

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// OrganizationsAPI is the part of the Organizations client that
// OrgAccounts and OrgPath call, with the SDK's signatures:
// *organizations.Client implements it, and OrganizationsIAMActions
// derives the IAM actions from it.
type OrganizationsAPI interface {
	ListRoots(ctx context.Context, in *organizations.ListRootsInput, optFns ...func(*organizations.Options)) (*organizations.ListRootsOutput, error)
	ListOrganizationalUnitsForParent(ctx context.Context, in *organizations.ListOrganizationalUnitsForParentInput, optFns ...func(*organizations.Options)) (*organizations.ListOrganizationalUnitsForParentOutput, error)
	ListAccountsForParent(ctx context.Context, in *organizations.ListAccountsForParentInput, optFns ...func(*organizations.Options)) (*organizations.ListAccountsForParentOutput, error)
	ListParents(ctx context.Context, in *organizations.ListParentsInput, optFns ...func(*organizations.Options)) (*organizations.ListParentsOutput, error)
}

// OrganizationsIAMActions returns, sorted, the IAM actions of
// OrganizationsAPI: what a role that lists the organisation must grant.
func OrganizationsIAMActions() []string {
	return IAMActions("organizations", reflect.TypeFor[OrganizationsAPI]())
}

// OrgAccount is one member account of an organisation, as Organizations
// lists it.
type OrgAccount struct {
	// ID is the 12-digit account id.
	ID string
	// Name is the account's name.
	Name string
	// Status is ACTIVE, SUSPENDED or PENDING_CLOSURE
	// (https://docs.aws.amazon.com/organizations/latest/APIReference/API_Account.html).
	Status string
	// OUs are the organisational units that hold the account, from the
	// root's child down to the account's own parent ("ou-…" ids); empty
	// for an account directly under the root.
	OUs []string
}

// Active says whether the account can be worked in: a SUSPENDED or
// PENDING_CLOSURE account answers no call.
func (a OrgAccount) Active() bool { return a.Status == string(orgtypes.AccountStatusActive) }

// OrgAccounts returns the accounts of the organisation that cfg's
// credentials belong to (which must be its management account or a
// delegated administrator), sorted by id, each with its OU path. With
// units, only the accounts under those OUs (or the root, "r-…") at any
// depth. It walks the tree from each root with
// ListOrganizationalUnitsForParent and ListAccountsForParent, the calls
// that return an account's status along with its place
// (https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccountsForParent.html).
// A unit that is not in the organisation is an error naming it.
func OrgAccounts(ctx context.Context, cfg aws.Config, units []string) ([]OrgAccount, error) {
	var api OrganizationsAPI = organizations.NewFromConfig(cfg)
	var roots []string
	p := organizations.NewListRootsPaginator(api, &organizations.ListRootsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the organisation's roots with organizations:ListRoots: %w", err)
		}
		for _, r := range page.Roots {
			roots = append(roots, aws.ToString(r.Id))
		}
	}
	w := walker{api: api, want: units, seen: map[string]bool{}}
	for _, r := range roots {
		if err := w.walk(ctx, r, nil, len(units) == 0 || slices.Contains(units, r)); err != nil {
			return nil, err
		}
	}
	for _, u := range units {
		if !w.seen[u] {
			return nil, fmt.Errorf("organisational unit %s: not in the organisation (roots: %s)", u, strings.Join(roots, ", "))
		}
	}
	slices.SortFunc(w.out, func(a, b OrgAccount) int { return strings.Compare(a.ID, b.ID) })
	return slices.CompactFunc(w.out, func(a, b OrgAccount) bool { return a.ID == b.ID }), nil
}

type walker struct {
	api  OrganizationsAPI
	want []string
	seen map[string]bool
	out  []OrgAccount
}

// walk lists the accounts and units under parent; in says whether parent
// is within the units asked for; path is parent's OU path.
func (w *walker) walk(ctx context.Context, parent string, path []string, in bool) error {
	w.seen[parent] = true
	if in {
		p := organizations.NewListAccountsForParentPaginator(w.api, &organizations.ListAccountsForParentInput{ParentId: aws.String(parent)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("list the accounts of %s with organizations:ListAccountsForParent: %w", parent, err)
			}
			for _, a := range page.Accounts {
				w.out = append(w.out, OrgAccount{ID: aws.ToString(a.Id), Name: aws.ToString(a.Name), Status: string(a.Status), OUs: slices.Clone(path)})
			}
		}
	}
	p := organizations.NewListOrganizationalUnitsForParentPaginator(w.api, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parent)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list the organisational units of %s with organizations:ListOrganizationalUnitsForParent: %w", parent, err)
		}
		for _, ou := range page.OrganizationalUnits {
			id := aws.ToString(ou.Id)
			if err := w.walk(ctx, id, append(slices.Clone(path), id), in || slices.Contains(w.want, id)); err != nil {
				return err
			}
		}
	}
	return nil
}

// ErrNoOrganization is returned by OrgMember when the caller's account is
// in no organisation (AWSOrganizationsNotInUseException).
var ErrNoOrganization = errors.New("the account is in no organisation")

// ErrNotMember is returned by OrgMember when the account is not a member
// of the caller's organisation (ListParents answers
// ChildNotFoundException; moto answers AccountNotFoundException): an
// account listed by id whose spoke trusts an external id instead.
var ErrNotMember = errors.New("the account is not a member of the hub's organisation")

// OrgMember returns account as its organisation lists it, for a run
// given its accounts by id rather than from the tree: its OU path (root's
// child first; nil under the root) from organizations:ListParents, and
// its name and status from organizations:ListAccountsForParent of its
// parent, so that a closed account given by id is skipped as one found in
// the tree is. ErrNoOrganization when the caller is in no organisation,
// ErrNotMember when the account is not in it.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListParents.html
func OrgMember(ctx context.Context, cfg aws.Config, account string) (OrgAccount, error) {
	var api OrganizationsAPI = organizations.NewFromConfig(cfg)
	var path []string
	parent := ""
	child := account
	for range 6 { // OUs nest at most five deep under a root.
		out, err := api.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(child)})
		var none *orgtypes.AWSOrganizationsNotInUseException
		if errors.As(err, &none) {
			return OrgAccount{}, ErrNoOrganization
		}
		var missingChild *orgtypes.ChildNotFoundException
		var missingAccount *orgtypes.AccountNotFoundException
		if child == account && (errors.As(err, &missingChild) || errors.As(err, &missingAccount)) {
			return OrgAccount{}, fmt.Errorf("account %s: %w", account, ErrNotMember)
		}
		if err != nil {
			return OrgAccount{}, fmt.Errorf("find the organisational units of account %s with organizations:ListParents: %w", account, err)
		}
		if len(out.Parents) == 0 {
			break
		}
		if parent == "" {
			parent = aws.ToString(out.Parents[0].Id)
		}
		if out.Parents[0].Type == orgtypes.ParentTypeRoot {
			break
		}
		child = aws.ToString(out.Parents[0].Id)
		path = append([]string{child}, path...)
	}
	member := OrgAccount{ID: account, OUs: path}
	if parent == "" {
		return member, nil
	}
	p := organizations.NewListAccountsForParentPaginator(api, &organizations.ListAccountsForParentInput{ParentId: aws.String(parent)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return OrgAccount{}, fmt.Errorf("read the status of account %s with organizations:ListAccountsForParent of %s: %w", account, parent, err)
		}
		for _, a := range page.Accounts {
			if aws.ToString(a.Id) == account {
				member.Name, member.Status = aws.ToString(a.Name), string(a.Status)
				return member, nil
			}
		}
	}
	return member, nil
}
