package erasure

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// JSON rewrites a JSON document by the rules of the package: members of
// objects that identify the person are erased, addresses anywhere else are
// replaced. Members keep their order, and what is not erased keeps its
// bytes (numbers, escapes), so the document stays what a replay sends,
// less the person; insignificant whitespace is dropped (stored payloads
// have none). It reports whether anything changed; if not, doc is
// returned as it is.
func (p *Person) JSON(doc []byte) ([]byte, bool, error) {
	ps := parser{doc: doc}
	n, err := ps.value()
	if err == nil {
		ps.space()
		if ps.i != len(doc) {
			err = errors.New("data after the JSON value")
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("erasure: %w", err)
	}
	if !p.scrub(n, false) {
		return doc, false, nil
	}
	var b bytes.Buffer
	b.Grow(len(doc))
	n.write(&b)
	return b.Bytes(), true, nil
}

// scrub applies the rules to n; inherited says n sits in an identifying
// object (an object of its own without an id is then part of it). It
// reports whether n changed.
func (p *Person) scrub(n *node, inherited bool) bool {
	switch n.kind {
	case '{':
		ident := p.identifies(n) || (inherited && n.member("id") == nil)
		for i := range n.members {
			m := &n.members[i]
			p.rekey(n, m)
			if ident && Personal(m.key) {
				n.changed = p.erase(m.val) || n.changed
				continue
			}
			n.changed = p.scrub(m.val, ident) || n.changed
		}
	case '[':
		for _, e := range n.elems {
			n.changed = p.scrub(e, inherited) || n.changed
		}
	case '"':
		if s := p.Text(n.str); s != n.str {
			n.setString(s)
		}
	}
	return n.changed
}

// rekey replaces the person's addresses in a member's key.
func (p *Person) rekey(n *node, m *member) {
	if k := p.Text(m.key); k != m.key {
		m.key, m.keyRaw, n.changed = k, nil, true
	}
}

// identifies reports whether an object names the person: its email (or a
// *_email member) is one of their addresses, or its id or customer_id one
// of their ids.
func (p *Person) identifies(n *node) bool {
	for _, m := range n.members {
		if m.val.kind != '"' {
			continue
		}
		if identifyingEmailKey(m.key) && p.isEmail(m.val.str) {
			return true
		}
		if (m.key == "id" || m.key == "customer_id") && p.isID(m.val.str) {
			return true
		}
	}
	return false
}

// erase replaces a personal value: a string by Placeholder, a number or
// boolean by null, and the values inside an object or array the same way
// (length and keys kept, addresses in keys replaced). It reports whether n
// changed.
func (p *Person) erase(n *node) bool {
	switch n.kind {
	case '{':
		for i := range n.members {
			m := &n.members[i]
			p.rekey(n, m)
			n.changed = p.erase(m.val) || n.changed
		}
	case '[':
		for _, e := range n.elems {
			n.changed = p.erase(e) || n.changed
		}
	case '"':
		if n.str != Placeholder {
			n.setString(Placeholder)
		}
	default:
		if string(n.raw) != "null" {
			n.raw, n.changed = []byte("null"), true
		}
	}
	return n.changed
}

// node is a parsed JSON value that remembers its bytes.
type node struct {
	kind    byte   // '{', '[', '"' or 0 (number, true, false, null)
	raw     []byte // the value's bytes in the document (nil once changed)
	str     string // a string's value
	members []member
	elems   []*node
	changed bool
}

type member struct {
	key    string
	keyRaw []byte // the key with its quotes as written; nil once changed
	val    *node
}

func (n *node) member(key string) *node {
	for _, m := range n.members {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

func (n *node) setString(s string) { n.str, n.raw, n.changed = s, nil, true }

// write appends n: unchanged values as they were written.
func (n *node) write(b *bytes.Buffer) {
	if !n.changed {
		b.Write(n.raw)
		return
	}
	switch n.kind {
	case '{':
		b.WriteByte('{')
		for i, m := range n.members {
			if i > 0 {
				b.WriteByte(',')
			}
			if m.keyRaw != nil {
				b.Write(m.keyRaw)
			} else {
				writeString(b, m.key)
			}
			b.WriteByte(':')
			m.val.write(b)
		}
		b.WriteByte('}')
	case '[':
		b.WriteByte('[')
		for i, e := range n.elems {
			if i > 0 {
				b.WriteByte(',')
			}
			e.write(b)
		}
		b.WriteByte(']')
	case '"':
		writeString(b, n.str)
	default:
		b.Write(n.raw)
	}
}

// writeString writes s as a JSON string, escaping only what JSON requires.
func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Truncate(b.Len() - 1) // the encoder's newline
}
