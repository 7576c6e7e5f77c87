// Package mail is the node's SMTP client: it submits messages to the
// server the operator configured (--smtp-url), over TLS from the first
// byte (smtps://) or with STARTTLS when the server offers it, with SMTP
// AUTH when the URL has a user, and says whether a failure is worth
// retrying. E-mail endpoints deliver through it, and the scheduling core
// can send its customers' e-mails through it too.
//
// MIME, attachments, STARTTLS and the authentication mechanisms are
// github.com/wneessen/go-mail's; this package runs one session per
// message (connect, MAIL FROM, RCPT TO, DATA, QUIT) so that each reply
// is read as the server gave it.
package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// Config of a Sender.
type Config struct {
	// URL is smtp://user:pass@host:port or smtps://… (see ParseURL).
	URL string
	// From is the sender of every message: an address, with a display
	// name or not ("Slotwire <noreply@example.com>").
	From string
	// Timeout bounds one message's session, connecting included (default
	// 30 s).
	Timeout time.Duration
	// TLS is the TLS configuration of the connection (default: the
	// system's roots, the URL's host as the server name); tests trust
	// their own CA with it.
	TLS *tls.Config
}

// Sender submits messages to one SMTP server. It is safe for concurrent
// use; each message has its own session.
type Sender struct {
	server  Server
	from    string
	timeout time.Duration
	tls     *tls.Config
}

// New checks cfg and returns its Sender; nothing is dialled yet.
func New(cfg Config) (*Sender, error) {
	srv, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.From) == "" {
		return nil, errors.New("an SMTP server needs a sender address (--smtp-from)")
	}
	if _, err := mail.ParseAddress(cfg.From); err != nil || strings.ContainsAny(cfg.From, "\r\n") {
		return nil, fmt.Errorf("sender address %q is not an e-mail address", cfg.From)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLS != nil {
		tc = cfg.TLS.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = srv.Host
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &Sender{server: srv, from: cfg.From, timeout: cfg.Timeout, tls: tc}, nil
}

// Server is where the Sender submits (Redacted for logs).
func (s *Sender) Server() Server { return s.server }

// Message is one e-mail to one recipient.
type Message struct {
	// To is one bare address (see Address).
	To      string
	Subject string
	// Text is the plain-text body.
	Text string
	// Headers are more header fields, set as given (X-Webhook-Id …).
	Headers     map[string]string
	Attachments []Attachment
}

// Attachment is a file attached to a message, sent base64-encoded: the
// recipient gets Data byte for byte.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// Send submits m; nil means the server accepted it for delivery. A failure
// is an *Error: Permanent(err) tells whether sending again can succeed.
func (s *Sender) Send(ctx context.Context, m Message) error {
	_, err := s.Submit(ctx, m)
	return err
}

// Submit is Send that also returns the server's reply accepting the
// message ("250 2.0.0 Ok: queued as …").
func (s *Sender) Submit(ctx context.Context, m Message) (string, error) {
	msg, err := s.build(m)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var conn connection
	defer conn.close()
	c, err := gomail.NewClient(s.server.Host, s.options(ctx, &conn)...)
	if err != nil {
		return "", &Error{Stage: StageSession, Text: redact(err.Error())}
	}
	sc, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return "", failure(ctx, StageSession, err)
	}
	defer func() { _ = c.CloseWithSMTPClient(sc) }() // QUIT
	reply, err := transact(sc, msg)
	if err != nil {
		return "", failure(ctx, stageOf(err), err)
	}
	return reply, nil
}

// connection is a session's TCP connection: closed when the send's
// context ends (a cancelled send stops at once) and when it returns.
type connection struct {
	c    net.Conn
	stop func() bool
}

func (c *connection) set(ctx context.Context, conn net.Conn) {
	c.c, c.stop = conn, context.AfterFunc(ctx, func() { conn.Close() })
}

func (c *connection) close() {
	if c.c != nil {
		c.stop()
		c.c.Close()
	}
}

// options are the go-mail client settings of one session.
func (s *Sender) options(ctx context.Context, conn *connection) []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(s.server.Port), gomail.WithTimeout(s.timeout),
		gomail.WithTLSPolicy(gomail.TLSOpportunistic), gomail.WithTLSConfig(s.tls),
		gomail.WithDialContextFunc(s.dial(ctx, conn)),
	}
	if s.server.Username != "" {
		// The strongest mechanism the server offers; PLAIN and LOGIN only
		// over TLS, so the password never crosses the network in clear.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.server.Username), gomail.WithPassword(s.server.Password))
	}
	return opts
}

// dial connects to the server (the operator's: no address checks),
// keeping the connection in conn for the send's context (sendCtx; go-mail
// gives the dial a context of its own), with TLS first for smtps://.
func (s *Sender) dial(sendCtx context.Context, conn *connection) gomail.DialContextFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		conn.set(sendCtx, c)
		if !s.server.Implicit {
			return c, nil
		}
		tc := tls.Client(c, s.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, err
		}
		return tc, nil
	}
}

