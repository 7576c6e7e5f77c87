package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/slotwire/slotwire/client"
)

func endpointsCmd() *command {
	t := func(c *command) *command { c.conn, c.json = connTenant, true; return c }
	return &command{name: "endpoints", summary: "manage endpoints: create, change, enable, test, rotate secrets, feed tokens",
		about: "The tenant's endpoints: receiver URLs and the event types they subscribe to.",
		example: `slotwire endpoints create https://erp.example.com/hooks --types 'invoice.*,customer.created'
slotwire endpoints list
slotwire endpoints update ep_01M81SPGSR6XQ0H3M5Z18AQSWH --max-concurrency 4 --description ERP
slotwire endpoints disable ep_01M81SPGSR6XQ0H3M5Z18AQSWH
slotwire endpoints test ep_01M81SPGSR6XQ0H3M5Z18AQSWH
slotwire endpoints rotate-secret ep_01M81SPGSR6XQ0H3M5Z18AQSWH --grace 24h
slotwire endpoints feed-token ep_01M81SPGSR6XQ0H3M5Z18AQSWH`,
		subs: []*command{
			t(&command{name: "list", usage: "[--limit N] [--cursor C] [--all]", summary: "list endpoints, newest first",
				example: "slotwire endpoints list\nslotwire endpoints list --all --json", setup: endpointsList}),
			t(&command{name: "show", usage: "ENDPOINT_ID", nargs: 1, summary: "show an endpoint",
				example: "slotwire endpoints show ep_01M81SPGSR6XQ0H3M5Z18AQSWH", setup: endpointsShow}),
			t(&command{name: "create", usage: "URL --types TYPE[,TYPE…] [flags]", nargs: 1, summary: "create an endpoint; prints it with its signing secret",
				about: `Create an endpoint for the receiver at URL, subscribed to the event types (exact types,
prefixes such as 'appointment.*', or '*'). Prints the endpoint with its signing secret
(or, with --signature-profile standard-ed25519, its public key).`,
				example: `slotwire endpoints create https://erp.example.com/hooks --types invoice.paid
slotwire endpoints create https://erp.example.com/hooks --types 'appointment.*' --ordering key --header 'X-Erp-Token: abc'
slotwire endpoints create https://erp.example.com/hooks --types '*' --input endpoint.json   (auth, tls … as the API takes them)`,
				setup: endpointsCreate}),
			t(&command{name: "update", usage: "ENDPOINT_ID [flags]", nargs: 1, summary: "change the fields given as flags",
				about:   "Change an endpoint: only the fields given as flags (or in --input) change.",
				example: "slotwire endpoints update ep_01M81SPGSR6XQ0H3M5Z18AQSWH --types 'invoice.*' --rate-limit 10\nslotwire endpoints update ep_01M81SPGSR6XQ0H3M5Z18AQSWH --endpoint-url https://erp2.example.com/hooks",
				setup:   endpointsUpdate}),
			t(&command{name: "enable", usage: "ENDPOINT_ID", nargs: 1, summary: "enable an endpoint; its waiting deliveries go at once",
				example: "slotwire endpoints enable ep_01M81SPGSR6XQ0H3M5Z18AQSWH", setup: endpointsEnable(true)}),
			t(&command{name: "disable", usage: "ENDPOINT_ID", nargs: 1, summary: "disable an endpoint: deliveries wait",
				example: "slotwire endpoints disable ep_01M81SPGSR6XQ0H3M5Z18AQSWH", setup: endpointsEnable(false)}),
			t(&command{name: "delete", usage: "ENDPOINT_ID", nargs: 1, summary: "delete an endpoint and its delivery log",
				example: "slotwire endpoints delete ep_01M81SPGSR6XQ0H3M5Z18AQSWH", setup: endpointsDelete}),
			t(&command{name: "test", usage: "ENDPOINT_ID", nargs: 1, summary: "send a signed webhook.test event now; exit 1 unless it got a 2xx",
				example: "slotwire endpoints test ep_01M81SPGSR6XQ0H3M5Z18AQSWH", setup: endpointsTest}),
			t(&command{name: "secret", usage: "ENDPOINT_ID", nargs: 1, summary: "print the signing secret (or the public key of an Ed25519 endpoint)",
				example: "slotwire verify --secret \"$(slotwire endpoints secret ep_01M81SPGSR6XQ0H3M5Z18AQSWH)\" < request.http", setup: endpointsSecret}),
			t(&command{name: "rotate-secret", usage: "ENDPOINT_ID [--grace DURATION] [--secret SECRET]", nargs: 1, summary: "give the endpoint a new signing secret",
				about:   "Give the endpoint a new signing secret. During the grace period requests carry the signatures of the old and the new secret, so receivers can switch without a gap.",
				example: "slotwire endpoints rotate-secret ep_01M81SPGSR6XQ0H3M5Z18AQSWH\nslotwire endpoints rotate-secret ep_01M81SPGSR6XQ0H3M5Z18AQSWH --grace 0s --secret whsec_…",
				setup:   endpointsRotate}),
			t(&command{name: "feed-token", usage: "ENDPOINT_ID [--delete]", nargs: 1, summary: "give the endpoint a read token for its feed (shown once), or remove it",
				about: `Give the endpoint a new feed token and print it, shown only this once: a token that reads this
endpoint's feed (GET /v1/endpoints/ID/feed) and nothing else, for a receiver that pulls its
webhooks instead of taking them. The previous token stops working. With --delete, remove the
token: the feed answers 401 to it from then on.`,
				example: "slotwire endpoints feed-token ep_01M81SPGSR6XQ0H3M5Z18AQSWH\nslotwire endpoints feed-token ep_01M81SPGSR6XQ0H3M5Z18AQSWH --delete",
				setup:   endpointsFeedToken}),
		}}
}

