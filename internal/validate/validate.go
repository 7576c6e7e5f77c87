// Package validate holds the input rules of the API that are not about
// one field's shape: JSON documents a receiver can read exactly as we
// signed them, header sets without ambiguity, and the event types only
// Slotwire may publish. Handlers call it; it knows nothing of HTTP.
package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slotwire/slotwire"
)

// JSON checks a JSON document for what encoding/json lets through but a
// receiver's parser may read differently: invalid UTF-8 (Go replaces it,
// others refuse the body — and the signature covers the bytes), escaped
// lone surrogates, and an object with the same key twice at any depth
// (parsers disagree on which one wins). The error is a *slotwire.Error
// (invalid_request) naming the problem and where it is.
func JSON(doc []byte) error {
	if !json.Valid(doc) {
		dec := json.NewDecoder(bytes.NewReader(doc))
		return walk(dec, "$") // names the syntax error
	}
	return Decoded(doc)
}

// Decoded is JSON for a document already known to be valid JSON (decoded
// without error): it skips the syntax check.
func Decoded(doc []byte) error {
	if !utf8.Valid(doc) {
		return slotwire.Errorf(slotwire.ECodeInvalid, "body is not valid UTF-8 (at byte %d)", invalidAt(doc))
	}
	if at := loneSurrogate(doc); at >= 0 {
		return slotwire.Errorf(slotwire.ECodeInvalid, "body has an escaped lone UTF-16 surrogate (at byte %d)", at)
	}
	if key, path, ok := duplicateKey(doc); ok {
		return slotwire.Errorf(slotwire.ECodeInvalid, "duplicate key %q in %s", key, path)
	}
	return nil
}

func invalidAt(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// loneSurrogate returns the offset of a \uD800-\uDFFF escape that is not
// a high surrogate followed by a low one, or -1.
func loneSurrogate(b []byte) int {
	for i := 0; i+6 <= len(b); i++ {
		if b[i] == '\\' && b[i+1] == '\\' {
			i++ // an escaped backslash: skip both
			continue
		}
		if b[i] != '\\' || b[i+1] != 'u' {
			continue
		}
		v, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16)
		if err != nil || v < 0xD800 || v > 0xDFFF {
			continue
		}
		if v >= 0xDC00 || i+12 > len(b) || b[i+6] != '\\' || b[i+7] != 'u' {
			return i
		}
		lo, err := strconv.ParseUint(string(b[i+8:i+12]), 16, 16)
		if err != nil || lo < 0xDC00 || lo > 0xDFFF {
			return i
		}
		i += 11
	}
	return -1
}

// walk reads one value and, for objects, refuses duplicate keys.
func walk(dec *json.Decoder, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return syntaxErr(err)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return syntaxErr(err)
			}
			k, _ := kt.(string)
			if seen[k] {
				return slotwire.Errorf(slotwire.ECodeInvalid, "duplicate key %q in %s", k, path)
			}
			seen[k] = true
			if err := walk(dec, path+"."+k); err != nil {
				return err
			}
		}
	case '[':
		for i := 0; dec.More(); i++ {
			if err := walk(dec, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return syntaxErr(err)
	}
	return nil
}

func syntaxErr(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return slotwire.Errorf(slotwire.ECodeInvalid, "body is not valid JSON: %v", err)
}

// Headers checks the custom headers of an endpoint: the same name twice
// in different cases would leave one of them, unpredictably.
func Headers(h map[string]string) error {
	seen := map[string]string{}
	for name := range h {
		c := http.CanonicalHeaderKey(name)
		if other, ok := seen[c]; ok {
			a, b := other, name
			if b < a {
				a, b = b, a
			}
			return slotwire.Errorf(slotwire.ECodeInvalid, "headers %q and %q are the same header; keep one", a, b)
		}
		seen[c] = name
	}
	return nil
}

// ReservedPrefixes are the event type namespaces only Slotwire publishes
// (endpoint.disabled, endpoint.recovered …).
var ReservedPrefixes = []string{"endpoint.", "slotwire.", "webhook."}

// PublishableType refuses the types a tenant may not publish.
func PublishableType(t string) error {
	for _, p := range ReservedPrefixes {
		if strings.HasPrefix(strings.ToLower(t), p) {
			return slotwire.Errorf(slotwire.ECodeInvalid, "type %q is reserved: types starting with %q are published by Slotwire itself", t, p)
		}
	}
	return nil
}
