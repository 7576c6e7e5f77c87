package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
)

// webhook is the request verify checks.
type webhook struct {
	header http.Header
	body   []byte
	// loose: the body ran to the end of a dump without Content-Length, so
	// a final newline may be the file's rather than the body's.
	loose bool
}

var requestLine = regexp.MustCompile(`^[A-Z]+ \S+ HTTP/\d(\.\d)?$`)

// parseDump reads a raw HTTP request: an optional request line, headers, a
// blank line and the body (cut to Content-Length when there is one,
// de-chunked when chunked).
func parseDump(data []byte) (*webhook, error) {
	head, body := splitHead(data)
	h, err := parseHeaderLines(head)
	if err != nil {
		return nil, err
	}
	w := &webhook{header: h, body: body}
	switch {
	case strings.EqualFold(h.Get("Transfer-Encoding"), "chunked"):
		if w.body, err = io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(body))); err != nil {
			return nil, fmt.Errorf("the chunked body does not parse: %v", err)
		}
	case h.Get("Content-Length") != "":
		n, err := strconv.Atoi(h.Get("Content-Length"))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("Content-Length %q is not a length", h.Get("Content-Length"))
		}
		if n > len(body) {
			return nil, fmt.Errorf("the body is shorter than its Content-Length (%d of %d bytes)", len(body), n)
		}
		w.body = body[:n]
	default:
		w.loose = true
	}
	return w, nil
}

// splitHead cuts data at its first empty line (CRLF or LF endings).
func splitHead(data []byte) (head, body []byte) {
	for i := 0; i < len(data); {
		end := bytes.IndexByte(data[i:], '\n')
		if end < 0 {
			return data, nil
		}
		line := bytes.TrimSuffix(data[i:i+end], []byte("\r"))
		if len(line) == 0 {
			return data[:i], data[i+end+1:]
		}
		i += end + 1
	}
	return data, nil
}

// parseHeaderLines reads "Name: value" lines, after an optional request
// line; folded lines continue the previous value.
func parseHeaderLines(head []byte) (http.Header, error) {
	h := http.Header{}
	last := ""
	for n, line := range strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n") {
		switch {
		case line == "":
			continue
		case n == 0 && requestLine.MatchString(line):
			continue
		case (line[0] == ' ' || line[0] == '\t') && last != "":
			vs := h[last]
			vs[len(vs)-1] += " " + strings.TrimSpace(line)
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("line %d is not a header (want Name: value): %q", n+1, truncate(line, 60))
		}
		last = textproto.CanonicalMIMEHeaderKey(name)
		h.Add(last, strings.TrimSpace(value))
	}
	return h, nil
}

// parseHeaderFile reads --headers: header lines as in a dump, or a JSON
// object of names to values (as the attempt log and the feed show them).
func parseHeaderFile(data []byte) (http.Header, error) {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		var m map[string]any
		if err := json.Unmarshal(t, &m); err != nil {
			return nil, fmt.Errorf("a JSON object of headers: %v", err)
		}
		h := http.Header{}
		for k, v := range m {
			switch x := v.(type) {
			case string:
				h.Add(k, x)
			case []any:
				for _, e := range x {
					h.Add(k, fmt.Sprint(e))
				}
			default:
				return nil, fmt.Errorf("header %s: want a string", k)
			}
		}
		return h, nil
	}
	head, rest := splitHead(data)
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("it goes on after a blank line; give the body with --body, or the whole request on standard input")
	}
	return parseHeaderLines(head)
}
