package scheduling

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/slotwire/slotwire/internal/store"
)

// Appointment statuses. cancelled and no_show are reached only through
// their actions (POST …/cancel, POST …/no-show).
const (
	StatusScheduled = "scheduled"
	StatusConfirmed = "confirmed"
	StatusCompleted = "completed"
	StatusCancelled = "cancelled"
	StatusNoShow    = "no_show"
)

// Appointment origins.
const (
	OriginOnline = "online"
	OriginManual = "manual"
)

// Source routes an appointment to the back-office record it came from
// (Dime.Scheduler: app, document type, job and task numbers).
type Source struct {
	App    string `json:"app"`
	Type   string `json:"type"`
	JobNo  string `json:"job_no"`
	TaskNo string `json:"task_no"`
}

// Cancellation says who cancelled an appointment, when and why.
type Cancellation struct {
	Reason      string    `json:"reason"`
	CancelledBy string    `json:"cancelled_by"`
	CancelledAt time.Time `json:"cancelled_at"`
}

// AppointmentInput is what a client writes: the body of POST
// /v1/appointments, and (as a merge patch, without start and end) PATCH.
type AppointmentInput struct {
	Start        time.Time      `json:"start"`
	End          time.Time      `json:"end"`
	ResourceIDs  []string       `json:"resource_ids"`
	CustomerID   *string        `json:"customer_id"`
	ServiceID    *string        `json:"service_id"`
	Location     string         `json:"location"`
	Subject      string         `json:"subject"`
	Notes        string         `json:"notes"`
	CustomFields map[string]any `json:"custom_fields"`
	Origin       string         `json:"origin"`
	Status       string         `json:"status"`
	Source       Source         `json:"source"`
}

// Appointment is a stored appointment.
type Appointment struct {
	ID string `json:"id"`
	AppointmentInput
	Cancellation *Cancellation `json:"cancellation"`
	CreatedAt    time.Time     `json:"created_at"`
	UpdatedAt    time.Time     `json:"updated_at"`
}

// AppointmentView is an appointment with its related objects expanded, as
// carried by appointment events.
type AppointmentView struct {
	*Appointment
	Customer  *Customer   `json:"customer"`
	Resources []*Resource `json:"resources"`
	Service   *ServiceObj `json:"service"`
}

const apptCols = `id, start_at, end_at, customer_id, service_id, location, subject, notes, custom_fields, origin, status,
	source_app, source_type, source_job_no, source_task_no, cancel_reason, cancelled_by, cancelled_at, created_at, updated_at`

func apptArgs(a *Appointment) []any {
	var reason, by string
	var at *time.Time
	if c := a.Cancellation; c != nil {
		reason, by, at = c.Reason, c.CancelledBy, &c.CancelledAt
	}
	return []any{a.ID, msCol{&a.Start}, msCol{&a.End}, optStrCol{&a.CustomerID}, optStrCol{&a.ServiceID},
		a.Location, a.Subject, a.Notes, jsonCol{&a.CustomFields}, a.Origin, a.Status,
		a.Source.App, a.Source.Type, a.Source.JobNo, a.Source.TaskNo, reason, by, optMSCol{&at},
		msCol{&a.CreatedAt}, msCol{&a.UpdatedAt}}
}

func scanAppt(row scanner) (*Appointment, error) {
	a := &Appointment{}
	var reason, by string
	var at *time.Time
	err := row.Scan(&a.ID, msCol{&a.Start}, msCol{&a.End}, optStrCol{&a.CustomerID}, optStrCol{&a.ServiceID},
		&a.Location, &a.Subject, &a.Notes, jsonCol{&a.CustomFields}, &a.Origin, &a.Status,
		&a.Source.App, &a.Source.Type, &a.Source.JobNo, &a.Source.TaskNo, &reason, &by, optMSCol{&at},
		msCol{&a.CreatedAt}, msCol{&a.UpdatedAt})
	if err != nil {
		return nil, err
	}
	if at != nil {
		a.Cancellation = &Cancellation{Reason: reason, CancelledBy: by, CancelledAt: *at}
	}
	a.ResourceIDs = []string{}
	return a, nil
}

