// Load a compose file offline with compose-go (the loader `docker compose` uses) and fail on any
// error, including a required variable (${VAR:?message}) that is unset.
package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: composecheck docker-compose.yml")
		os.Exit(64)
	}
	opts, err := cli.NewProjectOptions(os.Args[1:], cli.WithOsEnv, cli.WithName("mentorlink"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Which services get a link signing key: the check script compares this with its list.
	var signers []string
	for name, service := range project.Services {
		if value, ok := service.Environment["LINK_SIGNING_KEYS"]; ok && value != nil && *value != "" {
			signers = append(signers, name)
		}
	}
	sort.Strings(signers)
	fmt.Printf("valid; LINK_SIGNING_KEYS set for: %s\n", strings.Join(signers, ","))
}
