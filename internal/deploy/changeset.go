package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfn "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// ChangeSetAPI lists the CloudFormation change-set operations deploy calls
// to preview an update before executing it.
type ChangeSetAPI interface {
	CreateChangeSet(ctx context.Context, in *cfn.CreateChangeSetInput, optFns ...func(*cfn.Options)) (*cfn.CreateChangeSetOutput, error)
	DescribeChangeSet(ctx context.Context, in *cfn.DescribeChangeSetInput, optFns ...func(*cfn.Options)) (*cfn.DescribeChangeSetOutput, error)
	ExecuteChangeSet(ctx context.Context, in *cfn.ExecuteChangeSetInput, optFns ...func(*cfn.Options)) (*cfn.ExecuteChangeSetOutput, error)
	DeleteChangeSet(ctx context.Context, in *cfn.DeleteChangeSetInput, optFns ...func(*cfn.Options)) (*cfn.DeleteChangeSetOutput, error)
}

var _ ChangeSetAPI = (*cfn.Client)(nil)

// Confirm is asked before deploy executes a change set or deletes the
// stack, with what is about to happen already printed; false stops it
// without changing anything. nil executes without asking (--yes).
type Confirm func(question string) (bool, error)

// ErrDeclined is returned when Confirm answered no.
var ErrDeclined = errors.New("not confirmed: the stack was left as it was")

// previewUpdate creates a change set for the update, prints what it
// changes (each resource added, modified or removed, and whether it is
// replaced; each parameter old -> new) on out and returns its name, or ""
// when it changes nothing (the change set is then deleted).
func previewUpdate(ctx context.Context, api ChangeSetAPI, stack *cfntypes.Stack, name, region string, body []byte, params []cfntypes.Parameter, set map[string]string, out io.Writer) (string, error) {
	cs := fmt.Sprintf("ebs-snapper-%d", time.Now().Unix())
	if _, err := api.CreateChangeSet(ctx, &cfn.CreateChangeSetInput{
		StackName: aws.String(name), ChangeSetName: aws.String(cs), ChangeSetType: cfntypes.ChangeSetTypeUpdate,
		TemplateBody: aws.String(string(body)), Parameters: params,
		Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityIam},
	}); err != nil {
		return "", fmt.Errorf("create a change set of stack %s in %s: %w", name, region, err)
	}
	w := cfn.NewChangeSetCreateCompleteWaiter(api, func(o *cfn.ChangeSetCreateCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Second, stackWaitMax
	})
	in := &cfn.DescribeChangeSetInput{StackName: aws.String(name), ChangeSetName: aws.String(cs)}
	werr := w.Wait(ctx, in, stackWaitFor)
	desc, err := api.DescribeChangeSet(ctx, in)
	if err != nil {
		return "", fmt.Errorf("describe change set %s of stack %s in %s: %w", cs, name, region, err)
	}
	if desc.Status == cfntypes.ChangeSetStatusFailed {
		_, _ = api.DeleteChangeSet(ctx, &cfn.DeleteChangeSetInput{StackName: aws.String(name), ChangeSetName: aws.String(cs)})
		// CloudFormation's words for an update that changes nothing.
		if r := aws.ToString(desc.StatusReason); strings.Contains(r, "didn't contain changes") || strings.Contains(r, "No updates are to be performed") {
			return "", nil
		}
		return "", fmt.Errorf("change set %s of stack %s in %s failed: %s", cs, name, region, aws.ToString(desc.StatusReason))
	}
	if werr != nil {
		return "", fmt.Errorf("change set %s of stack %s in %s: %w", cs, name, region, werr)
	}
	fmt.Fprintf(out, "change set %s of stack %s (%s):\n", cs, name, region)
	for _, c := range desc.Changes {
		r := c.ResourceChange
		if r == nil {
			continue
		}
		line := fmt.Sprintf("  %-6s %s (%s)", r.Action, aws.ToString(r.LogicalResourceId), aws.ToString(r.ResourceType))
		if r.Action == cfntypes.ChangeActionModify {
			switch r.Replacement {
			case cfntypes.ReplacementTrue:
				line += ": replaced"
			case cfntypes.ReplacementConditional:
				line += ": may be replaced"
			}
		}
		fmt.Fprintln(out, line)
	}
	for _, k := range slices.Sorted(maps.Keys(set)) {
		if old, had := stackParameter(stack, k); !had || old != set[k] {
			if !had {
				old = "(new)"
			}
			fmt.Fprintf(out, "  parameter %s: %s -> %s\n", k, old, set[k])
		}
	}
	return cs, nil
}
