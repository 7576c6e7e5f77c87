package mail

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
)

// Server is where a Sender submits: the parts of an smtp:// or smtps://
// URL.
type Server struct {
	Host string
	Port int
	// Implicit: TLS from the first byte (smtps://); otherwise STARTTLS is
	// used when the server offers it.
	Implicit bool
	// Username and Password authenticate (SMTP AUTH) when Username is set.
	Username, Password string
}

// Addr is host:port.
func (s Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Default ports: submission with STARTTLS, and submission over TLS.
const (
	DefaultPort         = 587
	DefaultImplicitPort = 465
)

// ParseURL reads smtp://user:pass@host:port or smtps://…: the user and
// password are optional (URL-encoded), the port defaults to 587 (smtp) or
// 465 (smtps). Its errors never repeat the URL, which may hold a password.
func ParseURL(raw string) (Server, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL
		}
		return Server{}, fmt.Errorf("SMTP URL: %v", err)
	}
	var s Server
	switch u.Scheme {
	case "smtp":
		s.Port = DefaultPort
	case "smtps":
		s.Port, s.Implicit = DefaultImplicitPort, true
	default:
		return Server{}, errors.New("SMTP URL: the scheme must be smtp:// or smtps://")
	}
	if s.Host = u.Hostname(); s.Host == "" {
		return Server{}, errors.New("SMTP URL: no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Server{}, errors.New("SMTP URL: the port must be from 1 to 65535")
		}
		s.Port = n
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return Server{}, errors.New("SMTP URL: only user, password, host and port are allowed (no path or query)")
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	return s, nil
}

// Redacted is the URL without its password, for logs.
func (s Server) Redacted() string {
	scheme := "smtp"
	if s.Implicit {
		scheme = "smtps"
	}
	user := ""
	if s.Username != "" {
		user = url.User(s.Username).String() + "@"
	}
	return scheme + "://" + user + s.Addr()
}

// Address checks one bare e-mail address, as an endpoint's recipient: no
// display name, no angle brackets, no comments or lists — exactly what
// net/mail reads as the address, at most 254 bytes.
func Address(a string) error {
	if a == "" || len(a) > 254 || strings.ContainsAny(a, "\r\n\x00") {
		return errors.New("must be one e-mail address of at most 254 bytes")
	}
	p, err := mail.ParseAddress(a)
	if err != nil || p.Name != "" || p.Address != a {
		return errors.New("must be one bare e-mail address such as ops@example.com (no name, no angle brackets, no list)")
	}
	if strings.Contains(a, `"`) {
		return errors.New("must not have a quoted local part")
	}
	if domain := a[strings.LastIndex(a, "@")+1:]; strings.HasPrefix(domain, "[") {
		return errors.New("must name a domain, not an address literal")
	}
	return nil
}