// build makes the MIME message: headers, the text, the attachments.
func (s *Sender) build(m Message) (*gomail.Msg, error) {
	if err := Address(m.To); err != nil {
		return nil, &Error{Stage: StageMessage, Text: "the recipient " + err.Error()}
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(s.from); err != nil {
		return nil, &Error{Stage: StageMessage, Text: "the sender address is not valid"}
	}
	if err := msg.To(m.To); err != nil {
		return nil, &Error{Stage: StageMessage, Text: "the recipient address is not valid"}
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	for k, v := range m.Headers {
		if !validHeader(k, v) {
			return nil, &Error{Stage: StageMessage, Text: fmt.Sprintf("header %q is not valid", k)}
		}
		msg.SetGenHeader(gomail.Header(k), v)
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	for _, a := range m.Attachments {
		err := msg.AttachReader(a.Name, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(a.ContentType)))
		if err != nil {
			return nil, &Error{Stage: StageMessage, Text: fmt.Sprintf("attaching %s: %v", a.Name, err)}
		}
	}
	return msg, nil
}

// validHeader: a field name of printable ASCII without ':' and a value
// on one line.
func validHeader(k, v string) bool {
	if k == "" || strings.ContainsAny(v, "\r\n\x00") {
		return false
	}
	for _, c := range k {
		if c <= ' ' || c > '~' || c == ':' {
			return false
		}
	}
	return true
}

// stageError marks the command a reply answered.
type stageError struct {
	stage string
	err   error
}

func (e *stageError) Error() string { return e.err.Error() }
func (e *stageError) Unwrap() error { return e.err }

func stageOf(err error) string {
	var se *stageError
	if errors.As(err, &se) {
		return se.stage
	}
	return StageData
}

// transact sends the message's commands and data, and returns the
// server's reply accepting it.
func transact(sc *smtp.Client, msg *gomail.Msg) (string, error) {
	from, err := msg.GetSender(false)
	if err != nil {
		return "", &stageError{StageMailFrom, err}
	}
	rcpts, err := msg.GetRecipients()
	if err != nil {
		return "", &stageError{StageRcptTo, err}
	}
	if err := sc.Mail(from); err != nil {
		return "", &stageError{StageMailFrom, err}
	}
	for _, r := range rcpts {
		if err := sc.Rcpt(r); err != nil {
			return "", &stageError{StageRcptTo, err}
		}
	}
	w, err := sc.Data()
	if err != nil {
		return "", &stageError{StageData, err}
	}
	if _, err := msg.WriteTo(w); err != nil {
		return "", &stageError{StageData, err}
	}
	if err := w.Close(); err != nil {
		return "", &stageError{StageData, err}
	}
	reply := "250"
	if dc, ok := w.(*smtp.DataCloser); ok && dc.ServerResponse() != "" {
		reply += " " + dc.ServerResponse()
	}
	return reply, nil
}

// Stages of a send, as an Error names them.
const (
	// StageMessage: the message could not be made (a bad address);
	// nothing was sent.
	StageMessage = "message"
	// StageSession: connecting, TLS, EHLO or AUTH.
	StageSession  = "session"
	StageMailFrom = "MAIL FROM"
	StageRcptTo   = "RCPT TO"
	StageData     = "DATA"
)

// Error is a failed send: the server's reply to a command, or a failure
// without one (connection, TLS, timeout).
type Error struct {
	Stage string
	// Code is the SMTP reply code, 0 when no reply came.
	Code int
	// Text is the reply's text, or the failure; e-mail addresses in it
	// are replaced by [address].
	Text string
}

func (e *Error) Error() string {
	if e.Code == 0 {
		return "SMTP " + e.Stage + ": " + e.Text
	}
	return fmt.Sprintf("SMTP %d %s (%s)", e.Code, e.Text, e.Stage)
}

// Permanent reports whether sending the message again cannot succeed: a
// 5xx reply to the message's own commands (MAIL FROM, RCPT TO, DATA), or
// a message that could not be made. 4xx replies and failures to set the
// session up (connection, TLS, AUTH, even with a 5xx: the node's SMTP
// settings, not the message) are transient.
func (e *Error) Permanent() bool {
	switch e.Stage {
	case StageMessage:
		return true
	case StageSession:
		return false
	}
	return e.Code >= 500
}

// Permanent reports whether err is an *Error that is permanent.
func Permanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent()
}

// failure makes the *Error of a failed stage: the reply's code and text,
// or the network error (a timeout named as such).
func failure(ctx context.Context, stage string, err error) *Error {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return &Error{Stage: stage, Code: tp.Code, Text: redact(strings.Join(strings.Fields(tp.Msg), " "))}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &Error{Stage: stage, Text: "timeout: " + redact(err.Error())}
	}
	return &Error{Stage: stage, Text: redact(err.Error())}
}

// addresses are what looks like an e-mail address in a reply: servers
// often repeat the recipient ("550 <ops@example.com>: unknown user"),
// and errors are logged.
var addresses = regexp.MustCompile(`[^\s<>()\[\],;:"']+@[^\s<>()\[\],;:"']+`)

func redact(s string) string { return addresses.ReplaceAllString(s, "[address]") }
