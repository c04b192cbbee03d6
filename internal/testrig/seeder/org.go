package seeder

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Member is one member account to create in an organisation.
type Member struct {
	Name string
	// OU places the account in a new OU of that name under the root;
	// "" leaves it under the root.
	OU string
	// SpokeRole creates a role of that name in the account, trusting the
	// management account; "" creates none (a spoke the StackSet missed).
	SpokeRole string
	// ExternalID makes the spoke role's trust policy require it.
	ExternalID string
}

// Org is a staged organisation.
type Org struct {
	// Accounts are the member account ids in the order of the members.
	Accounts []string
	// OUs are the OU ids by name.
	OUs map[string]string
}

// Organization makes cfg's account the management account of a new
// organisation and creates the members (moto, or a sandbox), each with
// its OU and spoke role. The roles are created through the
// OrganizationAccountAccessRole that CreateAccount makes in each member.
func Organization(ctx context.Context, cfg aws.Config, members []Member) (Org, error) {
	api := organizations.NewFromConfig(cfg)
	if _, err := api.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		return Org{}, fmt.Errorf("create the organisation: %w", err)
	}
	roots, err := api.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots) == 0 {
		return Org{}, fmt.Errorf("list the roots: %v", err)
	}
	root := aws.ToString(roots.Roots[0].Id)
	org := Org{OUs: map[string]string{}}
	for _, m := range members {
		st, err := api.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(m.Name), Email: aws.String(m.Name + "@example.com")})
		if err != nil {
			return Org{}, fmt.Errorf("create account %s: %w", m.Name, err)
		}
		id := aws.ToString(st.CreateAccountStatus.AccountId)
		org.Accounts = append(org.Accounts, id)
		if m.OU != "" {
			ou, ok := org.OUs[m.OU]
			if !ok {
				out, err := api.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(root), Name: aws.String(m.OU)})
				if err != nil {
					return Org{}, fmt.Errorf("create OU %s: %w", m.OU, err)
				}
				ou = aws.ToString(out.OrganizationalUnit.Id)
				org.OUs[m.OU] = ou
			}
			if _, err := api.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(id), SourceParentId: aws.String(root), DestinationParentId: aws.String(ou)}); err != nil {
				return Org{}, fmt.Errorf("move account %s to %s: %w", id, m.OU, err)
			}
		}
		if m.SpokeRole == "" {
			continue
		}
		if err := spokeRole(ctx, cfg, id, m); err != nil {
			return Org{}, err
		}
	}
	return org, nil
}

// spokeRole creates m's spoke role in account id, acting there through
// its OrganizationAccountAccessRole.
func spokeRole(ctx context.Context, cfg aws.Config, id string, m Member) error {
	admin := cfg.Copy()
	admin.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg),
		"arn:aws:iam::"+id+":role/OrganizationAccountAccessRole"))
	stmt := map[string]any{
		"Effect":    "Allow",
		"Principal": map[string]any{"AWS": "*"},
		"Action":    "sts:AssumeRole",
	}
	if m.ExternalID != "" {
		stmt["Condition"] = map[string]any{"StringEquals": map[string]any{"sts:ExternalId": m.ExternalID}}
	}
	trust, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{stmt}})
	_, err := iam.NewFromConfig(admin).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String(m.SpokeRole),
		AssumeRolePolicyDocument: aws.String(string(trust)),
		MaxSessionDuration:       aws.Int32(int32(time.Hour / time.Second)),
	})
	if err != nil {
		return fmt.Errorf("create the spoke role %s in account %s: %w", m.SpokeRole, id, err)
	}
	return nil
}

// CloseAccount closes a member account: Organizations lists it as
// SUSPENDED from then on.
func CloseAccount(ctx context.Context, cfg aws.Config, id string) error {
	if _, err := organizations.NewFromConfig(cfg).CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(id)}); err != nil {
		return fmt.Errorf("close account %s: %w", id, err)
	}
	return nil
}
