package deploy

import (
	_ "embed"
	"slices"
)

// The spoke is the thin role in every protected account that the hub's
// workers assume (docs/organizations.md): spoke.json, installed by the
// hub's StackSet. It trusts only the hub's roles, by ARN, checked again by
// aws:PrincipalAccount and either aws:PrincipalOrgID (inside an
// organization) or sts:ExternalId (outside one), and grants, one inline
// policy per hub pipeline, the same EC2 and Recycle Bin statements as that
// pipeline's role in the hub stack (internal/deploy's IAM test compares
// them, and both with handler.Calls).
//
//go:embed spoke.json
var spokeJSON []byte

// SpokeTemplate returns the spoke's CloudFormation template (JSON), as
// embedded in the binary and printed by "deploy --print-spoke-template".
func SpokeTemplate() []byte { return slices.Clone(spokeJSON) }

// The spoke template's parameters that deploy sets on the StackSet.
const (
	SpokeParamRoleName       = "SpokeRoleName"
	SpokeParamHubAccount     = "HubAccountId"
	SpokeParamHubRoles       = "HubRoleArns"
	SpokeParamOrganization   = "OrganizationId"
	SpokeParamExternalID     = "ExternalId"
	SpokeParamAdoptedDeletes = "AllowAdoptedDeletes"
	SpokeParamBoundary       = "PermissionsBoundary"
	SpokeParamRolePath       = "RolePath"
)

// DefaultSpokeRoleName is the spoke role's name unless --spoke-role-name
// says otherwise.
const DefaultSpokeRoleName = "ebs-snapper-spoke"
