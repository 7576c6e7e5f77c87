package main

import (
	"flag"
	"fmt"
)

// commandTree is every command of the binary.
func commandTree() *command {
	root := &command{about: "Slotwire: a self-hosted webhook engine for scheduling software."}
	for _, group := range [][]*command{
		withSection("Server", serveCmd(), migrateCmd(), tenantCmd(), healthcheckCmd(), benchCmd(), versionCmd()),
		withSection("API (a running server: --url and --api-key or --admin-token; see slotwire help config)",
			tenantsCmd(), keysCmd(), settingsCmd(), endpointsCmd(), hooksCmd(), eventsCmd(), deliveriesCmd(), recoverCmd(), eventTypesCmd(),
			statsCmd(), erasuresCmd(), portalLinkCmd(), listenCmd()),
		withSection("Tools", verifyCmd(), completionCmd()),
	} {
		root.subs = append(root.subs, group...)
	}
	return root.link()
}

func withSection(name string, cmds ...*command) []*command {
	for _, c := range cmds {
		c.section = name
	}
	return cmds
}

func versionCmd() *command {
	return &command{name: "version", aliases: []string{"--version", "-v"}, summary: "print the version",
		example: "slotwire version",
		setup: func(_ *flag.FlagSet, c *cli) func([]string) error {
			return func([]string) error {
				fmt.Fprintln(c.stdout, "slotwire", version())
				return nil
			}
		}}
}

const configHelp = `Connection settings of the API commands (tenants, keys, settings, endpoints, hooks, events,
deliveries, recover, event-types, stats, erasures, portal-link, listen), each taken from, in this
order:

  1. its flag:                  --url, --api-key, --admin-token
  2. its environment variable:  SLOTWIRE_URL, SLOTWIRE_API_KEY, SLOTWIRE_ADMIN_TOKEN
  3. a profile of the config file

The config file is $SLOTWIRE_CONFIG, else ~/.config/slotwire/config.json
($XDG_CONFIG_HOME/slotwire/config.json when XDG_CONFIG_HOME is set). It holds named profiles:

  {
    "default": "local",
    "profiles": {
      "local": {"url": "http://127.0.0.1:8080", "api_key": "sk_…", "admin_token": "secret"},
      "prod":  {"url": "https://hooks.example.com", "api_key": "sk_…"}
    }
  }

The profile used is --profile NAME, else $SLOTWIRE_PROFILE, else the file's "default", else the
profile named "default" if there is one. A profile named with --profile counts as a flag: its
values win over the environment variables. The file holds keys: keep it private (chmod 600);
slotwire warns when others can read it.

Examples:
  slotwire endpoints list --url http://127.0.0.1:8080 --api-key sk_…
  SLOTWIRE_URL=http://127.0.0.1:8080 SLOTWIRE_API_KEY=sk_… slotwire events list
  slotwire --profile prod deliveries list --status failed
  slotwire deliveries list --status failed --profile prod --json
`
