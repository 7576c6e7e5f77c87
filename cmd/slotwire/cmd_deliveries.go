package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/slotwire/slotwire/client"
)

func deliveriesCmd() *command {
	t := func(c *command) *command { c.conn, c.json = connTenant, true; return c }
	return &command{name: "deliveries", summary: "search, show, replay deliveries and print their payloads",
		about: "The delivery log: one delivery per event and endpoint, with its attempts.",
		example: `slotwire deliveries list --endpoint ep_01M81SPGSR6XQ0H3M5Z18AQSWH --status failed --since 2d
slotwire deliveries show dlv_01M81SPGY8EWCNN5VJK0MQ5BVY
slotwire deliveries replay dlv_01M81SPGY8EWCNN5VJK0MQ5BVY
slotwire deliveries payload dlv_01M81SPGY8EWCNN5VJK0MQ5BVY > body.json`,
		subs: []*command{
			t(&command{name: "list", usage: "[--endpoint ID] [--status S] [--event-type T] [--since WHEN] … [--all]", summary: "search deliveries, newest first",
				example: "slotwire deliveries list --status failed --since 24h\nslotwire deliveries list --event evt_01M81SPGY72VRBXH5FT60BSYTS --json", setup: deliveriesList}),
			t(&command{name: "show", usage: "DELIVERY_ID", nargs: 1, summary: "show a delivery and its attempts",
				example: "slotwire deliveries show dlv_01M81SPGY8EWCNN5VJK0MQ5BVY", setup: deliveriesShow}),
			t(&command{name: "replay", usage: "DELIVERY_ID", nargs: 1, summary: "send the event again to the same endpoint (a new delivery)",
				example: "slotwire deliveries replay dlv_01M81SPGY8EWCNN5VJK0MQ5BVY", setup: deliveriesReplay}),
			t(&command{name: "payload", usage: "DELIVERY_ID", nargs: 1, summary: "print the exact body that was sent and signed",
				example: "slotwire deliveries payload dlv_01M81SPGY8EWCNN5VJK0MQ5BVY > body.json", setup: deliveriesPayload}),
		}}
}

func deliveriesList(fs *flag.FlagSet, c *cli) func([]string) error {
	p := addPageFlags(fs)
	tf := addTimeFlags(fs, "deliveries created")
	var q client.DeliveryQuery
	fs.StringVar(&q.EndpointID, "endpoint", "", "only this endpoint's deliveries")
	fs.StringVar(&q.Status, "status", "", "pending, retrying, inflight, succeeded, failed, filtered or archived")
	fs.StringVar(&q.StatusClass, "status-class", "", "class of the last answer: 2xx, 4xx, 5xx or network")
	fs.StringVar(&q.EventType, "event-type", "", "an event type or a prefix pattern such as 'appointment.*'")
	fs.StringVar(&q.EventID, "event", "", "only the deliveries of this event")
	return func([]string) error {
		var err error
		if q.Since, q.Until, err = tf.parse(time.Now()); err != nil {
			return err
		}
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		return listPages(c, p, func(cursor string, limit int) (*client.Page[client.Delivery], error) {
			q.Cursor, q.Limit = cursor, limit
			return cl.SearchDeliveries(c.ctx, q)
		}, deliveryTable)
	}
}

func deliveryTable(w io.Writer, list []client.Delivery) {
	row(w, "ID", "STATUS", "ATTEMPTS", "LAST", "ENDPOINT", "EVENT", "TYPE", "CREATED")
	for _, d := range list {
		row(w, d.ID, d.Status, d.Attempts, lastAnswer(d.LastStatusCode, d.LastError), d.EndpointID, d.EventID, d.EventType, d.CreatedAt)
	}
}

// lastAnswer is an attempt's outcome in a few words.
func lastAnswer(code int, errText string) string {
	if code != 0 {
		return fmt.Sprint(code)
	}
	return truncate(errText, 40)
}

