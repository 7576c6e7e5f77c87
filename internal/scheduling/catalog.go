package scheduling

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/schemacheck"
	"github.com/slotwire/slotwire/internal/scopes"
)

// EventType describes one event type of the catalog: what it means, the
// scope a receiver needs to get it, the JSON Schema of its data and an
// example data object (which validates against the schema).
type EventType struct {
	Type        string          `json:"type"`
	Description string          `json:"description"`
	Scope       string          `json:"scope"`
	Schema      *Schema         `json:"schema"`
	Example     json.RawMessage `json:"example"`

	check *jsonschema.Schema // Schema, compiled
}

// Scopes a receiver (an app with an API key or an endpoint) may hold, with
// what they cover.
var Scopes = []struct{ Name, Description string }{
	{"customers", "customers (customer.*)"},
	{"events", "appointments and group events with their bookings (appointment.*, group_event.*)"},
	{"resources", "bookable resources (resource.*)"},
	{"services", "services (service.*)"},
	{"company", "the company profile (company.*)"},
	{"managers", "managers (manager.*)"},
	{"customer_fields", "customer custom field definitions (customer_field.*)"},
	{"shifts", "resource shifts (shift.*)"},
	{"service_groups", "service groups (service_group.*)"},
	{"notifications", "notifications to send to customers (notification.*) and the notification settings"},
}

// CatalogSource is the catalog as GET /v1/event-types lists it (api.Catalog).
type CatalogSource struct{}

// List returns the catalog's entries.
func (CatalogSource) List() []any {
	out := make([]any, 0, len(Catalog()))
	for _, t := range Catalog() {
		out = append(out, t)
	}
	return out
}

// Has reports whether t is a catalog type.
func (CatalogSource) Has(t string) bool { return LookupEventType(t) != nil }

// Types lists the catalog's types.
func (CatalogSource) Types() []string {
	out := make([]string, 0, len(Catalog()))
	for _, t := range Catalog() {
		out = append(out, t.Type)
	}
	return out
}

// Sample returns the catalog example of an event type's data.
func Sample(eventType string) (json.RawMessage, bool) {
	if t := LookupEventType(eventType); t != nil {
		return t.Example, true
	}
	return nil, false
}

// RegisterScopes adds the catalog's scopes to set, each covering the
// event type prefixes of its catalog types (appointment and group_event
// for events …).
func RegisterScopes(set *scopes.Set) {
	prefixes := map[string][]string{}
	seen := map[string]bool{}
	for _, t := range Catalog() {
		first, _, _ := strings.Cut(t.Type, ".")
		if !seen[first] {
			seen[first] = true
			prefixes[t.Scope] = append(prefixes[t.Scope], first)
		}
	}
	for _, sc := range Scopes {
		set.Add(sc.Name, sc.Description, prefixes[sc.Name]...)
	}
}

const schemaDialect = "https://json-schema.org/draft/2020-12/schema"

// catalogTypes is built, and its schemas compiled, once: on first use or
// when a Service starts, whichever comes first.
var catalogTypes = sync.OnceValue(func() catalogIndex {
	types := buildCatalog()
	idx := catalogIndex{list: types, byType: make(map[string]*EventType, len(types))}
	for _, e := range types {
		idx.byType[e.Type] = e
	}
	return idx
})

type catalogIndex struct {
	list   []*EventType
	byType map[string]*EventType
}

// Catalog returns every event type the scheduling core emits, sorted by
// type. The result is shared: do not modify it.
func Catalog() []*EventType { return catalogTypes().list }

// LookupEventType returns a catalog entry, or nil.
func LookupEventType(typ string) *EventType { return catalogTypes().byType[typ] }

