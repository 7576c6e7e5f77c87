package validate

import (
	"net/textproto"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/mail"
	"github.com/slotwire/slotwire/signature"
)

// The rules of an endpoint's fields. Each returns the value to store (
// trimmed or canonicalised) or a *slotwire.Error naming the field.

func invalid(format string, a ...any) error {
	return slotwire.Errorf(slotwire.ECodeInvalid, format, a...)
}

// URLShape checks what can be said of an endpoint URL without the network
// (netguard checks where it leads).
func URLShape(u string) (string, error) {
	u = strings.TrimSpace(u)
	if len(u) > 2048 {
		return "", slotwire.Errorf(slotwire.ECodeUnprocessable, "url is longer than 2048 characters")
	}
	return u, nil
}

// EndpointType checks an endpoint's type ("": http).
func EndpointType(t string) (string, error) {
	switch t {
	case "", slotwire.EndpointHTTP:
		return slotwire.EndpointHTTP, nil
	case slotwire.EndpointEmail, slotwire.EndpointPull:
		return t, nil
	}
	return "", invalid("type must be \"http\", \"email\" or \"pull\"")
}

// Email checks an e-mail endpoint's recipient: one bare address
// (mail.Address: no display name, no list, no quoted local part).
func Email(a string) (string, error) {
	a = strings.TrimSpace(a)
	if err := mail.Address(a); err != nil {
		return "", invalid("email %v", err)
	}
	return a, nil
}

// EventTypes checks an endpoint's subscription patterns.
func EventTypes(list []string) ([]string, error) {
	if len(list) == 0 || len(list) > 100 {
		return nil, invalid("event_types needs 1 to 100 entries (use [\"*\"] for every event)")
	}
	for _, p := range list {
		if err := slotwire.ValidateEventTypePattern(p); err != nil {
			return nil, err
		}
	}
	return append([]string(nil), list...), nil
}

// Description checks an endpoint's description.
func Description(d string) (string, error) {
	if len(d) > 1000 {
		return "", invalid("description is longer than 1000 characters")
	}
	return d, nil
}

// reservedHeaders are set by Slotwire on every webhook request.
var reservedHeaders = map[string]bool{
	"Content-Type": true, "Content-Length": true, "User-Agent": true, "Host": true, "Transfer-Encoding": true,
	"Connection": true, "Webhook-Id": true, "Webhook-Timestamp": true, "Webhook-Signature": true,
}

// EndpointHeaders checks the custom headers of an endpoint and returns
// them with canonical names.
func EndpointHeaders(in map[string]string) (map[string]string, error) {
	if len(in) > 20 {
		return nil, invalid("at most 20 headers")
	}
	if err := Headers(in); err != nil {
		return nil, err
	}
	h := map[string]string{}
	for k, v := range in {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		if !validHeaderName(k) {
			return nil, invalid("header name %q is not valid", k)
		}
		if reservedHeaders[ck] {
			return nil, invalid("header %q is set by Slotwire and cannot be overridden", k)
		}
		if strings.ContainsAny(v, "\r\n\x00") || len(v) > 4096 {
			return nil, invalid("header %q has an invalid value", k)
		}
		h[ck] = v
	}
	return h, nil
}

func validHeaderName(k string) bool {
	if k == "" || len(k) > 128 {
		return false
	}
	for _, c := range k {
		if !(c == '-' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return false
		}
	}
	return true
}

// Secret checks a signing secret chosen by the tenant.
func Secret(s string) (string, error) {
	if err := signature.ValidateSecret(s); err != nil {
		return "", invalid("secret: %v", err)
	}
	return s, nil
}

// SignatureProfile checks an endpoint's signature profile ("": standard).
func SignatureProfile(p string) (string, error) {
	switch p {
	case "", signature.ProfileStandard, signature.ProfileEd25519, signature.ProfileHexHMAC, signature.ProfileTimestamped, signature.ProfileNone:
		return p, nil
	}
	return "", invalid("signature_profile must be standard, standard-ed25519, hmac-sha256-hex, timestamped or none")
}

// SignatureHeader checks the header a signature profile writes to: a
// header name Slotwire does not set itself ("": the profile's default).
func SignatureHeader(h string) (string, error) {
	if h == "" {
		return "", nil
	}
	ck := textproto.CanonicalMIMEHeaderKey(h)
	if !validHeaderName(h) || reservedHeaders[ck] {
		return "", invalid("signature_header must be a header name Slotwire does not set itself")
	}
	return ck, nil
}

// PlainSecret checks the secret of a profile keyed with the secret string
// as given (hmac-sha256-hex, timestamped): 8 to 256 bytes of printable
// ASCII; a standard whsec_ secret qualifies too.
func PlainSecret(s string) (string, error) {
	if len(s) < 8 || len(s) > 256 {
		return "", invalid("secret must be 8 to 256 characters")
	}
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return "", invalid("secret must be printable ASCII without spaces")
		}
	}
	return s, nil
}

