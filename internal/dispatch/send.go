package dispatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/jq"
	"github.com/slotwire/slotwire/internal/netguard"
	"github.com/slotwire/slotwire/internal/shape"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/signature"
)

const (
	maxLoggedBody = 4 << 10
	maxDrain      = 64 << 10
)

// startSend starts one request of a lane; the lane counted it in flight.
func (d *Dispatcher) startSend(l *lane, j *store.Job, fifo bool) {
	d.sends.Add(1)
	go d.send(l, j, fifo)
}

// send makes one request under the node's global bound and hands its
// outcome to the recorder.
func (d *Dispatcher) send(l *lane, j *store.Job, fifo bool) {
	defer d.sends.Done()
	acquired := true
	select {
	case d.global <- struct{}{}:
	case <-d.sendCtx.Done():
		acquired = false
	}
	began := time.Now()
	span := d.cfg.Tracer.StartAttempt(j)
	o := d.attempt(d.sendCtx, j)
	span.EndAttempt(o)
	took := time.Since(began)
	if acquired {
		<-d.global
	}
	// Hand the outcome to the recorder before freeing the lane's place:
	// when the database falls behind, lanes wait rather than piling up
	// finished requests in memory.
	var recorded func()
	switch {
	case fifo:
		recorded = l.recorded
	case j.Endpoint.Ordering == slotwire.OrderingKey:
		recorded = l.keyRecorded
	}
	if d.cfg.Observe != nil {
		d.cfg.Observe(o, took)
	}
	d.logAttempt(j, o, took)
	d.completer.Add(o, recorded)
	l.sent(took, fifo)
}

// logAttempt writes one line per attempt (debug; a delivery that failed
// for good warns), with the ids an operator searches by. Never the URL or
// headers: they may hold credentials.
func (d *Dispatcher) logAttempt(j *store.Job, o store.Outcome, took time.Duration) {
	level := slog.LevelDebug
	if o.Status == slotwire.StatusFailed {
		level = slog.LevelWarn
	}
	if !d.log.Enabled(d.sendCtx, level) {
		return
	}
	d.log.LogAttrs(d.sendCtx, level, "delivery attempt", slog.String("tenant", j.Delivery.TenantID),
		slog.String("endpoint", j.Delivery.EndpointID), slog.String("delivery", j.Delivery.ID),
		slog.String("event", j.Delivery.EventID), slog.String("event_type", j.Delivery.EventType),
		slog.Int("attempt", o.Attempt.Number), slog.String("outcome", o.Status),
		slog.Int("status_code", o.Attempt.StatusCode), slog.Int64("ms", took.Milliseconds()),
		slog.String("error", o.Attempt.Error))
}

// attempt makes one signed request (or, to an e-mail endpoint, sends one
// e-mail: email.go) and decides what follows it; an endpoint's filter may
// decide it is not sent, its transform makes the body. A pull endpoint's
// delivery is never sent: it succeeds at once, without contact, and its
// receiver reads it from the feed.
func (d *Dispatcher) attempt(ctx context.Context, j *store.Job) store.Outcome {
	event := j.Payload // as published: an e-mail's text summarises it
	if o, done := d.applyJQ(ctx, &j); done {
		return o
	}
	if j.Endpoint.IsPull() {
		return store.Outcome{DeliveryID: j.Delivery.ID, EndpointID: j.Endpoint.ID, Owner: d.cfg.Owner, NoContact: true,
			TenantID: j.Delivery.TenantID, CreatedAt: j.Delivery.CreatedAt, Prior: j.Delivery.Attempts,
			Status: slotwire.StatusSucceeded, Attempt: slotwire.Attempt{At: d.cfg.Now()}}
	}
	now := d.cfg.Now()
	x := deliver(ctx, d.sender, d.cfg.Mail, j, event, now)
	dec := d.policy.Decide(j.Delivery.Attempts+1, x.res)
	o := store.Outcome{
		DeliveryID: j.Delivery.ID, EndpointID: j.Endpoint.ID, Owner: d.cfg.Owner,
		TenantID: j.Delivery.TenantID, CreatedAt: j.Delivery.CreatedAt, Prior: j.Delivery.Attempts,
		Status: dec.Status, DisableReason: dec.DisableReason,
		Attempt: slotwire.Attempt{
			At: now, DurationMS: d.cfg.Now().Sub(now).Milliseconds(),
			StatusCode: x.res.StatusCode, ResponseBody: x.body, Error: dec.Error,
			RequestHeaders: x.sent, ResponseHeaders: x.got,
		},
	}
	if dec.Status == slotwire.StatusPending {
		o.NextAttemptAt = d.cfg.Now().Add(dec.Delay)
	}
	return o
}

