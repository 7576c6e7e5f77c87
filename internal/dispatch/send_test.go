package dispatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/netguard"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlite"
	"github.com/slotwire/slotwire/signature"
)

// One attempt against a real HTTP receiver: the request is signed, and
// the answer becomes the outcome the retry policy decides.
func TestAttempt(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"), sqlite.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const secret = "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := signature.Verify(secret, r.Header.Get(signature.HeaderID), r.Header.Get(signature.HeaderTimestamp),
			r.Header.Get(signature.HeaderSignature), body, time.Now(), time.Minute)
		if err != nil {
			t.Errorf("signature: %v", err)
		}
		switch r.URL.Path {
		case "/ok":
			_, _ = w.Write([]byte("thanks"))
		case "/gone":
			w.WriteHeader(http.StatusGone)
		case "/busy":
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/huge-headers":
			w.Header().Set("X-Padding", strings.Repeat("a", 100<<10))
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer srv.Close()
	d := New(Config{Store: db, Guard: &netguard.Guard{AllowPrivate: true}, Schedule: []time.Duration{0, time.Second}, Jitter: -1})
	defer d.sender.closeIdle()
	job := func(path string) *store.Job {
		j := &store.Job{Payload: []byte(`{"id":"evt_1"}`)}
		j.Delivery.ID, j.Delivery.EventID = "dlv_1", "evt_1"
		j.Endpoint.ID, j.Endpoint.URL, j.Endpoint.Secret = "ep_1", srv.URL+path, secret
		return j
	}
	cases := []struct {
		path, status, errPart, disable string
		retryIn                        time.Duration
	}{
		{"/ok", slotwire.StatusSucceeded, "", "", 0},
		{"/gone", slotwire.StatusFailed, "410", "the endpoint answered 410 Gone", 0},
		{"/busy", slotwire.StatusPending, "HTTP 503", "", time.Hour},
		// A receiver's headers may not take memory: over 64 KiB the
		// answer is refused and the delivery retried.
		{"/huge-headers", slotwire.StatusPending, "header", "", time.Second},
	}
	for _, c := range cases {
		before := time.Now()
		o := d.attempt(context.Background(), job(c.path))
		if o.Status != c.status || !strings.Contains(o.Attempt.Error, c.errPart) || o.DisableReason != c.disable {
			t.Errorf("%s: outcome %s %q %q", c.path, o.Status, o.Attempt.Error, o.DisableReason)
		}
		if c.retryIn > 0 {
			if in := o.NextAttemptAt.Sub(before); in < c.retryIn || in > c.retryIn+5*time.Second {
				t.Errorf("%s: retry in %s, want %s", c.path, in, c.retryIn)
			}
		}
	}
}

// Attempt errors shown to tenants never name this node's resolver nor an
// address netguard refused (issue 9.4).
func TestAttemptErrorsRevealNoInternalNetwork(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&url.Error{Op: "Post", URL: "https://erp.corp/x", Err: &net.OpError{Op: "dial", Err: &net.DNSError{
			Err: "no such host", Name: "erp.corp", Server: "10.255.255.53:53", IsNotFound: true}}}, `host "erp.corp" does not resolve`},
		{&net.DNSError{Err: "i/o timeout", Name: "erp.corp", Server: "10.255.255.53:53", IsTimeout: true}, `DNS lookup of "erp.corp" timed out`},
		{&net.DNSError{Err: "server misbehaving", Name: "erp.corp", Server: "10.255.255.53:53"}, `DNS lookup of "erp.corp" failed`},
		{fmt.Errorf("dial tcp 10.20.30.40:443: %w", netguard.ErrForbidden), "refused: the host resolves to a non-public address"},
		// The request URL (which may carry a token) is dropped.
		{&url.Error{Op: "Post", URL: "https://erp.example/h?token=s3cret", Err: errors.New("EOF")}, "EOF"},
	} {
		got := tenantSafe(c.err).Error()
		if got != c.want || strings.Contains(got, "10.") {
			t.Errorf("tenantSafe(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
