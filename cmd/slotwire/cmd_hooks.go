package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/slotwire/slotwire/client"
)

func hooksCmd() *command {
	t := func(c *command) *command { c.conn, c.json = connTenant, true; return c }
	return &command{name: "hooks", summary: "subscribe and remove REST hooks (as Zapier and Power Automate do)",
		about: `REST hooks: subscriptions that integration platforms (Zapier, Power Automate, Make) create and
remove through the API. A hook is an endpoint (slotwire endpoints list shows it, marked rest hook)
that only "hooks delete" removes.`,
		example: `slotwire hooks create --target-url https://hooks.zapier.com/hooks/standard/1/abc --events appointment.created,appointment.cancelled
slotwire hooks delete ep_01M81SPGSR6XQ0H3M5Z18AQSWH`,
		subs: []*command{
			t(&command{name: "create", usage: "--target-url URL --events TYPE[,TYPE…]", summary: "subscribe a REST hook; prints it with its signing secret",
				about: `Subscribe a REST hook: --target-url receives the events of --events (exact types or patterns
such as 'appointment.*'), signed as the endpoints' webhooks are (Standard Webhooks). Prints the
hook with its signing secret.`,
				example: "slotwire hooks create --target-url https://hooks.zapier.com/hooks/standard/1/abc --events appointment.created\nslotwire hooks create --target-url https://example.com/flow --events 'invoice.*,customer.created' --json",
				setup:   hooksCreate}),
			t(&command{name: "delete", usage: "HOOK_ID", nargs: 1, summary: "remove a REST hook (not another endpoint)",
				example: "slotwire hooks delete ep_01M81SPGSR6XQ0H3M5Z18AQSWH", setup: hooksDelete}),
		}}
}

func hooksCreate(fs *flag.FlagSet, c *cli) func([]string) error {
	var target, events string
	fs.StringVar(&target, "target-url", "", "the URL that receives the events (required)")
	fs.StringVar(&events, "events", "", "comma-separated event types or patterns, e.g. appointment.created,'invoice.*' (required)")
	return func([]string) error {
		in := client.HookInput{TargetURL: strings.TrimSpace(target), Events: splitList(events)}
		if in.TargetURL == "" || len(in.Events) == 0 {
			return usagef("hooks create: --target-url and --events are required")
		}
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		h, err := cl.CreateHook(c.ctx, in)
		if err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) {
			fields(w, "id", h.ID, "target url", h.TargetURL, "events", h.Events, "secret?", h.Secret)
		})
	}
}

func hooksDelete(_ *flag.FlagSet, c *cli) func([]string) error {
	return func(args []string) error {
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		if err := cl.DeleteHook(c.ctx, args[0]); err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) { fmt.Fprintln(w, "deleted", args[0]) })
	}
}