func (s *Service) getAppt(t *txn, id string) (*Appointment, error) {
	a, err := scanAppt(t.queryRow(`SELECT `+apptCols+` FROM sched_appointments WHERE tenant_id = ? AND id = ?`, t.tenant, id))
	if isNoRows(err) {
		return nil, notFound("appointment", id)
	}
	if err != nil {
		return nil, err
	}
	return a, loadApptResources(t, []*Appointment{a})
}

func loadApptResources(t *txn, as []*Appointment) error {
	if len(as) == 0 {
		return nil
	}
	byID := map[string]*Appointment{}
	args := []any{t.tenant}
	for _, a := range as {
		byID[a.ID] = a
		args = append(args, a.ID)
	}
	rows, err := t.query(`SELECT appointment_id, resource_id FROM sched_appointment_resources
		WHERE tenant_id = ? AND appointment_id IN (`+placeholders(len(as))+`) ORDER BY appointment_id, position`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var aid, rid string
		if err := rows.Scan(&aid, &rid); err != nil {
			return err
		}
		byID[aid].ResourceIDs = append(byID[aid].ResourceIDs, rid)
	}
	return rows.Err()
}

func (s *Service) insertAppt(t *txn, a *Appointment) error {
	if _, err := t.exec(`INSERT INTO sched_appointments (`+apptCols+`, tenant_id) VALUES (`+placeholders(21)+`)`,
		append(apptArgs(a), t.tenant)...); err != nil {
		return err
	}
	return linkResources(t, a)
}

func (s *Service) saveAppt(t *txn, a *Appointment) error {
	cols := strings.Split(strings.ReplaceAll(apptCols, "\n", ""), ",")
	sets := make([]string, 0, len(cols))
	for _, c := range cols[1:] {
		sets = append(sets, strings.TrimSpace(c)+" = ?")
	}
	args := apptArgs(a)
	args = append(args[1:], t.tenant, a.ID)
	_, err := t.exec(`UPDATE sched_appointments SET `+strings.Join(sets, ", ")+` WHERE tenant_id = ? AND id = ?`, args...)
	return err
}

func linkResources(t *txn, a *Appointment) error {
	if _, err := t.exec(`DELETE FROM sched_appointment_resources WHERE tenant_id = ? AND appointment_id = ?`, t.tenant, a.ID); err != nil {
		return err
	}
	for i, rid := range a.ResourceIDs {
		if _, err := t.exec(`INSERT INTO sched_appointment_resources (appointment_id, resource_id, tenant_id, position) VALUES (?, ?, ?, ?)`,
			a.ID, rid, t.tenant, i); err != nil {
			return err
		}
	}
	return nil
}

// view expands an appointment's customer, resources and service.
func (s *Service) view(t *txn, a *Appointment) (*AppointmentView, error) {
	v := &AppointmentView{Appointment: a, Resources: []*Resource{}}
	var err error
	if a.CustomerID != nil {
		if v.Customer, err = s.Customers.get(t, *a.CustomerID); err != nil {
			return nil, err
		}
	}
	if a.ServiceID != nil {
		if v.Service, err = s.Services.get(t, *a.ServiceID); err != nil {
			return nil, err
		}
	}
	for _, id := range a.ResourceIDs {
		r, err := s.Resources.get(t, id)
		if err != nil {
			return nil, err
		}
		v.Resources = append(v.Resources, r)
	}
	return v, nil
}

// checkInput normalises and validates the client-written fields; on
// create it also fills end from the service's duration when omitted.
func (s *Service) checkInput(t *txn, in *AppointmentInput, create bool) error {
	normTime(&in.Start)
	normTime(&in.End)
	optRef(&in.CustomerID)
	optRef(&in.ServiceID)
	if err := s.checkRefs(t, in, create); err != nil {
		return err
	}
	if err := checkAppointmentText(in); err != nil {
		return err
	}
	if err := checkAppointmentState(in); err != nil {
		return err
	}
	return checkSource(in)
}