// ValidateEvent checks the data of an event against the catalog schema of
// its type with a standard JSON Schema draft 2020-12 validator (format
// assertions on). It returns nil for types that are not in the catalog, and
// a *slotwire.Error with code invalid_request describing the first
// violation otherwise.
func ValidateEvent(eventType string, data []byte) error {
	e := LookupEventType(eventType)
	if e == nil {
		return nil
	}
	if err := schemacheck.Check(e.check, data); err != nil {
		return slotwire.Errorf(slotwire.ECodeInvalid, "%s does not match the schema of %s: %v", "data", eventType, err)
	}
	return nil
}

// Schemas of the objects carried by events.
var (
	metaProps = map[string]*Schema{"id": str(), "created_at": dateTime(), "updated_at": dateTime()}

	resourceProps = map[string]*Schema{
		"name": str(), "kind": enumOf(resourceKinds...), "email": str(),
		"timezone": describe(str(), "IANA time zone, or empty"), "custom_fields": anyObject(),
	}
	shiftProps        = map[string]*Schema{"resource_id": str(), "start": dateTime(), "end": dateTime()}
	serviceGroupProps = map[string]*Schema{"name": str(), "description": str()}
	serviceProps      = map[string]*Schema{
		"name": str(), "duration_minutes": integer(), "price": num(),
		"currency": describe(str(), "ISO 4217 code"), "service_group_id": nullable(str()),
	}
	customerProps = map[string]*Schema{
		"name": str(), "email": str(), "phone": str(), "locale": str(),
		"custom_fields": describe(anyObject(), "values keyed by customer field key"),
	}
	customerFieldProps = map[string]*Schema{
		"key": str(), "label": str(), "type": enumOf(fieldTypes...), "options": arrayOf(str()), "required": boolean(),
	}
	managerProps = map[string]*Schema{"name": str(), "email": str(), "role": enumOf(managerRoles...)}
	companyProps = map[string]*Schema{"name": str(), "timezone": str(), "external_id": str(), "updated_at": dateTime()}

	sourceSchema = describe(objectOf(map[string]*Schema{"app": str(), "type": str(), "job_no": str(), "task_no": str()}),
		"back-office routing (Dime.Scheduler): app, document type, job and task numbers")
	appointmentProps = map[string]*Schema{
		"start": dateTime(), "end": dateTime(), "resource_ids": arrayOf(str()),
		"customer_id": nullable(str()), "service_id": nullable(str()),
		"location": str(), "subject": str(), "notes": str(), "custom_fields": anyObject(),
		"origin": enumOf(OriginOnline, OriginManual),
		"status": enumOf(StatusScheduled, StatusConfirmed, StatusCompleted, StatusCancelled, StatusNoShow),
		"source": sourceSchema,
		"cancellation": nullable(objectOf(map[string]*Schema{
			"reason": str(), "cancelled_by": enumOf(CancelledByCustomer, CancelledByStaff, CancelledBySystem), "cancelled_at": dateTime(),
		})),
	}
	groupEventProps = map[string]*Schema{
		"name": str(), "start": dateTime(), "end": dateTime(), "capacity": integer(),
		"resource_ids": arrayOf(str()), "service_id": nullable(str()), "booked": integer(),
	}
	bookingProps = map[string]*Schema{
		"id": str(), "group_event_id": str(), "customer_id": str(), "status": enumOf(BookingBooked, BookingCancelled),
		"cancelled_at": nullable(dateTime()), "created_at": dateTime(), "updated_at": dateTime(),
	}
)

// record returns the schema of a Record with the given field properties.
func record(fields map[string]*Schema) *Schema {
	props := map[string]*Schema{}
	for k, v := range metaProps {
		props[k] = v
	}
	for k, v := range fields {
		props[k] = v
	}
	return objectOf(props)
}

// previous is the schema of the "previous" member of *.updated events: the
// old values of the fields that changed.
func previous(fields map[string]*Schema) *Schema {
	return describe(&Schema{Type: Types{"object"}, Properties: fields},
		"old values of the fields that changed (only those)")
}

// eventSchemas are the data schemas shared by several event types.
type eventSchemas struct {
	resource, serviceGroup, service, customer *Schema
	shift, serviceEvt, appt, gev, booking     *Schema
	statusPrev                                *Schema
}

