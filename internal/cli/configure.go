package cli

import "github.com/spf13/cobra"

// TODO(configure helper): the configure command.
func newConfigureCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{Use: "configure"}
}