// checkRefs checks the time span and the referenced service, resources and
// customer; a new appointment without an end lasts as long as its service.
func (s *Service) checkRefs(t *txn, in *AppointmentInput, create bool) error {
	var svc *ServiceObj
	if in.ServiceID != nil {
		var err error
		if svc, err = s.Services.get(t, *in.ServiceID); err != nil {
			return unprocessable("service_id: service %s not found", *in.ServiceID)
		}
	}
	if create && in.End.IsZero() && !in.Start.IsZero() && svc != nil {
		in.End = in.Start.Add(time.Duration(svc.Fields.DurationMinutes) * time.Minute)
	}
	if err := checkSpan(in.Start, in.End); err != nil {
		return err
	}
	if len(in.ResourceIDs) == 0 {
		return invalid("resource_ids must list at least one resource")
	}
	if err := checkIDs("resource_ids", in.ResourceIDs); err != nil {
		return err
	}
	if in.CustomerID != nil {
		if _, err := s.Customers.get(t, *in.CustomerID); err != nil {
			return unprocessable("customer_id: customer %s not found", *in.CustomerID)
		}
	}
	return nil
}

// checkAppointmentText bounds the free-text and custom fields.
func checkAppointmentText(in *AppointmentInput) error {
	if err := maxLen("location", in.Location, maxName*5); err != nil {
		return err
	}
	if err := maxLen("subject", in.Subject, maxName*5); err != nil {
		return err
	}
	if err := maxLen("notes", in.Notes, maxText); err != nil {
		return err
	}
	if in.CustomFields == nil {
		in.CustomFields = map[string]any{}
	}
	return checkCustomFields("custom_fields", in.CustomFields)
}

// checkAppointmentState defaults and checks origin and status; cancelled
// and no-show are reached only through their own routes.
func checkAppointmentState(in *AppointmentInput) error {
	if in.Origin == "" {
		in.Origin = OriginManual
	}
	if err := checkEnum("origin", in.Origin, OriginOnline, OriginManual); err != nil {
		return err
	}
	if in.Status == "" {
		in.Status = StatusScheduled
	}
	if in.Status == StatusCancelled || in.Status == StatusNoShow {
		return unprocessable("status %s is set with POST /v1/appointments/{id}/%s", in.Status, map[string]string{StatusCancelled: "cancel", StatusNoShow: "no-show"}[in.Status])
	}
	return checkEnum("status", in.Status, StatusScheduled, StatusConfirmed, StatusCompleted)
}

// checkSource trims the back-office routing fields and bounds them.
func checkSource(in *AppointmentInput) error {
	for _, f := range []struct {
		name string
		v    *string
	}{{"source.app", &in.Source.App}, {"source.type", &in.Source.Type}, {"source.job_no", &in.Source.JobNo}, {"source.task_no", &in.Source.TaskNo}} {
		*f.v = strings.TrimSpace(*f.v)
		if err := maxLen(f.name, *f.v, maxName); err != nil {
			return err
		}
	}
	return nil
}

// CreateAppointment books an appointment (409 when a resource is taken or
// off shift) and emits appointment.created.
func (s *Service) CreateAppointment(ctx context.Context, tenantID string, in AppointmentInput) (*Appointment, error) {
	var a *Appointment
	err := s.write(ctx, tenantID, "appointment.create", func(t *txn) error {
		if err := s.checkInput(t, &in, true); err != nil {
			return err
		}
		a = &Appointment{ID: newID(PrefixAppointment), AppointmentInput: in, CreatedAt: t.now, UpdatedAt: t.now}
		if err := s.checkAvailable(t, a); err != nil {
			return err
		}
		if err := s.insertAppt(t, a); err != nil {
			return err
		}
		v, err := s.view(t, a)
		if err != nil {
			return err
		}
		return t.apptEvent(a, "appointment.created", v)
	})
	return a, err
}

