package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/mail"
	"github.com/slotwire/slotwire/internal/server"
	"github.com/slotwire/slotwire/internal/smtptest"
	"github.com/slotwire/slotwire/signature"
)

const smtpPassword = "smtp-pw-s3cret"

// withSMTP is fast() delivering e-mails through srv, whose certificate
// it trusts.
func withSMTP(srv *smtptest.Server) server.Config {
	cfg := fast()
	cfg.SMTP = mail.Config{URL: srv.URL, From: "Slotwire <noreply@example.com>", TLS: srv.TLS}
	return cfg
}

func emailEndpoint(t *testing.T, c *client.Client, in client.EndpointInput) *client.EndpointWithSecret {
	t.Helper()
	in.Type = ptr(slotwire.EndpointEmail)
	ep, err := c.CreateEndpoint(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

// received is an e-mail as its recipient reads it: headers, text, and
// the attachments by file name.
type received struct {
	header netmail.Header
	text   string
	files  map[string][]byte
}

func parseMail(t *testing.T, data []byte) received {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	r := received{header: m.Header, files: map[string][]byte{}}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // quoted-printable is decoded here
		if err == io.EOF {
			return r
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.FileName() == "" {
			b, _ := io.ReadAll(p)
			r.text += string(b)
			continue
		}
		if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("attachment Content-Type %q", ct)
		}
		b, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
		if err != nil {
			t.Fatal(err)
		}
		r.files[p.FileName()] = b
	}
}

// verify checks the attachment with the endpoint's secret and the
// signature headers of the message, as a receiver would.
func (r received) verify(t *testing.T, secret string) {
	t.Helper()
	h := r.header
	err := signature.Verify(secret, h.Get("X-Webhook-Id"), h.Get("X-Webhook-Timestamp"), h.Get("X-Webhook-Signature"),
		r.files["event.json"], time.Now(), signature.DefaultTolerance)
	if err != nil {
		t.Fatalf("signature of event.json: %v (headers %v)", err, h)
	}
}

// An e-mail endpoint gets each event as an e-mail through the node's SMTP
// server (STARTTLS, AUTH): a summary in the text, the exact payload
// attached and signed; a transform shapes the attachment as it would a
// request body; the delivery log holds the server's reply.
func TestEmailEndpointDelivers(t *testing.T) {
	t.Parallel()
	srv := smtptest.New(t, smtptest.Options{StartTLS: true, Username: "relay", Password: smtpPassword})
	e := start(t, withSMTP(srv))
	c := e.tenant("Acme")
	ctx := context.Background()
	ops := emailEndpoint(t, c, client.EndpointInput{Email: ptr("ops@example.com"), EventTypes: &[]string{"appointment.*"}})
	short := emailEndpoint(t, c, client.EndpointInput{Email: ptr(" oncall@example.org "), EventTypes: &[]string{"appointment.*"},
		Transform: ptr(`{appointment: .data.appointment_id}`)})
	if ops.Type != "email" || ops.Email != "ops@example.com" || ops.URL != "" || short.Email != "oncall@example.org" ||
		!strings.HasPrefix(ops.Secret, "whsec_") {
		t.Fatalf("endpoints = %+v, %+v", ops.Endpoint, short.Endpoint)
	}
	id := publish(t, c, "appointment.created", map[string]any{"appointment_id": "a1", "start": "2026-12-01T09:00:00Z",
		"customer": map[string]string{"name": "Ada"}}, "")
	if !srv.WaitCount(2, 10*time.Second) {
		t.Fatalf("%d e-mails", len(srv.Messages()))
	}
	byTo := map[string]smtptest.Message{}
	for _, m := range srv.Messages() {
		if len(m.To) != 1 || m.From != "noreply@example.com" || !m.TLS || m.User != "relay" {
			t.Fatalf("envelope = %+v", m)
		}
		byTo[m.To[0]] = m
	}
	r := parseMail(t, byTo["ops@example.com"].Data)
	if r.header.Get("Subject") != "[Slotwire] appointment.created "+id || r.header.Get("X-Webhook-Id") != id ||
		r.header.Get("From") != `"Slotwire" <noreply@example.com>` {
		t.Fatalf("headers = %v", r.header)
	}
	for _, line := range []string{"Event: appointment.created", "ID: " + id, "appointment_id: a1", "start: 2026-12-01T09:00:00Z",
		`customer: {"name":"Ada"}`, "X-Webhook-Signature"} {
		if !strings.Contains(r.text, line) {
			t.Fatalf("text lacks %q:\n%s", line, r.text)
		}
	}
	r.verify(t, ops.Secret)
	l, err := c.ListDeliveries(ctx, ops.ID, "", "", 0)
	if err != nil || len(l.Data) != 1 {
		t.Fatalf("deliveries = %+v, %v", l, err)
	}
	payload, err := c.DeliveryPayload(ctx, l.Data[0].ID)
	if err != nil || !bytes.Equal(payload, r.files["event.json"]) {
		t.Fatalf("attachment %s is not the payload %s (%v)", r.files["event.json"], payload, err)
	}
	t2 := parseMail(t, byTo["oncall@example.org"].Data)
	if string(t2.files["event.json"]) != `{"appointment":"a1"}` {
		t.Fatalf("transformed attachment = %s", t2.files["event.json"])
	}
	t2.verify(t, short.Secret)
	var det *client.DeliveryDetail
	e.eventually(func() bool {
		det, err = c.GetDelivery(ctx, l.Data[0].ID)
		return err == nil && det.Status == slotwire.StatusSucceeded && len(det.AttemptLog) == 1
	})
	a := det.AttemptLog[0]
	if a.StatusCode != 0 || !strings.HasPrefix(a.ResponseBody, "250") || a.Error != "" || det.LastStatusCode != 0 ||
		a.RequestHeaders["X-Webhook-Signature"] != slotwire.Masked || a.RequestHeaders["X-Webhook-Id"] != id ||
		a.RequestHeaders["Subject"] == "" {
		t.Fatalf("attempt = %+v", a)
	}
	got, err := c.GetEndpoint(ctx, ops.ID)
	if err != nil || got.Type != "email" || got.Email != "ops@example.com" || got.URL != "" {
		t.Fatalf("endpoint = %+v, %v", got, err)
	}
}

// A 451 is retried on the endpoint's schedule: the second attempt
// succeeds.
func TestEmailTransientReplyRetried(t *testing.T) {
	t.Parallel()
	srv := smtptest.New(t, smtptest.Options{})
	e := start(t, withSMTP(srv))
	c := e.tenant("Acme")
	ctx := context.Background()
	ep := emailEndpoint(t, c, client.EndpointInput{Email: ptr("ops@example.com"), EventTypes: &[]string{"invoice.*"}})
	srv.Reject(451, "greylisted, try again later")
	publish(t, c, "invoice.paid", map[string]int{"total": 90}, "")
	if !srv.WaitCount(1, 10*time.Second) {
		t.Fatal("no e-mail")
	}
	var det *client.DeliveryDetail
	e.eventually(func() bool {
		l, err := c.ListDeliveries(ctx, ep.ID, "", "", 0)
		if err != nil || len(l.Data) != 1 {
			return false
		}
		det, err = c.GetDelivery(ctx, l.Data[0].ID)
		return err == nil && det.Status == slotwire.StatusSucceeded
	})
	log := det.AttemptLog
	if len(log) != 2 || log[0].StatusCode != 0 || log[0].Error != "SMTP 451 4.0.0 greylisted, try again later (RCPT TO)" ||
		log[1].Error != "" || !strings.HasPrefix(log[1].ResponseBody, "250") || srv.Rcpts() != 2 {
		t.Fatalf("attempts = %+v, RCPT %d", log, srv.Rcpts())
	}
	parseMail(t, srv.Messages()[0].Data).verify(t, ep.Secret)
}

// A 550 fails the delivery at once; neither the attempt log nor the
// node's log holds the address the server repeated, nor the SMTP
// password.
func TestEmailPermanentReplyFails(t *testing.T) {
	t.Parallel()
	srv := smtptest.New(t, smtptest.Options{StartTLS: true, Username: "relay", Password: smtpPassword})
	var logs lockedBuffer
	cfg := withSMTP(srv)
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := start(t, cfg)
	c := e.tenant("Acme")
	ctx := context.Background()
	ep := emailEndpoint(t, c, client.EndpointInput{Email: ptr("gone@example.com"), EventTypes: &[]string{"invoice.*"}})
	srv.Reject(550, "5.1.1 <gone@example.com>: mailbox unknown")
	publish(t, c, "invoice.paid", map[string]int{"total": 90}, "")
	var det *client.DeliveryDetail
	e.eventually(func() bool {
		l, err := c.ListDeliveries(ctx, ep.ID, "", "", 0)
		if err != nil || len(l.Data) != 1 {
			return false
		}
		det, err = c.GetDelivery(ctx, l.Data[0].ID)
		return err == nil && det.Status == slotwire.StatusFailed
	})
	time.Sleep(100 * time.Millisecond) // the schedule's next attempt would be due
	if len(det.AttemptLog) != 1 || det.Attempts != 1 || det.LastError != "SMTP 550 5.1.1 <[address]>: mailbox unknown (RCPT TO)" ||
		srv.Rcpts() != 1 || len(srv.Messages()) != 0 {
		t.Fatalf("delivery = %+v, RCPT %d", det, srv.Rcpts())
	}
	e.eventually(func() bool { return strings.Contains(logs.String(), `"outcome":"failed"`) })
	out := logs.String()
	if strings.Contains(out, "gone@example.com") || strings.Contains(out, smtpPassword) ||
		!strings.Contains(out, `"endpoint":"`+ep.ID+`"`) || !strings.Contains(out, "smtp://relay@127.0.0.1") {
		t.Fatalf("logs:\n%s", out)
	}
}

// POST /v1/endpoints/{id}/test sends a test e-mail now.
func TestEmailTestEndpoint(t *testing.T) {
	t.Parallel()
	srv := smtptest.New(t, smtptest.Options{})
	e := start(t, withSMTP(srv))
	c := e.tenant("Acme")
	ep := emailEndpoint(t, c, client.EndpointInput{Email: ptr("ops@example.com"), EventTypes: &[]string{"*"},
		PayloadFormat: ptr(slotwire.FormatFlat)})
	res, err := c.TestEndpoint(context.Background(), ep.ID)
	if err != nil || !res.Succeeded || res.StatusCode != 0 || !strings.HasPrefix(res.Body, "250") || res.Error != "" {
		t.Fatalf("test = %+v, %v", res, err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d e-mails", len(msgs))
	}
	r := parseMail(t, msgs[0].Data)
	if r.header.Get("Subject") != "[Slotwire] webhook.test "+res.EventID || !strings.Contains(r.text, "endpoint_id: "+ep.ID) ||
		!bytes.Contains(r.files["event.json"], []byte(`"data.endpoint_id":"`+ep.ID+`"`)) {
		t.Fatalf("test e-mail: %v\n%s\n%s", r.header, r.text, r.files["event.json"])
	}
	r.verify(t, ep.Secret)
}

// The rules of e-mail endpoints: an address and the node's SMTP server,
// none of the settings of HTTP requests, a type that does not change.
func TestEmailEndpointValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bare := start(t, fast()).tenant("NoSMTP")
	_, err := bare.CreateEndpoint(ctx, client.EndpointInput{Type: ptr("email"), Email: ptr("ops@example.com"), EventTypes: &[]string{"*"}})
	apiErr(t, err, 400, slotwire.ECodeSMTPNotConfigured)

	srv := smtptest.New(t, smtptest.Options{})
	c := start(t, withSMTP(srv)).tenant("Acme")
	types := &[]string{"*"}
	email := func(in client.EndpointInput) client.EndpointInput {
		in.Type, in.EventTypes = ptr("email"), types
		if in.Email == nil {
			in.Email = ptr("ops@example.com")
		}
		return in
	}
	for name, in := range map[string]client.EndpointInput{
		"no email":      {Type: ptr("email"), EventTypes: types},
		"display name":  email(client.EndpointInput{Email: ptr("Ops <ops@example.com>")}),
		"two addresses": email(client.EndpointInput{Email: ptr("a@example.com, b@example.com")}),
		"no domain":     email(client.EndpointInput{Email: ptr("ops")}),
		"url":           email(client.EndpointInput{URL: ptr("https://example.com/hook")}),
		"headers":       email(client.EndpointInput{Headers: &map[string]string{"X-Token": "t"}}),
		"auth":          email(client.EndpointInput{Auth: &client.EndpointAuth{Type: "basic", Username: "u", Password: "p"}}),
		"tls":           email(client.EndpointInput{TLS: &client.EndpointTLS{CACert: "x"}}),
		"verify":        email(client.EndpointInput{Verify: ptr(true)}),
		"unknown type":  {Type: ptr("sms"), Email: ptr("ops@example.com"), EventTypes: types},
		"http email":    {URL: ptr("https://example.com/hook"), Email: ptr("ops@example.com"), EventTypes: types},
		"http, no url":  {EventTypes: types},
	} {
		_, err := c.CreateEndpoint(ctx, in)
		var ce *client.Error
		if !errors.As(err, &ce) || ce.Status != 400 || ce.Code != slotwire.ECodeInvalid {
			t.Errorf("%s: %v", name, err)
		}
	}
	ep := emailEndpoint(t, c, client.EndpointInput{Email: ptr("ops@example.com"), EventTypes: types, Headers: &map[string]string{},
		Verify: ptr(false)})
	_, err = c.UpdateEndpoint(ctx, ep.ID, client.EndpointInput{Type: ptr("http"), URL: ptr("https://example.com/hook")})
	apiErr(t, err, 400, slotwire.ECodeInvalid)
	_, err = c.UpdateEndpoint(ctx, ep.ID, client.EndpointInput{URL: ptr("https://example.com/hook")})
	apiErr(t, err, 400, slotwire.ECodeInvalid)
	got, err := c.UpdateEndpoint(ctx, ep.ID, client.EndpointInput{Type: ptr("email"), Email: ptr("oncall@example.com"), RateLimit: ptr(2)})
	if err != nil || got.Email != "oncall@example.com" || got.RateLimit != 2 {
		t.Fatalf("update = %+v, %v", got, err)
	}
	web := endpoint(t, c, "http://127.0.0.1:9/h", "*")
	_, err = c.UpdateEndpoint(ctx, web, client.EndpointInput{Email: ptr("ops@example.com")})
	apiErr(t, err, 400, slotwire.ECodeInvalid)
	if w, err := c.GetEndpoint(ctx, web); err != nil || w.Type != "http" || w.Email != "" {
		t.Fatalf("http endpoint = %+v, %v", w, err)
	}
}

// A node without an SMTP server fails (and retries) the deliveries of an
// e-mail endpoint made while it had one, saying why.
func TestEmailWithoutSMTPFails(t *testing.T) {
	t.Parallel()
	srv := smtptest.New(t, smtptest.Options{})
	cfg := withSMTP(srv)
	cfg.DB, cfg.Addr, cfg.AdminToken, cfg.Migrate = filepath.Join(t.TempDir(), "slotwire.db"), "127.0.0.1:0", adminToken, true
	first, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ten, err := client.New(first.URL(), adminToken).CreateTenant(ctx, "Acme", "unlimited")
	if err != nil {
		t.Fatal(err)
	}
	ep := emailEndpoint(t, client.New(first.URL(), ten.APIKey), client.EndpointInput{Email: ptr("ops@example.com"), EventTypes: &[]string{"*"}})
	first.Close()
	noSMTP := fast()
	noSMTP.DB = cfg.DB
	e := start(t, noSMTP)
	c := client.New(e.node.URL(), ten.APIKey)
	publish(t, c, "invoice.paid", map[string]int{"total": 90}, "")
	e.eventually(func() bool {
		l, err := c.ListDeliveries(ctx, ep.ID, "", "", 0)
		return err == nil && len(l.Data) == 1 && l.Data[0].Status == slotwire.StatusFailed && l.Data[0].Attempts == 4 &&
			strings.Contains(l.Data[0].LastError, "no SMTP server is configured on this node")
	})
	if len(srv.Messages()) != 0 {
		t.Fatal("an e-mail was sent")
	}
}

// A node refuses to start with an SMTP server and no sender, or a URL it
// cannot read, without repeating the password.
func TestSMTPConfigAtStart(t *testing.T) {
	t.Parallel()
	for _, c := range []mail.Config{
		{URL: "smtp://relay:" + smtpPassword + "@127.0.0.1:2525"},
		{URL: "smtp://relay:" + smtpPassword + "@127.0.0.1:99999", From: "noreply@example.com"},
		{URL: "http://relay:" + smtpPassword + "@127.0.0.1", From: "noreply@example.com"},
		{URL: "smtp://127.0.0.1", From: "not an address"},
	} {
		cfg := fast()
		cfg.SMTP, cfg.DB, cfg.Addr = c, filepath.Join(t.TempDir(), "s.db"), "127.0.0.1:0"
		n, err := server.Start(context.Background(), cfg)
		if err == nil {
			n.Close()
			t.Fatalf("%+v: started", c)
		}
		if strings.Contains(err.Error(), smtpPassword) {
			t.Fatalf("the error shows the password: %v", err)
		}
	}
}