func newEventSchemas() *eventSchemas {
	s := &eventSchemas{
		resource: record(resourceProps), serviceGroup: record(serviceGroupProps),
		service: record(serviceProps), customer: record(customerProps),
	}
	s.shift = extend(record(shiftProps), map[string]*Schema{"resource": s.resource}, "resource")
	s.serviceEvt = extend(s.service, map[string]*Schema{"service_group": nullable(s.serviceGroup)}, "service_group")
	s.appt = extend(record(appointmentProps), map[string]*Schema{
		"customer": nullable(s.customer), "resources": arrayOf(s.resource), "service": nullable(s.service),
	}, "customer", "resources", "service")
	s.gev = extend(record(groupEventProps), map[string]*Schema{
		"resources": arrayOf(s.resource), "service": nullable(s.service),
	}, "resources", "service")
	s.booking = extend(objectOf(bookingProps), map[string]*Schema{"customer": s.customer, "group_event": s.gev}, "customer", "group_event")
	s.statusPrev = objectOf(map[string]*Schema{"status": appointmentProps["status"]})
	return s
}

// catalogBuilder collects the event types with their schemas and examples.
type catalogBuilder struct {
	out []*EventType
	ex  *examples
	s   *eventSchemas
}

func buildCatalog() []*EventType {
	b := &catalogBuilder{ex: newExamples(), s: newEventSchemas()}
	b.addRecords()
	b.addAppointments()
	b.addGroupEvents()
	return b.finish()
}

func (b *catalogBuilder) add(typ, scope, desc string, schema *Schema, example any) {
	cp := *schema
	ex, err := json.Marshal(example)
	if err != nil {
		panic(fmt.Sprintf("scheduling: example of %s: %v", typ, err))
	}
	b.out = append(b.out, &EventType{Type: typ, Scope: scope, Description: desc, Schema: &cp, Example: ex})
}

// crud adds name.created, name.updated (with previous) and name.deleted.
func (b *catalogBuilder) crud(name, label, scope string, fields map[string]*Schema, evt *Schema, example any, prev map[string]any, note string) {
	b.add(name+".created", scope, "A "+label+" was created. Data is the "+label+note+".", evt, example)
	b.add(name+".updated", scope, "A "+label+" was changed. Data is the "+label+note+" as it is now, with `previous` holding the old values of the fields that changed.",
		extend(evt, map[string]*Schema{"previous": previous(fields)}, "previous"), with(example, "previous", prev))
	b.add(name+".deleted", scope, "A "+label+" was deleted. Data is the "+label+note+" as it was.", evt, example)
}

func (b *catalogBuilder) addRecords() {
	ex, s := b.ex, b.s
	b.crud("resource", "resource", "resources", resourceProps, s.resource, ex.resource, map[string]any{"name": "Dr. An Peeters"}, "")
	b.crud("shift", "shift", "shifts", shiftProps, s.shift, with(ex.shift, "resource", ex.resource),
		map[string]any{"end": ex.at(8)}, " with its `resource`")
	b.crud("service_group", "service group", "service_groups", serviceGroupProps, s.serviceGroup, ex.group, map[string]any{"description": ""}, "")
	b.crud("service", "service", "services", serviceProps, s.serviceEvt, with(ex.service, "service_group", ex.group),
		map[string]any{"price": 40}, " with its `service_group` (or null)")
	b.crud("customer", "customer", "customers", customerProps, s.customer, ex.customer, map[string]any{"phone": ""}, "")
	b.crud("customer_field", "customer field definition", "customer_fields", customerFieldProps, record(customerFieldProps), ex.field,
		map[string]any{"label": "Insurer"}, "")
	b.crud("manager", "manager", "managers", managerProps, record(managerProps), ex.manager, map[string]any{"role": "staff"}, "")
	b.add("company.updated", "company",
		"The company profile was changed. Data is the profile as it is now, with `previous` holding the old values of the fields that changed.",
		extend(objectOf(companyProps), map[string]*Schema{"previous": previous(companyProps)}, "previous"),
		with(ex.company, "previous", map[string]any{"timezone": "UTC"}))
}

