// Package scheduling is Slotwire's scheduling core: per tenant, resources
// and their shifts, services and service groups, customers with custom
// fields, managers, the company profile, appointments and group events with
// bookings, behind a tenant-authenticated JSON API under /v1.
//
// Every change is written with the store's Transactor (Write): the domain rows and the
// canonical event announcing the change (appointment.created,
// customer.updated …) commit or roll back together, and the dispatcher is
// woken once they are committed. Event data carries the whole object with
// its related objects expanded; updates carry "previous", the old values
// of the fields that changed. Catalog lists every event type with its scope,
// JSON Schema and example; docs/events.md is generated from it (go generate).
//
// # Cascading rules
//
//   - Customer: deleting a customer with an appointment that has not ended
//     (and is not cancelled), or a seat on a group event that has not ended,
//     is refused with 409. Past appointments get customer_id null; past and
//     cancelled seats are removed.
//   - Resource: deleting a resource with an appointment or group event that
//     has not ended (and is not cancelled) is refused with 409. Otherwise its
//     shifts are deleted (shift.deleted each) and it is removed from past
//     appointments and group events.
//   - Service: deleting a service used by an appointment or group event that
//     has not ended is refused with 409; past ones get service_id null.
//   - Service group: deleting a group sets its services' service_group_id to
//     null, each with a service.updated event.
//   - Customer field: deleting a definition removes its value from every
//     customer (customer.updated each). A definition that a stored customer
//     would violate is refused with 409; a field's key cannot change.
//   - Group event: deleting one cancels its booked seats
//     (group_event.booking.cancelled each, cancelled_by "system"); capacity
//     cannot drop below the seats booked (409).
//   - Appointment: booking or rescheduling is refused with 409 when a
//     resource is held by another overlapping appointment that is not
//     cancelled, or a resource that has shifts has none covering the whole
//     appointment. Start and end change only through reschedule (PATCH: 422).
//     Changing shifts later does not touch booked appointments.
//
// Errors: 400 invalid_request for a malformed body, a missing field or one
// of the wrong form; 422 unprocessable for a well-formed request that cannot
// apply (unknown time zone, end before start, a reference in the body to an
// object that does not exist); 404 for an id in the path that does not exist
// or belongs to another tenant; 409 conflict for the rules above.
package scheduling
