package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire/internal/receiver"
	"github.com/slotwire/slotwire/signature"
)

// Rotating a secret: for the grace period each request carries a
// signature from the new and the old secret (a receiver holding either
// verifies it); without a grace, only the new one.
func TestSecretRotation(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	ctx := context.Background()
	rc := receiver.New(nil)
	defer rc.Close()
	id := endpoint(t, c, rc.URL, "visit.*")
	old, _ := c.EndpointSecret(ctx, id)
	var rot struct {
		Secret string     `json:"secret"`
		Until  *time.Time `json:"previous_secret_until"`
	}
	if err := c.Do(ctx, "POST", "/v1/endpoints/"+id+"/secret/rotate", json.RawMessage(`{"grace":"1h"}`), &rot); err != nil {
		t.Fatal(err)
	}
	if rot.Secret == old || !strings.HasPrefix(rot.Secret, "whsec_") || rot.Until == nil || time.Until(*rot.Until) < 50*time.Minute {
		t.Fatalf("rotation = %+v", rot)
	}
	if now, _ := c.EndpointSecret(ctx, id); now != rot.Secret {
		t.Fatal("GET secret does not show the new secret")
	}
	verify := func(secret string, req receiver.Request) error {
		h := req.Header
		return signature.Verify(secret, h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"), req.Body, time.Now(), time.Minute)
	}
	publish(t, c, "visit.created", map[string]int{"n": 1}, "")
	if !rc.WaitCount(1, 10*time.Second) {
		t.Fatal("not delivered")
	}
	req := rc.Requests()[0]
	if n := len(strings.Fields(req.Header.Get("webhook-signature"))); n != 2 {
		t.Fatalf("%d signatures during the grace period, want 2", n)
	}
	for _, s := range []string{old, rot.Secret} {
		if err := verify(s, req); err != nil {
			t.Fatalf("a receiver with one of the secrets rejects it: %v", err)
		}
	}
	// No grace: the old secret stops at once.
	if err := c.Do(ctx, "POST", "/v1/endpoints/"+id+"/secret/rotate", json.RawMessage(`{"grace":"0s"}`), &rot); err != nil {
		t.Fatal(err)
	}
	publish(t, c, "visit.created", map[string]int{"n": 2}, "")
	if !rc.WaitCount(2, 10*time.Second) {
		t.Fatal("not delivered")
	}
	req = rc.Requests()[1]
	if err := verify(rot.Secret, req); err != nil || verify(old, req) == nil || len(strings.Fields(req.Header.Get("webhook-signature"))) != 1 {
		t.Fatalf("after a rotation without grace: %v, header %q", err, req.Header.Get("webhook-signature"))
	}
	apiErr(t, c.Do(ctx, "POST", "/v1/endpoints/"+id+"/secret/rotate", json.RawMessage(`{"grace":"30d"}`), nil), 400, "invalid_request")
	apiErr(t, c.Do(ctx, "POST", "/v1/endpoints/"+id+"/secret/rotate", json.RawMessage(`{"secret":"nope"}`), nil), 400, "invalid_request")
	apiErr(t, c.Do(ctx, "POST", "/v1/endpoints/ep_nope/secret/rotate", json.RawMessage(`{}`), nil), 404, "not_found")
}