func (b *catalogBuilder) addAppointments() {
	ex, apptEvt, statusPrev := b.ex, b.s.appt, b.s.statusPrev
	const apptNote = " Data is the appointment with its `customer`, `resources` and `service` expanded and its `source` routing"
	b.add("appointment.created", "events", "An appointment was booked (origin tells online from manual)."+apptNote+".", apptEvt, ex.appt)
	b.add("appointment.updated", "events", "Fields of an appointment other than its times changed."+apptNote+", with `previous` holding the old values of the fields that changed.",
		extend(apptEvt, map[string]*Schema{"previous": previous(appointmentProps)}, "previous"),
		with(ex.appt, "previous", map[string]any{"notes": ""}))
	b.add("appointment.rescheduled", "events", "An appointment moved to another time."+apptNote+", with `previous.start` and `previous.end`.",
		extend(apptEvt, map[string]*Schema{"previous": objectOf(map[string]*Schema{"start": dateTime(), "end": dateTime()})}, "previous"),
		with(ex.appt, "previous", map[string]any{"start": ex.at(9), "end": ex.at(9).Add(30 * time.Minute)}))
	b.add("appointment.cancelled", "events", "An appointment was cancelled and its resources freed."+apptNote+", with the `reason` and who cancelled it (`cancelled_by`).",
		extend(apptEvt, map[string]*Schema{"reason": str(), "cancelled_by": appointmentProps["cancellation"].Properties["cancelled_by"], "previous": statusPrev},
			"reason", "cancelled_by", "previous"),
		with(ex.cancelled, "reason", "Customer is ill", "cancelled_by", CancelledByCustomer, "previous", map[string]any{"status": StatusConfirmed}))
	b.add("appointment.no_show", "events", "The customer did not come to an appointment that has started."+apptNote+", with the previous status.",
		extend(apptEvt, map[string]*Schema{"previous": statusPrev}, "previous"),
		with(ex.noShow, "previous", map[string]any{"status": StatusConfirmed}))
	b.add("appointment.deleted", "events", "An appointment was deleted."+apptNote+" as it was.", apptEvt, ex.appt)
	b.addTimed(apptEvt, apptNote)
}

