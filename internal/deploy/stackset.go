package deploy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfn "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

// SpokeStackSet is the name of the StackSet that installs the spoke role
// (spoke.json) in every protected account.
const SpokeStackSet = "ebs-snapper-spoke"

// Spokes says where the spoke role goes: either OrgUnits (a
// service-managed StackSet deploying automatically to every account of
// those organizational units, now and later) or Accounts (a self-managed
// StackSet, with the StackSet administration and execution roles set up as
// the CloudFormation User Guide's "Grant self-managed permissions" says).
type Spokes struct {
	// OrgUnits are organizational unit ids (ou-…) or the root (r-…).
	OrgUnits []string
	// Accounts are 12-digit account ids.
	Accounts []string
	// RoleName is the spoke role's name; "" is DefaultSpokeRoleName.
	RoleName string
	// Operators are roles of the hub account (full ARNs, path included)
	// that the spokes trust besides the stack's own, for the CLI's runs
	// across accounts (--account, --all-accounts) from the hub.
	Operators []string
	// ExternalID, when set, is what the hub's workers pass to AssumeRole
	// (sts:ExternalId), for accounts outside the hub's organization; unset,
	// the spoke trusts the hub's roles only from within the hub's
	// organization (aws:PrincipalOrgID).
	ExternalID string
}

// Set reports whether s asks for spokes at all.
func (s Spokes) Set() bool { return len(s.OrgUnits) > 0 || len(s.Accounts) > 0 }

