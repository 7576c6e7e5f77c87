package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/api"
	"github.com/slotwire/slotwire/internal/scheduling"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlite"
)

// erasureEnv is an API server on SQLite with the scheduling core and its
// eraser, and a tenant with keys of several scopes.
type erasureEnv struct {
	t      *testing.T
	db     store.Store
	srv    *httptest.Server
	tenant string
	keys   map[string]string // scope -> secret
	keyIDs map[string]string // scope -> key id
}

func newErasureEnv(t *testing.T) *erasureEnv {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"),
		sqlite.Options{Migrate: true, Modules: []store.Module{scheduling.Module}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := scheduling.New(scheduling.Config{Store: db})
	srv := api.New(api.Config{Store: db, Erasers: func() []store.Eraser { return []store.Eraser{svc.Eraser()} }})
	svc.Register(srv)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	e := &erasureEnv{t: t, db: db, srv: hs, keys: map[string]string{}, keyIDs: map[string]string{}}
	e.tenant = e.newTenant("Kine Centrum", "admin", "erasure", "customers")
	return e
}

// newTenant creates a tenant with one key per scope.
func (e *erasureEnv) newTenant(name string, scopes ...string) string {
	e.t.Helper()
	ctx, now := context.Background(), time.Now().UTC()
	id := slotwire.NewID(slotwire.PrefixTenant)
	for i, sc := range scopes {
		secret := api.GenerateAPIKey()
		k := &slotwire.APIKey{ID: slotwire.NewID(slotwire.PrefixAPIKey), TenantID: id, Hash: api.HashKey(secret),
			Prefix: secret[:8], Scopes: []string{sc}, CreatedAt: now}
		var err error
		if i == 0 {
			err = e.db.CreateTenant(ctx, &slotwire.Tenant{ID: id, Name: name, Plan: "pro", CreatedAt: now}, k)
		} else {
			err = e.db.CreateAPIKey(ctx, k)
		}
		if err != nil {
			e.t.Fatal(err)
		}
		e.keys[name+"/"+sc], e.keyIDs[name+"/"+sc] = secret, k.ID
		if name == "Kine Centrum" {
			e.keys[sc], e.keyIDs[sc] = secret, k.ID
		}
	}
	return id
}

// call sends a request with the key of scope and decodes the answer.
func (e *erasureEnv) call(scope, method, path, body string) (int, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+e.keys[scope])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	return res.StatusCode, m
}