// addTimed adds the events timers fire and the notifications produced.
func (b *catalogBuilder) addTimed(apptEvt *Schema, apptNote string) {
	ex := b.ex
	start := ex.appt.Start
	const timing = ", `due_at` (the moment it was due) and `late` (true when it fired more than 2 s after `due_at`, for example after the node was down)"
	channel := enumOf(ChannelEmail, ChannelSMS)
	b.add(TypeReminder, "events", "A reminder of an appointment is due: one event per reminder of the notification settings and channel, `before` the start. An appointment booked or moved closer to its start than `before` gets none."+apptNote+", with `channel`, `before`"+timing+".",
		extend(apptEvt, map[string]*Schema{"channel": channel, "before": describe(str(), "a duration such as 24h"), "due_at": dateTime(), "late": boolean()},
			"channel", "before", "due_at", "late"),
		with(ex.appt, "channel", ChannelEmail, "before", "24h0m0s", "due_at", start.Add(-24*time.Hour), "late", false))
	for _, t := range []struct{ typ, what, at string }{{TypeStarting, "starts", "start"}, {TypeEnded, "ended", "end"}} {
		b.add(t.typ, "events", "An appointment "+t.what+", or is `offset` away from its "+t.at+" (one event per offset of the notification settings' `"+map[string]string{TypeStarting: "starting", TypeEnded: "ended"}[t.typ]+"`, default the moment itself, and one per endpoint `offset`; an endpoint gets only those of its own offset)."+apptNote+", with `offset`"+timing+".",
			extend(apptEvt, map[string]*Schema{"offset": describe(str(), "a duration such as -15m0s or 0s"), "due_at": dateTime(), "late": boolean()},
				"offset", "due_at", "late"),
			with(ex.appt, "offset", "-15m0s", "due_at", start.Add(-15*time.Minute), "late", false))
	}
	rcpt := objectOf(map[string]*Schema{"customer_id": str(), "name": str(), "email": str(), "phone": str()})
	b.add(TypeNotification, "notifications", "A confirmation or a reminder went out to the appointment's customer on a channel (notification settings): by e-mail through the node's SMTP server, or, for SMS, to be sent by a receiver of this event (Slotwire sends no SMS). Emitted once the before hook (if any) let it go and the e-mail was accepted; a skipped or failed one has none (see GET /v1/notifications). Data has `id`, `kind` (confirmation or reminder), `trigger` (booked, rescheduled or cancelled, for confirmations), `before` (for reminders), `channel`, `recipient` (the customer's id, name, e-mail and phone; empty strings without a customer) the `appointment` expanded, `message` (to, subject, body as sent) and `sync` (the before hook's decision).",
		objectOf(map[string]*Schema{"id": str(), "kind": enumOf("confirmation", "reminder"),
			"trigger": enumOf(TriggerBooked, TriggerRescheduled, TriggerCancelled), "before": str(), "channel": channel,
			"recipient": rcpt, "appointment": apptEvt,
			"message": describe(objectOf(map[string]*Schema{"to": str(), "subject": str(), "body": str()}),
				"what was sent (e-mail) or is to be sent (SMS): the rendered template, with the before hook's override"),
			"sync": describe(objectOf(map[string]*Schema{"action": enumOf("send", "skip"), "note": str()}),
				"what the before hook decided, or why it was not asked or not followed")},
			"id", "kind", "channel", "recipient", "appointment", "message", "sync"),
		map[string]any{"id": "ntf_01J9Z3K5M7N9P1Q3R5S7T9V1W3", "kind": "reminder", "before": "24h0m0s", "channel": ChannelSMS,
			"recipient":   map[string]string{"customer_id": ex.customer.ID, "name": ex.customer.Fields.Name, "email": ex.customer.Fields.Email, "phone": ex.customer.Fields.Phone},
			"appointment": ex.appt,
			"message":     map[string]string{"to": ex.customer.Fields.Phone, "subject": "Reminder: your appointment on Mon 2 Mar 2026 10:00 UTC", "body": "Hello …"},
			"sync":        map[string]string{"action": "send", "note": "no hook"}})
}

func (b *catalogBuilder) addGroupEvents() {
	ex, gevEvt, bookingEvt := b.ex, b.s.gev, b.s.booking
	const gevNote = " Data is the group event with its `resources` and `service` expanded and `booked` counting the taken seats"
	b.add("group_event.created", "events", "A group event (a class, a tour) was created."+gevNote+".", gevEvt, ex.gev)
	b.add("group_event.updated", "events", "A group event was changed."+gevNote+", with `previous` holding the old values of the fields that changed.",
		extend(gevEvt, map[string]*Schema{"previous": previous(groupEventProps)}, "previous"),
		with(ex.gev, "previous", map[string]any{"capacity": 10}))
	b.add("group_event.deleted", "events", "A group event was deleted (its booked seats are cancelled first, each with a group_event.booking.cancelled)."+gevNote+" as it was.", gevEvt, ex.gev)
	const bkNote = " Data is the booking with its `customer` and `group_event` expanded"
	b.add("group_event.booking.created", "events", "A customer took a seat on a group event."+bkNote+".", bookingEvt, with(ex.booking, "customer", ex.customer, "group_event", ex.gev))
	b.add("group_event.booking.cancelled", "events", "A seat on a group event was cancelled (by staff, or by the system when the group event was deleted)."+bkNote+", with `cancelled_by`.",
		extend(bookingEvt, map[string]*Schema{"cancelled_by": enumOf(CancelledByStaff, CancelledBySystem)}, "cancelled_by"),
		with(ex.bookingCancelled, "customer", ex.customer, "group_event", ex.gev, "cancelled_by", CancelledByStaff))
	b.add("group_event.booking.rebooked", "events", "A seat was moved to another group event."+bkNote+" (the new one), with `previous.group_event_id` and `previous.group_event`.",
		extend(bookingEvt, map[string]*Schema{"previous": objectOf(map[string]*Schema{"group_event_id": str(), "group_event": gevEvt})}, "previous"),
		with(ex.rebooked, "customer", ex.customer, "group_event", ex.gev2, "previous", map[string]any{"group_event_id": ex.gev.ID, "group_event": ex.gev}))
}

