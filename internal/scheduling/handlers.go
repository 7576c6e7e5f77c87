package scheduling

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/slotwire/slotwire/internal/httpx"
	"github.com/slotwire/slotwire/internal/store"
)

// Register adds the scheduling routes to a router (the API server). Handlers
// are thin: decode, call the Service, encode.
//
// Each group of routes needs its scope (API keys, docs/api.md#scopes):
// appointments and group events need "events".
func (s *Service) Register(srv httpx.Router) {
	s.Resources.register(httpx.Scoped(srv, "resources"))
	s.Shifts.register(httpx.Scoped(srv, "shifts"))
	s.Services.register(httpx.Scoped(srv, "services"))
	s.ServiceGroups.register(httpx.Scoped(srv, "service_groups"))
	s.Customers.register(httpx.Scoped(srv, "customers"))
	s.CustomerFields.register(httpx.Scoped(srv, "customer_fields"))
	s.Managers.register(httpx.Scoped(srv, "managers"))
	s.registerCompany(httpx.Scoped(srv, "company"))
	s.registerAppointments(httpx.Scoped(srv, "events"))
	s.registerGroupEvents(httpx.Scoped(srv, "events"))
	notifications := httpx.Scoped(srv, "notifications")
	s.registerNotifications(notifications)
	s.registerSyncHooks(notifications)
	s.registerTemplates(notifications)
	s.registerNotificationLog(notifications)
}

func tenantID(r *http.Request) string { return httpx.TenantFrom(r.Context()).ID }

// decodeRaw reads a JSON object body for a merge patch.
func decodeRaw(w http.ResponseWriter, r *http.Request, out *[]byte) error {
	var m json.RawMessage
	if err := httpx.DecodeJSON(w, r, maxBody, &m); err != nil {
		return err
	}
	*out = m
	return nil
}

// list answers a paged collection GET: fetch reads one page.
func list[T any](s *Service, w http.ResponseWriter, r *http.Request, id func(T) string,
	fetch func(p store.Page) ([]T, error)) {
	p, err := httpx.PageFrom(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items, err := fetch(store.Page{Limit: p.Limit, Before: p.Cursor})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, httpx.NewList(items, p.Limit, id))
}

// fail writes err; internal errors are logged.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	httpx.Fail(w, r, s.log, err)
}

// respond writes v with status, or err.
func (s *Service) respond(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	httpx.Respond(w, r, s.log, status, v, err)
}

func (s *Service) registerAppointments(srv httpx.Router) {
	srv.HandleTenant("GET /v1/appointments", func(w http.ResponseWriter, r *http.Request) {
		list(s, w, r, func(a *Appointment) string { return a.ID }, func(p store.Page) ([]*Appointment, error) {
			return s.ListAppointments(r.Context(), tenantID(r), p)
		})
	})
	srv.HandleTenant("POST /v1/appointments", func(w http.ResponseWriter, r *http.Request) {
		var in AppointmentInput
		if err := httpx.DecodeJSON(w, r, maxBody, &in); err != nil {
			s.fail(w, r, err)
			return
		}
		a, err := s.CreateAppointment(r.Context(), tenantID(r), in)
		s.respond(w, r, http.StatusCreated, a, err)
	})
	srv.HandleTenant("GET /v1/appointments/{id}", func(w http.ResponseWriter, r *http.Request) {
		a, err := s.GetAppointment(r.Context(), tenantID(r), r.PathValue("id"))
		s.respond(w, r, http.StatusOK, a, err)
	})
	srv.HandleTenant("PATCH /v1/appointments/{id}", func(w http.ResponseWriter, r *http.Request) {
		var patch []byte
		if err := decodeRaw(w, r, &patch); err != nil {
			s.fail(w, r, err)
			return
		}
		a, err := s.UpdateAppointment(r.Context(), tenantID(r), r.PathValue("id"), patch)
		s.respond(w, r, http.StatusOK, a, err)
	})
	srv.HandleTenant("DELETE /v1/appointments/{id}", func(w http.ResponseWriter, r *http.Request) {
		err := s.DeleteAppointment(r.Context(), tenantID(r), r.PathValue("id"))
		s.respond(w, r, http.StatusNoContent, nil, err)
	})
	srv.HandleTenant("POST /v1/appointments/{id}/reschedule", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Start time.Time `json:"start"`
			End   time.Time `json:"end"`
		}
		if err := httpx.DecodeJSON(w, r, maxBody, &in); err != nil {
			s.fail(w, r, err)
			return
		}
		a, err := s.RescheduleAppointment(r.Context(), tenantID(r), r.PathValue("id"), in.Start, in.End)
		s.respond(w, r, http.StatusOK, a, err)
	})
	srv.HandleTenant("POST /v1/appointments/{id}/cancel", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Reason      string `json:"reason"`
			CancelledBy string `json:"cancelled_by"`
		}
		if err := decodeOptional(w, r, &in); err != nil {
			s.fail(w, r, err)
			return
		}
		a, err := s.CancelAppointment(r.Context(), tenantID(r), r.PathValue("id"), in.Reason, in.CancelledBy)
		s.respond(w, r, http.StatusOK, a, err)
	})
	srv.HandleTenant("POST /v1/appointments/{id}/no-show", func(w http.ResponseWriter, r *http.Request) {
		a, err := s.MarkNoShow(r.Context(), tenantID(r), r.PathValue("id"))
		s.respond(w, r, http.StatusOK, a, err)
	})
}

