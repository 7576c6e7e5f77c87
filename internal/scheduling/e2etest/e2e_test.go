// Package e2etest runs the scheduling core against the real dispatcher and
// a loopback receiver. It is its own package so that the scheduling tests
// do not depend on package dispatch.
package e2etest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/api"
	"github.com/slotwire/slotwire/internal/dispatch"
	"github.com/slotwire/slotwire/internal/netguard"
	"github.com/slotwire/slotwire/internal/scheduling"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlite"
	"github.com/slotwire/slotwire/signature"
)

type received struct {
	header http.Header
	body   []byte
}

// Book, reschedule and cancel an appointment; the receiver gets the three
// events, in order, signed, with the expanded payloads.
func TestBookRescheduleCancelReachesReceiver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "e2e.db"), sqlite.Options{Migrate: true, Modules: []store.Module{scheduling.Module}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	var mu sync.Mutex
	var got []received
	arrived := make(chan struct{}, 16)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{r.Header.Clone(), b})
		mu.Unlock()
		arrived <- struct{}{}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)

	d := dispatch.New(dispatch.Config{Store: db, Guard: &netguard.Guard{AllowPrivate: true}, PollInterval: 50 * time.Millisecond, Timeout: 5 * time.Second})
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)

	tenant := slotwire.NewID(slotwire.PrefixTenant)
	key := api.GenerateAPIKey()
	now := time.Now().UTC()
	if err := db.CreateTenant(ctx, &slotwire.Tenant{ID: tenant, Name: "E2E", Plan: "pro", CreatedAt: now},
		&slotwire.APIKey{ID: slotwire.NewID(slotwire.PrefixAPIKey), TenantID: tenant, Hash: api.HashKey(key), Prefix: key[:8], Scopes: []string{slotwire.ScopeAdmin}, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	secret := signature.NewSecret(slotwire.RandomToken(32))
	if err := db.CreateEndpoint(ctx, &slotwire.Endpoint{ID: slotwire.NewID(slotwire.PrefixEndpoint), TenantID: tenant, URL: receiver.URL + "/hooks",
		EventTypes: []string{"appointment.*"}, Enabled: true, Ordering: slotwire.OrderingFIFO, Headers: map[string]string{},
		Secret: secret, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}

	svc := scheduling.New(scheduling.Config{Store: db, Wake: d.Wake})
	srv := api.New(api.Config{Store: db})
	svc.Register(srv)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	call := func(method, path string, body any, want int) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, hs.URL+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		rb, _ := io.ReadAll(res.Body)
		if res.StatusCode != want {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, rb)
		}
		var m map[string]any
		_ = json.Unmarshal(rb, &m)
		return m
	}

	day := now.Truncate(24*time.Hour).AddDate(0, 0, 1)
	res := call("POST", "/v1/resources", map[string]any{"name": "An", "kind": "person"}, 201)["id"].(string)
	cus := call("POST", "/v1/customers", map[string]any{"name": "Jan", "email": "jan@example.com"}, 201)["id"].(string)
	apt := call("POST", "/v1/appointments", map[string]any{"start": day.Add(9 * time.Hour), "end": day.Add(10 * time.Hour),
		"resource_ids": []string{res}, "customer_id": cus, "origin": "online", "source": map[string]any{"app": "BC", "job_no": "J1"}}, 201)["id"].(string)
	call("POST", "/v1/appointments/"+apt+"/reschedule", map[string]any{"start": day.Add(11 * time.Hour), "end": day.Add(12 * time.Hour)}, 200)
	call("POST", "/v1/appointments/"+apt+"/cancel", map[string]any{"reason": "ill", "cancelled_by": "customer"}, 200)

	timeout := time.After(15 * time.Second)
	for range 3 {
		select {
		case <-arrived:
		case <-timeout:
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("receiver got %d requests, want 3", len(got))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	wantTypes := []string{"appointment.created", "appointment.rescheduled", "appointment.cancelled"}
	for i, r := range got[:3] {
		if err := signature.Verify(secret, r.header.Get(signature.HeaderID), r.header.Get(signature.HeaderTimestamp),
			r.header.Get(signature.HeaderSignature), r.body, time.Now(), signature.DefaultTolerance); err != nil {
			t.Fatalf("request %d: signature: %v", i, err)
		}
		var p struct {
			ID, Type string
			Data     map[string]any
		}
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		if p.Type != wantTypes[i] || p.ID != r.header.Get(signature.HeaderID) || p.Data["id"] != apt {
			t.Fatalf("request %d: %s %s for %v, want %s for %s", i, p.ID, p.Type, p.Data["id"], wantTypes[i], apt)
		}
		if err := scheduling.ValidateEvent(p.Type, mustJSON(p.Data)); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		customer, _ := p.Data["customer"].(map[string]any)
		source, _ := p.Data["source"].(map[string]any)
		resources, _ := p.Data["resources"].([]any)
		if customer["email"] != "jan@example.com" || source["job_no"] != "J1" || len(resources) != 1 {
			t.Fatalf("request %d: payload not expanded: %v", i, p.Data)
		}
		switch p.Type {
		case "appointment.created":
			if p.Data["origin"] != "online" {
				t.Fatalf("created: origin %v", p.Data["origin"])
			}
		case "appointment.rescheduled":
			prev, _ := p.Data["previous"].(map[string]any)
			if prev["start"] != day.Add(9*time.Hour).Format(time.RFC3339) || p.Data["start"] != day.Add(11*time.Hour).Format(time.RFC3339) {
				t.Fatalf("rescheduled: %v", p.Data)
			}
		case "appointment.cancelled":
			if p.Data["reason"] != "ill" || p.Data["cancelled_by"] != "customer" || p.Data["status"] != "cancelled" {
				t.Fatalf("cancelled: %v", p.Data)
			}
		}
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
