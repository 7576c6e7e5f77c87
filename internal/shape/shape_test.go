package shape

import (
	"encoding/json"
	"testing"
)

const payload = `{"id":"evt_1","type":"appointment.created","timestamp":"2026-12-01T09:00:00.000Z","source":{"app":"BC-US","type":"service_order"},` +
	`"data":{"id":"apt_1","customer_id":"cus_1","resource_ids":["res_1","res_2"],"customer":{"name":"Ada","email":"ada@example.com"},"notes":"","tags":[],"extra":{},"price":45.50}}`

func TestBody(t *testing.T) {
	for _, c := range []struct{ format, want string }{
		{"", payload},
		{"nested", payload},
		{"flat", `{"id":"evt_1","type":"appointment.created","timestamp":"2026-12-01T09:00:00.000Z","source.app":"BC-US","source.type":"service_order",` +
			`"data.id":"apt_1","data.customer_id":"cus_1","data.resource_ids.0":"res_1","data.resource_ids.1":"res_2","data.customer.name":"Ada",` +
			`"data.customer.email":"ada@example.com","data.notes":"","data.tags":[],"data.extra":{},"data.price":45.50}`},
		{"thin", `{"id":"evt_1","type":"appointment.created","timestamp":"2026-12-01T09:00:00.000Z","source":{"app":"BC-US","type":"service_order"},` +
			`"data":{"id":"apt_1","customer_id":"cus_1","resource_ids":["res_1","res_2"]}}`},
	} {
		got, err := Body(c.format, []byte(payload))
		if err != nil || string(got) != c.want {
			t.Errorf("%s:\n got %s, %v\nwant %s", c.format, got, err, c.want)
		}
		if !json.Valid(got) {
			t.Errorf("%s: not JSON", c.format)
		}
	}
	if _, err := Body("xml", []byte(payload)); err == nil {
		t.Error("unknown format accepted")
	}
}

// Any payload shapes into valid JSON, or an error; never a panic.
func FuzzBody(f *testing.F) {
	f.Add([]byte(payload))
	f.Add([]byte(`{"id":"e","type":"t","timestamp":"x","data":{"a":{"b":[{"c":1},[2,3]]}}}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		if !json.Valid(p) {
			return
		}
		for _, format := range []string{"flat", "thin"} {
			if out, err := Body(format, p); err == nil && !json.Valid(out) {
				t.Fatalf("%s of %s is not JSON: %s", format, p, out)
			}
		}
	})
}
