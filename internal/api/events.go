package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/httpx"
	"github.com/slotwire/slotwire/internal/ingest"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/validate"
)

// EventInput is the body of POST /v1/events.
type EventInput struct {
	Type           string                `json:"type"`
	Data           json.RawMessage       `json:"data"`
	IdempotencyKey string                `json:"idempotency_key"`
	OrderingKey    string                `json:"ordering_key"`
	Source         *slotwire.EventSource `json:"source"`
}

// EventAccepted is the 202 answer: the event is durably stored.
type EventAccepted struct {
	ID        string `json:"id"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

func (s *Server) publishEvent(w http.ResponseWriter, r *http.Request) {
	var in EventInput
	if err := s.readEventBody(w, r, s.cfg.MaxEventBytes, &in); err != nil {
		s.Fail(w, r, err)
		return
	}
	key := in.IdempotencyKey
	if h := r.Header.Get("Idempotency-Key"); h != "" {
		if key != "" && key != h {
			s.Fail(w, r, errorf(slotwire.ECodeInvalid, "idempotency_key and the Idempotency-Key header differ"))
			return
		}
		in.IdempotencyKey = h
	}
	e, err := s.eventFrom(TenantFrom(r.Context()).ID, &in)
	if err == nil {
		err = s.typeInScope(r, e.Type, "publish "+e.Type)
	}
	if err == nil {
		err = s.checkPublishable(r, TenantFrom(r.Context()), e)
	}
	if err == nil {
		err = s.allowPublish(w, e.TenantID, 1)
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	res, err := s.cfg.Publisher.Publish(s.publishContext(r), e)
	if err != nil {
		s.publishFailed(w, r, err)
		return
	}
	WriteJSON(w, http.StatusAccepted, EventAccepted{ID: res.ID, Duplicate: res.Duplicate})
}

// publishContext tells the ingester which key publishes, so that events
// of a key revoked since the key cache read it are refused at commit, and
// (tracing on) the publisher's trace its publish span continues.
func (s *Server) publishContext(r *http.Request) context.Context {
	ctx := s.cfg.Tracer.Extract(r.Context(), r.Header)
	if k := httpx.KeyFrom(r.Context()); k != nil {
		return ingest.WithKey(ctx, k.Hash)
	}
	return ctx
}

// publishFailed answers a failed publish; a key found revoked at commit
// leaves the key cache.
func (s *Server) publishFailed(w http.ResponseWriter, r *http.Request, err error) {
	if k := httpx.KeyFrom(r.Context()); k != nil && slotwire.ErrorCode(err) == slotwire.ECodeUnauthorized {
		s.keys.drop(k.Hash)
	}
	s.Fail(w, r, err)
}

// readEventBody reads and strictly decodes a publish body of at most limit
// bytes.
func (s *Server) readEventBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errorf(slotwire.ECodeTooLarge, "event body is larger than %d bytes", limit)
		}
		return errorf(slotwire.ECodeInvalid, "reading request body: %v", err)
	}
	return UnmarshalStrict(body, v)
}

// eventFrom validates one event of a publish request.
func (s *Server) eventFrom(tenantID string, in *EventInput) (*slotwire.Event, error) {
	if err := slotwire.ValidateEventType(in.Type); err != nil {
		return nil, err
	}
	if err := validate.PublishableType(in.Type); err != nil {
		return nil, err
	}
	data := bytes.TrimSpace(in.Data)
	if len(data) == 0 || data[0] != '{' {
		return nil, errorf(slotwire.ECodeInvalid, "data is required and must be a JSON object")
	}
	if int64(len(data)) > s.cfg.MaxEventBytes {
		return nil, errorf(slotwire.ECodeTooLarge, "event data is larger than %d bytes", s.cfg.MaxEventBytes)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return nil, errorf(slotwire.ECodeInvalid, "data is not valid JSON: %v", err)
	}
	key := in.IdempotencyKey
	if len(key) > 255 || strings.ContainsAny(key, "\x00") {
		return nil, errorf(slotwire.ECodeInvalid, "idempotency_key must be at most 255 bytes")
	}
	if err := validate.OrderingKey(in.OrderingKey); err != nil {
		return nil, err
	}
	src, err := validate.Source(in.Source)
	if err != nil {
		return nil, err
	}
	if s.cfg.ValidateEvent != nil {
		if err := s.cfg.ValidateEvent(in.Type, compact.Bytes()); err != nil {
			return nil, err
		}
	}
	return &slotwire.Event{TenantID: tenantID, Type: in.Type, Data: compact.Bytes(), IdempotencyKey: key,
		OrderingKey: in.OrderingKey, Source: src}, nil
}

// MaxBatchEvents is how many events POST /v1/events/batch takes.
const MaxBatchEvents = 100

// BatchInput is the body of POST /v1/events/batch.
type BatchInput struct {
	Events []EventInput `json:"events"`
}

// BatchResult is one event's answer in a batch: its id, or why it was
// refused.
type BatchResult struct {
	ID        string     `json:"id,omitempty"`
	Duplicate bool       `json:"duplicate,omitempty"`
	Error     *ErrorInfo `json:"error,omitempty"`
}

// ErrorInfo is the error object of the API's error shape.
type ErrorInfo struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// publishBatch stores up to 100 events in one transaction. An event that
// does not validate gets an error in its place and the others are stored.
func (s *Server) publishBatch(w http.ResponseWriter, r *http.Request) {
	var in BatchInput
	if err := s.readEventBody(w, r, MaxBatchEvents*s.cfg.MaxEventBytes, &in); err != nil {
		s.Fail(w, r, err)
		return
	}
	if len(in.Events) == 0 || len(in.Events) > MaxBatchEvents {
		s.Fail(w, r, errorf(slotwire.ECodeInvalid, "events needs 1 to %d entries", MaxBatchEvents))
		return
	}
	out := make([]BatchResult, len(in.Events))
	var events []*slotwire.Event
	var at []int
	for i := range in.Events {
		e, err := s.eventFrom(TenantFrom(r.Context()).ID, &in.Events[i])
		if err == nil {
			err = s.typeInScope(r, e.Type, "publish "+e.Type)
		}
		if err == nil {
			err = s.checkPublishable(r, TenantFrom(r.Context()), e)
		}
		if err != nil {
			out[i].Error = &ErrorInfo{Code: slotwire.ErrorCode(err), Message: slotwire.ErrorMessage(err)}
			continue
		}
		events, at = append(events, e), append(at, i)
	}
	if err := s.allowPublish(w, TenantFrom(r.Context()).ID, len(events)); err != nil {
		s.Fail(w, r, err)
		return
	}
	if len(events) > 0 {
		res, err := s.cfg.Publisher.PublishBatch(s.publishContext(r), events)
		if err != nil {
			s.publishFailed(w, r, err)
			return
		}
		for k, i := range at {
			out[i] = BatchResult{ID: res[k].ID, Duplicate: res[k].Duplicate}
		}
	}
	WriteJSON(w, http.StatusAccepted, List[BatchResult]{Data: out})
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) {
	e, err := s.cfg.Store.GetEvent(r.Context(), TenantFrom(r.Context()).ID, r.PathValue("id"))
	if err == nil {
		err = s.typeInScope(r, e.Type, "read this event")
	}
	var ds []*slotwire.Delivery
	if err == nil {
		ds, err = s.cfg.Store.ListDeliveries(r.Context(), e.TenantID, store.DeliveryFilter{EventID: e.ID, Page: store.Page{Limit: 1000}})
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, EventDetail{Event: e, Deliveries: ds})
}

// EventDetail is an event with the deliveries it caused (newest first).
type EventDetail struct {
	*slotwire.Event
	Deliveries []*slotwire.Delivery `json:"deliveries"`
}
