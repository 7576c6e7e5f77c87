package api

import (
	"net/http"
	"strconv"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/jq"
	"github.com/slotwire/slotwire/internal/shape"
)

// DeliveryDetail is a delivery with every attempt.
type DeliveryDetail struct {
	*slotwire.Delivery
	AttemptLog []*slotwire.Attempt `json:"attempt_log"`
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) {
	t := TenantFrom(r.Context())
	ep, err := s.scopedEndpoint(r, "read this endpoint's deliveries")
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	f, err := deliveryFilter(r)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	f.EndpointID = ep.ID
	ds, err := s.cfg.Store.ListDeliveries(r.Context(), t.ID, f)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, NewList(ds, f.Page, func(d *slotwire.Delivery) string { return d.ID }))
}

func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request) {
	t := TenantFrom(r.Context())
	d, err := s.cfg.Store.GetDelivery(r.Context(), t.ID, r.PathValue("id"))
	if err == nil {
		err = s.typeInScope(r, d.EventType, "read this delivery")
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	atts, err := s.cfg.Store.ListAttempts(r.Context(), t.ID, d.ID)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, DeliveryDetail{Delivery: d, AttemptLog: atts})
}

func (s *Server) deliveryPayload(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	d, err := s.cfg.Store.GetDelivery(r.Context(), TenantFrom(r.Context()).ID, id)
	if err == nil {
		err = s.typeInScope(r, d.EventType, "read this delivery")
	}
	var p []byte
	if err == nil {
		p, err = s.sentBody(r, d)
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(p)))
	if r.URL.Query().Get("download") != "" {
		w.Header().Set("Content-Disposition", `attachment; filename="`+id+`.json"`)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(p)
}

// sentBody is the body sent for a delivery: the event's payload in its
// endpoint's payload_format.
func (s *Server) sentBody(r *http.Request, d *slotwire.Delivery) ([]byte, error) {
	ep, err := s.cfg.Store.GetEndpoint(r.Context(), TenantFrom(r.Context()).ID, d.EndpointID)
	if err != nil {
		return nil, err
	}
	return s.bodyFor(r, ep, d)
}

// bodyFor is the body sent for a delivery to ep.
func (s *Server) bodyFor(r *http.Request, ep *slotwire.Endpoint, d *slotwire.Delivery) ([]byte, error) {
	p, err := s.cfg.Store.DeliveryPayload(r.Context(), ep.TenantID, d.ID)
	if err != nil {
		return nil, err
	}
	if ep.Transform != "" {
		return jq.Transform(r.Context(), ep.Transform, p)
	}
	return shape.Body(ep.PayloadFormat, p)
}

func (s *Server) replayDelivery(w http.ResponseWriter, r *http.Request) {
	t := TenantFrom(r.Context())
	d, err := s.cfg.Store.GetDelivery(r.Context(), t.ID, r.PathValue("id"))
	if err == nil {
		err = s.typeInScope(r, d.EventType, "replay this delivery")
	}
	if err == nil {
		d, err = s.cfg.Store.Replay(r.Context(), t.ID, d.ID, slotwire.NewID(slotwire.PrefixDelivery), s.cfg.Now().UTC())
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	if s.cfg.Waker != nil {
		s.cfg.Waker.Wake(d.EndpointID)
	}
	WriteJSON(w, http.StatusAccepted, d)
}