// MaxConcurrency checks an endpoint's concurrency bound (0: the default).
func MaxConcurrency(n int) (int, error) {
	if n < 0 || n > 256 {
		return 0, invalid("max_concurrency must be from 1 to 256 (0: the server default)")
	}
	return n, nil
}

// Ordering checks an endpoint's ordering mode.
func Ordering(o string) (string, error) {
	switch o {
	case slotwire.OrderingNone, slotwire.OrderingFIFO, slotwire.OrderingKey:
		return o, nil
	}
	return "", invalid("ordering must be \"fifo\", \"key\" or \"\" (none)")
}

// OrderingKey checks an event's ordering key: at most
// slotwire.MaxOrderingKey bytes of printable UTF-8 (empty: none).
func OrderingKey(k string) error {
	if len(k) > slotwire.MaxOrderingKey {
		return invalid("ordering_key must be at most %d bytes", slotwire.MaxOrderingKey)
	}
	for _, r := range k {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return invalid("ordering_key must be printable UTF-8 text")
		}
	}
	return nil
}

// RateLimit checks an endpoint's requests per second (0: none).
func RateLimit(n int) (int, error) {
	if n < 0 || n > 100000 {
		return 0, invalid("rate_limit_per_second must be from 0 (none) to 100000")
	}
	return n, nil
}

// SourceList checks a source filter (source_apps, source_types): at most
// 20 distinct values of 1 to 128 bytes of printable text; empty: any.
func SourceList(field string) func([]string) ([]string, error) {
	return func(l []string) ([]string, error) {
		if len(l) > 20 {
			return nil, invalid("%s has at most 20 entries", field)
		}
		seen := map[string]bool{}
		out := []string{}
		for _, v := range l {
			if err := sourceValue(field, v); err != nil {
				return nil, err
			}
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
		return out, nil
	}
}

// sourceValue checks one source app or type.
func sourceValue(field, v string) error {
	if v == "" || len(v) > 128 {
		return invalid("%s entries are 1 to 128 bytes", field)
	}
	for _, r := range v {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return invalid("%s entries must be printable UTF-8 text", field)
		}
	}
	return nil
}

// Source checks an event's source: app and type of at most 128 bytes of
// printable text each; nil when both are empty.
func Source(s *slotwire.EventSource) (*slotwire.EventSource, error) {
	if s == nil || (s.App == "" && s.Type == "") {
		return nil, nil
	}
	for field, v := range map[string]string{"source.app": s.App, "source.type": s.Type} {
		if v != "" {
			if err := sourceValue(field, v); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// PayloadFormat checks an endpoint's payload format.
func PayloadFormat(f string) (string, error) {
	switch f {
	case "", slotwire.FormatNested, slotwire.FormatFlat, slotwire.FormatThin:
		return f, nil
	}
	return "", invalid("payload_format must be \"nested\", \"flat\" or \"thin\"")
}

// Auth checks an endpoint's outgoing auth; type "none" removes it (nil).
// An OAuth 2.0 token_url's shape is checked here, where it leads by the
// caller (netguard).
func Auth(a *slotwire.EndpointAuth) (*slotwire.EndpointAuth, error) {
	if a == nil || a.Type == "none" {
		return nil, nil
	}
	long := func(v string, n int) bool { return len(v) > n || strings.ContainsAny(v, "\r\n\x00") }
	switch a.Type {
	case slotwire.AuthBasic:
		if a.Username == "" || long(a.Username, 256) || strings.Contains(a.Username, ":") || long(a.Password, 1024) {
			return nil, invalid("auth basic needs a username (at most 256 bytes, no ':') and a password (at most 1024 bytes)")
		}
		return &slotwire.EndpointAuth{Type: a.Type, Username: a.Username, Password: a.Password}, nil
	case slotwire.AuthOAuth2:
		u, err := URLShape(a.TokenURL)
		if err != nil {
			return nil, invalid("auth token_url: %v", err)
		}
		if a.ClientID == "" || long(a.ClientID, 512) || a.ClientSecret == "" || long(a.ClientSecret, 1024) || long(a.Scope, 1024) {
			return nil, invalid("auth oauth2 needs client_id and client_secret (and an optional scope)")
		}
		return &slotwire.EndpointAuth{Type: a.Type, TokenURL: u, ClientID: a.ClientID, ClientSecret: a.ClientSecret, Scope: a.Scope}, nil
	}
	return nil, invalid("auth type must be basic, oauth2 or none")
}

// MaxOffset bounds an endpoint's offset of appointment.starting and
// appointment.ended.
const MaxOffset = 30 * 24 * time.Hour

// Offset checks an endpoint's offset: a Go duration within ±30 days,
// returned in Go's form ("-15m0s"); "" and zero are the moment itself ("").
func Offset(o string) (string, error) {
	if o == "" {
		return "", nil
	}
	d, err := time.ParseDuration(o)
	if err != nil {
		return "", invalid("offset %q is not a duration such as \"-15m\" or \"10m\"", o)
	}
	if d > MaxOffset || d < -MaxOffset {
		return "", invalid("offset must be within ±30 days")
	}
	if d == 0 {
		return "", nil
	}
	return d.String(), nil
}