func endpointsList(fs *flag.FlagSet, c *cli) func([]string) error {
	p := addPageFlags(fs)
	return func([]string) error {
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		return listPages(c, p, func(cursor string, limit int) (*client.Page[client.Endpoint], error) {
			return cl.ListEndpoints(c.ctx, cursor, limit)
		}, func(w io.Writer, list []client.Endpoint) {
			row(w, "ID", "STATE", "URL", "EVENT TYPES", "DESCRIPTION")
			for _, e := range list {
				row(w, e.ID, endpointState(&e), e.URL, e.EventTypes, truncate(e.Description, 40))
			}
		})
	}
}

// endpointState is an endpoint's state in a word or two.
func endpointState(e *client.Endpoint) string {
	switch {
	case !e.Enabled:
		return "disabled"
	case e.PendingVerification:
		return "unverified"
	case e.FailingSince != nil:
		return "failing"
	}
	return "enabled"
}

func endpointsShow(_ *flag.FlagSet, c *cli) func([]string) error {
	return func(args []string) error {
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		e, err := cl.GetEndpoint(c.ctx, args[0])
		if err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) { showEndpoint(w, e) })
	}
}

func showEndpoint(w io.Writer, e *client.Endpoint) {
	fields(w, "id", e.ID, "url", e.URL, "state", endpointState(e), "disabled reason?", e.DisabledReason,
		"event types", e.EventTypes, "description?", e.Description, "failing since?", e.FailingSince,
		"max concurrency?", e.MaxConcurrency, "ordering?", e.Ordering, "rate limit/s?", e.RateLimit,
		"source apps?", e.SourceApps, "source types?", e.SourceTypes, "payload format?", e.PayloadFormat,
		"signature profile?", e.SignatureProfile, "signature header?", e.SignatureHeader,
		"previous secret until?", e.PreviousSecretUntil, "verify?", e.Verify, "filter?", e.Filter,
		"transform?", e.Transform, "offset?", e.Offset, "rest hook?", e.RESTHook)
	for _, name := range sortedKeys(e.Headers) {
		fields(w, "header", name+": "+e.Headers[name])
	}
	if e.Auth != nil {
		fields(w, "auth", e.Auth.Type)
	}
	if e.TLS != nil {
		fields(w, "tls ca?", e.TLS.CACert != "", "tls client certificate?", e.TLS.ClientCert != "")
	}
	fields(w, "created", e.CreatedAt, "updated", e.UpdatedAt)
}

// endpointFlags are the fields of an endpoint as flags, for create and
// update; only those given are sent.
type endpointFlags struct {
	fs                                                   *flag.FlagSet
	types, description, secret, ordering, apps, srcTypes string
	format, profile, sigHeader, filter, transform, input string
	offset                                               string
	headers                                              listFlag
	maxConc, rate                                        int
	verify                                               bool
}