// decodeOptional decodes a JSON body that may be empty.
func decodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	var raw json.RawMessage
	if r.ContentLength == 0 {
		return nil
	}
	if err := httpx.DecodeJSON(w, r, maxBody, &raw); err != nil {
		return err
	}
	return httpx.UnmarshalStrict(raw, v)
}

func (s *Service) registerGroupEvents(srv httpx.Router) {
	srv.HandleTenant("GET /v1/group-events", func(w http.ResponseWriter, r *http.Request) {
		list(s, w, r, func(g *GroupEvent) string { return g.ID }, func(p store.Page) ([]*GroupEvent, error) {
			return s.ListGroupEvents(r.Context(), tenantID(r), p)
		})
	})
	srv.HandleTenant("POST /v1/group-events", func(w http.ResponseWriter, r *http.Request) {
		var in GroupEventInput
		if err := httpx.DecodeJSON(w, r, maxBody, &in); err != nil {
			s.fail(w, r, err)
			return
		}
		g, err := s.CreateGroupEvent(r.Context(), tenantID(r), in)
		s.respond(w, r, http.StatusCreated, g, err)
	})
	srv.HandleTenant("GET /v1/group-events/{id}", func(w http.ResponseWriter, r *http.Request) {
		g, err := s.GetGroupEvent(r.Context(), tenantID(r), r.PathValue("id"))
		s.respond(w, r, http.StatusOK, g, err)
	})
	srv.HandleTenant("PATCH /v1/group-events/{id}", func(w http.ResponseWriter, r *http.Request) {
		var patch []byte
		if err := decodeRaw(w, r, &patch); err != nil {
			s.fail(w, r, err)
			return
		}
		g, err := s.UpdateGroupEvent(r.Context(), tenantID(r), r.PathValue("id"), patch)
		s.respond(w, r, http.StatusOK, g, err)
	})
	srv.HandleTenant("DELETE /v1/group-events/{id}", func(w http.ResponseWriter, r *http.Request) {
		err := s.DeleteGroupEvent(r.Context(), tenantID(r), r.PathValue("id"))
		s.respond(w, r, http.StatusNoContent, nil, err)
	})
	srv.HandleTenant("GET /v1/group-events/{id}/bookings", func(w http.ResponseWriter, r *http.Request) {
		bs, err := s.ListBookings(r.Context(), tenantID(r), r.PathValue("id"))
		if bs == nil {
			bs = []*Booking{}
		}
		s.respond(w, r, http.StatusOK, map[string]any{"data": bs}, err)
	})
	srv.HandleTenant("POST /v1/group-events/{id}/bookings", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			CustomerID string `json:"customer_id"`
		}
		if err := httpx.DecodeJSON(w, r, maxBody, &in); err != nil {
			s.fail(w, r, err)
			return
		}
		b, err := s.BookGroupEvent(r.Context(), tenantID(r), r.PathValue("id"), in.CustomerID)
		s.respond(w, r, http.StatusCreated, b, err)
	})
	srv.HandleTenant("DELETE /v1/group-events/{id}/bookings/{booking_id}", func(w http.ResponseWriter, r *http.Request) {
		b, err := s.CancelBooking(r.Context(), tenantID(r), r.PathValue("id"), r.PathValue("booking_id"))
		s.respond(w, r, http.StatusOK, b, err)
	})
	srv.HandleTenant("POST /v1/group-events/{id}/bookings/{booking_id}/rebook", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			GroupEventID string `json:"group_event_id"`
		}
		if err := httpx.DecodeJSON(w, r, maxBody, &in); err != nil {
			s.fail(w, r, err)
			return
		}
		b, err := s.RebookBooking(r.Context(), tenantID(r), r.PathValue("id"), r.PathValue("booking_id"), in.GroupEventID)
		s.respond(w, r, http.StatusOK, b, err)
	})
}
