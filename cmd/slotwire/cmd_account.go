package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/slotwire/slotwire/client"
)

func settingsCmd() *command {
	t := func(c *command) *command { c.conn, c.json = connTenant, true; return c }
	return &command{name: "settings", summary: "show and change the tenant's settings",
		about: `The tenant's settings. strict event types: events of a type that is neither in the catalog
nor registered (slotwire event-types create) are refused, and so are subscriptions to patterns
that match no such type. Changing them needs a key with the admin scope.`,
		example: "slotwire settings show\nslotwire settings set --strict-event-types=true",
		subs: []*command{
			t(&command{name: "show", summary: "show the tenant's settings",
				example: "slotwire settings show\nslotwire settings show --json", setup: settingsShow}),
			t(&command{name: "set", usage: "--strict-event-types=true|false", summary: "change the settings given as flags (admin scope)",
				example: "slotwire settings set --strict-event-types=true\nslotwire settings set --strict-event-types=false", setup: settingsSet}),
		}}
}

func showSettings(w io.Writer, s *client.Settings) {
	fields(w, "strict event types", s.StrictEventTypes)
}

func settingsShow(_ *flag.FlagSet, c *cli) func([]string) error {
	return func([]string) error {
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		s, err := cl.GetSettings(c.ctx)
		if err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) { showSettings(w, s) })
	}
}

func settingsSet(fs *flag.FlagSet, c *cli) func([]string) error {
	var strict bool
	fs.BoolVar(&strict, "strict-event-types", false, "true: refuse events of types neither in the catalog nor registered; false: accept any type")
	return func([]string) error {
		var in client.SettingsInput
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "strict-event-types" {
				in.StrictEventTypes = ptr(strict)
			}
		})
		if in.StrictEventTypes == nil {
			return usagef("settings set: nothing to change; give --strict-event-types=true or --strict-event-types=false")
		}
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		s, err := cl.UpdateSettings(c.ctx, in)
		if err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) { showSettings(w, s) })
	}
}

func erasuresCmd() *command {
	t := func(c *command) *command { c.conn, c.json = connTenant, true; return c }
	return &command{name: "erasures", summary: "erase a person's personal data; list the record of erasures",
		about: `Erase a person's personal data (GDPR article 17) from the tenant's stored events, delivery
attempts and scheduling records, and read the record of erasures: who asked, when, and how many
records changed, never the person's address or id. Needs a key with the erasure or admin scope.`,
		example: `slotwire erasures create --email jan@example.com
slotwire erasures create --customer-id cus_01J9Z8K4T3M2N1P0Q9R8S7T6V5
slotwire erasures list`,
		subs: []*command{
			t(&command{name: "create", usage: "--customer-id ID | --email ADDRESS", summary: "erase a person's personal data; prints what changed",
				about: `Erase the personal data of one person, named by exactly one of --customer-id (a customer of
the scheduling core, cus_…) or --email. Prints the record of the erasure with the number of
records changed, by kind. It cannot be undone.`,
				example: "slotwire erasures create --email jan@example.com\nslotwire erasures create --customer-id cus_01J9Z8K4T3M2N1P0Q9R8S7T6V5 --json",
				setup:   erasuresCreate}),
			t(&command{name: "list", usage: "[--limit N] [--cursor C] [--all]", summary: "list the record of erasures, newest first",
				example: "slotwire erasures list\nslotwire erasures list --all --json", setup: erasuresList}),
		}}
}

// erasureCounts is an erasure's counts as "attempts=2 events=1", by name.
func erasureCounts(e *client.Erasure) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(e.Counts)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, e.Counts[k]))
	}
	return strings.Join(parts, " ")
}

func erasuresCreate(fs *flag.FlagSet, c *cli) func([]string) error {
	var in client.ErasureInput
	fs.StringVar(&in.CustomerID, "customer-id", "", "the person as a customer of the scheduling core, cus_…")
	fs.StringVar(&in.Email, "email", "", "the person's e-mail address (matched without regard to case)")
	return func([]string) error {
		if (strings.TrimSpace(in.CustomerID) == "") == (strings.TrimSpace(in.Email) == "") {
			return usagef("erasures create: give exactly one of --customer-id and --email")
		}
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		e, err := cl.Erase(c.ctx, in)
		if err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) {
			fields(w, "id", e.ID, "subject", e.Subject, "api key", e.APIKeyID, "created", e.CreatedAt)
			for _, k := range slices.Sorted(maps.Keys(e.Counts)) {
				fields(w, k, e.Counts[k])
			}
		})
	}
}

func erasuresList(fs *flag.FlagSet, c *cli) func([]string) error {
	p := addPageFlags(fs)
	return func([]string) error {
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		return listPages(c, p, func(cursor string, limit int) (*client.Page[client.Erasure], error) {
			return cl.ListErasures(c.ctx, cursor, limit)
		}, func(w io.Writer, list []client.Erasure) {
			row(w, "ID", "CREATED", "SUBJECT", "API KEY", "CHANGED")
			for _, e := range list {
				row(w, e.ID, e.CreatedAt, e.Subject, e.APIKeyID, erasureCounts(&e))
			}
		})
	}
}

func portalLinkCmd() *command {
	return &command{name: "portal-link", usage: "[--scopes SCOPE[,SCOPE…]] [--ttl DURATION]", summary: "print a one-time link that signs a browser into the dashboard",
		about: `Make a one-time link to the web dashboard for the key's tenant, to hand to a customer: the
first browser that opens it is signed in until the link's expiry; opened again, it answers 404.
--scopes narrows what the visitor may do (each must be a scope the key holds; default: the
key's scopes).`,
		example: "slotwire portal-link\nslotwire portal-link --scopes events,customers --ttl 2h\nslotwire portal-link --json | jq -r .url",
		conn:    connTenant, json: true, setup: portalLink}
}

func portalLink(fs *flag.FlagSet, c *cli) func([]string) error {
	var scopes string
	var in client.PortalSessionInput
	fs.StringVar(&scopes, "scopes", "", "comma-separated scopes the visitor gets, e.g. events,customers (default: the key's)")
	fs.StringVar(&in.TTL, "ttl", "", "how long the link and its session last, 1m to 24h (default 1h)")
	return func([]string) error {
		if in.TTL != "" {
			if _, err := time.ParseDuration(in.TTL); err != nil {
				return usagef("portal-link: --ttl %q is not a duration (such as 30m or 2h)", in.TTL)
			}
		}
		in.Scopes = splitList(scopes)
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		p, err := cl.CreatePortalSession(c.ctx, in)
		if err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) {
			fields(w, "url", p.URL, "scopes?", p.Scopes, "expires", p.ExpiresAt)
			fmt.Fprintln(w, "\t(the link opens once)")
		})
	}
}