// GetAppointment returns one appointment.
func (s *Service) GetAppointment(ctx context.Context, tenantID, id string) (*Appointment, error) {
	var a *Appointment
	err := s.read(ctx, tenantID, func(t *txn) (err error) {
		a, err = s.getAppt(t, id)
		return err
	})
	return a, err
}

// ListAppointments returns a page of appointments, newest first.
func (s *Service) ListAppointments(ctx context.Context, tenantID string, p store.Page) ([]*Appointment, error) {
	var out []*Appointment
	err := s.read(ctx, tenantID, func(t *txn) error {
		rows, err := t.newestFirst(`SELECT `+apptCols+` FROM sched_appointments`, p)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAppt(rows)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return loadApptResources(t, out)
	})
	return out, err
}

// UpdateAppointment applies a JSON merge patch to the fields other than
// start and end (422: those change through RescheduleAppointment) and
// emits appointment.updated with the previous values.
func (s *Service) UpdateAppointment(ctx context.Context, tenantID, id string, patch []byte) (*Appointment, error) {
	var a *Appointment
	err := s.write(ctx, tenantID, "appointment.update", func(t *txn) error {
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(patch, &keys); err != nil {
			return invalid("request body must be a JSON object")
		}
		for _, k := range []string{"start", "end"} {
			if _, ok := keys[k]; ok {
				return unprocessable("%s cannot be changed with PATCH; use POST /v1/appointments/%s/reschedule", k, id)
			}
		}
		old, err := s.getAppt(t, id)
		if err != nil {
			return err
		}
		in, err := applyPatch(old.AppointmentInput, patch)
		if err != nil {
			return err
		}
		if old.Status == StatusCancelled || old.Status == StatusNoShow {
			if in.Status != old.Status {
				return unprocessable("appointment %s is %s; its status cannot change", id, old.Status)
			}
			in.Status = ""
		}
		if err := s.checkInput(t, &in, false); err != nil {
			return err
		}
		if old.Status == StatusCancelled || old.Status == StatusNoShow {
			in.Status = old.Status
		}
		prev, err := changes(old.AppointmentInput, in)
		if err != nil {
			return err
		}
		if len(prev) == 0 {
			a = old
			return nil
		}
		a = &Appointment{ID: old.ID, AppointmentInput: in, Cancellation: old.Cancellation, CreatedAt: old.CreatedAt, UpdatedAt: t.now}
		if _, moved := prev["resource_ids"]; moved {
			if err := s.checkAvailable(t, a); err != nil {
				return err
			}
			if err := linkResources(t, a); err != nil {
				return err
			}
		}
		if err := s.saveAppt(t, a); err != nil {
			return err
		}
		v, err := s.view(t, a)
		if err != nil {
			return err
		}
		return t.apptEvent(a, "appointment.updated", with(v, "previous", prev))
	})
	return a, err
}

// RescheduleAppointment moves an appointment (409 when a resource is taken
// or off shift) and emits appointment.rescheduled with previous start/end.
func (s *Service) RescheduleAppointment(ctx context.Context, tenantID, id string, start, end time.Time) (*Appointment, error) {
	var a *Appointment
	err := s.write(ctx, tenantID, "appointment.reschedule", func(t *txn) error {
		old, err := s.getAppt(t, id)
		if err != nil {
			return err
		}
		if old.Status == StatusCancelled || old.Status == StatusNoShow {
			return conflict("appointment %s is %s and cannot be rescheduled", id, old.Status)
		}
		normTime(&start)
		normTime(&end)
		if err := checkSpan(start, end); err != nil {
			return err
		}
		if start.Equal(old.Start) && end.Equal(old.End) {
			a = old
			return nil
		}
		cp := *old
		a = &cp
		a.Start, a.End, a.UpdatedAt = start, end, t.now
		if err := s.checkAvailable(t, a); err != nil {
			return err
		}
		if err := s.saveAppt(t, a); err != nil {
			return err
		}
		v, err := s.view(t, a)
		if err != nil {
			return err
		}
		return t.apptEvent(a, "appointment.rescheduled", with(v, "previous", map[string]time.Time{"start": old.Start, "end": old.End}))
	})
	return a, err
}

