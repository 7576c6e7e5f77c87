package scheduling

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/slotwire/slotwire/internal/httpx"
)

// Template is the subject and body of a kind of notification, with
// placeholders such as {customer_name} and {start}.
type Template struct {
	Kind    string `json:"kind"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
	// Default is true while the tenant has not set its own.
	Default bool `json:"default"`
}

// Placeholders a template may use, and what they become.
var Placeholders = map[string]string{
	"customer_name": "the customer's name",
	"start":         "the appointment's start, in the company's time zone",
	"end":           "the appointment's end, in the company's time zone",
	"service":       "the service's name",
	"location":      "the appointment's location",
	"resources":     "the names of its resources, comma-separated",
	"subject":       "the appointment's subject",
	"trigger":       "booked, rescheduled or cancelled (confirmations)",
	"before":        "how long before the start (reminders), e.g. 24h0m0s",
}

var defaultTemplates = map[string]Template{
	"confirmation": {Kind: "confirmation", Default: true, Subject: "Your appointment on {start} is {trigger}",
		Body: "Hello {customer_name},\n\nYour appointment for {service} on {start} ({location}) is {trigger}.\n"},
	"reminder": {Kind: "reminder", Default: true, Subject: "Reminder: your appointment on {start}",
		Body: "Hello {customer_name},\n\nThis is a reminder of your appointment for {service} on {start} ({location}).\n"},
}

var placeholder = regexp.MustCompile(`\{([a-z_]+)\}`)

func (tp *Template) check() error {
	if strings.TrimSpace(tp.Subject) == "" || len(tp.Subject) > 998 || strings.ContainsAny(tp.Subject, "\r\n") {
		return invalid("subject is required, on one line, at most 998 bytes")
	}
	if strings.TrimSpace(tp.Body) == "" || len(tp.Body) > 100000 {
		return invalid("body is required, at most 100000 bytes")
	}
	for _, m := range placeholder.FindAllStringSubmatch(tp.Subject+tp.Body, -1) {
		if _, ok := Placeholders[m[1]]; !ok {
			known := make([]string, 0, len(Placeholders))
			for k := range Placeholders {
				known = append(known, "{"+k+"}")
			}
			sort.Strings(known)
			return invalid("unknown placeholder {%s}; known: %s", m[1], strings.Join(known, ", "))
		}
	}
	return nil
}

// template reads the tenant's template of a kind, or the default.
func (t *txn) template(kind string) (Template, error) {
	tp := Template{Kind: kind}
	err := t.queryRow(`SELECT subject, body FROM sched_email_templates WHERE tenant_id = ? AND kind = ?`, t.tenant, kind).
		Scan(&tp.Subject, &tp.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return defaultTemplates[kind], nil
	}
	if err != nil {
		return tp, fmt.Errorf("scheduling: template: %w", err)
	}
	return tp, nil
}

// message is what a notification sends: its data with to, subject and
// body rendered from the tenant's template.
func (s *Service) message(ctx context.Context, n *notification) (map[string]any, error) {
	var tp Template
	zone := time.UTC
	err := s.read(ctx, n.tenant, func(t *txn) error {
		var err error
		if tp, err = t.template(n.kind); err != nil {
			return err
		}
		if c, _, err := s.company(t); err == nil && c.Timezone != "" {
			if z, err := time.LoadLocation(c.Timezone); err == nil {
				zone = z
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	values := fields(n.data, zone)
	render := func(s string) string {
		return placeholder.ReplaceAllStringFunc(s, func(m string) string { return values[m[1:len(m)-1]] })
	}
	msg := map[string]any{"subject": render(tp.Subject), "body": render(tp.Body)}
	rcpt, _ := n.data["recipient"].(map[string]any)
	msg["to"] = rcpt["email"]
	if n.channel == ChannelSMS {
		msg["to"] = rcpt["phone"]
	}
	for k, v := range n.data {
		if _, taken := msg[k]; !taken {
			msg[k] = v
		}
	}
	return msg, nil
}

// fields are the placeholders' values for a notification's data.
func fields(data map[string]any, zone *time.Location) map[string]string {
	a, _ := data["appointment"].(map[string]any)
	name := func(v any) string {
		m, _ := v.(map[string]any)
		s, _ := m["name"].(string)
		return s
	}
	when := func(v any) string {
		s, _ := v.(string)
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return s
		}
		return t.In(zone).Format("Mon 2 Jan 2006 15:04 MST")
	}
	var res []string
	list, _ := a["resources"].([]any)
	for _, r := range list {
		res = append(res, name(r))
	}
	str := func(v any) string { s, _ := v.(string); return s }
	return map[string]string{"customer_name": name(a["customer"]), "start": when(a["start"]), "end": when(a["end"]),
		"service": name(a["service"]), "location": str(a["location"]), "resources": strings.Join(res, ", "),
		"subject": str(a["subject"]), "trigger": str(data["trigger"]), "before": str(data["before"])}
}

func (s *Service) registerTemplates(srv httpx.Router) {
	srv.HandleTenant("GET /v1/notification-templates/{kind}", func(w http.ResponseWriter, r *http.Request) {
		var tp Template
		err := checkKind(r.PathValue("kind"))
		if err == nil {
			err = s.read(r.Context(), tenantID(r), func(t *txn) (err error) { tp, err = t.template(r.PathValue("kind")); return })
		}
		s.respond(w, r, http.StatusOK, tp, err)
	})
	srv.HandleTenant("PUT /v1/notification-templates/{kind}", func(w http.ResponseWriter, r *http.Request) {
		var tp Template
		if err := httpx.DecodeJSON(w, r, maxBody, &tp); err != nil {
			s.fail(w, r, err)
			return
		}
		tp.Kind, tp.Default = r.PathValue("kind"), false
		err := checkKind(tp.Kind)
		if err == nil {
			err = tp.check()
		}
		if err == nil {
			err = s.write(r.Context(), tenantID(r), "template.put", func(t *txn) error {
				_, err := t.exec(`INSERT INTO sched_email_templates (tenant_id, kind, subject, body, updated_at) VALUES (?, ?, ?, ?, ?)
					ON CONFLICT (tenant_id, kind) DO UPDATE SET subject = excluded.subject, body = excluded.body,
					updated_at = excluded.updated_at`, t.tenant, tp.Kind, tp.Subject, tp.Body, t.now.UnixMilli())
				return err
			})
		}
		s.respond(w, r, http.StatusOK, tp, err)
	})
}

func checkKind(kind string) error {
	if _, ok := defaultTemplates[kind]; !ok {
		return notFound("notification template", kind)
	}
	return nil
}