func errMessage(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

func TestErasureRequestsRefused(t *testing.T) {
	t.Parallel()
	e := newErasureEnv(t)
	for _, tc := range []struct {
		scope, body string
		status      int
		msg         string
	}{
		{"erasure", `{}`, 400, "customer_id or email is required"},
		{"erasure", `{"customer_id":"cus_1","email":"jan@example.com"}`, 400, "not both"},
		{"erasure", `{"email":""}`, 400, "e-mail address"},
		{"erasure", `{"email":"jan at example.com"}`, 400, "e-mail address"},
		{"erasure", `{"customer_id":"jan"}`, 400, "customer id"},
		{"erasure", `{"customer_id":5}`, 400, "customer_id"},
		{"erasure", `{"name":"Jan"}`, 400, "name"},
		{"erasure", `[`, 400, ""},
		{"customers", `{"email":"jan@example.com"}`, 403, `"erasure" scope`},
	} {
		status, m := e.call(tc.scope, "POST", "/v1/erasures", tc.body)
		if status != tc.status || !strings.Contains(errMessage(m), tc.msg) {
			t.Errorf("%s %s: %d %v, want %d with %q", tc.scope, tc.body, status, m, tc.status, tc.msg)
		}
	}
	if status, m := e.call("customers", "GET", "/v1/erasures", ""); status != 403 {
		t.Errorf("list without the scope: %d %v", status, m)
	}
	if status, m := e.call("erasure", "GET", "/v1/erasures?status=x", ""); status != 400 || !strings.Contains(errMessage(m), "status") {
		t.Errorf("list with an unknown parameter: %d %v", status, m)
	}
	if status, m := e.call("erasure", "GET", "/v1/erasures", ""); status != 200 || len(m["data"].([]any)) != 0 {
		t.Errorf("nothing erased, nothing recorded: %d %v", status, m)
	}
}

// Through the API: the person's customer and the events about them are
// erased for this tenant only, the answer counts what changed, and the
// record is listed (newest first, paged) without the person's data.
func TestErasureThroughTheAPI(t *testing.T) {
	t.Parallel()
	e := newErasureEnv(t)
	other := e.newTenant("Other", "admin")
	create := func(scope, body string) string {
		t.Helper()
		status, m := e.call(scope, "POST", "/v1/customers", body)
		if status != 201 {
			t.Fatalf("create customer: %d %v", status, m)
		}
		return m["id"].(string)
	}
	jan := create("customers", `{"name":"Jan Janssens","email":"jan@example.com","phone":"+32 470 12 34 56"}`)
	keep := create("Other/admin", `{"name":"Jan Janssens","email":"jan@example.com"}`)

	status, m := e.call("erasure", "POST", "/v1/erasures", `{"email":"  JAN@Example.com "}`)
	if status != 200 || !strings.HasPrefix(m["id"].(string), slotwire.PrefixErasure) || m["subject"] != "email" ||
		m["api_key_id"] != e.keyIDs["erasure"] || m["customers"] != 1.0 || m["events"] != 1.0 || m["attempts"] != 0.0 ||
		m["appointments"] != 0.0 || m["created_at"] == nil {
		t.Fatalf("erasure: %d %v", status, m)
	}
	first := m["id"].(string)
	if _, c := e.call("customers", "GET", "/v1/customers/"+jan, ""); c["name"] != "[erased]" || c["email"] != "" || c["phone"] != "" {
		t.Fatalf("customer after the erasure = %v", c)
	}
	if _, c := e.call("Other/admin", "GET", "/v1/customers/"+keep, ""); c["email"] != "jan@example.com" {
		t.Fatalf("another tenant's customer = %v", c)
	}
	for tenant, want := range map[string]bool{e.tenant: false, other: true} {
		evs, err := e.db.ListEvents(context.Background(), tenant, store.EventFilter{})
		if err != nil || len(evs) != 1 {
			t.Fatalf("events of %s: %v, %v", tenant, evs, err)
		}
		ev, err := e.db.GetEvent(context.Background(), tenant, evs[0].ID)
		if err != nil || bytes.Contains(ev.Payload, []byte("jan@example.com")) != want {
			t.Fatalf("payload of %s: %s, %v", tenant, ev.Payload, err)
		}
	}

	status, m = e.call("admin", "POST", "/v1/erasures", `{"customer_id":"`+jan+`"}`)
	if status != 200 || m["subject"] != "customer_id" || m["customers"] != 0.0 || m["api_key_id"] != e.keyIDs["admin"] {
		t.Fatalf("second erasure (admin key): %d %v", status, m)
	}
	second := m["id"].(string)
	_, l := e.call("erasure", "GET", "/v1/erasures?limit=1", "")
	data := l["data"].([]any)
	if len(data) != 1 || data[0].(map[string]any)["id"] != second || l["next_cursor"] != second {
		t.Fatalf("first page = %v", l)
	}
	_, l = e.call("erasure", "GET", "/v1/erasures?limit=1&cursor="+second, "")
	data = l["data"].([]any)
	if len(data) != 1 || data[0].(map[string]any)["id"] != first || data[0].(map[string]any)["customers"] != 1.0 {
		t.Fatalf("second page = %v", l)
	}
	raw, _ := json.Marshal(data)
	if strings.Contains(string(raw), "example.com") || strings.Contains(string(raw), jan) {
		t.Fatalf("the record holds the person: %s", raw)
	}
	if _, l := e.call("Other/admin", "GET", "/v1/erasures", ""); len(l["data"].([]any)) != 0 {
		t.Fatalf("another tenant sees %v", l)
	}
}
