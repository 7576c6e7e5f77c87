package erasure

import (
	"encoding/json"
	"errors"
	"fmt"
)

// parser reads a JSON document into nodes that keep their bytes. The
// documents it reads were validated when stored; it still refuses what is
// not JSON rather than guess.
type parser struct {
	doc   []byte
	i     int
	depth int
}

// maxDepth bounds nesting (encoding/json, which checked the stored
// documents, allows 10000).
const maxDepth = 10000

var errSyntax = errors.New("not a JSON document")

func (ps *parser) space() {
	for ps.i < len(ps.doc) {
		switch ps.doc[ps.i] {
		case ' ', '\t', '\n', '\r':
			ps.i++
		default:
			return
		}
	}
}

func (ps *parser) value() (*node, error) {
	ps.space()
	if ps.i >= len(ps.doc) {
		return nil, errSyntax
	}
	start := ps.i
	var n *node
	var err error
	switch ps.doc[ps.i] {
	case '{':
		n, err = ps.nested(ps.object)
	case '[':
		n, err = ps.nested(ps.array)
	case '"':
		n = &node{kind: '"'}
		n.str, err = ps.string()
	default:
		n, err = &node{}, ps.scalar()
	}
	if err != nil {
		return nil, err
	}
	n.raw = ps.doc[start:ps.i]
	return n, nil
}

// nested reads an object or array within the depth bound.
func (ps *parser) nested(read func() (*node, error)) (*node, error) {
	if ps.depth++; ps.depth > maxDepth {
		return nil, fmt.Errorf("nested deeper than %d", maxDepth)
	}
	n, err := read()
	ps.depth--
	return n, err
}

func (ps *parser) object() (*node, error) {
	n := &node{kind: '{'}
	ps.i++ // {
	ps.space()
	if ps.i < len(ps.doc) && ps.doc[ps.i] == '}' {
		ps.i++
		return n, nil
	}
	for {
		ps.space()
		if ps.i >= len(ps.doc) || ps.doc[ps.i] != '"' {
			return nil, errSyntax
		}
		start := ps.i
		key, err := ps.string()
		if err != nil {
			return nil, err
		}
		m := member{key: key, keyRaw: ps.doc[start:ps.i]}
		ps.space()
		if ps.i >= len(ps.doc) || ps.doc[ps.i] != ':' {
			return nil, errSyntax
		}
		ps.i++
		if m.val, err = ps.value(); err != nil {
			return nil, err
		}
		n.members = append(n.members, m)
		if done, err := ps.next('}'); done || err != nil {
			return n, err
		}
	}
}

func (ps *parser) array() (*node, error) {
	n := &node{kind: '['}
	ps.i++ // [
	ps.space()
	if ps.i < len(ps.doc) && ps.doc[ps.i] == ']' {
		ps.i++
		return n, nil
	}
	for {
		v, err := ps.value()
		if err != nil {
			return nil, err
		}
		n.elems = append(n.elems, v)
		if done, err := ps.next(']'); done || err != nil {
			return n, err
		}
	}
}

// next reads the ',' between members or elements, or the closing
// delimiter (done).
func (ps *parser) next(closing byte) (bool, error) {
	ps.space()
	if ps.i >= len(ps.doc) {
		return false, errSyntax
	}
	switch ps.doc[ps.i] {
	case ',':
		ps.i++
		return false, nil
	case closing:
		ps.i++
		return true, nil
	}
	return false, errSyntax
}

// string reads a string and returns its value.
func (ps *parser) string() (string, error) {
	start := ps.i
	escaped := false
	for j := start + 1; j < len(ps.doc); j++ {
		switch ps.doc[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			ps.i = j + 1
			raw := ps.doc[start:ps.i]
			if !escaped {
				return string(raw[1 : len(raw)-1]), nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", errSyntax
			}
			return s, nil
		}
	}
	return "", errSyntax
}

// scalar reads a number, true, false or null.
func (ps *parser) scalar() error {
	start := ps.i
	for ps.i < len(ps.doc) {
		switch ps.doc[ps.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return ps.checkScalar(start)
		}
		ps.i++
	}
	return ps.checkScalar(start)
}

func (ps *parser) checkScalar(start int) error {
	if !json.Valid(ps.doc[start:ps.i]) {
		return errSyntax
	}
	return nil
}
