package cli

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// knownRegions are the AWS commercial regions offered by shell completion
// of --region and --table-region. Completion only: any region name is
// accepted, and the run commands check it against DescribeRegions.
var knownRegions = []string{
	"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
	"ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
	"ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1",
	"eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1",
	"mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

// completionTimeout bounds the table read behind stanza id completion: a
// shell waits for it.
const completionTimeout = 5 * time.Second

// addCompletion registers the completions of the tree's flags: regions
// for --region and -t/--table-region, the stored stanza ids for --stanza
// and configure's id, the architectures for deploy's --arch.
func addCompletion(root *cobra.Command, f *factory) {
	regions := func(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		return withPrefix(knownRegions, prefix), cobra.ShellCompDirectiveNoFileComp
	}
	_ = root.RegisterFlagCompletionFunc("table-region", regions)
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("region") != nil {
			_ = c.RegisterFlagCompletionFunc("region", regions)
		}
		if c.Flags().Lookup("stanza") != nil {
			_ = c.RegisterFlagCompletionFunc("stanza", func(cmd *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
				return stanzaIDs(cmd, f, prefix)
			})
		}
		if c.Flags().Lookup("arch") != nil {
			_ = c.RegisterFlagCompletionFunc("arch", cobra.FixedCompletions([]string{"arm64", "x86_64"}, cobra.ShellCompDirectiveNoFileComp))
		}
		if c.Name() == "configure" {
			c.ValidArgsFunction = func(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveDefault // the stanza's JSON, or @file
				}
				return stanzaIDs(cmd, f, prefix)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// stanzaIDs lists the ids stored for the account (-a, else the caller's),
// those starting with prefix; nothing when the table cannot be read.
func stanzaIDs(cmd *cobra.Command, f *factory, prefix string) ([]string, cobra.ShellCompDirective) {
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	src, err := f.sources(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	acct := ""
	if fl := cmd.Flags().Lookup("aws_account_id"); fl != nil {
		acct = fl.Value.String()
	}
	if acct == "" {
		if acct, err = src.Identify(ctx); err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
		}
	}
	items, err := src.Store.List(ctx, acct)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	ids := make([]string, 0, len(items))
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	return withPrefix(ids, prefix), cobra.ShellCompDirectiveNoFileComp
}

func withPrefix(words []string, prefix string) []string {
	return slices.DeleteFunc(slices.Clone(words), func(w string) bool { return !strings.HasPrefix(w, prefix) })
}
