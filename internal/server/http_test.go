package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The HTTP server's limits and headers as a client sees them (issue 9.9).
func TestHTTPServerLimitsAndHeaders(t *testing.T) {
	e := start(t, fast())
	do := func(method, path string, hdr map[string]string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, e.node.URL()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Header.Set("X-Test-Body", string(body))
		return resp
	}
	// A wrong method on a known path: 405 with Allow, JSON error.
	r := do("PUT", "/v1/events", map[string]string{"Authorization": "Bearer x"})
	if r.StatusCode != 405 || r.Header.Get("Allow") != "GET, POST" || !strings.Contains(r.Header.Get("X-Test-Body"), `"method_not_allowed"`) {
		t.Fatalf("PUT /v1/events: %d Allow=%q %s", r.StatusCode, r.Header.Get("Allow"), r.Header.Get("X-Test-Body"))
	}
	r = do("POST", "/v1/endpoints/ep_1", nil)
	if r.StatusCode != 405 || r.Header.Get("Allow") != "GET, PATCH, DELETE" {
		t.Fatalf("POST /v1/endpoints/ep_1: %d Allow=%q", r.StatusCode, r.Header.Get("Allow"))
	}
	// An unknown path stays 404.
	if r = do("GET", "/v1/nothing", nil); r.StatusCode != 404 {
		t.Fatalf("unknown path: %d", r.StatusCode)
	}
	// Every answer has a request id and nosniff; a sane id sent is echoed.
	r = do("GET", "/healthz", map[string]string{"X-Request-Id": "trace-42"})
	if r.Header.Get("X-Request-Id") != "trace-42" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("headers = %v", r.Header)
	}
	// Request headers over 64 KiB are refused before any handler runs.
	r = do("GET", "/healthz", map[string]string{"X-Big": strings.Repeat("a", 100<<10)})
	if r.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("100 KiB of headers: %d", r.StatusCode)
	}
}
