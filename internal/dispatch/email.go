package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/mail"
	"github.com/slotwire/slotwire/internal/retrypolicy"
	"github.com/slotwire/slotwire/internal/shape"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/signature"
)

// E-mail endpoints: each delivery is an e-mail through the node's SMTP
// server (internal/mail). Its text summarises the event; the body an HTTP
// delivery would POST (payload_format, transform) is attached as
// event.json, byte for byte; the signature headers travel as message
// headers (webhook-id as X-Webhook-Id …), so the attachment verifies with
// the endpoint's secret exactly like a request body.

// errNoSMTP fails (and retries) the deliveries of e-mail endpoints on a
// node without an SMTP server.
var errNoSMTP = errors.New("no SMTP server is configured on this node (--smtp-url): the e-mail was not sent")

// Attachment of every e-mail delivery.
const (
	attachmentName = "event.json"
	attachmentType = "application/json"
)

// deliver sends j the endpoint's way: an e-mail through m, or a signed
// POST through s. event is the event's payload before a transform, which
// the e-mail's text summarises.
func deliver(ctx context.Context, s *sender, m *mail.Sender, j *store.Job, event []byte, now time.Time) exchange {
	if !j.Endpoint.IsEmail() {
		return s.post(ctx, j, now)
	}
	if m == nil {
		return exchange{res: retrypolicy.Result{Err: errNoSMTP}}
	}
	msg, sent, err := emailMessage(j, event, now)
	if err != nil {
		return exchange{res: retrypolicy.Result{Err: err}}
	}
	reply, err := m.Submit(ctx, msg)
	if err != nil {
		return exchange{res: retrypolicy.Result{Err: err, Permanent: mail.Permanent(err)}, sent: sent}
	}
	return exchange{res: retrypolicy.Result{Accepted: true}, body: validUTF8([]byte(reply)), sent: sent}
}

// emailMessage is j as an e-mail, and its headers as the attempt log
// keeps them (the signature masked; no addresses).
func emailMessage(j *store.Job, event []byte, now time.Time) (mail.Message, slotwire.HeaderText, error) {
	e := &j.Endpoint
	body, err := shape.Body(e.PayloadFormat, j.Payload)
	if err != nil {
		return mail.Message{}, "", err
	}
	signed := http.Header{}
	signed.Set(signature.HeaderID, j.Delivery.EventID)
	signed.Set(signature.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	if err := Sign(signed, e, j.Delivery.EventID, now, body); err != nil {
		return mail.Message{}, "", err
	}
	sum := summarize(event, j.Delivery.EventID, j.Delivery.EventType)
	subject := "[Slotwire] " + sum.typ + " " + sum.id
	headers := map[string]string{"User-Agent": "Slotwire/" + slotwire.Version, "Auto-Submitted": "auto-generated"}
	masked := map[string]bool{}
	for name := range signed {
		h := MailHeader(name)
		headers[h], masked[h] = signed.Get(name), secretHeader(e)(name)
	}
	shown := http.Header{"Subject": {subject}}
	for k, v := range headers {
		shown.Set(k, v)
	}
	msg := mail.Message{To: e.Email, Subject: subject, Text: sum.text(signed), Headers: headers,
		Attachments: []mail.Attachment{{Name: attachmentName, ContentType: attachmentType, Data: body}}}
	return msg, slotwire.FormatHeaders(shown, func(n string) bool { return masked[n] }), nil
}

// MailHeader is the message header that carries a request header of an
// HTTP delivery: its canonical name, with X- before it when it has none
// (webhook-signature → X-Webhook-Signature; X-Signature-256 stays).
func MailHeader(name string) string {
	c := textproto.CanonicalMIMEHeaderKey(name)
	if strings.HasPrefix(c, "X-") {
		return c
	}
	return "X-" + c
}

// Bounds of an e-mail's text: the first fields of data, each cut short.
const (
	maxSummaryFields = 50
	maxSummaryValue  = 200
	maxSummaryKey    = 64
)

// summary is what an e-mail's text says of its event.
type summary struct {
	typ, id, at, source string
	fields              []string // "key: value" of data's top-level members, in order
	more                int      // members not shown
}

// summarize reads an event payload ({"id","type","timestamp","source"?,
// "data"}); id and typ stand in for what it lacks.
func summarize(payload []byte, id, typ string) summary {
	var p struct {
		ID        string                `json:"id"`
		Type      string                `json:"type"`
		Timestamp string                `json:"timestamp"`
		Source    *slotwire.EventSource `json:"source"`
		Data      json.RawMessage       `json:"data"`
	}
	_ = json.Unmarshal(payload, &p)
	s := summary{typ: oneLine(p.Type, 128), id: oneLine(p.ID, 64), at: oneLine(p.Timestamp, 64)}
	if s.typ == "" {
		s.typ = typ
	}
	if s.id == "" {
		s.id = id
	}
	if p.Source != nil {
		s.source = oneLine(strings.Trim(p.Source.App+" / "+p.Source.Type, " /"), 260)
	}
	s.fields, s.more = dataFields(p.Data)
	return s
}

// dataFields renders the top-level members of an object, one per line,
// at most maxSummaryFields of them, and counts the others.
func dataFields(data json.RawMessage) ([]string, int) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, 0
	}
	var out []string
	more := 0
	for dec.More() {
		kt, err := dec.Token()
		var v json.RawMessage
		if err == nil {
			err = dec.Decode(&v)
		}
		if err != nil {
			break
		}
		if len(out) == maxSummaryFields {
			more++
			continue
		}
		k, _ := kt.(string)
		out = append(out, oneLine(k, maxSummaryKey)+": "+fieldValue(v))
	}
	return out, more
}

