package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/signature"
)

func listenCmd() *command {
	return &command{name: "listen", usage: "[--forward-to URL] [--events TYPE,…] [--keep]", conn: connTenant, json: true,
		summary: "receive the tenant's webhooks here, with no inbound port: print them, forward them to a local URL",
		about: `Receive the tenant's webhooks on this machine, as they are published: each is printed (time,
type, event id, whether its signature verified, the JSON body) and, with --forward-to, posted with
its signature headers to a local URL, whose answer is shown.

It needs no inbound port: it creates a pull endpoint ("type":"pull", described "slotwire listen
HOSTNAME"; one left by an earlier run on this host is reused) and reads its feed with long polls,
so it works the same against a local or a remote server. Events show about 2 s after they are
published (the feed's settle delay). On exit (Ctrl-C, SIGTERM) the endpoint is deleted, unless
--keep. The signing secret of the endpoint is printed at the start, for the local receiver.`,
		example: `slotwire listen --forward-to http://localhost:3000/hooks
slotwire listen --events 'appointment.*,customer.created'
slotwire listen --json --forward-to http://localhost:3000/hooks --keep`,
		setup: listenSetup}
}

// listenWait is the wait of each long poll (the server takes up to 30 s).
const listenWait = 25 * time.Second

// listener is one run of slotwire listen.
type listener struct {
	c         *cli
	cl        *client.Client
	forwardTo string
	endpoint  string
	secret    string
	cursor    string
	fwd       *http.Client
}

func listenSetup(fs *flag.FlagSet, c *cli) func([]string) error {
	forwardTo := fs.String("forward-to", "", "post each webhook, with its signature headers, to this URL (default: only print)")
	events := fs.String("events", "*", "the event types to receive, comma-separated (exact types, prefixes such as 'appointment.*')")
	keep := fs.Bool("keep", false, "keep the endpoint on exit (the next run on this host reuses it)")
	return func([]string) error {
		if u := *forwardTo; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return usagef("listen: --forward-to %q: want an http:// or https:// URL", u)
		}
		types := splitList(*events)
		if len(types) == 0 {
			return usagef("listen: --events needs at least one event type ('*' for all)")
		}
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		l := &listener{c: c, cl: cl, forwardTo: *forwardTo, fwd: &http.Client{Timeout: 30 * time.Second}}
		created, err := l.open(types)
		if err != nil {
			return apiError(err)
		}
		defer l.close(*keep, created)
		return l.loop()
	}
}

// listenMarker is the description of this host's listen endpoint.
func listenMarker() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return "slotwire listen " + host
}

// open finds this host's pull endpoint (and skips what its feed holds
// already) or creates one, and prints the banner; created says which.
func (l *listener) open(types []string) (created bool, err error) {
	ctx, marker := l.c.ctx, listenMarker()
	ep, err := l.find(marker)
	if err != nil {
		return false, err
	}
	if ep == nil {
		ep, err = l.cl.CreateEndpoint(ctx, client.EndpointInput{Type: ptrTo("pull"), Description: &marker, EventTypes: &types})
		if err != nil {
			return false, err
		}
		created = true
	} else {
		if _, err = l.cl.UpdateEndpoint(ctx, ep.ID, client.EndpointInput{EventTypes: &types, Enabled: ptrTo(true)}); err != nil {
			return false, err
		}
		if err = l.skipToEnd(ep.ID); err != nil {
			return false, err
		}
	}
	l.endpoint, l.secret = ep.ID, ep.Secret
	if l.secret == "" {
		k, err := l.cl.EndpointSigningKey(ctx, ep.ID)
		if err != nil {
			return created, err
		}
		l.secret = k.Secret
	}
	l.banner(types, created)
	return created, nil
}

func ptrTo[T any](v T) *T { return &v }

// find returns the tenant's pull endpoint described marker, or nil.
func (l *listener) find(marker string) (*client.EndpointWithSecret, error) {
	cursor := ""
	for {
		p, err := l.cl.ListEndpoints(l.c.ctx, cursor, 100)
		if err != nil {
			return nil, err
		}
		for _, e := range p.Data {
			if e.Type == "pull" && e.Description == marker {
				return &client.EndpointWithSecret{Endpoint: e}, nil
			}
		}
		if p.NextCursor == "" || len(p.Data) == 0 {
			return nil, nil
		}
		cursor = p.NextCursor
	}
}

// skipToEnd moves the cursor past what a reused endpoint's feed holds:
// listen shows what is published from now on.
func (l *listener) skipToEnd(id string) error {
	for {
		f, err := l.cl.Feed(l.c.ctx, id, l.cursor, 100)
		if err != nil {
			return err
		}
		l.cursor = f.NextCursor
		if len(f.Data) < 100 {
			return nil
		}
	}
}

func (l *listener) banner(types []string, created bool) {
	how := "reusing"
	if created {
		how = "created"
	}
	w := l.c.stderr
	fmt.Fprintf(w, "Listening for %s on %s (pull endpoint %s, %s).\n", strings.Join(types, ","), l.cl.BaseURL, l.endpoint, how)
	fmt.Fprintf(w, "Signing secret: %s\n", l.secret)
	if l.forwardTo != "" {
		fmt.Fprintf(w, "Forwarding to %s.\n", l.forwardTo)
	}
	fmt.Fprintln(w, "Press Ctrl-C to stop.")
}

