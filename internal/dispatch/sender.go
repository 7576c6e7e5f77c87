package dispatch

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/retrypolicy"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/signature"
)

// sender makes the requests of endpoints: the node's guarded client, a
// client per endpoint with TLS settings (custom CA, client certificate),
// and the OAuth 2.0 tokens of endpoints with client credentials, cached
// until they expire.
type sender struct {
	base    *http.Client
	timeout time.Duration

	mu      sync.Mutex
	clients map[string]keyedClient // endpoint id -> its TLS client
	tokens  map[string]token       // endpoint id -> access token
}

type keyedClient struct {
	key [32]byte // of the TLS settings it was built from
	c   *http.Client
}

type token struct {
	key   [32]byte // of the auth settings it was fetched with
	value string
	until time.Time
}

func newSender(cfg *Config) *sender {
	return &sender{base: newClient(cfg), timeout: cfg.Timeout, clients: map[string]keyedClient{}, tokens: map[string]token{}}
}

// exchange is what one request sent and got: the answer (or error), the
// start of its body, and the headers both ways (secrets masked).
type exchange struct {
	res       retrypolicy.Result
	body      string
	sent, got slotwire.HeaderText
}

// post sends j's payload, signed and authenticated, within the timeout,
// and returns the exchange. With OAuth 2.0 a 401 fetches a new token and
// sends once more.
func (s *sender) post(ctx context.Context, j *store.Job, now time.Time) exchange {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	x := s.try(ctx, j, now)
	if x.res.StatusCode == http.StatusUnauthorized && j.Endpoint.Auth != nil && j.Endpoint.Auth.Type == slotwire.AuthOAuth2 {
		s.dropToken(j.Endpoint.ID)
		x = s.try(ctx, j, now)
	}
	if x.res.Err != nil && ctx.Err() == context.DeadlineExceeded {
		x.res.Err = fmt.Errorf("timeout after %s: %w", s.timeout, context.DeadlineExceeded)
	}
	return x
}

func (s *sender) try(ctx context.Context, j *store.Job, now time.Time) exchange {
	req, err := newRequest(ctx, j, now)
	if err == nil {
		err = s.authenticate(ctx, req, &j.Endpoint)
	}
	var client *http.Client
	if err == nil {
		client, err = s.client(&j.Endpoint)
	}
	if err != nil {
		return exchange{res: retrypolicy.Result{Err: err}}
	}
	sent := slotwire.FormatHeaders(req.Header, secretHeader(&j.Endpoint))
	resp, err := client.Do(req)
	if err != nil {
		return exchange{res: retrypolicy.Result{Err: tenantSafe(err)}, sent: sent}
	}
	defer resp.Body.Close()
	bp := bodyBufs.Get().(*[]byte)
	n, _ := io.ReadFull(resp.Body, *bp)
	body := validUTF8((*bp)[:n]) // a copy: the buffer goes back to the pool
	bodyBufs.Put(bp)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	return exchange{res: retrypolicy.Result{
		StatusCode: resp.StatusCode,
		RetryAfter: retrypolicy.ParseRetryAfter(resp.Header.Get("Retry-After"), now),
	}, body: body, sent: sent, got: slotwire.FormatHeaders(resp.Header, nil)}
}

var canonicalSignature = http.CanonicalHeaderKey(signature.HeaderSignature)

// secretHeader tells which request headers of e are kept masked: the
// signature, Authorization, and every header of the endpoint's own (they
// are stored sealed, as secrets).
func secretHeader(e *slotwire.Endpoint) func(string) bool {
	return func(name string) bool {
		switch name {
		case "Authorization", canonicalSignature:
			return true
		}
		if e.SignatureHeader != "" && http.CanonicalHeaderKey(e.SignatureHeader) == name {
			return true
		}
		switch e.SignatureProfile {
		case signature.ProfileHexHMAC, signature.ProfileTimestamped:
			if name == "X-Signature-256" || name == "X-Signature" {
				return true
			}
		}
		for k := range e.Headers {
			if http.CanonicalHeaderKey(k) == name {
				return true
			}
		}
		return false
	}
}

