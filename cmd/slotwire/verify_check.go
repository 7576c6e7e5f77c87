package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slotwire/slotwire/signature"
)

// check verifies the request and says why it fails, in one line.
func (v *verification) check() verifyResult {
	res := verifyResult{Profile: v.profile, Header: v.header, WebhookID: v.w.header.Get(signature.HeaderID)}
	if missing := v.missingHeader(); missing != "" {
		res.Reason = "missing header " + missing
		return res
	}
	err := v.verify(v.w.body, v.tolerance)
	if err == nil {
		res.Verified, res.Detail = true, v.detail("")
		return res
	}
	if errors.Is(err, signature.ErrNoMatch) && v.w.loose && bytes.HasSuffix(v.w.body, []byte("\n")) {
		trimmed := bytes.TrimSuffix(bytes.TrimSuffix(v.w.body, []byte("\n")), []byte("\r"))
		if v.verify(trimmed, v.tolerance) == nil {
			res.Verified, res.Detail = true, v.detail(" (the body without the final newline of the dump, which has no Content-Length)")
			return res
		}
	}
	res.Reason = v.reason(err)
	return res
}

// missingHeader names a header the profile needs that the request lacks.
func (v *verification) missingHeader() string {
	need := []string{v.header}
	if v.profile == signature.ProfileStandard || v.profile == signature.ProfileEd25519 {
		need = []string{signature.HeaderID, signature.HeaderTimestamp, signature.HeaderSignature}
	}
	var missing []string
	for _, h := range need {
		if v.w.header.Get(h) == "" {
			missing = append(missing, h)
		}
	}
	return strings.Join(missing, ", ")
}

// verify checks body with the profile's verifier.
func (v *verification) verify(body []byte, tolerance time.Duration) error {
	h := v.w.header
	switch v.profile {
	case signature.ProfileEd25519:
		return signature.VerifyEd25519(v.key, h.Get(signature.HeaderID), h.Get(signature.HeaderTimestamp), h.Get(v.header), body, v.now, tolerance)
	case signature.ProfileHexHMAC:
		return signature.VerifyHexHMAC(v.key, h.Get(v.header), body)
	case signature.ProfileTimestamped:
		return signature.VerifyTimestamped(v.key, h.Get(v.header), body, v.now, tolerance)
	}
	return signature.Verify(v.key, h.Get(signature.HeaderID), h.Get(signature.HeaderTimestamp), h.Get(v.header), body, v.now, tolerance)
}

// detail says what verified.
func (v *verification) detail(note string) string {
	s := fmt.Sprintf("%s signature in %s", v.profile, v.header)
	if id := v.w.header.Get(signature.HeaderID); id != "" {
		s += ", webhook-id " + id
	}
	at, ok := v.signedAt()
	switch {
	case v.profile == signature.ProfileHexHMAC:
		s += " (this profile signs no timestamp)"
	case ok:
		skew := v.now.Sub(at).Round(time.Second)
		if skew >= 0 {
			s += fmt.Sprintf(", signed %s ago", formatDuration(skew))
		} else {
			s += fmt.Sprintf(", signed %s in the future", formatDuration(-skew))
		}
		if v.tolerance == 0 {
			s += " (timestamp not checked)"
		}
	}
	return s + note
}