func deliveriesShow(_ *flag.FlagSet, c *cli) func([]string) error {
	return func(args []string) error {
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		d, err := cl.GetDelivery(c.ctx, args[0])
		if err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) {
			fields(w, "id", d.ID, "status", d.Status, "endpoint", d.EndpointID, "event", d.EventID, "type", d.EventType,
				"attempts", d.Attempts, "next attempt?", d.NextAttemptAt, "last status code?", d.LastStatusCode,
				"last error?", d.LastError, "replay of?", d.ReplayOf, "replays?", d.ReplayCount, "ordering key?", d.OrderingKey,
				"created", d.CreatedAt, "updated", d.UpdatedAt, "archived?", d.ArchivedAt)
			fmt.Fprintf(w, "\nattempts (%d):\n", len(d.AttemptLog))
			row(w, "#", "AT", "ANSWER", "DURATION", "RESPONSE")
			for _, a := range d.AttemptLog {
				row(w, a.Number, a.At, lastAnswer(a.StatusCode, a.Error), fmt.Sprintf("%d ms", a.DurationMS), truncate(a.ResponseBody, 60))
			}
		})
	}
}

func deliveriesReplay(_ *flag.FlagSet, c *cli) func([]string) error {
	return func(args []string) error {
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		d, err := cl.Replay(c.ctx, args[0])
		if err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) { fmt.Fprintf(w, "queued %s (replay of %s, %s)\n", d.ID, args[0], d.Status) })
	}
}

// deliveriesPayload prints the bytes as they were signed, with or without
// --json: they are the API's answer.
func deliveriesPayload(_ *flag.FlagSet, c *cli) func([]string) error {
	return func(args []string) error {
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		b, err := cl.DeliveryPayload(c.ctx, args[0])
		if err != nil {
			return apiError(err)
		}
		_, err = c.stdout.Write(b)
		return err
	}
}

func recoverCmd() *command {
	return &command{name: "recover", usage: "--endpoint ID --since WHEN [--until WHEN] [--wait DURATION]", summary: "replay an endpoint's failed deliveries after an outage",
		about: `Replay, once each and in order, the endpoint's failed deliveries created in [--since, --until)
(--until defaults to now). A failed delivery already replayed is skipped, so running it twice
queues nothing the second time. Prints how many were queued; with --wait, follows the replays
until they finish (exit 1 if some failed or the wait ran out).`,
		example: `slotwire recover --endpoint ep_01M81SPGSR6XQ0H3M5Z18AQSWH --since 2026-12-01T09:00:00Z --until 2026-12-01T12:00:00Z
slotwire recover --endpoint ep_01M81SPGSR6XQ0H3M5Z18AQSWH --since 6h --wait 10m`,
		conn: connTenant, json: true, setup: recoverRun}
}

func recoverRun(fs *flag.FlagSet, c *cli) func([]string) error {
	var endpoint string
	var wait time.Duration
	tf := addTimeFlags(fs, "failed deliveries created")
	fs.StringVar(&endpoint, "endpoint", "", "the endpoint (required)")
	fs.Var((*durationValue)(&wait), "wait", "follow the replays for up to this long, printing progress (0: don't)")
	return func([]string) error {
		since, until, err := tf.parse(time.Now())
		switch {
		case err != nil:
			return err
		case endpoint == "" || since.IsZero():
			return usagef("recover: --endpoint and --since are required")
		}
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		n, err := cl.Recover(c.ctx, endpoint, since, until)
		if err != nil {
			return apiError(err)
		}
		window := fmtTime(since) + " to " + cell(until)
		if until.IsZero() {
			window = fmtTime(since) + " to now"
		}
		if err := c.emit(func(w io.Writer) {
			fmt.Fprintf(w, "queued %d failed deliveries of %s for replay (created %s)\n", n, endpoint, window)
		}); err != nil || wait <= 0 || n == 0 {
			return err
		}
		return waitReplays(c, cl, endpoint, n, wait)
	}
}

