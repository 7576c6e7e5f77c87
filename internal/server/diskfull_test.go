package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// When storage is full, publishes answer 503 storage_unavailable (not 500),
// /healthz says so, and both recover on their own when space returns
// (issue 9.7). The full disk is SQLite's size cap (max_page_count) on the
// node's own writer connection.
func TestStorageFullAnswers503AndRecovers(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	ctx := context.Background()
	exec := e.node.Store.(interface {
		Exec(ctx context.Context, q string, args ...any) error
	})
	health := func() (int, map[string]string) {
		resp, err := http.Get(e.node.URL() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	if code, _ := health(); code != 200 {
		t.Fatalf("healthz before: %d", code)
	}
	if err := exec.Exec(ctx, `PRAGMA max_page_count = 1`); err != nil { // clamps to the current size
		t.Fatal(err)
	}
	big := `{"type":"a.b","data":{"x":"` + strings.Repeat("x", 60000) + `"}}`
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		err = c.Do(ctx, "POST", "/v1/events", []byte(big), nil)
	}
	apiErr(t, err, http.StatusServiceUnavailable, "storage_unavailable")
	if code, body := health(); code != 503 || body["reason"] != "storage is full" {
		t.Fatalf("healthz while full: %d %v", code, body)
	}
	if err := exec.Exec(ctx, `PRAGMA max_page_count = 1000000`); err != nil {
		t.Fatal(err)
	}
	if code, body := health(); code != 200 {
		t.Fatalf("healthz after space returned: %d %v", code, body)
	}
	if err := c.Do(ctx, "POST", "/v1/events", []byte(big), nil); err != nil {
		t.Fatalf("publish after space returned: %v", err)
	}
}
