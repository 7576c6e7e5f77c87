package scheduling

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Schema is the subset of JSON Schema (draft 2020-12) the catalog uses:
// type (one name or a list), properties, required, items, enum and format
// "date-time". Other keywords are not supported.
type Schema struct {
	Dollar      string             `json:"$schema,omitempty"`
	Type        Types              `json:"type,omitempty"`
	Format      string             `json:"format,omitempty"`
	Description string             `json:"description,omitempty"`
	Enum        []any              `json:"enum,omitempty"`
	Properties  map[string]*Schema `json:"properties,omitempty"`
	Required    []string           `json:"required,omitempty"`
	Items       *Schema            `json:"items,omitempty"`
}

// Types is a JSON Schema "type": a single name or a list of names.
type Types []string

// MarshalJSON writes one type as a string, several as an array.
func (t Types) MarshalJSON() ([]byte, error) {
	if len(t) == 1 {
		return json.Marshal(t[0])
	}
	return json.Marshal([]string(t))
}

// UnmarshalJSON reads a string or an array of strings.
func (t *Types) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*t = Types{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*t = many
	return nil
}

// Validate checks a JSON document against the schema and returns the first
// violation, naming its path (e.g. "data.customer.email").
func (s *Schema) Validate(doc []byte) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("data is not valid JSON: %v", err)
	}
	if dec.More() {
		return fmt.Errorf("data has content after the JSON value")
	}
	return s.validate("data", v)
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if f, err := x.Float64(); err == nil && f == math.Trunc(f) && !strings.ContainsAny(string(x), ".eE") {
			return "integer"
		}
		return "number"
	case float64:
		if x == math.Trunc(x) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func (s *Schema) validate(path string, v any) error {
	if len(s.Type) > 0 {
		got := jsonType(v)
		ok := false
		for _, t := range s.Type {
			if t == got || (t == "number" && got == "integer") {
				ok = true
				break
			}
			// 1.0 is an integer in JSON Schema.
			if t == "integer" && got == "number" {
				if n, isNum := v.(json.Number); isNum {
					if f, err := n.Float64(); err == nil && f == math.Trunc(f) {
						ok = true
						break
					}
				}
			}
		}
		if !ok {
			return fmt.Errorf("%s: expected %s, got %s", path, strings.Join(s.Type, " or "), got)
		}
	}
	if len(s.Enum) > 0 {
		ok := false
		for _, e := range s.Enum {
			if enumEqual(e, v) {
				ok = true
				break
			}
		}
		if !ok {
			vals := make([]string, len(s.Enum))
			for i, e := range s.Enum {
				b, _ := json.Marshal(e)
				vals[i] = string(b)
			}
			b, _ := json.Marshal(v)
			return fmt.Errorf("%s: %s is not one of %s", path, b, strings.Join(vals, ", "))
		}
	}
	if str, ok := v.(string); ok && s.Format == "date-time" {
		if _, err := time.Parse(time.RFC3339, str); err != nil {
			return fmt.Errorf("%s: %q is not an RFC 3339 date-time", path, str)
		}
	}
	switch x := v.(type) {
	case map[string]any:
		for _, k := range s.Required {
			if _, ok := x[k]; !ok {
				return fmt.Errorf("%s: required property %q is missing", path, k)
			}
		}
		keys := make([]string, 0, len(s.Properties))
		for k := range s.Properties {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if pv, ok := x[k]; ok {
				if err := s.Properties[k].validate(path+"."+k, pv); err != nil {
					return err
				}
			}
		}
	case []any:
		if s.Items != nil {
			for i, item := range x {
				if err := s.Items.validate(fmt.Sprintf("%s[%d]", path, i), item); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func enumEqual(e, v any) bool {
	eb, err1 := json.Marshal(e)
	vb, err2 := json.Marshal(v)
	return err1 == nil && err2 == nil && bytes.Equal(eb, vb)
}

// Schema constructors used by the catalog.

func objectOf(props map[string]*Schema, required ...string) *Schema {
	if required == nil {
		required = []string{}
		for k := range props {
			required = append(required, k)
		}
		sort.Strings(required)
	}
	return &Schema{Type: Types{"object"}, Properties: props, Required: required}
}

func nullable(s *Schema) *Schema {
	cp := *s
	cp.Type = append(append(Types{}, s.Type...), "null")
	return &cp
}

func describe(s *Schema, d string) *Schema {
	cp := *s
	cp.Description = d
	return &cp
}

func str() *Schema              { return &Schema{Type: Types{"string"}} }
func num() *Schema              { return &Schema{Type: Types{"number"}} }
func integer() *Schema          { return &Schema{Type: Types{"integer"}} }
func boolean() *Schema          { return &Schema{Type: Types{"boolean"}} }
func dateTime() *Schema         { return &Schema{Type: Types{"string"}, Format: "date-time"} }
func anyObject() *Schema        { return &Schema{Type: Types{"object"}} }
func arrayOf(s *Schema) *Schema { return &Schema{Type: Types{"array"}, Items: s} }

func enumOf(vals ...string) *Schema {
	s := &Schema{Type: Types{"string"}}
	for _, v := range vals {
		s.Enum = append(s.Enum, v)
	}
	return s
}

// extend returns a copy of an object schema with more properties.
func extend(base *Schema, props map[string]*Schema, required ...string) *Schema {
	cp := *base
	cp.Properties = map[string]*Schema{}
	for k, v := range base.Properties {
		cp.Properties[k] = v
	}
	for k, v := range props {
		cp.Properties[k] = v
	}
	cp.Required = append(append([]string{}, base.Required...), required...)
	return &cp
}
