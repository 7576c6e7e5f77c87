package slotwire

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// MaxHeaderText bounds the headers kept of one request or answer: lines
// past it are left out, and the text says so.
const MaxHeaderText = 4 << 10

// Masked replaces the value of a header that may carry a secret.
const Masked = "[masked]"

// truncatedLine ends a HeaderText that was cut at MaxHeaderText.
const truncatedLine = "...: [truncated]\n"

// HeaderText is a set of HTTP headers as stored: one "Name: value" line
// per value, names in canonical form and sorted. In JSON it is an object
// of names to values (repeated names joined with ", ").
type HeaderText string

// FormatHeaders renders h, sorted, at most MaxHeaderText bytes; mask
// tells which headers' values are replaced by Masked.
func FormatHeaders(h http.Header, mask func(name string) bool) HeaderText {
	if len(h) == 0 {
		return ""
	}
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, k := range names {
		for _, v := range h[k] {
			if mask != nil && mask(k) {
				v = Masked
			}
			if b.Len()+len(k)+len(v)+3 > MaxHeaderText-len(truncatedLine) {
				b.WriteString(truncatedLine)
				return HeaderText(b.String())
			}
			b.WriteString(k)
			b.WriteString(": ")
			b.WriteString(v)
			b.WriteByte('\n')
		}
	}
	return HeaderText(b.String())
}

// Map returns the headers by name, repeated values joined with ", ".
func (t HeaderText) Map() map[string]string {
	if t == "" {
		return nil
	}
	m := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSuffix(string(t), "\n"), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		if prev, ok := m[k]; ok {
			v = prev + ", " + v
		}
		m[k] = v
	}
	return m
}

// MarshalJSON renders the headers as an object.
func (t HeaderText) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.Map())
}
