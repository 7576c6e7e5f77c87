package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/plans"
)

// Plans limit a tenant's endpoints; a tenant created without a plan is on
// basic; PATCH /v1/tenants/{id} changes the plan at once.
func TestPlanLimits(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	ctx := context.Background()
	ten, err := e.admin.CreateTenant(ctx, "Small", "")
	if err != nil || ten.Plan != "basic" {
		t.Fatalf("tenant without a plan = %+v, %v", ten, err)
	}
	c := client.New(e.node.URL(), ten.APIKey)
	create := func() error {
		_, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr("https://example.com/h"), EventTypes: &[]string{"*"}})
		return err
	}
	if err := create(); err != nil {
		t.Fatal(err)
	}
	err = create()
	apiErr(t, err, 403, "plan_limit")
	if !strings.Contains(err.Error(), "basic plan allows 1") {
		t.Fatalf("message does not name the plan and its limit: %v", err)
	}
	// An upgrade applies to the next request (the tenant is cached for
	// authentication, not for limits).
	pro := "professional"
	if up, err := e.admin.UpdateTenant(ctx, ten.ID, nil, &pro); err != nil || up.Plan != pro || up.Name != "Small" {
		t.Fatalf("PATCH plan = %+v, %v", up, err)
	}
	for i := 0; i < 2; i++ {
		if err := create(); err != nil {
			t.Fatalf("endpoint %d on professional: %v", i+2, err)
		}
	}
	apiErr(t, create(), 403, "plan_limit")

	bogus := "gold"
	_, err = e.admin.UpdateTenant(ctx, ten.ID, nil, &bogus)
	apiErr(t, err, 400, "invalid_request")
	_, err = e.admin.CreateTenant(ctx, "Other", "gold")
	apiErr(t, err, 400, "invalid_request")
	_, err = e.admin.UpdateTenant(ctx, "ten_nope", nil, &pro)
	apiErr(t, err, 404, "not_found")
	_, err = c.UpdateTenant(ctx, ten.ID, nil, &pro) // a tenant key is not the admin token
	apiErr(t, err, 401, "unauthorized")
	unl := plans.Unlimited
	if _, err := e.admin.UpdateTenant(ctx, ten.ID, nil, &unl); err != nil {
		t.Fatal(err)
	}
	if err := create(); err != nil {
		t.Fatalf("unlimited: %v", err)
	}
}

// The plan table is the server's: a custom one replaces the default.
func TestCustomPlans(t *testing.T) {
	t.Parallel()
	cfg := fast()
	cfg.Plans = plans.Must("basic=2,gold=0")
	e := start(t, cfg)
	ctx := context.Background()
	if _, err := e.admin.CreateTenant(ctx, "A", "professional"); err == nil {
		t.Fatal("a plan missing from the custom table was accepted")
	}
	ten, err := e.admin.CreateTenant(ctx, "B", "")
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(e.node.URL(), ten.APIKey)
	for i := 0; i < 2; i++ {
		if _, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr("https://example.com/h"), EventTypes: &[]string{"*"}}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr("https://example.com/h"), EventTypes: &[]string{"*"}})
	apiErr(t, err, 403, "plan_limit")
}
