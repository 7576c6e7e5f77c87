package scheduling

import (
	"encoding/json"
	"sort"
)

// Schema is a JSON Schema (draft 2020-12) of the catalog, built in Go with
// the constructors below. It has the keywords the catalog uses: type (one
// name or a list), properties, required, items, enum and format. Event data
// is validated by a standard draft 2020-12 validator compiled from this
// schema's JSON (see schemacheck.Compile), so the server checks exactly what it
// serves to receivers.
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