// applyJQ runs the endpoint's filter and transform: an event the filter
// does not pass is filtered (not sent); an expression that fails, fails
// the delivery with its error, without retries; the transform's output
// replaces the payload of a copy of the job.
func (d *Dispatcher) applyJQ(ctx context.Context, j **store.Job) (store.Outcome, bool) {
	e := &(*j).Endpoint
	if e.Filter == "" && e.Transform == "" {
		return store.Outcome{}, false
	}
	o := store.Outcome{DeliveryID: (*j).Delivery.ID, EndpointID: e.ID, Owner: d.cfg.Owner, NoContact: true,
		TenantID: (*j).Delivery.TenantID, CreatedAt: (*j).Delivery.CreatedAt, Prior: (*j).Delivery.Attempts,
		Attempt: slotwire.Attempt{At: d.cfg.Now()}}
	if e.Filter != "" {
		pass, err := jq.Filter(ctx, e.Filter, (*j).Payload)
		switch {
		case err != nil:
			o.Status, o.Attempt.Error = slotwire.StatusFailed, "filter: "+err.Error()
			return o, true
		case !pass:
			o.Status, o.Attempt.Error = slotwire.StatusFiltered, "not sent: the endpoint's filter did not match"
			return o, true
		}
	}
	if e.Transform != "" {
		body, err := jq.Transform(ctx, e.Transform, (*j).Payload)
		if err != nil {
			o.Status, o.Attempt.Error = slotwire.StatusFailed, "transform: "+err.Error()
			return o, true
		}
		cp := **j
		cp.Payload = body
		*j = &cp
	}
	return store.Outcome{}, false
}

// bodyBufs hold the kept start of a response body while it is read.
var bodyBufs = sync.Pool{New: func() any { b := make([]byte, maxLoggedBody); return &b }}

// newRequest builds the signed delivery request.
func newRequest(ctx context.Context, j *store.Job, now time.Time) (*http.Request, error) {
	body, err := shape.Body(j.Endpoint.PayloadFormat, j.Payload)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.Endpoint.URL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	for k, v := range j.Endpoint.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Slotwire/"+slotwire.Version)
	req.Header.Set(signature.HeaderID, j.Delivery.EventID)
	req.Header.Set(signature.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	if err := Sign(req.Header, &j.Endpoint, j.Delivery.EventID, now, body); err != nil {
		return nil, err
	}
	return req, nil
}

// Sign adds the signature of the endpoint's profile: Standard Webhooks by
// default (both secrets during a rotation's grace), GitHub's or Stripe's
// style in the endpoint's header, or none. The pull feed signs with it too.
func Sign(h http.Header, e *slotwire.Endpoint, id string, now time.Time, body []byte) error {
	switch e.SignatureProfile {
	case signature.ProfileNone:
		return nil
	case signature.ProfileHexHMAC:
		h.Set(signatureHeader(e, "X-Signature-256"), signature.HexHMAC(e.Secret, body))
		return nil
	case signature.ProfileTimestamped:
		h.Set(signatureHeader(e, "X-Signature"), signature.Timestamped(e.SigningSecrets(now), now, body))
		return nil
	case signature.ProfileEd25519:
		sig, err := signature.SignEd25519(e.SigningSecrets(now), id, now, body)
		if err != nil {
			return fmt.Errorf("endpoint key: %w", err)
		}
		h.Set(signature.HeaderSignature, sig)
		return nil
	}
	sig, err := signature.SignAll(e.SigningSecrets(now), id, now, body)
	if err != nil {
		return fmt.Errorf("endpoint secret: %w", err)
	}
	h.Set(signature.HeaderSignature, sig)
	return nil
}

func signatureHeader(e *slotwire.Endpoint, def string) string {
	if e.SignatureHeader != "" {
		return e.SignatureHeader
	}
	return def
}

// tenantSafe rewrites the network errors whose text names this node's
// network (the resolver's address, an address netguard refused) into what
// the tenant can act on, without the request URL; the attempt log shows
// it to the tenant, and the node's log has it.
func tenantSafe(err error) error {
	// net/http puts the request URL before a transport error; the URL may
	// carry a token, and the tenant knows it anyway.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var dns *net.DNSError
	switch {
	case errors.Is(err, netguard.ErrForbidden):
		return errors.New("refused: the host resolves to a non-public address")
	case errors.As(err, &dns) && dns.IsNotFound:
		return fmt.Errorf("host %q does not resolve", dns.Name)
	case errors.As(err, &dns) && dns.IsTimeout:
		return fmt.Errorf("DNS lookup of %q timed out", dns.Name)
	case errors.As(err, &dns):
		return fmt.Errorf("DNS lookup of %q failed", dns.Name)
	}
	return err
}

func validUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
