package scheduling_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/scheduling"
)

// wantTypes is every event type the issue asks for.
var wantTypes = func() []string {
	out := []string{
		"appointment.created", "appointment.updated", "appointment.rescheduled", "appointment.cancelled",
		"appointment.no_show", "appointment.deleted",
		"appointment.reminder", "appointment.starting", "appointment.ended", "notification.created",
		"group_event.created", "group_event.updated", "group_event.deleted",
		"group_event.booking.created", "group_event.booking.cancelled", "group_event.booking.rebooked",
		"company.updated",
	}
	for _, p := range []string{"customer", "resource", "service", "service_group", "customer_field", "shift", "manager"} {
		out = append(out, p+".created", p+".updated", p+".deleted")
	}
	return out
}()

func TestCatalogComplete(t *testing.T) {
	t.Parallel()
	scopes := map[string]bool{}
	for _, s := range scheduling.Scopes {
		scopes[s.Name] = true
	}
	for _, typ := range wantTypes {
		e := scheduling.LookupEventType(typ)
		if e == nil {
			t.Errorf("%s is not in the catalog", typ)
			continue
		}
		if e.Description == "" || !scopes[e.Scope] || e.Schema == nil || len(e.Example) == 0 {
			t.Errorf("%s: incomplete entry %+v", typ, e)
		}
	}
	if n := len(scheduling.Catalog()); n != len(wantTypes) {
		t.Errorf("catalog has %d types, want %d", n, len(wantTypes))
	}
}

// Every example validates against its own schema.
func TestCatalogExamplesValidate(t *testing.T) {
	t.Parallel()
	for _, e := range scheduling.Catalog() {
		if err := scheduling.ValidateEvent(e.Type, e.Example); err != nil {
			t.Errorf("example of %s: %v", e.Type, err)
		}
		if err := slotwire.ValidateEventType(e.Type); err != nil {
			t.Errorf("%s: %v", e.Type, err)
		}
	}
}

func TestValidateEvent(t *testing.T) {
	t.Parallel()
	example := func(typ string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(scheduling.LookupEventType(typ).Example, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	tests := []struct {
		name, typ string
		mutate    func(m map[string]any)
		raw       string
		msg       string // "" = valid
	}{
		{"unknown type", "invoice.paid", nil, `{"anything": [1]}`, ""},
		{"unknown type, not JSON", "invoice.paid", nil, `{`, ""},
		{"example", "appointment.created", func(m map[string]any) {}, "", ""},
		{"extra property allowed", "appointment.created", func(m map[string]any) { m["x_custom"] = 1 }, "", ""},
		{"missing required", "appointment.created", func(m map[string]any) { delete(m, "origin") }, "", `data: required property "origin" is missing`},
		{"wrong enum", "appointment.created", func(m map[string]any) { m["origin"] = "fax" }, "", `data.origin: "fax" is not one of "online", "manual"`},
		{"wrong type", "appointment.created", func(m map[string]any) { m["resource_ids"] = "res_1" }, "", "data.resource_ids: expected array, got string"},
		{"bad date-time", "appointment.rescheduled", func(m map[string]any) { m["previous"].(map[string]any)["start"] = "yesterday" }, "", `data.previous.start: "yesterday" is not an RFC 3339 date-time`},
		{"nested object", "appointment.created", func(m map[string]any) { m["customer"].(map[string]any)["name"] = 5 }, "", "data.customer.name: expected string, got integer"},
		{"nullable", "appointment.created", func(m map[string]any) { m["customer"] = nil; m["service"] = nil }, "", ""},
		{"items", "appointment.created", func(m map[string]any) { m["resources"] = []any{"res_1"} }, "", "data.resources[0]: expected object, got string"},
		{"integer", "service.created", func(m map[string]any) { m["duration_minutes"] = 1.5 }, "", "data.duration_minutes: expected integer, got number"},
		{"integer as 30.0", "service.created", nil, "", ""},
		{"not an object", "customer.created", nil, `[1]`, "data: expected object, got array"},
		{"not JSON", "customer.created", nil, `{"name":`, "not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tc.raw)
			if tc.raw == "" {
				m := example(tc.typ)
				if tc.mutate != nil {
					tc.mutate(m)
				}
				data, _ = json.Marshal(m)
				if tc.name == "integer as 30.0" {
					data = bytes.Replace(data, []byte(`"duration_minutes":45`), []byte(`"duration_minutes":45.0`), 1)
				}
			}
			err := scheduling.ValidateEvent(tc.typ, data)
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if slotwire.ErrorCode(err) != slotwire.ECodeInvalid || !strings.Contains(slotwire.ErrorMessage(err), tc.msg) {
				t.Fatalf("error %v, want invalid_request containing %q", err, tc.msg)
			}
		})
	}
}

func TestEventTypesEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do(t, "GET", "/v1/event-types", nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var body struct {
		Data []struct {
			Type, Description, Scope string
			Schema                   map[string]any
			Example                  json.RawMessage
		}
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Data) != len(wantTypes) {
		t.Fatalf("%d event types, want %d", len(body.Data), len(wantTypes))
	}
	for _, et := range body.Data {
		if et.Schema["$schema"] != "https://json-schema.org/draft/2020-12/schema" || et.Schema["type"] != "object" {
			t.Fatalf("%s schema: %v", et.Type, et.Schema)
		}
		// A receiver's standard validator, given the served schema,
		// accepts the served example.
		raw, _ := json.Marshal(et.Schema)
		s := compileStandard(t, raw)
		example, err := jsonschema.UnmarshalJSON(bytes.NewReader(et.Example))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(example); err != nil {
			t.Fatalf("%s: served example does not match served schema: %v", et.Type, err)
		}
	}
	if body.Data[0].Type != "appointment.cancelled" || body.Data[0].Scope != "events" {
		t.Fatalf("first type %s (%s), want appointment.cancelled (events)", body.Data[0].Type, body.Data[0].Scope)
	}
}

// docs/events.md is generated from the catalog and must be up to date.
func TestEventsDocUpToDate(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "docs", "events.md")
	have, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: run `go run ./internal/scheduling/cmd/gendocs`", err)
	}
	want := scheduling.EventsMarkdown()
	if !bytes.Equal(have, want) {
		t.Fatalf("docs/events.md is out of date: run `go run ./internal/scheduling/cmd/gendocs` (or `go generate ./internal/scheduling`)")
	}
	for _, typ := range wantTypes {
		section := "\n### " + typ + "\n"
		i := bytes.Index(want, []byte(section))
		if i < 0 {
			t.Fatalf("docs/events.md has no section for %s", typ)
		}
		rest := want[i+len(section):]
		if j := bytes.Index(rest, []byte("\n### ")); j >= 0 {
			rest = rest[:j]
		}
		if !bytes.Contains(rest, []byte("Example `data`:\n\n```json\n{")) {
			t.Fatalf("docs/events.md: %s has no example payload", typ)
		}
	}
}

// compileStandard compiles a schema the way a receiver would: draft 2020-12
// as the schema says, format assertions on.
func compileStandard(t testing.TB, schemaJSON []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("receiver.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("receiver.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}