// fieldValue is a JSON value to read: a string as is, anything else as
// compact JSON, on one line, cut short.
func fieldValue(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return oneLine(s, maxSummaryValue)
	}
	var b bytes.Buffer
	if json.Compact(&b, v) == nil {
		v = b.Bytes()
	}
	return oneLine(string(v), maxSummaryValue)
}

// oneLine replaces control characters with spaces and cuts s to max
// runes, with "…" when cut.
func oneLine(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "…"
	}
	return s
}

// text is the e-mail's body: the event, its data, and how to verify the
// attachment (the names of the headers that carry the signature).
func (s summary) text(signed http.Header) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Event: %s\nID: %s\n", s.typ, s.id)
	if s.at != "" {
		fmt.Fprintf(&b, "Time: %s\n", s.at)
	}
	if s.source != "" {
		fmt.Fprintf(&b, "Source: %s\n", s.source)
	}
	b.WriteString("\nData:\n")
	for _, f := range s.fields {
		b.WriteString("  " + f + "\n")
	}
	if len(s.fields) == 0 {
		b.WriteString("  (none)\n")
	}
	if s.more > 0 {
		fmt.Fprintf(&b, "  … %d more in %s\n", s.more, attachmentName)
	}
	note := fmt.Sprintf("The attachment %s is the event's payload as a webhook would receive it.", attachmentName)
	var names []string
	for _, h := range []string{signature.HeaderID, signature.HeaderTimestamp, signature.HeaderSignature} {
		if signed.Get(h) != "" {
			names = append(names, MailHeader(h))
		}
	}
	for name := range signed {
		if h := MailHeader(name); !strings.HasPrefix(h, "X-Webhook-") {
			names = append(names, h)
		}
	}
	if len(names) > 2 { // a signature besides the id and timestamp
		note += " It is signed with the endpoint's secret: verify it with the headers " +
			strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " of this message."
	}
	b.WriteString("\n" + wrap(note, 72))
	b.WriteString("\n")
	return b.String()
}

// wrap breaks text into lines of at most width bytes, between words.
func wrap(text string, width int) string {
	var b strings.Builder
	line := 0
	for _, w := range strings.Fields(text) {
		if line > 0 && line+1+len(w) > width {
			b.WriteByte('\n')
			line = 0
		} else if line > 0 {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}