// close deletes the endpoint, unless keep; it runs after the command's
// context ended, so it has its own.
func (l *listener) close(keep, created bool) {
	if keep {
		fmt.Fprintf(l.c.stderr, "Kept endpoint %s.\n", l.endpoint)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.cl.DeleteEndpoint(ctx, l.endpoint); err != nil {
		fmt.Fprintf(l.c.stderr, "slotwire: could not delete endpoint %s: %v\n", l.endpoint, apiError(err))
		return
	}
	fmt.Fprintf(l.c.stderr, "Deleted endpoint %s.\n", l.endpoint)
}

// loop long-polls the feed until the context ends, handling each item
// once: the cursor advances past each item handled, and a failed poll is
// tried again with backoff (up to 10 s) from the same cursor.
func (l *listener) loop() error {
	backoff := time.Duration(0)
	for l.c.ctx.Err() == nil {
		f, err := l.cl.FeedWait(l.c.ctx, l.endpoint, l.cursor, 100, listenWait)
		switch {
		case l.c.ctx.Err() != nil:
			return nil
		case permanent(err):
			return fmt.Errorf("listen: %w", apiError(err))
		case err != nil:
			backoff = min(max(2*backoff, 250*time.Millisecond), 10*time.Second)
			fmt.Fprintf(l.c.stderr, "slotwire: %v; retrying in %v\n", apiError(err), backoff)
			sleepCtx(l.c.ctx, backoff)
			continue
		}
		backoff = 0
		for _, it := range f.Data {
			if err := l.handle(it); err != nil {
				return err
			}
			l.cursor = it.DeliveryID
		}
		if f.NextCursor != "" {
			l.cursor = f.NextCursor
		}
	}
	return nil
}

// permanent: an answer that trying again will not change (the endpoint
// was deleted, the key revoked), unlike network errors, 429 and 5xx.
func permanent(err error) bool {
	var ce *client.Error
	return errors.As(err, &ce) && ce.Status >= 400 && ce.Status < 500 && ce.Status != http.StatusTooManyRequests &&
		ce.Status != http.StatusRequestTimeout
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// received is one webhook as listen saw it; its JSON is a line of --json.
type received struct {
	Time       time.Time       `json:"time"`
	DeliveryID string          `json:"delivery_id"`
	EventID    string          `json:"event_id"`
	Type       string          `json:"type"`
	Verified   bool            `json:"verified"`
	VerifyErr  string          `json:"verify_error,omitempty"`
	Body       json.RawMessage `json:"body"`
	ForwardTo  string          `json:"forward_to,omitempty"`
	Status     int             `json:"forward_status,omitempty"`
	ForwardErr string          `json:"forward_error,omitempty"`
	Millis     int64           `json:"forward_ms,omitempty"`
}

// handle verifies an item's signature, forwards it and prints it.
func (l *listener) handle(it client.FeedItem) error {
	h := it.Headers
	r := received{Time: it.CreatedAt, DeliveryID: it.DeliveryID, EventID: it.EventID, Type: it.EventType,
		Body: json.RawMessage(it.Body), ForwardTo: l.forwardTo}
	err := signature.Verify(l.secret, h[strings.ToLower(signature.HeaderID)], h[strings.ToLower(signature.HeaderTimestamp)],
		h[strings.ToLower(signature.HeaderSignature)], []byte(it.Body), time.Now(), 5*time.Minute)
	r.Verified = err == nil
	if err != nil {
		r.VerifyErr = err.Error()
	}
	if !json.Valid(r.Body) {
		b, _ := json.Marshal(it.Body)
		r.Body = b
	}
	if l.forwardTo != "" {
		l.forward(it, &r)
	}
	return l.print(&r)
}

// forward posts the item's exact body with its headers to --forward-to.
func (l *listener) forward(it client.FeedItem, r *received) {
	req, err := http.NewRequestWithContext(l.c.ctx, http.MethodPost, l.forwardTo, strings.NewReader(it.Body))
	if err != nil {
		r.ForwardErr = err.Error()
		return
	}
	for k, v := range it.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "slotwire-listen/"+version())
	began := time.Now()
	resp, err := l.fwd.Do(req)
	r.Millis = time.Since(began).Milliseconds()
	if err != nil {
		r.ForwardErr = strings.TrimPrefix(err.Error(), "Post \""+l.forwardTo+"\": ")
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	r.Status = resp.StatusCode
}

// print writes one webhook: a line of JSON with --json, else a heading
// line, the body indented and the local answer.
func (l *listener) print(r *received) error {
	var b bytes.Buffer
	if l.c.json {
		line, _ := json.Marshal(r)
		b.Write(line)
		b.WriteByte('\n')
		_, err := l.c.stdout.Write(b.Bytes())
		return err
	}
	mark := "✓ verified"
	if !r.Verified {
		mark = "✗ NOT VERIFIED: " + r.VerifyErr
	}
	fmt.Fprintf(&b, "%s  %s  %s  %s\n", r.Time.Local().Format("15:04:05"), r.Type, r.EventID, mark)
	if err := json.Indent(&b, r.Body, "", "  "); err != nil {
		b.Write(r.Body)
	}
	b.WriteByte('\n')
	switch {
	case r.ForwardErr != "":
		fmt.Fprintf(&b, "→ %s: %s\n", r.ForwardTo, r.ForwardErr)
	case r.ForwardTo != "":
		fmt.Fprintf(&b, "→ %s: %d %s (%d ms)\n", r.ForwardTo, r.Status, http.StatusText(r.Status), r.Millis)
	}
	b.WriteByte('\n')
	_, err := l.c.stdout.Write(b.Bytes())
	return err
}