// finish sorts the types, marks each schema as draft 2020-12 and compiles
// it from its JSON, the document receivers get.
func (b *catalogBuilder) finish() []*EventType {
	sort.Slice(b.out, func(i, j int) bool { return b.out[i].Type < b.out[j].Type })
	for _, e := range b.out {
		e.Schema.Dollar = schemaDialect
		raw, err := json.Marshal(e.Schema)
		if err == nil {
			e.check, err = schemacheck.Compile("urn:slotwire:event-type:"+e.Type, raw)
		}
		if err != nil {
			panic(fmt.Sprintf("scheduling: schema of %s: %v", e.Type, err))
		}
	}
	return b.out
}

// examples are realistic sample objects, built with the same types the
// events are built from.
type examples struct {
	resource                  *Resource
	shift                     *Shift
	group                     *ServiceGroup
	service                   *ServiceObj
	customer                  *Customer
	field                     *CustomerField
	manager                   *Manager
	company                   *Company
	appt, cancelled, noShow   *AppointmentView
	gev, gev2                 *GroupEventView
	booking, bookingCancelled *Booking
	rebooked                  *Booking
}

func (x *examples) at(hour int) time.Time {
	return time.Date(2026, 3, 2, hour, 0, 0, 0, time.UTC)
}

func newExamples() *examples {
	x := &examples{}
	created := time.Date(2026, 2, 20, 14, 30, 0, 0, time.UTC)
	id := func(prefix, s string) string { return prefix + "01JN8Y3QK4" + s }
	x.resource = &Resource{ID: id(PrefixResource, "R2V7M9XH3TFQ1ZB5"), CreatedAt: created, UpdatedAt: created, Fields: ResourceFields{
		Name: "Dr. An Peeters", Kind: "person", Email: "an.peeters@example.com", Timezone: "Europe/Brussels",
		CustomFields: map[string]any{"speciality": "physiotherapy"},
	}}
	x.shift = &Shift{ID: id(PrefixShift, "S8W1C4D6E2G7H9J0"), CreatedAt: created, UpdatedAt: created, Fields: ShiftFields{
		ResourceID: x.resource.ID, Start: x.at(8), End: x.at(17),
	}}
	x.group = &ServiceGroup{ID: id(PrefixServiceGroup, "G3K5N7P9Q1R2S4T6"), CreatedAt: created, UpdatedAt: created, Fields: ServiceGroupFields{
		Name: "Physiotherapy", Description: "Treatments by our physiotherapists",
	}}
	gid := x.group.ID
	x.service = &ServiceObj{ID: id(PrefixService, "V6W8X0Y2Z4A6B8C0"), CreatedAt: created, UpdatedAt: created, Fields: ServiceFields{
		Name: "Intake consultation", DurationMinutes: 45, Price: 45.5, Currency: "EUR", ServiceGroupID: &gid,
	}}
	x.customer = &Customer{ID: id(PrefixCustomer, "C1D3E5F7G9H1J3K5"), CreatedAt: created, UpdatedAt: created, Fields: CustomerFields{
		Name: "Jan Janssens", Email: "jan.janssens@example.com", Phone: "+32 470 12 34 56", Locale: "nl-BE",
		CustomFields: map[string]any{"insurer": "CM", "newsletter": true},
	}}
	x.field = &CustomerField{ID: id(PrefixCustomerField, "F2G4H6J8K0M2N4P6"), CreatedAt: created, UpdatedAt: created, Fields: CustomerFieldFields{
		Key: "insurer", Label: "Health insurer", Type: "select", Options: []string{"CM", "Helan", "Solidaris"}, Required: false,
	}}
	x.manager = &Manager{ID: id(PrefixManager, "M5N7P9Q1R3S5T7V9"), CreatedAt: created, UpdatedAt: created, Fields: ManagerFields{
		Name: "Els Maes", Email: "els.maes@example.com", Role: "admin",
	}}
	x.company = &Company{Name: "Kine Centrum Gent", Timezone: "Europe/Brussels", ExternalID: "DS-1042", UpdatedAt: created}
	cid, sid := x.customer.ID, x.service.ID
	appt := &Appointment{ID: id(PrefixAppointment, "A7B9C1D3E5F7G9H1"), CreatedAt: created, UpdatedAt: created, AppointmentInput: AppointmentInput{
		Start: x.at(10), End: x.at(10).Add(45 * time.Minute), ResourceIDs: []string{x.resource.ID},
		CustomerID: &cid, ServiceID: &sid, Location: "Room 2", Subject: "Intake Jan Janssens", Notes: "Knee pain since January",
		CustomFields: map[string]any{"referral": "GP"}, Origin: OriginOnline, Status: StatusConfirmed,
		Source: Source{App: "BC", Type: "SERVICE", JobNo: "SO-10023", TaskNo: "10000"},
	}}
	view := func(a *Appointment) *AppointmentView {
		return &AppointmentView{Appointment: a, Customer: x.customer, Resources: []*Resource{x.resource}, Service: x.service}
	}
	x.appt = view(appt)
	c := *appt
	c.Status = StatusCancelled
	c.Cancellation = &Cancellation{Reason: "Customer is ill", CancelledBy: CancelledByCustomer, CancelledAt: created.Add(time.Hour)}
	c.UpdatedAt = c.Cancellation.CancelledAt
	x.cancelled = view(&c)
	n := *appt
	n.Status, n.UpdatedAt = StatusNoShow, x.at(11)
	x.noShow = view(&n)
	gev := func(suffix string, day int) *GroupEventView {
		return &GroupEventView{GroupEvent: &GroupEvent{ID: id(PrefixGroupEvent, suffix), CreatedAt: created, UpdatedAt: created, Booked: 7,
			GroupEventInput: GroupEventInput{Name: "Back school", Start: x.at(18).AddDate(0, 0, day), End: x.at(19).AddDate(0, 0, day),
				Capacity: 12, ResourceIDs: []string{x.resource.ID}, ServiceID: &sid}},
			Resources: []*Resource{x.resource}, Service: x.service}
	}
	x.gev, x.gev2 = gev("E4F6G8H0J2K4M6N8", 0), gev("E5F7G9H1J3K5M7N9", 7)
	x.booking = &Booking{ID: id(PrefixBooking, "B6C8D0E2F4G6H8J0"), GroupEventID: x.gev.ID, CustomerID: x.customer.ID,
		Status: BookingBooked, CreatedAt: created, UpdatedAt: created}
	cancelledAt := created.Add(2 * time.Hour)
	x.bookingCancelled = &Booking{ID: x.booking.ID, GroupEventID: x.gev.ID, CustomerID: x.customer.ID,
		Status: BookingCancelled, CancelledAt: &cancelledAt, CreatedAt: created, UpdatedAt: cancelledAt}
	x.rebooked = &Booking{ID: x.booking.ID, GroupEventID: x.gev2.ID, CustomerID: x.customer.ID,
		Status: BookingBooked, CreatedAt: created, UpdatedAt: cancelledAt}
	return x
}
