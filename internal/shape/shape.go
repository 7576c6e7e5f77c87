// Package shape turns an event's payload into the body an endpoint asked
// for (payload_format): nested (the payload as is), flat (one level of
// dotted keys, for spreadsheets and no-code tools) or thin (the envelope
// and the ids of the objects the event is about, for receivers that fetch
// what they need). The body is what is signed and sent.
package shape

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/slotwire/slotwire"
)

// Body returns the body of format for payload (a webhook payload:
// {"id","type","timestamp",["source",]"data"}).
func Body(format string, payload []byte) ([]byte, error) {
	switch format {
	case "", slotwire.FormatNested:
		return payload, nil
	case slotwire.FormatFlat:
		return flat(payload)
	case slotwire.FormatThin:
		return thin(payload)
	}
	return nil, fmt.Errorf("shape: unknown payload format %q", format)
}

// flat writes every scalar of the document under its dotted path, in
// document order: {"data":{"customer":{"email":…}}} becomes
// {"data.customer.email":…}; array elements are numbered (data.ids.0).
// Empty objects and arrays stay as {} and [].
func flat(payload []byte) ([]byte, error) {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("shape: %w", err)
	}
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	if err := flatten(&b, &first, "", payload); err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// flatten walks raw (a JSON value) in order, writing "path":scalar pairs.
func flatten(b *bytes.Buffer, first *bool, path string, raw []byte) error {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) > 0 && raw[0] == '{':
		return flattenObject(b, first, path, raw)
	case len(raw) > 0 && raw[0] == '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return fmt.Errorf("shape: %w", err)
		}
		if len(items) == 0 {
			return pair(b, first, path, []byte("[]"))
		}
		for i, it := range items {
			if err := flatten(b, first, join(path, strconv.Itoa(i)), it); err != nil {
				return err
			}
		}
		return nil
	}
	return pair(b, first, path, raw)
}

// flattenObject walks an object's members in document order.
func flattenObject(b *bytes.Buffer, first *bool, path string, raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // {
		return fmt.Errorf("shape: %w", err)
	}
	empty := true
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("shape: %w", err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("shape: %w", err)
		}
		empty = false
		if err := flatten(b, first, join(path, t.(string)), v); err != nil {
			return err
		}
	}
	if empty && path != "" {
		return pair(b, first, path, []byte("{}"))
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func pair(b *bytes.Buffer, first *bool, key string, value []byte) error {
	if !*first {
		b.WriteByte(',')
	}
	*first = false
	k, err := json.Marshal(key)
	if err != nil {
		return fmt.Errorf("shape: %w", err)
	}
	b.Write(k)
	b.WriteByte(':')
	b.Write(value)
	return nil
}

// thin keeps the envelope (id, type, timestamp, source) and, of data, the
// ids of the objects the event is about: "id" and the members whose name
// ends in "_id" or "_ids".
func thin(payload []byte) ([]byte, error) {
	var env struct {
		ID        string          `json:"id"`
		Type      string          `json:"type"`
		Timestamp string          `json:"timestamp"`
		Source    json.RawMessage `json:"source,omitempty"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(payload, &env); err != nil {
		return nil, fmt.Errorf("shape: %w", err)
	}
	var b bytes.Buffer // the thin data object
	b.WriteByte('{')
	first := true
	dec := json.NewDecoder(bytes.NewReader(env.Data))
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("shape: %w", err)
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("shape: %w", err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("shape: %w", err)
		}
		if k := t.(string); k == "id" || strings.HasSuffix(k, "_id") || strings.HasSuffix(k, "_ids") {
			if err := pair(&b, &first, k, v); err != nil {
				return nil, err
			}
		}
	}
	b.WriteByte('}')
	out := map[string]json.RawMessage{"data": b.Bytes()}
	for k, v := range map[string]any{"id": env.ID, "type": env.Type, "timestamp": env.Timestamp} {
		out[k], _ = json.Marshal(v)
	}
	if len(env.Source) > 0 {
		out["source"] = env.Source
	}
	return envelope(out)
}

// envelope writes the thin body in the payload's key order.
func envelope(m map[string]json.RawMessage) ([]byte, error) {
	var b bytes.Buffer
	first := true
	b.WriteByte('{')
	for _, k := range []string{"id", "type", "timestamp", "source", "data"} {
		if v, ok := m[k]; ok {
			if err := pair(&b, &first, k, v); err != nil {
				return nil, err
			}
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
