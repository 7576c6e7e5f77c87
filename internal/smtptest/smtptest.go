// Package smtptest is an SMTP server on loopback for tests: it records the
// messages it accepts and answers RCPT TO as told (451 for a greylisting
// server, 550 for an unknown mailbox). It may offer STARTTLS, or speak TLS
// from the first byte, with a self-signed certificate that Server.TLS
// trusts, and may require AUTH PLAIN (over TLS only).
package smtptest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options of a Server.
type Options struct {
	// StartTLS offers STARTTLS; Implicit speaks TLS from the first byte
	// (an smtps:// server).
	StartTLS, Implicit bool
	// Username and Password, when set, are required (AUTH PLAIN).
	Username, Password string
}

// Message is one accepted message.
type Message struct {
	From string
	To   []string
	// Data is the message as sent (headers and body, CRLF line ends).
	Data []byte
	// TLS: the session was encrypted; User: who authenticated ("" none).
	TLS  bool
	User string
}

// Server records messages.
type Server struct {
	// URL is the server's smtp:// or smtps:// URL, credentials included.
	URL string
	// TLS trusts the server's certificate (a client's TLS settings).
	TLS *tls.Config

	opts    Options
	srv     *smtp.Server
	mu      sync.Mutex
	msgs    []Message
	rejects []*smtp.SMTPError
	rcpts   int
	notify  chan struct{}
	ln      net.Listener
	served  chan struct{} // closed when Serve returned
}

// New starts a server on 127.0.0.1 for the test's life.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	cert, pool, err := selfSigned()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{opts: o, notify: make(chan struct{}, 1), TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{s: s, c: c}, nil }))
	s.srv.Domain, s.srv.ReadTimeout, s.srv.WriteTimeout = "localhost", 10*time.Second, 10*time.Second
	s.srv.ErrorLog = log.New(io.Discard, "", 0) // clients that hang up are no news
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if o.StartTLS {
		s.srv.TLSConfig = serverTLS
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := url.URL{Scheme: "smtp", Host: ln.Addr().String()}
	if o.Implicit {
		ln, u.Scheme = tls.NewListener(ln, serverTLS), "smtps"
	}
	if o.Username != "" {
		u.User = url.UserPassword(o.Username, o.Password)
	}
	s.URL = u.String()
	s.ln, s.served = ln, make(chan struct{})
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(ln)
	}()
	t.Cleanup(s.Close)
	return s
}

// Close stops the server, waiting (a little) for its sessions to end.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
	_ = s.ln.Close() // Serve may not have taken it yet
	<-s.served
}

// Reject makes the next RCPT TO answer code and text (e.g. 451,
// "4.7.1 greylisted, try again later"; without an enhanced code at its
// start, X.0.0 is sent); each call is one command's answer, in order,
// and the commands after them are accepted.
func (s *Server) Reject(code int, text string) {
	enh := smtp.EnhancedCodeNotSet
	if first, rest, ok := strings.Cut(text, " "); ok {
		var c smtp.EnhancedCode
		if _, err := fmt.Sscanf(first, "%d.%d.%d", &c[0], &c[1], &c[2]); err == nil && c[0] == code/100 {
			enh, text = c, rest
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejects = append(s.rejects, &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: text})
}

// Messages returns a copy of what was accepted.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Rcpts is how many RCPT TO commands arrived, answered or rejected.
func (s *Server) Rcpts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rcpts
}

// WaitCount waits until n messages were accepted, at most d.
func (s *Server) WaitCount(n int, d time.Duration) bool {
	deadline := time.After(d)
	for {
		s.mu.Lock()
		got := len(s.msgs)
		s.mu.Unlock()
		if got >= n {
			return true
		}
		select {
		case <-s.notify:
		case <-deadline:
			return false
		}
	}
}

// session is one client's: its envelope and whom it authenticated as.
type session struct {
	s    *Server
	c    *smtp.Conn
	user string
	from string
	to   []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.opts.Username || password != ss.s.opts.Password {
			return smtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Username != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rcpts++
	if len(s.rejects) > 0 {
		r := s.rejects[0]
		s.rejects = s.rejects[1:]
		return r
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := ss.c.TLSConnectionState()
	s := ss.s
	s.mu.Lock()
	s.msgs = append(s.msgs, Message{From: ss.from, To: append([]string(nil), ss.to...), Data: b, TLS: isTLS, User: ss.user})
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost, and a pool
// that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtptest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, errors.New("smtptest: parsing the certificate")
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
