package scheduling_test

import (
	"encoding/json"
	"slices"
	"sort"
	"testing"

	"github.com/slotwire/slotwire/docs"
	"github.com/slotwire/slotwire/internal/scheduling"
)

// The OpenAPI document's scheduling objects have the fields the events
// carry: the catalog's schemas (the objects as stored) and the document's
// components are written apart, so this keeps them from drifting.
func TestOpenAPIMatchesCatalog(t *testing.T) {
	t.Parallel()
	raw, err := docs.OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	// Expansions and change sets events add to the stored object.
	expanded := []string{"customer", "resources", "resource", "service", "service_group", "group_event", "previous", "booked"}
	for component, eventType := range map[string]string{
		"Resource": "resource.created", "Shift": "shift.created", "Service": "service.created",
		"ServiceGroup": "service_group.created", "Customer": "customer.created", "CustomerField": "customer_field.created",
		"Manager": "manager.created", "Appointment": "appointment.created", "GroupEvent": "group_event.created",
		"Booking": "group_event.booking.created",
	} {
		c, ok := doc.Components.Schemas[component]
		if !ok {
			t.Errorf("no component %s", component)
			continue
		}
		var want []string
		for k := range scheduling.LookupEventType(eventType).Schema.Properties {
			if !slices.Contains(expanded, k) {
				want = append(want, k)
			}
		}
		var got []string
		for k := range c.Properties {
			if !slices.Contains(expanded, k) {
				got = append(got, k)
			}
		}
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s has %v; %s's data has %v", component, got, eventType, want)
		}
	}
}
