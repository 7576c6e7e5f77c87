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

// TestHooksSettingsAndFeedToken: a REST hook is an endpoint that only
// DeleteHook removes; strict event types refuse an unregistered type; a
// deleted feed token stops reading the feed.
func TestHooksSettingsAndFeedToken(t *testing.T) {
	ctx := context.Background()
	admin := startServer(t)
	c := tenantClient(t, admin)
	h, err := c.CreateHook(ctx, client.HookInput{TargetURL: "http://127.0.0.1:9/zap", Events: []string{"order.paid", "order.created"}})
	if err != nil || !strings.HasPrefix(h.ID, "ep_") || h.TargetURL != "http://127.0.0.1:9/zap" || len(h.Events) != 2 || !strings.HasPrefix(h.Secret, "whsec_") {
		t.Fatalf("CreateHook = %+v, %v", h, err)
	}
	if ep, err := c.GetEndpoint(ctx, h.ID); err != nil || !ep.RESTHook {
		t.Fatalf("the hook's endpoint: %+v, %v", ep, err)
	}
	plain, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr("http://127.0.0.1:9/h"), EventTypes: &[]string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, c.DeleteHook(ctx, plain.ID), http.StatusNotFound, "not_found")
	if err := c.DeleteHook(ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetEndpoint(ctx, h.ID)
	wantAPIError(t, err, http.StatusNotFound, "not_found")

	if s, err := c.GetSettings(ctx); err != nil || s.StrictEventTypes {
		t.Fatalf("GetSettings = %+v, %v", s, err)
	}
	if s, err := c.UpdateSettings(ctx, client.SettingsInput{StrictEventTypes: ptr(true)}); err != nil || !s.StrictEventTypes {
		t.Fatalf("UpdateSettings = %+v, %v", s, err)
	}
	_, err = c.Publish(ctx, "nobody.registered.this", map[string]int{"n": 1}, "")
	wantAPIError(t, err, http.StatusBadRequest, "invalid_request")
	if s, err := c.UpdateSettings(ctx, client.SettingsInput{}); err != nil || !s.StrictEventTypes {
		t.Fatalf("UpdateSettings with nothing to change = %+v, %v", s, err)
	}

	token, err := c.CreateFeedToken(ctx, plain.ID)
	if err != nil {
		t.Fatal(err)
	}
	feed := client.New(c.BaseURL, token)
	if _, err := feed.Feed(ctx, plain.ID, "", 0); err != nil {
		t.Fatalf("Feed with the token: %v", err)
	}
	if err := c.DeleteFeedToken(ctx, plain.ID); err != nil {
		t.Fatal(err)
	}
	_, err = feed.Feed(ctx, plain.ID, "", 0)
	wantAPIError(t, err, http.StatusUnauthorized, "unauthorized")
}
