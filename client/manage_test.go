package client_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/receiver"
	"github.com/slotwire/slotwire/signature"
)

func TestSigningKeysAndRotation(t *testing.T) {
	ctx := context.Background()
	c := tenantClient(t, startServer(t))
	rc := receiver.New(nil)
	defer rc.Close()
	ep, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr(rc.URL), EventTypes: &[]string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	k, err := c.EndpointSigningKey(ctx, ep.ID)
	if err != nil || k.Secret != ep.Secret || k.PublicKey != "" {
		t.Fatalf("EndpointSigningKey = %+v, %v; want the secret %s", k, err, ep.Secret)
	}
	rot, err := c.RotateSecret(ctx, ep.ID, client.RotateInput{Grace: "1h"})
	if err != nil || !strings.HasPrefix(rot.Secret, "whsec_") || rot.Secret == ep.Secret || rot.PreviousSecretUntil == nil ||
		rot.PreviousSecretUntil.Before(time.Now().Add(59*time.Minute)) {
		t.Fatalf("RotateSecret = %+v, %v", rot, err)
	}
	got, err := c.GetEndpoint(ctx, ep.ID)
	if err != nil || got.PreviousSecretUntil == nil || got.PreviousSecretUntil.Sub(*rot.PreviousSecretUntil).Abs() > time.Millisecond {
		t.Fatalf("endpoint after the rotation: %+v, %v", got, err)
	}
	// Both secrets sign during the grace period.
	if _, err := c.Publish(ctx, "order.paid", map[string]int{"n": 1}, ""); err != nil {
		t.Fatal(err)
	}
	if !rc.WaitCount(1, 10*time.Second) {
		t.Fatal("no webhook")
	}
	r := rc.Requests()[0]
	for _, s := range []string{ep.Secret, rot.Secret} {
		if err := signature.Verify(s, r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), r.Body, time.Now(), signature.DefaultTolerance); err != nil {
			t.Errorf("secret %s…: %v", s[:10], err)
		}
	}
	rot, err = c.RotateSecret(ctx, ep.ID, client.RotateInput{Grace: "0s", Secret: "whsec_" + strings.Repeat("QUJD", 8)})
	if err != nil || rot.Secret != "whsec_"+strings.Repeat("QUJD", 8) || rot.PreviousSecretUntil != nil {
		t.Fatalf("RotateSecret with a secret and no grace = %+v, %v", rot, err)
	}
	_, err = c.RotateSecret(ctx, ep.ID, client.RotateInput{Grace: "1y"})
	wantAPIError(t, err, http.StatusBadRequest, "invalid_request")

	ed, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr(rc.URL), EventTypes: &[]string{"*"}, SignatureProfile: ptr(signature.ProfileEd25519)})
	if err != nil || !strings.HasPrefix(ed.PublicKey, "whpk_") || ed.Secret != "" {
		t.Fatalf("ed25519 endpoint = %+v, %v", ed, err)
	}
	if k, err := c.EndpointSigningKey(ctx, ed.ID); err != nil || k.PublicKey != ed.PublicKey || k.Secret != "" {
		t.Fatalf("EndpointSigningKey of an ed25519 endpoint = %+v, %v", k, err)
	}
	if rot, err := c.RotateSecret(ctx, ed.ID, client.RotateInput{}); err != nil || !strings.HasPrefix(rot.PublicKey, "whpk_") || rot.PublicKey == ed.PublicKey {
		t.Fatalf("RotateSecret of an ed25519 endpoint = %+v, %v", rot, err)
	}
}

func TestEventTypes(t *testing.T) {
	ctx := context.Background()
	c := tenantClient(t, startServer(t))
	schema := json.RawMessage(`{"type":"object","required":["n"]}`)
	et, err := c.CreateEventType(ctx, client.EventTypeInput{Type: "order.paid", Description: "an order was paid", Schema: schema, Example: json.RawMessage(`{"n":1}`)})
	if err != nil || et.Type != "order.paid" || !et.Custom || et.Scope != "custom" || et.CreatedAt == nil || string(et.Example) != `{"n":1}` {
		t.Fatalf("CreateEventType = %+v, %v", et, err)
	}
	_, err = c.CreateEventType(ctx, client.EventTypeInput{Type: "order.paid"})
	wantAPIError(t, err, http.StatusConflict, "conflict")
	list, err := c.ListEventTypes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var found *client.EventType
	for i := range list {
		if list[i].Type == "order.paid" {
			found = &list[i]
		}
	}
	if found == nil || found.Description != "an order was paid" || !found.Custom {
		t.Fatalf("ListEventTypes has no order.paid: %+v", list)
	}
	if _, err := c.Publish(ctx, "order.paid", map[string]int{"x": 1}, ""); err == nil {
		t.Fatal("a publish that breaks the registered schema was accepted")
	}
	if err := c.DeleteEventType(ctx, "order.paid"); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, c.DeleteEventType(ctx, "order.paid"), http.StatusNotFound, "not_found")
	if _, err := c.Publish(ctx, "order.paid", map[string]int{"x": 1}, ""); err != nil {
		t.Fatalf("after archiving the type its schema still applies: %v", err)
	}
}