var (
	accountID = regexp.MustCompile(`^[0-9]{12}$`)
	orgUnitID = regexp.MustCompile(`^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$`)
	roleName  = regexp.MustCompile(`^[0-9A-Za-z+=,.@_-]{1,64}$`)
	roleARN   = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[0-9A-Za-z+=,.@_/-]+$`)
	// externalID is what STS AssumeRole takes as ExternalId ([\w+=,.@:/-],
	// 2 to 1224 of them), as the templates' patterns say.
	// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
	externalID = regexp.MustCompile(`^[0-9A-Za-z_+=,.@:/-]*$`)
)

// Check checks s without AWS: OrgUnits or Accounts, not both, each well
// formed, and the role name. Errors name the flag and the value.
func (s Spokes) Check() error {
	if len(s.OrgUnits) > 0 && len(s.Accounts) > 0 {
		return errors.New("--org-units and --accounts: give one (a StackSet is service-managed for organizational units, self-managed for accounts)")
	}
	for _, ou := range s.OrgUnits {
		if !orgUnitID.MatchString(ou) {
			return fmt.Errorf("--org-units %q: not an organizational unit id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)", ou)
		}
	}
	for _, a := range s.Accounts {
		if !accountID.MatchString(a) {
			return fmt.Errorf("--accounts %q: not a 12-digit account id", a)
		}
	}
	if s.RoleName != "" && !roleName.MatchString(s.RoleName) {
		return fmt.Errorf("--spoke-role-name %q: not an IAM role name (1 to 64 letters, digits and +=,.@_-)", s.RoleName)
	}
	if len(s.Operators) > 0 && !s.Set() {
		return errors.New("--spoke-trust applies to the spokes: give --org-units or --accounts too")
	}
	for _, a := range s.Operators {
		if !roleARN.MatchString(a) {
			return fmt.Errorf("--spoke-trust %q: not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)", a)
		}
	}
	if s.ExternalID != "" && (len(s.ExternalID) < 2 || len(s.ExternalID) > 1224) {
		return fmt.Errorf("--external-id: %d characters, want 2 to 1224", len(s.ExternalID))
	}
	if !externalID.MatchString(s.ExternalID) {
		return errors.New("--external-id: want letters, digits and _+=,.@:/- only, as STS takes it (no spaces)")
	}
	return nil
}

// The hub stack's parameters that say which accounts its fan-outs send
// cells for and how its workers reach them.
const (
	ParamProtectedAccounts = "ProtectedAccounts"
	ParamSpokeRoleName     = "SpokeRoleName"
	ParamSpokeExternalID   = "SpokeExternalId"
)

// stackParameters are the hub stack's parameters for s: the units or
// accounts in scope, the spoke role's name and the external id; none when
// s asks for no spokes (the stack keeps what it has).
func (s Spokes) stackParameters() map[string]string {
	if !s.Set() {
		return nil
	}
	scope := append(slices.Clone(s.OrgUnits), s.Accounts...)
	return map[string]string{
		ParamProtectedAccounts: strings.Join(scope, ","),
		ParamSpokeRoleName:     cmp.Or(s.RoleName, DefaultSpokeRoleName),
		ParamSpokeExternalID:   s.ExternalID,
	}
}

// hubRoles returns the ARNs of the hub's roles that the spokes trust: the
// stack's (its WorkerRoleArns and ReportRoleArn outputs) and operators,
// each checked to be a role of the hub account, so that the spoke never
// trusts anyone else.
func hubRoles(stack *cfntypes.Stack, hub string, operators []string) ([]string, error) {
	var arns []string
	for _, o := range stack.Outputs {
		switch aws.ToString(o.OutputKey) {
		case "WorkerRoleArns", "ReportRoleArn":
			arns = append(arns, strings.Split(aws.ToString(o.OutputValue), ",")...)
		}
	}
	if len(arns) == 0 {
		return nil, fmt.Errorf("stack %s has no WorkerRoleArns output: deploy the hub stack with this version first", aws.ToString(stack.StackName))
	}
	arns = append(arns, operators...)
	for _, a := range arns {
		// The account is the ARN's fifth field exactly: "…:iam::<hub>:role/"
		// found anywhere in the string is not enough.
		if !roleARN.MatchString(a) || strings.Split(a, ":")[4] != hub {
			return nil, fmt.Errorf("stack %s: role %q is not a role of the hub account %s", aws.ToString(stack.StackName), a, hub)
		}
	}
	slices.Sort(arns)
	return slices.Compact(arns), nil
}

// organization returns the hub's organization id and whether the hub is
// its management account; "" when the hub is in no organization.
func organization(ctx context.Context, api OrganizationsAPI) (string, bool, string, error) {
	out, err := api.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if errorCode(err) == "AWSOrganizationsNotInUseException" {
		return "", false, "", nil
	}
	if err != nil {
		return "", false, "", fmt.Errorf("describe the hub's organization: %w", err)
	}
	return aws.ToString(out.Organization.Id), true, aws.ToString(out.Organization.MasterAccountId), nil
}

// spokeSet is what ensureSpokes and deleteSpokes work with.
type spokeSet struct {
	model  cfntypes.PermissionModels
	callAs cfntypes.CallAs
}

// callAs is how deploy addresses a service-managed StackSet: SELF from the
// organization's management account, DELEGATED_ADMIN from a delegated
// administrator (the recommended hub, docs/organizations.md).
func callAs(hub, management string) cfntypes.CallAs {
	if management == "" || management == hub {
		return cfntypes.CallAsSelf
	}
	return cfntypes.CallAsDelegatedAdmin
}

// ensureSpokes creates or updates the spoke StackSet and its instances so
// that exactly s's organizational units (or accounts) have the spoke role,
// trusting the hub stack's roles: new targets get instances, targets no
// longer listed lose theirs (their role is deleted), after confirm.
func ensureSpokes(ctx context.Context, c Clients, stack *cfntypes.Stack, opts Options) error {
	s := opts.Spokes
	say := func(format string, a ...any) { fmt.Fprintf(opts.Out, format+"\n", a...) }
	roles, err := hubRoles(stack, opts.Account, s.Operators)
	if err != nil {
		return err
	}
	org, inOrg, management, err := organization(ctx, c.Organizations)
	if err != nil {
		return err
	}
	set := spokeSet{model: cfntypes.PermissionModelsSelfManaged, callAs: cfntypes.CallAsSelf}
	if len(s.OrgUnits) > 0 {
		if !inOrg {
			return fmt.Errorf("--org-units: account %s is in no organization; use --accounts with --external-id", opts.Account)
		}
		set = spokeSet{model: cfntypes.PermissionModelsServiceManaged, callAs: callAs(opts.Account, management)}
	}
	if s.ExternalID == "" && !inOrg {
		return fmt.Errorf("--accounts: account %s is in no organization, so the spokes need --external-id to check the hub's calls", opts.Account)
	}
	params := map[string]string{
		SpokeParamRoleName:   cmp.Or(s.RoleName, DefaultSpokeRoleName),
		SpokeParamHubAccount: opts.Account,
		SpokeParamHubRoles:   strings.Join(roles, ","),
		// The external id, when given, is the check: a spoke outside the
		// organization could not match aws:PrincipalOrgID.
		SpokeParamExternalID: s.ExternalID,
	}
	if s.ExternalID == "" {
		params[SpokeParamOrganization] = org
	} else {
		params[SpokeParamOrganization] = ""
	}
	for _, k := range []string{SpokeParamAdoptedDeletes, SpokeParamBoundary, SpokeParamRolePath} {
		if v, ok := stackParameter(stack, k); ok {
			params[k] = v
		}
	}
	var cfParams []cfntypes.Parameter
	for _, k := range slices.Sorted(maps.Keys(params)) {
		cfParams = append(cfParams, cfntypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(params[k])})
	}
	current, err := describeStackSet(ctx, c.StackSets, SpokeStackSet, set.callAs)
	if err != nil {
		return err
	}
	how := "accounts " + strings.Join(s.Accounts, ", ")
	if len(s.OrgUnits) > 0 {
		how = "organizational units " + strings.Join(s.OrgUnits, ", ") + " (new accounts there get it automatically)"
	}
	say("spokes: role %s in %s, trusting %d roles of the hub %s", params[SpokeParamRoleName], how, len(roles), opts.Account)
	if current != nil && current.PermissionModel != set.model {
		return fmt.Errorf("stack set %s is %s; deploying it %s means deleting it first (deploy --delete-spokes)", SpokeStackSet, current.PermissionModel, set.model)
	}
	if err := ask(opts.Confirm, fmt.Sprintf("Install or update the spoke role through stack set %s?", SpokeStackSet)); err != nil {
		return err
	}
	body := string(spokeJSON)
	caps := []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam}
	if current == nil {
		in := &cfn.CreateStackSetInput{
			StackSetName: aws.String(SpokeStackSet), TemplateBody: aws.String(body), Parameters: cfParams,
			Capabilities: caps, PermissionModel: set.model, CallAs: set.callAs,
			Description: aws.String("ebs-snapper spoke role, trusted by the hub " + opts.Account + " (docs/organizations.md)"),
		}
		if set.model == cfntypes.PermissionModelsServiceManaged {
			in.AutoDeployment = &cfntypes.AutoDeployment{Enabled: aws.Bool(true), RetainStacksOnAccountRemoval: aws.Bool(false)}
			in.ManagedExecution = &cfntypes.ManagedExecution{Active: aws.Bool(true)}
		}
		if _, err := c.StackSets.CreateStackSet(ctx, in); err != nil {
			return fmt.Errorf("create stack set %s in %s: %w", SpokeStackSet, opts.Region, err)
		}
		say("stack set %s (%s): created, %s", SpokeStackSet, opts.Region, set.model)
	} else if aws.ToString(current.TemplateBody) != body || !sameParameters(current.Parameters, params) {
		out, err := c.StackSets.UpdateStackSet(ctx, &cfn.UpdateStackSetInput{
			StackSetName: aws.String(SpokeStackSet), TemplateBody: aws.String(body), Parameters: cfParams,
			Capabilities: caps, CallAs: set.callAs, OperationPreferences: operationPreferences,
		})
		if err != nil {
			return fmt.Errorf("update stack set %s in %s: %w", SpokeStackSet, opts.Region, err)
		}
		if err := waitOperation(ctx, c.StackSets, SpokeStackSet, aws.ToString(out.OperationId), set.callAs, opts.Progress); err != nil {
			return err
		}
		say("stack set %s (%s): updated", SpokeStackSet, opts.Region)
	} else {
		say("stack set %s (%s): no changes", SpokeStackSet, opts.Region)
	}
	return reconcileInstances(ctx, c, set, opts)
}

// reconcileInstances adds the instances of the targets s lists that the set
// lacks and removes those of the targets it no longer lists, in the hub's
// region only (the spoke is an IAM role, which is global).
func reconcileInstances(ctx context.Context, c Clients, set spokeSet, opts Options) error {
	s := opts.Spokes
	say := func(format string, a ...any) { fmt.Fprintf(opts.Out, format+"\n", a...) }
	accounts, units, err := instances(ctx, c.StackSets, SpokeStackSet, set.callAs)
	if err != nil {
		return err
	}
	have, want, kind := accounts, s.Accounts, "accounts"
	if set.model == cfntypes.PermissionModelsServiceManaged {
		have, want, kind = units, s.OrgUnits, "organizational units"
	}
	var add, remove []string
	for _, t := range want {
		if !slices.Contains(have, t) {
			add = append(add, t)
		}
	}
	for _, t := range have {
		if !slices.Contains(want, t) {
			remove = append(remove, t)
		}
	}
	if len(add) > 0 {
		in := &cfn.CreateStackInstancesInput{StackSetName: aws.String(SpokeStackSet), Regions: []string{opts.Region},
			CallAs: set.callAs, OperationPreferences: operationPreferences}
		targets(set, add, &in.Accounts, &in.DeploymentTargets)
		out, err := c.StackSets.CreateStackInstances(ctx, in)
		if err != nil {
			return fmt.Errorf("create the spoke in %s %s: %w", kind, strings.Join(add, ", "), err)
		}
		if err := waitOperation(ctx, c.StackSets, SpokeStackSet, aws.ToString(out.OperationId), set.callAs, opts.Progress); err != nil {
			return err
		}
		say("spokes: added to %s %s", kind, strings.Join(add, ", "))
	}
	if len(remove) > 0 {
		if err := ask(opts.Confirm, fmt.Sprintf("Remove the spoke role from %s %s, which the command no longer lists?", kind, strings.Join(remove, ", "))); err != nil {
			return err
		}
		if err := removeInstances(ctx, c.StackSets, set, opts.Region, remove, opts.Progress); err != nil {
			return err
		}
		say("spokes: removed from %s %s", kind, strings.Join(remove, ", "))
	}
	if len(add) == 0 && len(remove) == 0 {
		say("spokes: %s %s already have the role", kind, strings.Join(want, ", "))
	}
	return nil
}

// targets sets a StackSet call's accounts (self-managed) or organizational
// units (service-managed).
func targets(set spokeSet, ids []string, accounts *[]string, dt **cfntypes.DeploymentTargets) {
	if set.model == cfntypes.PermissionModelsServiceManaged {
		*dt = &cfntypes.DeploymentTargets{OrganizationalUnitIds: ids}
		return
	}
	*accounts = ids
}

// removeInstances deletes the spoke's stack instances (and so the role) of
// ids in region and waits for it.
func removeInstances(ctx context.Context, api StackSetAPI, set spokeSet, region string, ids []string, progress io.Writer) error {
	in := &cfn.DeleteStackInstancesInput{StackSetName: aws.String(SpokeStackSet), Regions: []string{region},
		RetainStacks: aws.Bool(false), CallAs: set.callAs, OperationPreferences: operationPreferences}
	targets(set, ids, &in.Accounts, &in.DeploymentTargets)
	out, err := api.DeleteStackInstances(ctx, in)
	if err != nil {
		return fmt.Errorf("delete the spoke from %s: %w", strings.Join(ids, ", "), err)
	}
	return waitOperation(ctx, api, SpokeStackSet, aws.ToString(out.OperationId), set.callAs, progress)
}

// deleteSpokes removes every instance of the spoke StackSet, then the
// set: no spoke role is left in any account. A missing set is no error.
func deleteSpokes(ctx context.Context, c Clients, opts Options) error {
	say := func(format string, a ...any) { fmt.Fprintf(opts.Out, format+"\n", a...) }
	set := spokeSet{callAs: cfntypes.CallAsSelf}
	current, err := describeStackSet(ctx, c.StackSets, SpokeStackSet, set.callAs)
	if err != nil {
		return err
	}
	if current == nil {
		// A set made from a delegated administrator is seen only as one;
		// an account that is none is refused, and so has no such set.
		if d, err := describeStackSet(ctx, c.StackSets, SpokeStackSet, cfntypes.CallAsDelegatedAdmin); err == nil && d != nil {
			current, set.callAs = d, cfntypes.CallAsDelegatedAdmin
		}
	}
	if current == nil {
		say("stack set %s (%s): none", SpokeStackSet, opts.Region)
		return nil
	}
	set.model = current.PermissionModel
	accounts, units, err := instances(ctx, c.StackSets, SpokeStackSet, set.callAs)
	if err != nil {
		return err
	}
	ids, kind := accounts, "accounts"
	if set.model == cfntypes.PermissionModelsServiceManaged {
		ids, kind = units, "organizational units"
	}
	if len(ids) > 0 {
		if err := removeInstances(ctx, c.StackSets, set, opts.Region, ids, opts.Progress); err != nil {
			return err
		}
		say("spokes: removed from %s %s", kind, strings.Join(ids, ", "))
	}
	if _, err := c.StackSets.DeleteStackSet(ctx, &cfn.DeleteStackSetInput{StackSetName: aws.String(SpokeStackSet), CallAs: set.callAs}); err != nil {
		return fmt.Errorf("delete stack set %s in %s: %w", SpokeStackSet, opts.Region, err)
	}
	say("stack set %s (%s): deleted", SpokeStackSet, opts.Region)
	return nil
}

// sameParameters reports whether the set's parameters are want's. A NoEcho
// parameter (ExternalId) comes back masked, so a set with an external id
// is always updated: one role per account, and never a stale id kept.
func sameParameters(have []cfntypes.Parameter, want map[string]string) bool {
	got := map[string]string{}
	for _, p := range have {
		got[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}