func addEndpointFlags(fs *flag.FlagSet) *endpointFlags {
	f := &endpointFlags{fs: fs}
	fs.StringVar(&f.types, "types", "", "comma-separated event types or patterns: invoice.paid, 'appointment.*', '*'")
	fs.StringVar(&f.description, "description", "", "what the endpoint is for")
	fs.Var(&f.headers, "header", "request header 'Name: value' sent with every webhook (repeat the flag; on update the given set replaces the headers, '' removes them)")
	fs.StringVar(&f.secret, "secret", "", "signing secret (whsec_… of 24 to 64 bytes; any 8 to 256 characters for hmac-sha256-hex and timestamped); default: a new one")
	fs.IntVar(&f.maxConc, "max-concurrency", 0, "requests in flight at most, 1 to 256 (0: the server's default)")
	fs.StringVar(&f.ordering, "ordering", "", "none, fifo (one at a time, in publish order) or key (in order per event ordering key)")
	fs.IntVar(&f.rate, "rate-limit", 0, "requests per second at most (0: no limit)")
	fs.StringVar(&f.apps, "source-apps", "", "comma-separated source apps to accept (empty: any)")
	fs.StringVar(&f.srcTypes, "source-types", "", "comma-separated source types to accept (empty: any)")
	fs.StringVar(&f.format, "payload-format", "", "nested (default), flat or thin")
	fs.StringVar(&f.profile, "signature-profile", "", "standard (default), standard-ed25519, hmac-sha256-hex, timestamped or none")
	fs.StringVar(&f.sigHeader, "signature-header", "", "header of the hmac-sha256-hex and timestamped signatures (default X-Signature-256, X-Signature)")
	fs.StringVar(&f.filter, "filter", "", "jq expression: send only the events for which it is neither false nor null ('' removes it)")
	fs.StringVar(&f.transform, "transform", "", "jq expression whose output is the body sent ('' removes it)")
	fs.BoolVar(&f.verify, "verify", false, "deliver nothing until the URL echoed a challenge")
	fs.StringVar(&f.offset, "offset", "", "get the appointment.starting and appointment.ended events fired this far from the start or end, e.g. -15m ('' the moment itself)")
	fs.StringVar(&f.input, "input", "", "file (or - for stdin) with more fields as JSON, as the API takes them (auth, tls …); flags win")
	return f
}

// build is the EndpointInput of the flags given (and of --input).
func (f *endpointFlags) build(stdin io.Reader) (client.EndpointInput, error) {
	var in client.EndpointInput
	if f.input != "" {
		raw, err := readInput("--input", f.input, stdin)
		if err != nil {
			return in, err
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return in, usagef("--input: %v", err)
		}
	}
	var err error
	f.fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "types":
			in.EventTypes = ptr(splitList(f.types))
		case "description":
			in.Description = ptr(f.description)
		case "header":
			in.Headers, err = f.headers.headers()
		case "secret":
			in.Secret = ptr(f.secret)
		case "max-concurrency":
			in.MaxConcurrency = ptr(f.maxConc)
		case "ordering":
			in.Ordering = ptr(f.ordering)
			if f.ordering == "none" {
				in.Ordering = ptr("")
			}
		case "rate-limit":
			in.RateLimit = ptr(f.rate)
		}
	})
	f.fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "source-apps":
			in.SourceApps = ptr(splitList(f.apps))
		case "source-types":
			in.SourceTypes = ptr(splitList(f.srcTypes))
		case "payload-format":
			in.PayloadFormat = ptr(f.format)
		case "signature-profile":
			in.SignatureProfile = ptr(f.profile)
		case "signature-header":
			in.SignatureHeader = ptr(f.sigHeader)
		case "filter":
			in.Filter = ptr(f.filter)
		case "transform":
			in.Transform = ptr(f.transform)
		case "verify":
			in.Verify = ptr(f.verify)
		case "offset":
			in.Offset = ptr(f.offset)
		}
	})
	return in, err
}

func ptr[T any](v T) *T { return &v }

// listFlag is a flag that may be repeated.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }
func (l *listFlag) Type() string       { return "'Name: value'" }

// headers reads "Name: value" (or Name=value) items; one empty item
// stands for no headers.
func (l listFlag) headers() (*map[string]string, error) {
	h := map[string]string{}
	for _, item := range l {
		if strings.TrimSpace(item) == "" {
			continue
		}
		name, value, ok := strings.Cut(item, ":")
		if !ok {
			name, value, ok = strings.Cut(item, "=")
		}
		if !ok || strings.TrimSpace(name) == "" {
			return nil, usagef("--header %q: want 'Name: value'", item)
		}
		h[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	return &h, nil
}

func endpointsCreate(fs *flag.FlagSet, c *cli) func([]string) error {
	f := addEndpointFlags(fs)
	var disabled bool
	fs.BoolVar(&disabled, "disabled", false, "create it disabled")
	return func(args []string) error {
		in, err := f.build(c.stdin)
		if err != nil {
			return err
		}
		in.URL = ptr(args[0])
		if disabled {
			in.Enabled = ptr(false)
		}
		if in.EventTypes == nil || len(*in.EventTypes) == 0 {
			return usagef("endpoints create: --types is required (event types or patterns, '*' for every event)")
		}
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		e, err := cl.CreateEndpoint(c.ctx, in)
		if err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) {
			showEndpoint(w, &e.Endpoint)
			fields(w, "secret?", e.Secret, "public key?", e.PublicKey)
		})
	}
}

