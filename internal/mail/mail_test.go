package mail_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire/internal/mail"
	"github.com/slotwire/slotwire/internal/smtptest"
)

func sender(t *testing.T, srv *smtptest.Server, trust bool) *mail.Sender {
	t.Helper()
	cfg := mail.Config{URL: srv.URL, From: "Slotwire <noreply@example.com>", Timeout: 5 * time.Second}
	if trust {
		cfg.TLS = srv.TLS
	}
	s, err := mail.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var attachment = []byte(`{"id":"evt_1","data":{"é":"\u00e9 ünïcödé","n":1}}` + "\n")

func message() mail.Message {
	return mail.Message{To: "ops@example.com", Subject: "[Slotwire] appointment.created evt_1",
		Text: "Event appointment.created\nünïcödé line\n", Headers: map[string]string{"X-Webhook-Id": "evt_1"},
		Attachments: []mail.Attachment{{Name: "event.json", ContentType: "application/json", Data: attachment}}}
}

// A message reaches the server with its envelope, headers, text and an
// attachment that decodes to the bytes given.
func TestSendPlain(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	reply, err := sender(t, srv, false).Submit(context.Background(), message())
	if err != nil || !strings.HasPrefix(reply, "250") {
		t.Fatalf("Submit = %q, %v", reply, err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].From != "noreply@example.com" || len(msgs[0].To) != 1 || msgs[0].To[0] != "ops@example.com" || msgs[0].TLS {
		t.Fatalf("messages = %+v", msgs)
	}
	m, err := netmail.ReadMessage(bytes.NewReader(msgs[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Subject") != "[Slotwire] appointment.created evt_1" || m.Header.Get("X-Webhook-Id") != "evt_1" ||
		m.Header.Get("Message-Id") == "" || m.Header.Get("Date") == "" {
		t.Fatalf("headers = %v", m.Header)
	}
	text, files := parts(t, m)
	if !strings.Contains(text, "ünïcödé line") || !bytes.Equal(files["event.json"], attachment) {
		t.Fatalf("text = %q, files = %q", text, files)
	}
}

// parts reads a multipart/mixed message: its text and its attachments by
// file name, decoded.
func parts(t *testing.T, m *netmail.Message) (string, map[string][]byte) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("content type %q, %v", m.Header.Get("Content-Type"), err)
	}
	var text string
	files := map[string][]byte{}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable; base64 below
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		if name := p.FileName(); name != "" {
			files[name] = decodeBase64(t, p.Header.Get("Content-Transfer-Encoding"), b)
			continue
		}
		text += string(b)
	}
	return text, files
}

func base64Reader(b []byte) io.Reader {
	return base64.NewDecoder(base64.StdEncoding, bytes.NewReader(b)) // line breaks are skipped
}

func decodeBase64(t *testing.T, enc string, b []byte) []byte {
	t.Helper()
	if !strings.EqualFold(enc, "base64") {
		t.Fatalf("attachment encoding %q", enc)
	}
	out, err := io.ReadAll(base64Reader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// STARTTLS is used when offered, with a certificate the client trusts,
// and the password goes over it.
func TestStartTLSAndAuth(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{StartTLS: true, Username: "relay", Password: "p@ss:word"})
	if err := sender(t, srv, true).Send(context.Background(), message()); err != nil {
		t.Fatal(err)
	}
	if m := srv.Messages(); len(m) != 1 || !m[0].TLS || m[0].User != "relay" {
		t.Fatalf("messages = %+v", m)
	}
}

// smtps:// speaks TLS from the first byte.
func TestImplicitTLS(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{Implicit: true, Username: "relay", Password: "pw"})
	if !strings.HasPrefix(srv.URL, "smtps://") {
		t.Fatal(srv.URL)
	}
	if err := sender(t, srv, true).Send(context.Background(), message()); err != nil {
		t.Fatal(err)
	}
	if m := srv.Messages(); len(m) != 1 || !m[0].TLS || m[0].User != "relay" {
		t.Fatalf("messages = %+v", m)
	}
}

// Failures to set the session up are transient, whatever they say: a
// certificate not trusted, a server that offers no way to authenticate
// without sending the password in clear, a refused connection.
func TestSessionFailuresAreTransient(t *testing.T) {
	untrusted := smtptest.New(t, smtptest.Options{StartTLS: true})
	noTLS := smtptest.New(t, smtptest.Options{Username: "relay", Password: "secret-pw"})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := "smtp://" + ln.Addr().String()
	ln.Close()
	for name, s := range map[string]*mail.Sender{
		"untrusted": sender(t, untrusted, false),
		"no TLS":    sender(t, noTLS, false),
		"refused":   must(mail.New(mail.Config{URL: refused, From: "noreply@example.com"})),
	} {
		err := s.Send(context.Background(), message())
		var me *mail.Error
		if !errors.As(err, &me) || me.Stage != mail.StageSession || mail.Permanent(err) || strings.Contains(err.Error(), "secret-pw") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if len(noTLS.Messages())+len(untrusted.Messages()) != 0 {
		t.Fatal("a message went through")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// 4xx replies are transient, 5xx permanent; both carry the reply's code
// and text, without the addresses a server repeats.
func TestReplies(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	s := sender(t, srv, false)
	srv.Reject(451, "greylisted <ops@example.com>, try again later")
	err := s.Send(context.Background(), message())
	var me *mail.Error
	if !errors.As(err, &me) || me.Code != 451 || me.Stage != mail.StageRcptTo || mail.Permanent(err) ||
		err.Error() != "SMTP 451 4.0.0 greylisted <[address]>, try again later (RCPT TO)" {
		t.Fatalf("451: %v", err)
	}
	srv.Reject(550, "5.1.1 mailbox ops@example.com unknown")
	err = s.Send(context.Background(), message())
	if !errors.As(err, &me) || me.Code != 550 || !mail.Permanent(err) || strings.Contains(err.Error(), "@") {
		t.Fatalf("550: %v", err)
	}
	if err := s.Send(context.Background(), message()); err != nil || len(srv.Messages()) != 1 || srv.Rcpts() != 3 {
		t.Fatalf("after the rejections: %v, %d messages, %d RCPT", err, len(srv.Messages()), srv.Rcpts())
	}
}

// A server that never answers costs at most the timeout; a cancelled
// context ends the session at once.
func TestTimeoutAndCancel(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var conns []net.Conn // silent until the listener closes
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	s := must(mail.New(mail.Config{URL: "smtp://" + ln.Addr().String(), From: "noreply@example.com", Timeout: 300 * time.Millisecond}))
	began := time.Now()
	err = s.Send(context.Background(), message())
	if err == nil || mail.Permanent(err) || time.Since(began) > 3*time.Second {
		t.Fatalf("silent server: %v after %s", err, time.Since(began))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	s = must(mail.New(mail.Config{URL: "smtp://" + ln.Addr().String(), From: "noreply@example.com", Timeout: time.Minute}))
	began = time.Now()
	if err := s.Send(ctx, message()); err == nil || time.Since(began) > 3*time.Second {
		t.Fatalf("cancelled: %v after %s", err, time.Since(began))
	}
}

// A message that cannot be made is permanent and nothing is dialled.
func TestBadMessage(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	s := sender(t, srv, false)
	for _, m := range []mail.Message{
		{To: "Ops <ops@example.com>"},
		{To: "a@example.com, b@example.com"},
		{To: "ops@example.com", Headers: map[string]string{"X-Injected": "a\r\nBcc: evil@example.com"}},
	} {
		if err := s.Send(context.Background(), m); !mail.Permanent(err) {
			t.Errorf("%+v: %v", m, err)
		}
	}
	if srv.Rcpts() != 0 {
		t.Fatal("a bad message reached the server")
	}
}

func TestParseURL(t *testing.T) {
	for raw, want := range map[string]mail.Server{
		"smtp://mail.example.com":                  {Host: "mail.example.com", Port: 587},
		"smtps://mail.example.com":                 {Host: "mail.example.com", Port: 465, Implicit: true},
		"smtp://u%40x:p%3Aw@127.0.0.1:2525/":       {Host: "127.0.0.1", Port: 2525, Username: "u@x", Password: "p:w"},
		"smtp://apikey@[::1]:25":                   {Host: "::1", Port: 25, Username: "apikey"},
		" smtps://user:pass@smtp.example.org:587 ": {Host: "smtp.example.org", Port: 587, Implicit: true, Username: "user", Password: "pass"},
	} {
		got, err := mail.ParseURL(raw)
		if err != nil || got != want {
			t.Errorf("ParseURL(%q) = %+v, %v", raw, got, err)
		}
	}
	for _, raw := range []string{"http://mail.example.com", "smtp://", "smtp://u:secret@host:99999", "smtp://u:secret@host/x",
		"smtp://u:secret@host?tls=1", "smtp://u:secret@ho st", "mail.example.com:25"} {
		if _, err := mail.ParseURL(raw); err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseURL(%q): %v", raw, err)
		}
	}
	if r := must(mail.ParseURL("smtps://user:secret@host:465")).Redacted(); r != "smtps://user@host:465" {
		t.Fatalf("Redacted = %q", r)
	}
	if _, err := mail.New(mail.Config{URL: "smtp://host"}); err == nil {
		t.Fatal("New without From")
	}
}

func TestAddress(t *testing.T) {
	for _, ok := range []string{"ops@example.com", "first.last+tag@sub.example.co.uk", "o'brien@example.ie"} {
		if err := mail.Address(ok); err != nil {
			t.Errorf("Address(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "ops", "Ops <ops@example.com>", "<ops@example.com>", "a@example.com, b@example.com",
		`"ops@example.com"@evil.example`, "ops@[127.0.0.1]", "ops@example.com (Ops)", "ops@example.com\r\nBcc: x@y.z",
		" ops@example.com", strings.Repeat("a", 250) + "@example.com"} {
		if err := mail.Address(bad); err == nil {
			t.Errorf("Address(%q) accepted", bad)
		}
	}
}
