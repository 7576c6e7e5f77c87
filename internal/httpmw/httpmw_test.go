package httpmw

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func serve(t *testing.T, h http.Handler, logs *bytes.Buffer, req *http.Request) *http.Response {
	t.Helper()
	log := slog.New(LogHandler{slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})})
	srv := httptest.NewServer(Wrap(h, log))
	defer srv.Close()
	req.URL.Scheme, req.URL.Host, req.RequestURI = "http", srv.Listener.Addr().String(), ""
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestPanicAnswers500JSONAndLogsStackWithRequestID(t *testing.T) {
	var logs bytes.Buffer
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	resp := serve(t, h, &logs, httptest.NewRequest("GET", "/v1/x", nil))
	if resp.StatusCode != 500 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var body struct {
		Error struct{ Code, Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Error.Code != "internal" {
		t.Fatalf("body = %+v, %v", body, err)
	}
	id := resp.Header.Get(HeaderRequestID)
	if !strings.HasPrefix(id, "req_") {
		t.Fatalf("request id = %q", id)
	}
	if !strings.Contains(logs.String(), `"request_id":"`+id+`"`) || !strings.Contains(logs.String(), "httpmw_test.go") {
		t.Fatalf("log lacks the request id or the stack:\n%s", logs.String())
	}
}

func TestRequestIDKeptWhenSaneAndHeadersSet(t *testing.T) {
	var logs bytes.Buffer
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(RequestID(r.Context()))) })
	for _, c := range []struct{ sent, want string }{
		{"abc-123", "abc-123"},
		{"bad id with spaces", ""},
		{strings.Repeat("x", 200), ""},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set(HeaderRequestID, c.sent)
		resp := serve(t, h, &logs, req)
		got := resp.Header.Get(HeaderRequestID)
		if c.want != "" && got != c.want || c.want == "" && !strings.HasPrefix(got, "req_") {
			t.Errorf("sent %q: got id %q", c.sent, got)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("no nosniff header")
		}
	}
}