func endpointsUpdate(fs *flag.FlagSet, c *cli) func([]string) error {
	f := addEndpointFlags(fs)
	var target string
	fs.StringVar(&target, "endpoint-url", "", "the receiver's new URL")
	return func(args []string) error {
		in, err := f.build(c.stdin)
		if err != nil {
			return err
		}
		if target != "" {
			in.URL = ptr(target)
		}
		if raw, _ := json.Marshal(in); string(raw) == "{}" {
			return usagef("endpoints update: nothing to change; give the fields to change as flags (see slotwire endpoints update -h)")
		}
		return updateEndpoint(c, args[0], in)
	}
}

func updateEndpoint(c *cli, id string, in client.EndpointInput) error {
	cl, err := c.client(connTenant)
	if err != nil {
		return err
	}
	e, err := cl.UpdateEndpoint(c.ctx, id, in)
	if err != nil {
		return apiError(err)
	}
	return c.emit(func(w io.Writer) { showEndpoint(w, e) })
}

func endpointsEnable(on bool) func(*flag.FlagSet, *cli) func([]string) error {
	return func(_ *flag.FlagSet, c *cli) func([]string) error {
		return func(args []string) error {
			return updateEndpoint(c, args[0], client.EndpointInput{Enabled: ptr(on)})
		}
	}
}

func endpointsDelete(_ *flag.FlagSet, c *cli) func([]string) error {
	return func(args []string) error {
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		if err := cl.DeleteEndpoint(c.ctx, args[0]); err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) { fmt.Fprintln(w, "deleted", args[0]) })
	}
}

func endpointsTest(_ *flag.FlagSet, c *cli) func([]string) error {
	return func(args []string) error {
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		r, err := cl.TestEndpoint(c.ctx, args[0])
		if err != nil {
			return apiError(err)
		}
		answer := r.Error
		if r.StatusCode != 0 {
			answer = fmt.Sprintf("HTTP %d", r.StatusCode)
		}
		if err := c.emit(func(w io.Writer) {
			fields(w, "event", r.EventID, "succeeded", r.Succeeded, "answer", answer, "latency", fmt.Sprintf("%d ms", r.LatencyMS), "body?", truncate(r.Body, 200))
		}); err != nil {
			return err
		}
		if !r.Succeeded {
			return fmt.Errorf("test webhook to %s failed: %s", args[0], answer)
		}
		return nil
	}
}

func endpointsSecret(_ *flag.FlagSet, c *cli) func([]string) error {
	return func(args []string) error {
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		k, err := cl.EndpointSigningKey(c.ctx, args[0])
		if err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) { fmt.Fprintln(w, k.Secret+k.PublicKey) })
	}
}

func endpointsRotate(fs *flag.FlagSet, c *cli) func([]string) error {
	var in client.RotateInput
	fs.StringVar(&in.Grace, "grace", "", "how long the old secret signs too, 0s to 168h (default 24h)")
	fs.StringVar(&in.Secret, "secret", "", "the new secret (default: a new random one)")
	return func(args []string) error {
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		r, err := cl.RotateSecret(c.ctx, args[0], in)
		if err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) {
			fields(w, "secret?", r.Secret, "public key?", r.PublicKey, "old secret signs until", r.PreviousSecretUntil)
		})
	}
}

func endpointsFeedToken(fs *flag.FlagSet, c *cli) func([]string) error {
	var del bool
	fs.BoolVar(&del, "delete", false, "remove the endpoint's feed token instead")
	return func(args []string) error {
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		if del {
			if err := cl.DeleteFeedToken(c.ctx, args[0]); err != nil {
				return apiError(err)
			}
			return c.emit(func(w io.Writer) { fmt.Fprintln(w, "deleted the feed token of", args[0]) })
		}
		token, err := cl.CreateFeedToken(c.ctx, args[0])
		if err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) {
			fields(w, "endpoint", args[0], "feed token", token)
			fmt.Fprintln(w, "\t(the feed token is shown only this once; the previous one no longer works)")
		})
	}
}