// authenticate adds the endpoint's outgoing auth to req.
func (s *sender) authenticate(ctx context.Context, req *http.Request, e *slotwire.Endpoint) error {
	switch {
	case e.Auth == nil:
		return nil
	case e.Auth.Type == slotwire.AuthBasic:
		req.SetBasicAuth(e.Auth.Username, e.Auth.Password)
	case e.Auth.Type == slotwire.AuthOAuth2:
		tok, err := s.token(ctx, e)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return nil
}

// client is the endpoint's client: the node's, or one with its TLS
// settings, built once per settings.
func (s *sender) client(e *slotwire.Endpoint) (*http.Client, error) {
	if e.TLS == nil {
		return s.base, nil
	}
	key := sha256.Sum256([]byte(e.TLS.CACert + "\x00" + e.TLS.ClientCert + "\x00" + e.TLS.ClientKey))
	s.mu.Lock()
	kc, ok := s.clients[e.ID]
	s.mu.Unlock()
	if ok && kc.key == key {
		return kc.c, nil
	}
	cfg, err := TLSConfig(e.TLS)
	if err != nil {
		return nil, err
	}
	base, ok := s.base.Transport.(*http.Transport)
	if !ok {
		return nil, errors.New("endpoint TLS settings need the standard transport")
	}
	tr := base.Clone()
	tr.TLSClientConfig = cfg
	c := &http.Client{Transport: tr, CheckRedirect: s.base.CheckRedirect}
	s.mu.Lock()
	s.clients[e.ID] = keyedClient{key: key, c: c}
	s.mu.Unlock()
	return c, nil
}

// TLSConfig builds the TLS settings of an endpoint: its CA added to the
// system's, its client certificate.
func TLSConfig(t *slotwire.EndpointTLS) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.CACert != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM([]byte(t.CACert)) {
			return nil, errors.New("tls.ca_cert holds no PEM certificate")
		}
		cfg.RootCAs = pool
	}
	if t.ClientCert != "" || t.ClientKey != "" {
		cert, err := tls.X509KeyPair([]byte(t.ClientCert), []byte(t.ClientKey))
		if err != nil {
			return nil, fmt.Errorf("tls.client_cert and tls.client_key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// token returns the endpoint's OAuth 2.0 access token, fetched with its
// client credentials when there is none or it expired.
func (s *sender) token(ctx context.Context, e *slotwire.Endpoint) (string, error) {
	a := e.Auth
	key := sha256.Sum256([]byte(a.TokenURL + "\x00" + a.ClientID + "\x00" + a.ClientSecret + "\x00" + a.Scope))
	s.mu.Lock()
	t, ok := s.tokens[e.ID]
	s.mu.Unlock()
	if ok && t.key == key && time.Now().Before(t.until) {
		return t.value, nil
	}
	value, ttl, err := s.fetchToken(ctx, a)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.tokens[e.ID] = token{key: key, value: value, until: time.Now().Add(ttl)}
	s.mu.Unlock()
	return value, nil
}

// fetchToken asks the token endpoint for a client-credentials token
// (RFC 6749 4.4), through the node's guarded client.
func (s *sender) fetchToken(ctx context.Context, a *slotwire.EndpointAuth) (string, time.Duration, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if a.Scope != "" {
		form.Set("scope", a.Scope)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("oauth2 token: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(a.ClientID), url.QueryEscape(a.ClientSecret))
	resp, err := s.base.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("oauth2 token: %w", tenantSafe(err))
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body); err != nil || resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		return "", 0, fmt.Errorf("oauth2 token: the token endpoint answered HTTP %d without an access_token", resp.StatusCode)
	}
	ttl := time.Hour
	if body.ExpiresIn > 0 {
		ttl = time.Duration(body.ExpiresIn)*time.Second - 30*time.Second // renew a little early
	}
	return body.AccessToken, max(ttl, 0), nil
}

func (s *sender) dropToken(endpointID string) {
	s.mu.Lock()
	delete(s.tokens, endpointID)
	s.mu.Unlock()
}

func (s *sender) closeIdle() {
	s.base.CloseIdleConnections()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, kc := range s.clients {
		kc.c.CloseIdleConnections()
	}
}
