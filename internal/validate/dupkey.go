package validate

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// frame is one open object or array while scanning for duplicate keys.
type frame struct {
	obj       bool
	expectKey bool
	keys      [][]byte // this object's keys so far (slices of the document, or decoded)
	set       map[string]struct{}
	cur       []byte // the key whose value is being read
	idx       int    // the array index being read
}

// duplicateKey scans a valid JSON document and returns the first key that
// appears twice in one object, with the path of that object. It allocates
// little: keys are compared as the document's own bytes unless escaped.
func duplicateKey(doc []byte) (key, path string, found bool) {
	stack := make([]frame, 0, 8) // on the goroutine stack unless deeper
	for i := 0; i < len(doc); i++ {
		switch doc[i] {
		case '{':
			stack = append(stack, frame{obj: true, expectKey: true})
		case '[':
			stack = append(stack, frame{})
		case '}', ']':
			stack = stack[:len(stack)-1]
		case ',':
			if top := &stack[len(stack)-1]; top.obj {
				top.expectKey = true
			} else {
				top.idx++
			}
		case '"':
			end := stringEnd(doc, i)
			if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].expectKey {
				k := keyBytes(doc[i+1 : end])
				if stack[n-1].add(k) {
					return string(k), pathOf(stack[:n-1]), true
				}
				stack[n-1].expectKey, stack[n-1].cur = false, k
			}
			i = end
		}
	}
	return "", "", false
}

// stringEnd returns the index of the quote closing the string opened at i.
func stringEnd(doc []byte, i int) int {
	for j := i + 1; j < len(doc); j++ {
		switch doc[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return len(doc) - 1
}

// keyBytes is a key as it reads after unescaping.
func keyBytes(raw []byte) []byte {
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw
	}
	var s string
	if err := json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &s); err != nil {
		return raw
	}
	return []byte(s)
}

// add records k and reports whether the object already had it.
func (f *frame) add(k []byte) bool {
	if f.set != nil {
		if _, ok := f.set[string(k)]; ok {
			return true
		}
		f.set[string(k)] = struct{}{}
		return false
	}
	for _, have := range f.keys {
		if bytes.Equal(have, k) {
			return true
		}
	}
	f.keys = append(f.keys, k)
	if len(f.keys) > 16 { // large object: switch to a set
		f.set = make(map[string]struct{}, 32)
		for _, have := range f.keys {
			f.set[string(have)] = struct{}{}
		}
		f.keys = nil
	}
	return false
}

// pathOf names the object at the top of the stack: $.data.items[2].
func pathOf(stack []frame) string {
	var b strings.Builder
	b.WriteString("$")
	for _, f := range stack {
		if f.obj {
			b.WriteString("." + string(f.cur))
		} else {
			b.WriteString("[" + strconv.Itoa(f.idx) + "]")
		}
	}
	return b.String()
}
