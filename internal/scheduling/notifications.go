package scheduling

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/slotwire/slotwire/internal/httpx"
)

// Notification channels.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// Confirmation triggers.
const (
	TriggerBooked      = "booked"
	TriggerRescheduled = "rescheduled"
	TriggerCancelled   = "cancelled"
)

// maxReminders bounds a tenant's reminders.
const maxReminders = 10

// Duration is a Go duration in JSON ("24h", "90m", "-15m").
type Duration time.Duration

// MarshalJSON writes the duration in Go syntax.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("a duration is a string such as \"24h\" or \"-15m\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"24h\" or \"-15m\"", s)
	}
	*d = Duration(v)
	return nil
}

// NotificationSettings are a tenant's time-based notifications: the
// confirmations of bookings, the reminders before appointments, and the
// offsets at which appointment.starting and appointment.ended fire.
type NotificationSettings struct {
	Confirmations Confirmations `json:"confirmations"`
	Reminders     []Reminder    `json:"reminders"`
	// Starting and Ended are the offsets from an appointment's start and
	// end at which appointment.starting and appointment.ended fire, one
	// event per offset (default: [0s] each).
	Starting []Duration `json:"starting"`
	Ended    []Duration `json:"ended"`
}

// Confirmations say which appointment changes produce a confirmation, on
// which channels.
type Confirmations struct {
	On       []string `json:"on"`
	Channels []string `json:"channels"`
}

// Reminder is one reminder before each appointment, on its channels.
type Reminder struct {
	Before   Duration `json:"before"`
	Channels []string `json:"channels"`
}

// DefaultNotificationSettings are a tenant's until it sets its own: no
// confirmations or reminders, starting and ended at the moment.
func DefaultNotificationSettings() NotificationSettings {
	return NotificationSettings{Confirmations: Confirmations{On: []string{}, Channels: []string{}}, Reminders: []Reminder{},
		Starting: []Duration{0}, Ended: []Duration{0}}
}

func (n *NotificationSettings) check() error {
	if err := checkChannels("confirmations.channels", n.Confirmations.Channels, len(n.Confirmations.On) > 0); err != nil {
		return err
	}
	for _, on := range n.Confirmations.On {
		if err := checkEnum("confirmations.on", on, TriggerBooked, TriggerRescheduled, TriggerCancelled); err != nil {
			return err
		}
	}
	if len(n.Reminders) > maxReminders {
		return invalid("at most %d reminders", maxReminders)
	}
	seen := map[Duration]bool{}
	for i, r := range n.Reminders {
		if time.Duration(r.Before) < time.Second {
			return invalid("reminders[%d].before must be at least 1s", i)
		}
		if seen[r.Before] {
			return invalid("reminders[%d].before %s is given twice", i, time.Duration(r.Before))
		}
		seen[r.Before] = true
		if err := checkChannels(fmt.Sprintf("reminders[%d].channels", i), r.Channels, true); err != nil {
			return err
		}
	}
	for name, offs := range map[string][]Duration{"starting": n.Starting, "ended": n.Ended} {
		if len(offs) > maxReminders {
			return invalid("at most %d %s offsets", maxReminders, name)
		}
		if len(slices.Compact(slices.Sorted(slices.Values(offs)))) != len(offs) {
			return invalid("%s has an offset twice", name)
		}
	}
	return nil
}

func checkChannels(field string, chs []string, required bool) error {
	if required && len(chs) == 0 {
		return invalid("%s must name at least one channel (email, sms)", field)
	}
	for _, c := range chs {
		if err := checkEnum(field, c, ChannelEmail, ChannelSMS); err != nil {
			return err
		}
	}
	return nil
}

// settings reads the tenant's notification settings.
func (t *txn) settings() (NotificationSettings, error) {
	var raw string
	err := t.queryRow(`SELECT settings FROM sched_notification_settings WHERE tenant_id = ?`, t.tenant).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultNotificationSettings(), nil
	}
	if err != nil {
		return NotificationSettings{}, fmt.Errorf("scheduling: notification settings: %w", err)
	}
	n := DefaultNotificationSettings()
	if err := json.Unmarshal([]byte(raw), &n); err != nil {
		return NotificationSettings{}, fmt.Errorf("scheduling: notification settings: %w", err)
	}
	return n, nil
}

// NotificationSettings returns the tenant's notification settings.
func (s *Service) NotificationSettings(ctx context.Context, tenantID string) (NotificationSettings, error) {
	var n NotificationSettings
	err := s.read(ctx, tenantID, func(t *txn) (err error) {
		n, err = t.settings()
		return err
	})
	return n, err
}

// PutNotificationSettings replaces the tenant's notification settings and,
// in the same transaction, the timers of its appointments still to come.
func (s *Service) PutNotificationSettings(ctx context.Context, tenantID string, n NotificationSettings) (NotificationSettings, error) {
	normalize(&n)
	if err := n.check(); err != nil {
		return n, err
	}
	raw, _ := json.Marshal(n)
	err := s.write(ctx, tenantID, "notification_settings.put", func(t *txn) error {
		if _, err := t.exec(`INSERT INTO sched_notification_settings (tenant_id, settings, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (tenant_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
			t.tenant, string(raw), t.now.UnixMilli()); err != nil {
			return err
		}
		return t.resyncTimers(n)
	})
	return n, err
}

// normalize gives absent lists their defaults.
func normalize(n *NotificationSettings) {
	d := DefaultNotificationSettings()
	if n.Confirmations.On == nil {
		n.Confirmations.On = d.Confirmations.On
	}
	if n.Confirmations.Channels == nil {
		n.Confirmations.Channels = d.Confirmations.Channels
	}
	if n.Reminders == nil {
		n.Reminders = d.Reminders
	}
	if n.Starting == nil {
		n.Starting = d.Starting
	}
	if n.Ended == nil {
		n.Ended = d.Ended
	}
}

func (s *Service) registerNotifications(srv httpx.Router) {
	srv.HandleTenant("GET /v1/notification-settings", func(w http.ResponseWriter, r *http.Request) {
		n, err := s.NotificationSettings(r.Context(), tenantID(r))
		s.respond(w, r, http.StatusOK, n, err)
	})
	srv.HandleTenant("PUT /v1/notification-settings", func(w http.ResponseWriter, r *http.Request) {
		var n NotificationSettings
		if err := httpx.DecodeJSON(w, r, maxBody, &n); err != nil {
			s.fail(w, r, err)
			return
		}
		out, err := s.PutNotificationSettings(r.Context(), tenantID(r), n)
		s.respond(w, r, http.StatusOK, out, err)
	})
}
