package server_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/receiver"
	"github.com/slotwire/slotwire/signature"
)

// Each signature profile signs in its style and header (the npm test of
// package signature has the receivers' own libraries verify the styles).
func TestSignatureProfiles(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	ctx := context.Background()
	type ep struct {
		profile, header, secret string
		rc                      *receiver.Receiver
	}
	eps := []*ep{
		{profile: "hmac-sha256-hex", header: "X-Hub-Signature-256", secret: "my-github-secret"},
		{profile: "timestamped", secret: "stripe-like-secret"},
		{profile: "none"},
		{profile: "standard"},
	}
	for _, x := range eps {
		x.rc = receiver.New(nil)
		defer x.rc.Close()
		in := client.EndpointInput{URL: ptr(x.rc.URL), EventTypes: &[]string{"visit.*"}, SignatureProfile: ptr(x.profile)}
		if x.header != "" {
			in.SignatureHeader = ptr(x.header)
		}
		if x.secret != "" {
			in.Secret = ptr(x.secret)
		}
		created, err := c.CreateEndpoint(ctx, in)
		if err != nil {
			t.Fatalf("%s: %v", x.profile, err)
		}
		x.secret = created.Secret
	}
	publish(t, c, "visit.created", map[string]int{"n": 1}, "")
	for _, x := range eps {
		if !x.rc.WaitCount(1, 10*time.Second) {
			t.Fatalf("%s: not delivered", x.profile)
		}
		req := x.rc.Requests()[0]
		h := req.Header
		switch x.profile {
		case "hmac-sha256-hex":
			if got := h.Get("X-Hub-Signature-256"); got != signature.HexHMAC("my-github-secret", req.Body) || h.Get("webhook-signature") != "" {
				t.Errorf("hex: %q", got)
			}
		case "timestamped":
			got := h.Get("X-Signature")
			unix, _ := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64)
			if want := signature.Timestamped([]string{"stripe-like-secret"}, time.Unix(unix, 0), req.Body); got != want {
				t.Errorf("timestamped = %q, want %q", got, want)
			}
		case "none":
			if h.Get("webhook-signature") != "" || h.Get("X-Signature") != "" {
				t.Errorf("none signed: %v", h)
			}
		case "standard":
			if err := signature.Verify(x.secret, h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"), req.Body, time.Now(), time.Minute); err != nil {
				t.Errorf("standard: %v", err)
			}
		}
	}
	bad := []client.EndpointInput{
		{SignatureProfile: ptr("md5")},
		{SignatureProfile: ptr("hmac-sha256-hex"), SignatureHeader: ptr("Content-Type")},
		{SignatureProfile: ptr("hmac-sha256-hex"), Secret: ptr("short")},
		{Secret: ptr("not-a-whsec-secret")},
	}
	for _, in := range bad {
		in.URL, in.EventTypes = ptr("https://example.com/h"), &[]string{"*"}
		_, err := c.CreateEndpoint(ctx, in)
		apiErr(t, err, 400, "invalid_request")
	}
}

// standard-ed25519 (Standard Webhooks v1a): Slotwire keeps the whsk_
// secret key and shows only the whpk_ public key, which verifies what is
// sent, both keys during a rotation's grace.
func TestEd25519Profile(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	ctx := context.Background()
	rc := receiver.New(nil)
	defer rc.Close()
	var created struct {
		ID        string `json:"id"`
		Secret    string `json:"secret"`
		PublicKey string `json:"public_key"`
	}
	body, _ := json.Marshal(map[string]any{"url": rc.URL, "event_types": []string{"visit.*"}, "signature_profile": "standard-ed25519"})
	if err := c.Do(ctx, "POST", "/v1/endpoints", json.RawMessage(body), &created); err != nil {
		t.Fatal(err)
	}
	if created.Secret != "" || !strings.HasPrefix(created.PublicKey, "whpk_") {
		t.Fatalf("created = %+v", created)
	}
	var got map[string]string
	if err := c.Do(ctx, "GET", "/v1/endpoints/"+created.ID+"/secret", nil, &got); err != nil || got["public_key"] != created.PublicKey || got["secret"] != "" {
		t.Fatalf("secret route = %v, %v", got, err)
	}
	check := func(n int, pub string) {
		t.Helper()
		req := rc.Requests()[n]
		raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(pub, "whpk_"))
		msg := []byte(req.Header.Get("webhook-id") + "." + req.Header.Get("webhook-timestamp") + "." + string(req.Body))
		for _, entry := range strings.Fields(req.Header.Get("webhook-signature")) {
			v, sig, _ := strings.Cut(entry, ",")
			s, _ := base64.StdEncoding.DecodeString(sig)
			if v == "v1a" && ed25519.Verify(ed25519.PublicKey(raw), msg, s) {
				return
			}
		}
		t.Fatalf("request %d does not verify with %s: %q", n, pub, req.Header.Get("webhook-signature"))
	}
	publish(t, c, "visit.created", map[string]int{"n": 1}, "")
	if !rc.WaitCount(1, 10*time.Second) {
		t.Fatal("not delivered")
	}
	check(0, created.PublicKey)
	var rot map[string]any
	if err := c.Do(ctx, "POST", "/v1/endpoints/"+created.ID+"/secret/rotate", json.RawMessage(`{"grace":"1h"}`), &rot); err != nil {
		t.Fatal(err)
	}
	newPub, _ := rot["public_key"].(string)
	if !strings.HasPrefix(newPub, "whpk_") || newPub == created.PublicKey || rot["secret"] != nil {
		t.Fatalf("rotation = %v", rot)
	}
	publish(t, c, "visit.created", map[string]int{"n": 2}, "")
	if !rc.WaitCount(2, 10*time.Second) {
		t.Fatal("not delivered")
	}
	check(1, newPub)
	check(1, created.PublicKey)
	apiErr(t, c.Do(ctx, "POST", "/v1/endpoints", json.RawMessage(`{"url":"https://example.com/h","event_types":["*"],"signature_profile":"standard-ed25519","secret":"whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}`), nil), 400, "invalid_request")
}