// CancelAppointment cancels an appointment, freeing its resources, and
// emits appointment.cancelled.
func (s *Service) CancelAppointment(ctx context.Context, tenantID, id, reason, cancelledBy string) (*Appointment, error) {
	var a *Appointment
	err := s.write(ctx, tenantID, "appointment.cancel", func(t *txn) error {
		reason, cancelledBy = strings.TrimSpace(reason), strings.TrimSpace(cancelledBy)
		if err := maxLen("reason", reason, maxText); err != nil {
			return err
		}
		if cancelledBy == "" {
			cancelledBy = CancelledByStaff
		}
		if err := checkEnum("cancelled_by", cancelledBy, CancelledByCustomer, CancelledByStaff, CancelledBySystem); err != nil {
			return err
		}
		old, err := s.getAppt(t, id)
		if err != nil {
			return err
		}
		if old.Status == StatusCancelled || old.Status == StatusNoShow {
			return conflict("appointment %s is already %s", id, old.Status)
		}
		cp := *old
		a = &cp
		a.Status, a.UpdatedAt = StatusCancelled, t.now
		a.Cancellation = &Cancellation{Reason: reason, CancelledBy: cancelledBy, CancelledAt: t.now}
		if err := s.saveAppt(t, a); err != nil {
			return err
		}
		v, err := s.view(t, a)
		if err != nil {
			return err
		}
		return t.apptEvent(a, "appointment.cancelled", with(v, "reason", reason, "cancelled_by", cancelledBy,
			"previous", map[string]string{"status": old.Status}))
	})
	return a, err
}

// Who cancelled an appointment.
const (
	CancelledByCustomer = "customer"
	CancelledByStaff    = "staff"
	CancelledBySystem   = "system"
)

// MarkNoShow records that the customer did not come (the appointment must
// have started) and emits appointment.no_show.
func (s *Service) MarkNoShow(ctx context.Context, tenantID, id string) (*Appointment, error) {
	var a *Appointment
	err := s.write(ctx, tenantID, "appointment.no_show", func(t *txn) error {
		old, err := s.getAppt(t, id)
		if err != nil {
			return err
		}
		if old.Status == StatusCancelled || old.Status == StatusNoShow {
			return conflict("appointment %s is already %s", id, old.Status)
		}
		if old.Start.After(t.now) {
			return unprocessable("appointment %s has not started yet (it starts %s)", id, old.Start.Format(time.RFC3339))
		}
		cp := *old
		a = &cp
		a.Status, a.UpdatedAt = StatusNoShow, t.now
		if err := s.saveAppt(t, a); err != nil {
			return err
		}
		v, err := s.view(t, a)
		if err != nil {
			return err
		}
		return t.apptEvent(a, "appointment.no_show", with(v, "previous", map[string]string{"status": old.Status}))
	})
	return a, err
}

// DeleteAppointment removes an appointment and emits appointment.deleted
// carrying it as it was.
func (s *Service) DeleteAppointment(ctx context.Context, tenantID, id string) error {
	return s.write(ctx, tenantID, "appointment.delete", func(t *txn) error {
		a, err := s.getAppt(t, id)
		if err != nil {
			return err
		}
		v, err := s.view(t, a)
		if err != nil {
			return err
		}
		if _, err := t.exec(`DELETE FROM sched_appointment_resources WHERE tenant_id = ? AND appointment_id = ?`, t.tenant, id); err != nil {
			return err
		}
		if _, err := t.exec(`DELETE FROM sched_appointments WHERE tenant_id = ? AND id = ?`, t.tenant, id); err != nil {
			return err
		}
		return t.apptEvent(a, "appointment.deleted", v)
	})
}
