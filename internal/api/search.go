package api

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// checkParams refuses query parameters a route does not know: a typo
// must not silently widen a search.
func checkParams(q url.Values, known ...string) error {
	var unknown []string
	for k := range q {
		if !contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	takes := strings.Join(known, ", ")
	if takes == "" {
		takes = "none"
	}
	return errorf(slotwire.ECodeInvalid, "unknown query parameter(s) %s; this route takes %s",
		strings.Join(unknown, ", "), takes)
}

func contains(l []string, v string) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

// timeParam reads an RFC 3339 time parameter (zero when absent).
func timeParam(q url.Values, name string) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, errorf(slotwire.ECodeInvalid, "%s must be an RFC 3339 time, such as 2026-12-01T09:00:00Z", name)
	}
	return t, nil
}

// deliveryParams are the query parameters of the delivery searches.
var deliveryParams = []string{"status", "status_class", "event_type", "event_id", "since", "until", "limit", "cursor"}

// deliveryFilter reads a delivery search from the query.
func deliveryFilter(r *http.Request, known ...string) (store.DeliveryFilter, error) {
	q := r.URL.Query()
	if err := checkParams(q, append(known, deliveryParams...)...); err != nil {
		return store.DeliveryFilter{}, err
	}
	p, err := PageFrom(r)
	if err != nil {
		return store.DeliveryFilter{}, err
	}
	f := store.DeliveryFilter{Status: q.Get("status"), StatusClass: q.Get("status_class"), EventID: q.Get("event_id"),
		EventType: q.Get("event_type"), EndpointID: q.Get("endpoint_id"), Page: p}
	if f.Status != "" && f.Status != store.StatusRetrying && f.Status != store.StatusArchived && !slotwire.ValidStatus(f.Status) {
		return f, errorf(slotwire.ECodeInvalid, "status must be pending, retrying, inflight, succeeded, failed, filtered or archived")
	}
	if f.StatusClass != "" && !contains([]string{"2xx", "4xx", "5xx", "network"}, f.StatusClass) {
		return f, errorf(slotwire.ECodeInvalid, "status_class must be 2xx, 4xx, 5xx or network")
	}
	if f.Since, err = timeParam(q, "since"); err == nil {
		f.Until, err = timeParam(q, "until")
	}
	return f, err
}

// searchDeliveries is GET /v1/deliveries: the tenant's deliveries to every
// endpoint, newest first, those of event types the key covers.
func (s *Server) searchDeliveries(w http.ResponseWriter, r *http.Request) {
	f, err := deliveryFilter(r, "endpoint_id")
	var ds []*slotwire.Delivery
	if err == nil {
		ds, err = s.cfg.Store.ListDeliveries(r.Context(), TenantFrom(r.Context()).ID, f)
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	l := NewList(ds, f.Page, func(d *slotwire.Delivery) string { return d.ID }) // the cursor follows the page read
	l.Data = s.visibleDeliveries(r, l.Data)
	WriteJSON(w, http.StatusOK, l)
}

// visibleDeliveries keeps the deliveries of types the key covers.
func (s *Server) visibleDeliveries(r *http.Request, ds []*slotwire.Delivery) []*slotwire.Delivery {
	out := ds[:0:0]
	for _, d := range ds {
		if s.typeInScope(r, d.EventType, "") == nil {
			out = append(out, d)
		}
	}
	return out
}

// listEvents is GET /v1/events: the tenant's events, newest first, by
// type (or prefix pattern) and time; those of types the key covers.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	err := checkParams(q, "type", "since", "until", "limit", "cursor")
	var f store.EventFilter
	if err == nil {
		f.Page, err = PageFrom(r)
	}
	if err == nil {
		f.Type = q.Get("type")
		f.Since, err = timeParam(q, "since")
	}
	if err == nil {
		f.Until, err = timeParam(q, "until")
	}
	var evs []*slotwire.Event
	if err == nil {
		evs, err = s.cfg.Store.ListEvents(r.Context(), TenantFrom(r.Context()).ID, f)
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	l := NewList(evs, f.Page, func(e *slotwire.Event) string { return e.ID })
	kept := l.Data[:0:0]
	for _, e := range l.Data {
		if s.typeInScope(r, e.Type, "") == nil {
			kept = append(kept, e)
		}
	}
	l.Data = kept
	WriteJSON(w, http.StatusOK, l)
}

// recoverInput is the body of POST /v1/endpoints/{id}/recover.
type recoverInput struct {
	Since *time.Time `json:"since"`
	Until *time.Time `json:"until"`
}

// recoverEndpoint replays, once each and in order, the endpoint's failed
// deliveries created in [since, until) (until defaults to now).
func (s *Server) recoverEndpoint(w http.ResponseWriter, r *http.Request) {
	var in recoverInput
	err := DecodeJSON(w, r, maxJSONBody, &in)
	var e *slotwire.Endpoint
	if err == nil {
		e, err = s.scopedEndpoint(r, "recover this endpoint's deliveries")
	}
	now := s.cfg.Now().UTC()
	until := now
	if err == nil && in.Until != nil {
		until = *in.Until
	}
	if err == nil && (in.Since == nil || !in.Since.Before(until)) {
		err = errorf(slotwire.ECodeInvalid, "since is required and must be before until")
	}
	n := 0
	if err == nil {
		n, err = s.cfg.Store.Recover(r.Context(), e.TenantID, e.ID, *in.Since, until, now)
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	if n > 0 && s.cfg.Waker != nil {
		s.cfg.Waker.Wake(e.ID)
	}
	WriteJSON(w, http.StatusAccepted, map[string]int{"queued": n})
}
