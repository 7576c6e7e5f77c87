package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/slotwire/slotwire/client"
)

func eventsCmd() *command {
	t := func(c *command) *command { c.conn, c.json = connTenant, true; return c }
	return &command{name: "events", summary: "publish, list and show events",
		about: "The tenant's events: publish one, list them, show one with the deliveries it caused.",
		example: `slotwire events publish --type invoice.paid --data '{"invoice_id":"inv_1","amount":4200}' --idempotency-key inv_1-paid
slotwire events list --type 'invoice.*' --since 24h
slotwire events show evt_01M81SPGY72VRBXH5FT60BSYTS`,
		subs: []*command{
			t(&command{name: "publish", usage: "--type TYPE --data JSON|@FILE|- [flags]", summary: "publish an event; prints its id once it is stored",
				example: `slotwire events publish --type invoice.paid --data '{"invoice_id":"inv_1"}'
slotwire events publish --type order.created --data @order.json --ordering-key order-42
jq -c .data event.json | slotwire events publish --type order.created --data -`,
				setup: eventsPublish}),
			t(&command{name: "list", usage: "[--type T] [--since WHEN] [--until WHEN] [--limit N] [--cursor C] [--all]", summary: "list events, newest first",
				about:   "List the tenant's events, newest first. WHEN is an RFC 3339 time, a date, or a duration ago (90m, 2d).",
				example: "slotwire events list --since 1h\nslotwire events list --type 'appointment.*' --all --json", setup: eventsList}),
			t(&command{name: "show", usage: "EVENT_ID", nargs: 1, summary: "show an event, its data and its deliveries",
				example: "slotwire events show evt_01M81SPGY72VRBXH5FT60BSYTS", setup: eventsShow}),
		}}
}

func eventsPublish(fs *flag.FlagSet, c *cli) func([]string) error {
	var in client.EventInput
	var data, app, srcType string
	fs.StringVar(&in.Type, "type", "", "event type, e.g. invoice.paid (required)")
	fs.StringVar(&data, "data", "", "the event's data, a JSON object: the JSON, @FILE, or - for standard input (required)")
	fs.StringVar(&in.IdempotencyKey, "idempotency-key", "", "publish once: the same key within 24 hours answers the first event's id")
	fs.StringVar(&in.OrderingKey, "ordering-key", "", "key of the events delivered in order to key-ordered endpoints")
	fs.StringVar(&app, "source-app", "", "the app the event comes from (source routing)")
	fs.StringVar(&srcType, "source-type", "", "the kind of record the event comes from (source routing)")
	return func([]string) error {
		if in.Type == "" || data == "" {
			return usagef("events publish: --type and --data are required")
		}
		raw, err := jsonArg("--data", data, c.stdin)
		if err != nil {
			return err
		}
		in.Data = raw
		if app != "" || srcType != "" {
			in.Source = &client.EventSource{App: app, Type: srcType}
		}
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		a, err := cl.PublishEvent(c.ctx, in)
		if err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) {
			if a.Duplicate {
				fmt.Fprintf(w, "%s\t(duplicate: published before with this idempotency key; nothing new was stored or sent)\n", a.ID)
				return
			}
			fmt.Fprintln(w, a.ID)
		})
	}
}

// timeFlags are --since and --until.
type timeFlags struct{ since, until string }

func addTimeFlags(fs *flag.FlagSet, what string) *timeFlags {
	t := &timeFlags{}
	fs.StringVar(&t.since, "since", "", what+" at or after WHEN: RFC 3339, a date, or a duration ago (90m, 2d)")
	fs.StringVar(&t.until, "until", "", what+" before WHEN")
	return t
}

func (t *timeFlags) parse(now time.Time) (since, until time.Time, err error) {
	if t.since != "" {
		if since, err = parseWhen(t.since, now); err != nil {
			return since, until, usagef("--since: %v", err)
		}
	}
	if t.until != "" {
		if until, err = parseWhen(t.until, now); err != nil {
			return since, until, usagef("--until: %v", err)
		}
	}
	return since, until, nil
}

func eventsList(fs *flag.FlagSet, c *cli) func([]string) error {
	p := addPageFlags(fs)
	tf := addTimeFlags(fs, "events published")
	var q client.EventQuery
	fs.StringVar(&q.Type, "type", "", "an event type or a prefix pattern such as 'appointment.*'")
	return func([]string) error {
		var err error
		if q.Since, q.Until, err = tf.parse(time.Now()); err != nil {
			return err
		}
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		return listPages(c, p, func(cursor string, limit int) (*client.Page[client.Event], error) {
			q.Cursor, q.Limit = cursor, limit
			return cl.ListEvents(c.ctx, q)
		}, func(w io.Writer, list []client.Event) {
			row(w, "ID", "TYPE", "TIMESTAMP", "IDEMPOTENCY KEY", "ORDERING KEY")
			for _, e := range list {
				row(w, e.ID, e.Type, e.Timestamp, e.IdempotencyKey, e.OrderingKey)
			}
		})
	}
}

