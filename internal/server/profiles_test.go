package server_test

import (
	"context"
	"strconv"
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
