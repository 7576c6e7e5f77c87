package dispatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/signature"
)

const (
	maxLoggedBody = 4 << 10
	maxDrain      = 64 << 10
	maxRetryAfter = 24 * time.Hour
)

func (d *Dispatcher) send(l *lane, j *store.Job, fifo bool) {
	defer d.sends.Done()
	select {
	case d.global <- struct{}{}:
	case <-d.sendCtx.Done():
	}
	began := time.Now()
	o := d.attempt(d.sendCtx, j)
	took := time.Since(began)
	select {
	case <-d.global:
	default:
	}
	// Hand the outcome to the recorder before freeing the lane's place:
	// when the database falls behind, lanes wait rather than piling up
	// finished requests in memory.
	d.outcomes <- &result{job: j, outcome: o, lane: l, fifo: fifo}
	d.mu.Lock()
	l.observe(took)
	if !fifo {
		l.inflight--
		l.kick()
	}
	d.mu.Unlock()
}

// attempt makes one signed request and classifies its outcome.
func (d *Dispatcher) attempt(ctx context.Context, j *store.Job) store.Outcome {
	now := d.cfg.Now()
	o := store.Outcome{DeliveryID: j.Delivery.ID, EndpointID: j.Endpoint.ID, Owner: d.cfg.Owner}
	o.Attempt.At = now
	code, body, retryAfter, err := d.post(ctx, j, now)
	o.Attempt.DurationMS = d.cfg.Now().Sub(now).Milliseconds()
	o.Attempt.StatusCode = code
	o.Attempt.ResponseBody = body
	harder := false
	switch {
	case err != nil:
		o.Attempt.Error = err.Error()
		harder = errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Timeout")
	case code >= 200 && code < 300:
		o.Status = slotwire.StatusSucceeded
		return o
	case code == http.StatusGone:
		o.Status = slotwire.StatusFailed
		o.Attempt.Error = "HTTP 410 Gone"
		o.DisableReason = "the endpoint answered 410 Gone"
		return o
	default:
		o.Attempt.Error = fmt.Sprintf("HTTP %d", code)
		switch code {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			harder = true
		}
	}
	delay, ok := d.nextDelay(j.Delivery.Attempts+1, harder, retryAfter)
	if !ok {
		o.Status = slotwire.StatusFailed
		return o
	}
	o.Status = slotwire.StatusPending
	o.NextAttemptAt = d.cfg.Now().Add(delay)
	return o
}

func (d *Dispatcher) post(ctx context.Context, j *store.Job, now time.Time) (code int, body string, retryAfter time.Duration, err error) {
	signer, err := signature.NewSigner(j.Endpoint.Secret)
	if err != nil {
		return 0, "", 0, fmt.Errorf("endpoint secret: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.Endpoint.URL, bytes.NewReader(j.Payload))
	if err != nil {
		return 0, "", 0, fmt.Errorf("building request: %w", err)
	}
	for k, v := range j.Endpoint.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Slotwire/"+slotwire.Version)
	req.Header.Set(signature.HeaderID, j.Delivery.EventID)
	req.Header.Set(signature.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(signature.HeaderSignature, signer.Sign(j.Delivery.EventID, now, j.Payload))
	resp, err := d.client.Do(req)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return 0, "", 0, fmt.Errorf("timeout after %s: %w", d.cfg.Timeout, context.DeadlineExceeded)
		}
		return 0, "", 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxLoggedBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	return resp.StatusCode, validUTF8(b), parseRetryAfter(resp.Header.Get("Retry-After"), now), nil
}

// parseRetryAfter reads delay-seconds or an HTTP date, capped at 24 h.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d < 0 {
		return 0
	}
	if d > maxRetryAfter {
		return maxRetryAfter
	}
	return d
}

func validUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
