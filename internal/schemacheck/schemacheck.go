// Package schemacheck validates event data against JSON Schema (draft
// 2020-12, github.com/santhosh-tekuri/jsonschema, format assertions on),
// with messages that name the first violation's path. The scheduling
// catalog and tenants' own event types use it.
package schemacheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Event data is checked by github.com/santhosh-tekuri/jsonschema, a
// standard draft 2020-12 validator, with format assertions on: the server
// accepts exactly what a receiver's standard validator accepts (a lowercase
// "t" in an RFC 3339 date-time, for instance).

// Compile compiles a JSON Schema document; url names it in errors.
func Compile(url string, schemaJSON []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", url, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("schema %s: %w", url, err)
	}
	return c.Compile(url)
}

// Check validates a JSON document against a compiled schema. The error
// names the first violation (in the order of their paths) as
// "data.customer.email: reason", and how many more there are.
func Check(sch *jsonschema.Schema, data []byte) error {
	doc, err := decodeData(data)
	if err != nil {
		return err
	}
	err = sch.Validate(doc)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	var leaves []violation
	collectViolations(doc, ve, &leaves)
	slices.SortFunc(leaves, func(a, b violation) int {
		if c := slices.Compare(a.at, b.at); c != 0 {
			return c
		}
		return strings.Compare(a.msg, b.msg)
	})
	switch len(leaves) {
	case 0:
		return errors.New(ve.Error())
	case 1:
		return errors.New(leaves[0].msg)
	case 2:
		return fmt.Errorf("%s (and 1 more violation)", leaves[0].msg)
	}
	return fmt.Errorf("%s (and %d more violations)", leaves[0].msg, len(leaves)-1)
}

// violation is one leaf of a validation error: where and what.
type violation struct {
	at  []string // JSON pointer tokens; a parent sorts before its children
	msg string
}

// decodeData reads exactly one JSON value, numbers kept exact.
func decodeData(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("data is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data has content after the JSON value")
	}
	if tokens := findHugeNumber(v, nil); tokens != nil {
		n, path := locate(v, tokens)
		return nil, fmt.Errorf("%s: number %.40s is out of range: numbers must fit a float64 and have an exponent within ±%d", path, n, maxExponent)
	}
	return v, nil
}

// maxExponent bounds the exponent of numbers in event data. The validator
// computes exactly with numbers it must prove integer, and 1e9000000 costs
// it about a second, so data larger than any float64 (or with an
// exponent beyond ±1000) is refused before validation. No receiver that
// reads JSON numbers as IEEE 754 doubles could use such a number anyway.
const maxExponent = 1000

// findHugeNumber returns the JSON pointer tokens of the first number out
// of range, or nil.
func findHugeNumber(v any, at []string) []string {
	switch x := v.(type) {
	case json.Number:
		if hugeNumber(string(x)) {
			return append([]string{}, at...)
		}
	case []any:
		for i, item := range x {
			if p := findHugeNumber(item, append(at, strconv.Itoa(i))); p != nil {
				return p
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if p := findHugeNumber(x[k], append(at, k)); p != nil {
				return p
			}
		}
	}
	return nil
}

func hugeNumber(lit string) bool {
	if _, err := strconv.ParseFloat(lit, 64); err != nil {
		return true
	}
	i := strings.IndexAny(lit, "eE")
	if i < 0 {
		return false
	}
	exp, err := strconv.Atoi(strings.TrimPrefix(lit[i+1:], "+"))
	return err != nil || exp > maxExponent || exp < -maxExponent
}

// collectViolations appends the leaves of the error tree.
func collectViolations(doc any, e *jsonschema.ValidationError, out *[]violation) {
	if len(e.Causes) == 0 {
		if _, isSchema := e.ErrorKind.(*kind.Schema); !isSchema {
			v, path := locate(doc, e.InstanceLocation)
			*out = append(*out, violation{at: e.InstanceLocation, msg: path + ": " + reason(e.ErrorKind, v)})
		}
		return
	}
	for _, c := range e.Causes {
		collectViolations(doc, c, out)
	}
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// locate follows a JSON pointer's tokens through doc and renders them as a
// path such as data.resources[0].name; it returns the value found there.
func locate(doc any, tokens []string) (any, string) {
	path := "data"
	v := doc
	for _, tok := range tokens {
		switch x := v.(type) {
		case []any:
			i, _ := strconv.Atoi(tok)
			path += "[" + tok + "]"
			if i >= 0 && i < len(x) {
				v = x[i]
			}
		case map[string]any:
			if identRE.MatchString(tok) {
				path += "." + tok
			} else {
				path += "[" + strconv.Quote(tok) + "]"
			}
			v = x[tok]
		}
	}
	return v, path
}

var printer = message.NewPrinter(language.English)

// reason words the common violations; others keep the validator's words.
func reason(k jsonschema.ErrorKind, v any) string {
	switch k := k.(type) {
	case *kind.Required:
		if len(k.Missing) == 1 {
			return fmt.Sprintf("required property %q is missing", k.Missing[0])
		}
		return fmt.Sprintf("required properties %s are missing", quoteAll(k.Missing))
	case *kind.Type:
		return fmt.Sprintf("expected %s, got %s", strings.Join(k.Want, " or "), jsonType(v))
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = jsonText(w)
		}
		return fmt.Sprintf("%s is not one of %s", jsonText(k.Got), strings.Join(want, ", "))
	case *kind.Format:
		if k.Want == "date-time" {
			return fmt.Sprintf("%s is not an RFC 3339 date-time: %v", jsonText(k.Got), k.Err)
		}
		return fmt.Sprintf("%s is not a valid %s: %v", jsonText(k.Got), k.Want, k.Err)
	case *kind.AdditionalProperties:
		if len(k.Properties) == 1 {
			return fmt.Sprintf("property %q is not allowed", k.Properties[0])
		}
		return fmt.Sprintf("properties %s are not allowed", quoteAll(k.Properties))
	}
	return k.LocalizedString(printer)
}

// quoteAll lists names quoted, sorted (the validator reports them in map
// order), so a message does not change from one call to the next.
func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	sort.Strings(q)
	return strings.Join(q, ", ")
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// jsonType names the JSON type of a decoded value; a number with no
// fraction is an "integer", as in JSON Schema.
func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		// Only for messages: float64 is close enough, and cheap.
		if f, err := x.Float64(); err == nil && f == math.Trunc(f) {
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
