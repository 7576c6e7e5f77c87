package schemacheck

import (
	"strings"
	"testing"
)

// Messages for keywords the catalog does not use yet keep a path and a
// reason too.
func TestCheckDataMessages(t *testing.T) {
	t.Parallel()
	sch, err := Compile("urn:test", []byte(`{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"type": "object",
		"additionalProperties": false,
		"properties": {
			"email": {"type": "string", "format": "email"},
			"tags": {"type": "array", "items": {"type": "string", "minLength": 2}},
			"odd key": {"type": "object", "additionalProperties": false}
		}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ data, msg string }{
		{`{}`, ""},
		{`{"email":"jan@example.com","tags":["ab"]}`, ""},
		{`{"x":1}`, `data: property "x" is not allowed`},
		{`{"x":1,"y":2}`, `data: properties "x", "y" are not allowed`},
		{`{"email":"jan"}`, `data.email: "jan" is not a valid email`},
		{`{"tags":["ab","a"]}`, `data.tags[1]: minLength: got 1, want 2`},
		{`{"odd key":{"z":true}}`, `data["odd key"]: property "z" is not allowed`},
		{`{"tags":[1]} `, `data.tags[0]: expected string, got integer`},
		{`{"tags":[]} {}`, `data has content after the JSON value`},
		{``, `data is not valid JSON`},
	}
	for _, tc := range tests {
		err := Check(sch, []byte(tc.data))
		if tc.msg == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.data, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), tc.msg) {
			t.Errorf("%s: got %v, want %q", tc.data, err, tc.msg)
		}
	}
}
