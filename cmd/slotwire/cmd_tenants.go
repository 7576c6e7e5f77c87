package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

func tenantsCmd() *command {
	return &command{name: "tenants", summary: "list and create tenants (admin token)",
		about: `Tenants through the admin API of a running server: needs the server's admin token
(--admin-token, $SLOTWIRE_ADMIN_TOKEN or the profile's admin_token). Without a server or
an admin token, "slotwire tenant create" writes a tenant into the database directly.`,
		example: `slotwire tenants list --url http://127.0.0.1:8080 --admin-token secret
slotwire tenants create --name Acme --plan professional`,
		subs: []*command{
			{name: "list", summary: "list every tenant, oldest first", conn: connAdmin, json: true,
				example: "slotwire tenants list\nslotwire tenants list --json", setup: tenantsList},
			{name: "create", usage: "--name NAME [--plan PLAN]", summary: "create a tenant; prints its API key (shown once)", conn: connAdmin, json: true,
				example: "slotwire tenants create --name Acme\nslotwire tenants create --name Acme --plan professional --json", setup: tenantsCreate},
		}}
}

func tenantsList(_ *flag.FlagSet, c *cli) func([]string) error {
	return func([]string) error {
		cl, err := c.client(connAdmin)
		if err != nil {
			return err
		}
		list, err := cl.ListTenants(c.ctx)
		if err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) {
			row(w, "ID", "NAME", "PLAN", "CREATED")
			for _, t := range list {
				row(w, t.ID, t.Name, t.Plan, t.CreatedAt)
			}
		})
	}
}

func tenantsCreate(fs *flag.FlagSet, c *cli) func([]string) error {
	var name, plan string
	fs.StringVar(&name, "name", "", "company name (required)")
	fs.StringVar(&plan, "plan", "", "plan, one of the server's --plans (default basic)")
	return func([]string) error {
		if strings.TrimSpace(name) == "" {
			return usagef("tenants create: --name is required")
		}
		cl, err := c.client(connAdmin)
		if err != nil {
			return err
		}
		t, err := cl.CreateTenant(c.ctx, name, plan)
		if err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) {
			fields(w, "id", t.ID, "name", t.Name, "plan", t.Plan, "created", t.CreatedAt, "api key", t.APIKey)
			fmt.Fprintln(w, "\t(the API key is shown only this once)")
		})
	}
}

func keysCmd() *command {
	return &command{name: "keys", summary: "list, create and revoke the tenant's API keys",
		about: `The tenant's API keys, with their scopes. Managing keys needs a key with the admin scope.
A new key is shown only once; lists show its prefix and last four characters.`,
		example: `slotwire keys list
slotwire keys create --name zapier --scopes events,customers
slotwire keys revoke key_01M81SP8YVBN4PH7QQJQPB50D4`,
		subs: []*command{
			{name: "list", summary: "list the API keys, oldest first", conn: connTenant, json: true,
				example: "slotwire keys list", setup: keysList},
			{name: "create", usage: "--name NAME --scopes SCOPE[,SCOPE…]", summary: "create a key with scopes; prints it (shown once)", conn: connTenant, json: true,
				example: "slotwire keys create --name zapier --scopes events,customers\nslotwire keys create --name ops --scopes admin --json", setup: keysCreate},
			{name: "revoke", usage: "KEY_ID", nargs: 1, summary: "revoke a key: its next request answers 401", conn: connTenant, json: true,
				example: "slotwire keys revoke key_01M81SP8YVBN4PH7QQJQPB50D4", setup: keysRevoke},
		}}
}

func keysList(_ *flag.FlagSet, c *cli) func([]string) error {
	return func([]string) error {
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		list, err := cl.ListKeys(c.ctx)
		if err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) {
			row(w, "ID", "NAME", "KEY", "SCOPES", "CREATED")
			for _, k := range list {
				row(w, k.ID, k.Name, k.Prefix+"…"+k.Last4, k.Scopes, k.CreatedAt)
			}
		})
	}
}

func keysCreate(fs *flag.FlagSet, c *cli) func([]string) error {
	var name, scopes string
	fs.StringVar(&name, "name", "", "what the key is for, e.g. zapier (required)")
	fs.StringVar(&scopes, "scopes", "", "comma-separated scopes, e.g. events,customers or admin (required)")
	return func([]string) error {
		switch {
		case strings.TrimSpace(name) == "":
			return usagef("keys create: --name is required")
		case len(splitList(scopes)) == 0:
			return usagef("keys create: --scopes is required (admin, custom, events, customers …)")
		}
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		k, err := cl.CreateKey(c.ctx, name, splitList(scopes)...)
		if err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) {
			fields(w, "id", k.ID, "name", k.Name, "scopes", k.Scopes, "created", k.CreatedAt, "api key", k.Secret)
			fmt.Fprintln(w, "\t(the API key is shown only this once)")
		})
	}
}

func keysRevoke(_ *flag.FlagSet, c *cli) func([]string) error {
	return func(args []string) error {
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		if err := cl.DeleteKey(c.ctx, args[0]); err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) { fmt.Fprintln(w, "revoked", args[0]) })
	}
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
