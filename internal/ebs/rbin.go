package ebs

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rbin"
	rbintypes "github.com/aws/aws-sdk-go-v2/service/rbin/types"

	"github.com/ebs-snapper/ebs-snapper/internal/awsclient"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// RecycleBinAPI lists exactly the Recycle Bin operations the project
// calls, with the SDK's signatures, so *rbin.Client and ec2fake.Fake are
// interchangeable.
type RecycleBinAPI interface {
	ListRules(ctx context.Context, in *rbin.ListRulesInput, optFns ...func(*rbin.Options)) (*rbin.ListRulesOutput, error)
	GetRule(ctx context.Context, in *rbin.GetRuleInput, optFns ...func(*rbin.Options)) (*rbin.GetRuleOutput, error)
}

var _ RecycleBinAPI = (*rbin.Client)(nil)

// RecycleBinIAMActions returns the IAM actions of RecycleBinAPI, sorted.
func RecycleBinIAMActions() []string {
	return awsclient.IAMActions("rbin", reflect.TypeFor[RecycleBinAPI]())
}

// ErrNoRecycleBin is RecycleBinRules' answer on a Client whose API has no
// Recycle Bin operations (a test's EC2 stand-in without them).
var ErrNoRecycleBin = errors.New("no Recycle Bin client")

// RecycleBinRules returns the region's Recycle Bin retention rules for EBS
// snapshots, pending or available, with their resource and exclusion
// tags: one paginated ListRules (resource type EBS_SNAPSHOT), then one
// GetRule per rule, since ListRules does not say which tags a rule
// selects (at most 250 rules a region, Recycle Bin quotas).
//
// IAM: rbin:ListRules, rbin:GetRule.
func (c *Client) RecycleBinRules(ctx context.Context) ([]inventory.RecycleBinRule, error) {
	if c.rbin == nil {
		return nil, fmt.Errorf("recycle bin rules in %s: %w", c.region, ErrNoRecycleBin)
	}
	var rules []inventory.RecycleBinRule
	p := rbin.NewListRulesPaginator(c.rbin, &rbin.ListRulesInput{ResourceType: rbintypes.ResourceTypeEbsSnapshot})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list Recycle Bin rules for EBS snapshots in %s: %w", c.region, classify(err))
		}
		for _, r := range page.Rules {
			id := aws.ToString(r.Identifier)
			rule, err := c.rbin.GetRule(ctx, &rbin.GetRuleInput{Identifier: aws.String(id)})
			if err != nil {
				return nil, fmt.Errorf("get Recycle Bin rule %s in %s: %w", id, c.region, classify(err))
			}
			rules = append(rules, inventory.RecycleBinRule{ID: id, Retention: retentionPeriod(rule.RetentionPeriod),
				Tags: fromResourceTags(rule.ResourceTags), Exclude: fromResourceTags(rule.ExcludeResourceTags)})
		}
	}
	return rules, nil
}

// retentionPeriod converts a rule's retention; DAYS is the only unit
// Recycle Bin has.
func retentionPeriod(p *rbintypes.RetentionPeriod) time.Duration {
	if p == nil {
		return 0
	}
	return time.Duration(aws.ToInt32(p.RetentionPeriodValue)) * 24 * time.Hour
}

func fromResourceTags(tags []rbintypes.ResourceTag) []inventory.Tag {
	if len(tags) == 0 {
		return nil
	}
	out := make([]inventory.Tag, len(tags))
	for i, t := range tags {
		out[i] = inventory.Tag{Key: aws.ToString(t.ResourceTagKey), Value: aws.ToString(t.ResourceTagValue)}
	}
	return out
}
