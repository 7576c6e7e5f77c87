package scheduling

import (
	"bytes"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// msCol stores a time.Time as BIGINT Unix milliseconds.
type msCol struct{ t *time.Time }

func (c msCol) Value() (driver.Value, error) { return c.t.UnixMilli(), nil }

func (c msCol) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		*c.t = time.UnixMilli(v).UTC()
	case time.Time: // a timestamp column of another package's table
		*c.t = v.UTC().Truncate(time.Millisecond)
	default:
		return fmt.Errorf("scheduling: time column holds %T", src)
	}
	return nil
}

// optMSCol stores a *time.Time as a nullable BIGINT.
type optMSCol struct{ t **time.Time }

func (c optMSCol) Value() (driver.Value, error) {
	if *c.t == nil {
		return nil, nil
	}
	return (*c.t).UnixMilli(), nil
}

func (c optMSCol) Scan(src any) error {
	if src == nil {
		*c.t = nil
		return nil
	}
	v, ok := src.(int64)
	if !ok {
		return fmt.Errorf("scheduling: time column holds %T", src)
	}
	t := time.UnixMilli(v).UTC()
	*c.t = &t
	return nil
}

// optStrCol stores a *string as a nullable TEXT.
type optStrCol struct{ s **string }

func (c optStrCol) Value() (driver.Value, error) {
	if *c.s == nil {
		return nil, nil
	}
	return **c.s, nil
}

func (c optStrCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.s = nil
	case string:
		*c.s = &v
	case []byte:
		s := string(v)
		*c.s = &s
	default:
		return fmt.Errorf("scheduling: text column holds %T", src)
	}
	return nil
}

// jsonCol stores any JSON-encodable value in a TEXT column.
type jsonCol struct{ v any }

func (c jsonCol) Value() (driver.Value, error) {
	b, err := json.Marshal(c.v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func (c jsonCol) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("scheduling: JSON column holds %T", src)
	}
	return json.Unmarshal(b, c.v)
}

// object is a JSON object kept in order of insertion, for event data built
// from an object plus extra keys.
type object struct {
	base any
	keys []string
	vals []any
}

// with returns an object that marshals as base (a JSON object) followed by
// the extra key/value pairs.
func with(base any, kv ...any) *object {
	o := &object{base: base}
	for i := 0; i+1 < len(kv); i += 2 {
		o.keys = append(o.keys, kv[i].(string))
		o.vals = append(o.vals, kv[i+1])
	}
	return o
}

func (o *object) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(o.base)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '{' {
		return nil, fmt.Errorf("scheduling: %T is not a JSON object", o.base)
	}
	var buf bytes.Buffer
	buf.Write(b[:len(b)-1])
	empty := len(bytes.TrimSpace(b[1:len(b)-1])) == 0
	for i, k := range o.keys {
		if !empty || i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(o.vals[i])
		if err != nil {
			return nil, err
		}
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(vb)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// changes returns the old values of the top-level fields that differ
// between two JSON objects, and whether any did.
func changes(old, cur any) (map[string]json.RawMessage, error) {
	ob, err := json.Marshal(old)
	if err != nil {
		return nil, err
	}
	cb, err := json.Marshal(cur)
	if err != nil {
		return nil, err
	}
	var om, cm map[string]json.RawMessage
	if err := json.Unmarshal(ob, &om); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(cb, &cm); err != nil {
		return nil, err
	}
	prev := map[string]json.RawMessage{}
	for k, v := range cm {
		ov, ok := om[k]
		if !ok {
			ov = json.RawMessage("null")
		}
		if !jsonEqual(ov, v) {
			prev[k] = ov
		}
	}
	return prev, nil
}

func jsonEqual(a, b []byte) bool {
	var x, y bytes.Buffer
	if json.Compact(&x, a) != nil || json.Compact(&y, b) != nil {
		return bytes.Equal(a, b)
	}
	// Objects decoded into maps re-marshal with sorted keys; compare the
	// canonical forms.
	var av, bv any
	if json.Unmarshal(x.Bytes(), &av) == nil && json.Unmarshal(y.Bytes(), &bv) == nil {
		ca, _ := json.Marshal(av)
		cb, _ := json.Marshal(bv)
		return bytes.Equal(ca, cb)
	}
	return bytes.Equal(x.Bytes(), y.Bytes())
}