func eventsShow(_ *flag.FlagSet, c *cli) func([]string) error {
	return func(args []string) error {
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		e, err := cl.GetEvent(c.ctx, args[0])
		if err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) {
			fields(w, "id", e.ID, "type", e.Type, "timestamp", e.Timestamp, "idempotency key?", e.IdempotencyKey,
				"ordering key?", e.OrderingKey, "archived?", e.ArchivedAt)
			if e.Source != nil {
				fields(w, "source app?", e.Source.App, "source type?", e.Source.Type)
			}
			var data bytes.Buffer
			if json.Indent(&data, e.Data, "", "  ") != nil {
				data.Write(e.Data)
			}
			fmt.Fprintf(w, "data:\n%s\n", indentLines(data.String(), "  "))
			fmt.Fprintf(w, "\ndeliveries (%d):\n", len(e.Deliveries))
			deliveryTable(w, e.Deliveries)
		})
	}
}

// indentLines puts prefix before every line of s.
func indentLines(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}

func eventTypesCmd() *command {
	t := func(c *command) *command { c.conn, c.json = connTenant, true; return c }
	return &command{name: "event-types", summary: "list, register and archive event types",
		about: "Event types: the server's catalog and the tenant's own, registered with an optional JSON Schema that every publish of the type must then match.",
		example: `slotwire event-types list --custom
slotwire event-types create --type order.paid --description 'An order was paid' --schema @order-paid.schema.json
slotwire event-types delete order.paid`,
		subs: []*command{
			t(&command{name: "list", usage: "[--custom]", summary: "list the catalog's types, then the tenant's own",
				example: "slotwire event-types list\nslotwire event-types list --custom", setup: eventTypesList}),
			t(&command{name: "create", usage: "--type TYPE [--description D] [--schema JSON|@FILE] [--example JSON|@FILE]", summary: "register one of the tenant's own types",
				example: "slotwire event-types create --type order.paid --schema '{\"type\":\"object\",\"required\":[\"order_id\"]}'", setup: eventTypesCreate}),
			t(&command{name: "delete", usage: "TYPE", nargs: 1, summary: "archive a registered type: its schema no longer applies",
				example: "slotwire event-types delete order.paid", setup: eventTypesDelete}),
		}}
}

func eventTypesList(fs *flag.FlagSet, c *cli) func([]string) error {
	var custom bool
	fs.BoolVar(&custom, "custom", false, "only the tenant's own types (the table; --json prints the API's whole list)")
	return func([]string) error {
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		list, err := cl.ListEventTypes(c.ctx)
		if err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) {
			row(w, "TYPE", "SCOPE", "OWN", "SCHEMA", "DESCRIPTION")
			for _, t := range list {
				if custom && !t.Custom {
					continue
				}
				hasSchema := len(t.Schema) > 0 && string(t.Schema) != "null"
				row(w, t.Type, t.Scope, t.Custom, hasSchema, truncate(t.Description, 60))
			}
		})
	}
}

func eventTypesCreate(fs *flag.FlagSet, c *cli) func([]string) error {
	var in client.EventTypeInput
	var schema, example string
	fs.StringVar(&in.Type, "type", "", "the type's name, e.g. order.paid (required)")
	fs.StringVar(&in.Description, "description", "", "what the event means")
	fs.StringVar(&schema, "schema", "", "JSON Schema (draft 2020-12) the data must match: the JSON, @FILE or -")
	fs.StringVar(&example, "example", "", "example data, matching the schema: the JSON, @FILE or -")
	return func([]string) error {
		if in.Type == "" {
			return usagef("event-types create: --type is required")
		}
		var err error
		if schema != "" {
			if in.Schema, err = jsonArg("--schema", schema, c.stdin); err != nil {
				return err
			}
		}
		if example != "" {
			if in.Example, err = jsonArg("--example", example, c.stdin); err != nil {
				return err
			}
		}
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		t, err := cl.CreateEventType(c.ctx, in)
		if err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) {
			fields(w, "type", t.Type, "scope", t.Scope, "description?", t.Description, "schema", len(t.Schema) > 0, "created", t.CreatedAt)
		})
	}
}

func eventTypesDelete(_ *flag.FlagSet, c *cli) func([]string) error {
	return func(args []string) error {
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		if err := cl.DeleteEventType(c.ctx, args[0]); err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) { fmt.Fprintln(w, "archived", args[0]) })
	}
}