// waitReplays follows the n newest replays of the endpoint (those recover
// queued) until they all finished or the wait ran out, printing progress
// to stderr when it changes.
func waitReplays(c *cli, cl *client.Client, endpoint string, n int, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	last := ""
	for {
		done, failed, err := replayProgress(c, cl, endpoint, n)
		if err != nil {
			return apiError(err)
		}
		if line := fmt.Sprintf("recover: %d of %d replays done (%d failed), %d waiting", done, n, failed, n-done); line != last {
			fmt.Fprintln(c.stderr, line)
			last = line
		}
		switch {
		case done == n && failed > 0:
			return fmt.Errorf("%d of %d replays failed (slotwire deliveries list --endpoint %s --status failed)", failed, n, endpoint)
		case done == n:
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("%d of %d replays still waiting after %s", n-done, n, formatDuration(wait))
		}
		select {
		case <-c.ctx.Done():
			return c.ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// replayProgress counts, among the endpoint's n newest replays, those
// finished and those failed.
func replayProgress(c *cli, cl *client.Client, endpoint string, n int) (done, failed int, err error) {
	seen, cursor := 0, ""
	for seen < n {
		page, err := cl.SearchDeliveries(c.ctx, client.DeliveryQuery{EndpointID: endpoint, Cursor: cursor, Limit: 1000})
		if err != nil {
			return 0, 0, err
		}
		for _, d := range page.Data {
			if d.ReplayOf == "" || seen == n {
				continue
			}
			seen++
			switch d.Status {
			case client.StatusSucceeded, client.StatusFiltered:
				done++
			case client.StatusFailed:
				done, failed = done+1, failed+1
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	return done, failed, nil
}

func statsCmd() *command {
	return &command{name: "stats", usage: "[--endpoint ID] [--hourly]", summary: "delivery statistics of the tenant or one endpoint",
		about: `Delivery statistics: for the last hour, 24 hours, 7 and 30 days, the deliveries that succeeded,
failed and are retrying, the success rate and attempt latency percentiles; the last success and
failure; with --hourly, the last 24 hours hour by hour.`,
		example: "slotwire stats\nslotwire stats --endpoint ep_01M81SPGSR6XQ0H3M5Z18AQSWH --hourly",
		conn:    connTenant, json: true, setup: statsRun}
}

func statsRun(fs *flag.FlagSet, c *cli) func([]string) error {
	var endpoint string
	var hourly bool
	fs.StringVar(&endpoint, "endpoint", "", "one endpoint's statistics (default: every endpoint the key covers)")
	fs.BoolVar(&hourly, "hourly", false, "also print the last 24 hours, hour by hour")
	return func([]string) error {
		cl, err := c.client(connTenant)
		if err != nil {
			return err
		}
		var s *client.Stats
		if endpoint != "" {
			s, err = cl.EndpointStats(c.ctx, endpoint)
		} else {
			s, err = cl.Stats(c.ctx)
		}
		if err != nil {
			return apiError(err)
		}
		return c.emit(func(w io.Writer) { printStats(w, s, hourly) })
	}
}

func printStats(w io.Writer, s *client.Stats, hourly bool) {
	row(w, "WINDOW", "SUCCEEDED", "FAILED", "RETRYING", "SUCCESS RATE", "P50", "P95")
	for _, name := range []string{"1h", "24h", "7d", "30d"} {
		if win, ok := s.Windows[name]; ok {
			row(w, name, win.Succeeded, win.Failed, win.Retrying, percent(win.SuccessRate), millis(win.P50MS), millis(win.P95MS))
		}
	}
	fmt.Fprintln(w)
	fields(w, "last success", s.LastSuccessAt, "last failure", s.LastFailureAt)
	if hourly {
		fmt.Fprintln(w)
		row(w, "HOUR", "SUCCEEDED", "FAILED", "RETRYING")
		for _, h := range s.Hourly {
			row(w, h.Hour, h.Succeeded, h.Failed, h.Retrying)
		}
	}
}
