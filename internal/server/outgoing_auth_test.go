package server_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slotwire/slotwire/client"
)

// pki is a CA with a server certificate for 127.0.0.1 and a client
// certificate, as PEM.
type pki struct {
	caPEM, serverCert, serverKey, clientCert, clientKey []byte
	pool                                                *x509.CertPool
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(n int64, usage x509.ExtKeyUsage, ip net.IP) ([]byte, []byte) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(n), Subject: pkix.Name{CommonName: fmt.Sprint("leaf ", n)},
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature,
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
		if ip != nil {
			tmpl.IPAddresses = []net.IP{ip}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kd, _ := x509.MarshalECPrivateKey(k)
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
	}
	p := &pki{caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.serverCert, p.serverKey = leaf(2, x509.ExtKeyUsageServerAuth, net.ParseIP("127.0.0.1"))
	p.clientCert, p.clientKey = leaf(3, x509.ExtKeyUsageClientAuth, nil)
	return p
}

// An endpoint whose receiver requires a client certificate, signed by a
// private CA, gets its deliveries with the certificate and CA it was given.
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	var got atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 1 {
			got.Add(1)
		}
	}))
	cert, _ := tls.X509KeyPair(p.serverCert, p.serverKey)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: p.pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below is expected
	srv.StartTLS()
	defer srv.Close()
	e := start(t, fast())
	c := e.tenant("Acme")
	ctx := context.Background()
	ep, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr(srv.URL + "/hook"), EventTypes: &[]string{"visit.*"},
		TLS: &client.EndpointTLS{CACert: string(p.caPEM), ClientCert: string(p.clientCert), ClientKey: string(p.clientKey)}})
	if err != nil {
		t.Fatal(err)
	}
	if ep.TLS == nil || ep.TLS.ClientKey != "****" || ep.TLS.CACert == "" {
		t.Fatalf("tls shown as %+v", ep.TLS)
	}
	publish(t, c, "visit.created", map[string]int{"n": 1}, "")
	e.eventually(func() bool { return got.Load() == 1 })
	// Without the client certificate the receiver refuses the connection.
	noCert, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr(srv.URL + "/other"), EventTypes: &[]string{"other.*"},
		TLS: &client.EndpointTLS{CACert: string(p.caPEM)}})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := c.TestEndpoint(ctx, noCert.ID); err != nil || res.Succeeded || res.Error == "" {
		t.Fatalf("without a client certificate: %+v, %v", res, err)
	}
	_, err = c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr(srv.URL), EventTypes: &[]string{"*"}, TLS: &client.EndpointTLS{CACert: "not PEM"}})
	apiErr(t, err, 400, "invalid_request")
	_, err = c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr(srv.URL), EventTypes: &[]string{"*"}, TLS: &client.EndpointTLS{ClientCert: string(p.clientCert)}})
	apiErr(t, err, 400, "invalid_request")
}

// OAuth 2.0 client credentials: the token is fetched, cached, and fetched
// again once when the receiver answers 401; basic auth is sent as given;
// both credentials are masked in reads and encrypted in the database.
func TestOAuth2AndBasicAuth(t *testing.T) {
	t.Parallel()
	var issued atomic.Int32
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok || id != "slotwire" || secret != "s3cret-client" || r.FormValue("grant_type") != "client_credentials" || r.FormValue("scope") != "hooks" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		n := issued.Add(1)
		json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprint("tok-", n), "token_type": "Bearer", "expires_in": 3600})
	}))
	defer tokens.Close()
	var mu sync.Mutex
	var seen []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		auth := r.Header.Get("Authorization")
		seen = append(seen, auth)
		if user, pass, ok := r.BasicAuth(); ok && user == "erp" && pass == "p@ss-word" {
			return
		}
		if auth != "Bearer tok-2" { // the first token is "revoked" at the receiver
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer recv.Close()
	cfg := fast()
	dir := t.TempDir()
	cfg.DB = filepath.Join(dir, "slotwire.db")
	e := start(t, cfg)
	c := e.tenant("Acme")
	ctx := context.Background()
	oauth, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr(recv.URL + "/o"), EventTypes: &[]string{"visit.*"},
		Auth: &client.EndpointAuth{Type: "oauth2", TokenURL: tokens.URL + "/token", ClientID: "slotwire", ClientSecret: "s3cret-client", Scope: "hooks"}})
	if err != nil {
		t.Fatal(err)
	}
	if oauth.Auth == nil || oauth.Auth.ClientSecret != "****" || oauth.Auth.ClientID != "slotwire" {
		t.Fatalf("auth shown as %+v", oauth.Auth)
	}
	publish(t, c, "visit.created", map[string]int{"n": 1}, "")
	e.eventually(func() bool {
		ds, _ := c.ListDeliveries(ctx, oauth.ID, "succeeded", "", 1)
		return ds != nil && len(ds.Data) == 1
	})
	if issued.Load() != 2 {
		t.Fatalf("%d tokens issued, want 2 (the second after the 401)", issued.Load())
	}
	publish(t, c, "visit.created", map[string]int{"n": 2}, "")
	e.eventually(func() bool {
		ds, _ := c.ListDeliveries(ctx, oauth.ID, "succeeded", "", 10)
		return ds != nil && len(ds.Data) == 2
	})
	if issued.Load() != 2 {
		t.Fatal("the cached token was not reused")
	}
	basic, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr(recv.URL + "/b"), EventTypes: &[]string{"visit.*"},
		Auth: &client.EndpointAuth{Type: "basic", Username: "erp", Password: "p@ss-word"}})
	if err != nil || basic.Auth.Password != "****" {
		t.Fatalf("basic = %+v, %v", basic, err)
	}
	if res, err := c.TestEndpoint(ctx, basic.ID); err != nil || !res.Succeeded {
		t.Fatalf("basic auth test: %+v, %v", res, err)
	}
	for _, bad := range []*client.EndpointAuth{{Type: "digest"}, {Type: "basic"}, {Type: "oauth2", TokenURL: tokens.URL}} {
		_, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr(recv.URL), EventTypes: &[]string{"*"}, Auth: bad})
		apiErr(t, err, 400, "invalid_request")
	}
	// The token URL is checked like an endpoint URL (SSRF rules included).
	_, err = c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr(recv.URL), EventTypes: &[]string{"*"},
		Auth: &client.EndpointAuth{Type: "oauth2", TokenURL: "ftp://x", ClientID: "a", ClientSecret: "b"}})
	apiErr(t, err, 422, "unprocessable")
	e.node.Close()
	data, _ := os.ReadFile(filepath.Join(dir, "slotwire.db"))
	wal, _ := os.ReadFile(filepath.Join(dir, "slotwire.db-wal"))
	for _, secret := range []string{"s3cret-client", "p@ss-word"} {
		if bytes.Contains(data, []byte(secret)) || bytes.Contains(wal, []byte(secret)) {
			t.Errorf("%q is in the database file in plaintext", secret)
		}
	}
}
