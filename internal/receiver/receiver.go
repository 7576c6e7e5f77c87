// Package receiver is a webhook receiver on loopback for tests and the
// benchmark: it records every request and answers as told.
package receiver

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Request is one received webhook.
type Request struct {
	Header http.Header
	Body   []byte
	At     time.Time
}

// Receiver records requests.
type Receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []Request
	byID     map[string]int
	// Respond decides the answer to the n-th request (1-based); nil: 200.
	respond func(n int, w http.ResponseWriter, r *http.Request)
	notify  chan struct{}
}

// New starts a receiver; respond may be nil.
func New(respond func(n int, w http.ResponseWriter, r *http.Request)) *Receiver {
	rc := &Receiver{byID: map[string]int{}, respond: respond, notify: make(chan struct{}, 1)}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	return rc
}

func (rc *Receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rc.mu.Lock()
	rc.requests = append(rc.requests, Request{Header: r.Header.Clone(), Body: body, At: time.Now()})
	n := len(rc.requests)
	rc.byID[r.Header.Get("webhook-id")]++
	rc.mu.Unlock()
	select {
	case rc.notify <- struct{}{}:
	default:
	}
	if rc.respond != nil {
		rc.respond(n, w, r)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// Requests returns a copy of what was received.
func (rc *Receiver) Requests() []Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Request(nil), rc.requests...)
}

// Count returns how many requests arrived.
func (rc *Receiver) Count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.requests)
}

// IDs returns how many times each webhook-id arrived.
func (rc *Receiver) IDs() map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make(map[string]int, len(rc.byID))
	for k, v := range rc.byID {
		out[k] = v
	}
	return out
}

// WaitFor waits until cond holds or the timeout passes; it reports whether
// cond held.
func (rc *Receiver) WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		if left > 50*time.Millisecond {
			left = 50 * time.Millisecond
		}
		select {
		case <-rc.notify:
		case <-time.After(left):
		}
	}
}

// WaitCount waits until at least n requests arrived.
func (rc *Receiver) WaitCount(n int, timeout time.Duration) bool {
	return rc.WaitFor(timeout, func() bool { return rc.Count() >= n })
}