// signedAt is the signed timestamp: webhook-timestamp, or the t= of a
// timestamped signature.
func (v *verification) signedAt() (time.Time, bool) {
	ts := v.w.header.Get(signature.HeaderTimestamp)
	if v.profile == signature.ProfileTimestamped {
		ts = ""
		for _, part := range strings.Split(v.w.header.Get(v.header), ",") {
			if t, ok := strings.CutPrefix(strings.TrimSpace(part), "t="); ok {
				ts = t
			}
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	return time.Unix(unix, 0), err == nil
}

// reason words why the request did not verify.
func (v *verification) reason(err error) string {
	var te *signature.TimestampError
	switch {
	case errors.As(err, &te):
		d, when := te.Skew(), "old"
		if d < 0 {
			d, when = -d, "in the future"
		}
		msg := fmt.Sprintf("timestamp %s is %s %s: outside the %s tolerance by %s", te.Timestamp.UTC().Format(time.RFC3339),
			formatDuration(d.Round(time.Second)), when, formatDuration(te.Tolerance), formatDuration(te.Excess().Round(time.Second)))
		if v.verify(v.w.body, 0) == nil {
			return msg + " (the signature itself matches)"
		}
		return msg + "; the signature does not match either (" + v.noMatch() + ")"
	case errors.Is(err, signature.ErrTimestamp):
		return strings.TrimPrefix(err.Error(), "signature: ")
	case errors.Is(err, signature.ErrMalformed):
		return fmt.Sprintf("malformed %s: %s", v.header, strings.TrimPrefix(err.Error(), signature.ErrMalformed.Error()+": "))
	case errors.Is(err, signature.ErrNoMatch):
		return "signature does not match: " + v.noMatch()
	}
	return strings.TrimPrefix(err.Error(), "signature: ")
}

// noMatch says why the signature does not match the body: it was
// re-serialised (the same JSON, written another way, verifies), the header
// has no entry of the profile's version, or the secret is wrong or the body
// changed.
func (v *verification) noMatch() string {
	for _, c := range reserialisations(v.w.body) {
		if v.verify(c.body, 0) == nil {
			return fmt.Sprintf("the body was re-serialised (the same JSON %s verifies); verify the raw bytes as received, before any parsing", c.how)
		}
	}
	if prefix := map[string]string{signature.ProfileStandard: "v1,", signature.ProfileEd25519: "v1a,"}[v.profile]; prefix != "" {
		found := false
		for _, part := range strings.Fields(v.w.header.Get(v.header)) {
			found = found || strings.HasPrefix(part, prefix)
		}
		if !found {
			return fmt.Sprintf("%s has no %s entry", v.header, strings.TrimSuffix(prefix, ","))
		}
	}
	return "wrong secret or body changed"
}

var (
	htmlUnescape = strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&", `\u2028`, "\u2028", `\u2029`, "\u2029")
	htmlEscape   = strings.NewReplacer("<", `\u003c`, ">", `\u003e`, "&", `\u0026`, "\u2028", `\u2028`, "\u2029", `\u2029`)
)

type reserialised struct {
	how  string
	body []byte
}

// reserialisations are other writings of the same JSON body: compacted,
// indented, or decoded and encoded again (keys sorted, with and without
// HTML escapes), each also with a final newline, as JSON libraries write.
func reserialisations(body []byte) []reserialised {
	if !json.Valid(body) {
		return nil
	}
	var out []reserialised
	add := func(how string, v any, err error) {
		var b []byte
		switch x := v.(type) {
		case string:
			b = []byte(x)
		case []byte:
			b = x
		}
		if err != nil || bytes.Equal(b, body) {
			return
		}
		out = append(out, reserialised{how, b}, reserialised{how + " with a final newline", append(b[:len(b):len(b)], '\n')})
	}
	var buf bytes.Buffer
	err := json.Compact(&buf, body)
	add("compacted", buf.Bytes(), err)
	if err == nil {
		// Go's encoder, for one, escapes <, >, &, U+2028 and U+2029.
		add("compacted, with its \\u escapes of <, >, & undone", htmlUnescape.Replace(buf.String()), nil)
		add("compacted and HTML-escaped", htmlEscape.Replace(buf.String()), nil)
	}
	for _, ind := range []string{"  ", "    ", "\t"} {
		var b bytes.Buffer
		err := json.Indent(&b, body, "", ind)
		add(fmt.Sprintf("indented with %q", ind), b.Bytes(), err)
	}
	var val any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&val) != nil {
		return out
	}
	for _, html := range []bool{false, true} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		err := enc.Encode(val)
		add(fmt.Sprintf("encoded again (keys sorted, HTML escaped: %v)", html), bytes.TrimSuffix(b.Bytes(), []byte("\n")), err)
	}
	return out
}
