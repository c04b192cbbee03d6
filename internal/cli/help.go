package cli

import (
	"strings"

	"github.com/spf13/cobra"
)

// DocsURL is where the documentation pages live; every command's help
// ends with a link to its page.
const DocsURL = "https://github.com/ebs-snapper/ebs-snapper/blob/main/"

// commandHelp are the examples and the docs page of each command whose
// constructor does not set them itself.
var commandHelp = map[string]struct{ example, page string }{
	"ebs-snapper": {`  ebs-snapper configure -s tagged_instances @tagged_instances.json
  ebs-snapper plan --region eu-west-1
  ebs-snapper report --html report.html
  ebs-snapper completion bash > /etc/bash_completion.d/ebs-snapper`, "README.md"},
	"snapshot": {`  ebs-snapper snapshot --dry-run
  ebs-snapper snapshot --region eu-west-1 --region us-east-1
  ebs-snapper snapshot --instance i-0123456789abcdef0 --json
  ebs-snapper snapshot --all-accounts --ou ou-ab12-cdef3456   # from the hub, through each account's spoke role`, "docs/snapshot-and-clean.md"},
	"clean": {`  ebs-snapper clean --dry-run
  ebs-snapper clean --dry-run --now 2026-12-24T00:00:00Z   # what Christmas Eve's run deletes
  ebs-snapper clean --region eu-west-1 --output csv > deleted.csv
  ebs-snapper clean --account 222222222222 --account 333333333333 --role-name ebs-snapper-spoke`, "docs/snapshot-and-clean.md"},
	"replication": {`  ebs-snapper replication --dry-run
  ebs-snapper replication --region eu-west-1 --copy-limit 50
  ebs-snapper replication --all-accounts --dry-run`, "docs/replication.md"},
	"plan": {`  ebs-snapper plan
  ebs-snapper plan --stanza tagged_instances --now 2026-12-01T06:00:00Z
  ebs-snapper plan --jq '.regions[].clean[] | select(.action == "delete") | .snapshot_id'
  ebs-snapper plan --all-accounts --region eu-west-1 --output csv`, "docs/snapshot-and-clean.md"},
	"report": {`  ebs-snapper report
  ebs-snapper report --region eu-west-1 --grace "6 hours" --json
  ebs-snapper report --html - > report.html
  ebs-snapper report --jq '.regions[].volumes[] | select(.status != "ok") | .volume_id'
  ebs-snapper report --all-accounts --html org.html   # the organisation, worst account first`, "docs/report.md"},
	"drill": {`  ebs-snapper drill --dry-run
  ebs-snapper drill --region eu-west-1 --volume vol-0123456789abcdef0
  ebs-snapper drill --output json | jq '.regions[].drills[] | select(.outcome == "failed")'
  ebs-snapper drill --all-accounts --dry-run`, "docs/drills.md"},
	"snapshots": {"", "docs/report.md#listing-snapshots"},
	"configure": {"", "docs/configuration.md"},
	"deploy": {`  ebs-snapper deploy --region eu-west-1
  ebs-snapper deploy --region eu-west-1 --parameter CleanScheduleExpression='rate(12 hours)'
  ebs-snapper deploy --region eu-west-1 --yes --parameter AlarmEmail=oncall@example.com
  ebs-snapper deploy --region eu-west-1 --parameter PermissionsBoundary=arn:aws:iam::123456789012:policy/boundary --parameter RolePath=/ebs-snapper/
  ebs-snapper deploy --delete --region eu-west-1
  ebs-snapper deploy --print-template > template.json`, "docs/deploy.md"},
	"completion": {`  ebs-snapper completion bash > /etc/bash_completion.d/ebs-snapper
  ebs-snapper completion zsh > "${fpath[1]}/_ebs-snapper"
  ebs-snapper completion fish > ~/.config/fish/completions/ebs-snapper.fish`, "README.md#shell-completion"},
}

// addHelp gives every command of the tree its examples (where its
// constructor set none) and a link to its documentation page.
func addHelp(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		h, ok := commandHelp[c.Name()]
		if ok {
			if c.Example == "" {
				c.Example = h.example
			}
			long := c.Long
			if long == "" {
				long = c.Short
			}
			c.Long = strings.TrimRight(long, "\n") + "\n\nDocumentation: " + DocsURL + h.page
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
