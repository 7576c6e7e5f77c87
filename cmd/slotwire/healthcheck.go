package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

func healthcheckCmd() *command {
	return &command{name: "healthcheck", usage: "[--url URL] [--timeout DURATION]", json: true,
		summary: "check a running server's /healthz: exit 0 when ok, else 1 (container health checks)",
		about: `Ask a running server's GET /healthz (no token needed) and exit 0 when it answers
{"status":"ok"}, else 1 with the reason: the server does not answer, the database cannot be
reached, the disk is full. For a container's HEALTHCHECK in images without curl:

  HEALTHCHECK CMD ["/usr/local/bin/slotwire", "healthcheck", "--url", "http://127.0.0.1:8080", "--timeout", "2s"]`,
		example: "slotwire healthcheck\nslotwire healthcheck --url http://10.0.0.5:8080 --timeout 2s",
		setup:   healthcheck}
}

func healthcheck(fs *flag.FlagSet, c *cli) func([]string) error {
	base, timeout := "http://127.0.0.1:8080", 5*time.Second
	fs.StringVar(&base, "url", base, "the server's URL; its /healthz is asked")
	fs.Var((*durationValue)(&timeout), "timeout", "give up (exit 1) after this long")
	return func([]string) error {
		if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
			return usagef("healthcheck: --url %q: want http:// or https://", base)
		}
		u := strings.TrimSuffix(strings.TrimRight(base, "/"), "/healthz") + "/healthz"
		ctx, cancel := context.WithTimeout(c.ctx, timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return usagef("healthcheck: --url %q: %v", base, err)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return fmt.Errorf("healthcheck: %v", err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("healthcheck: reading the answer of %s: %v", u, err)
		}
		var h struct{ Status, Reason string }
		_ = json.Unmarshal(body, &h)
		healthy := resp.StatusCode == http.StatusOK && h.Status == "ok"
		switch {
		case c.json:
			if err := c.printJSON(body); err != nil {
				return err
			}
		case healthy:
			fmt.Fprintln(c.stdout, "ok")
		}
		if healthy {
			return nil
		}
		why := cmp.Or(h.Status, "not a health answer")
		if h.Reason != "" {
			why += " (" + h.Reason + ")"
		}
		return fmt.Errorf("healthcheck: %s answered HTTP %d: %s", u, resp.StatusCode, why)
	}
}
