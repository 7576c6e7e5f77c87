package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/validate"
)

// EventInput is the body of POST /v1/events.
type EventInput struct {
	Type           string          `json:"type"`
	Data           json.RawMessage `json:"data"`
	IdempotencyKey string          `json:"idempotency_key"`
}

// EventAccepted is the 202 answer: the event is durably stored.
type EventAccepted struct {
	ID        string `json:"id"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

func (s *Server) publishEvent(w http.ResponseWriter, r *http.Request) {
	t := TenantFrom(r.Context())
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxEventBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.Fail(w, r, errorf(slotwire.ECodeTooLarge, "event body is larger than %d bytes", s.cfg.MaxEventBytes))
			return
		}
		s.Fail(w, r, errorf(slotwire.ECodeInvalid, "reading request body: %v", err))
		return
	}
	var in EventInput
	if err := UnmarshalStrict(body, &in); err != nil {
		s.Fail(w, r, err)
		return
	}
	if err := slotwire.ValidateEventType(in.Type); err != nil {
		s.Fail(w, r, err)
		return
	}
	if err := validate.PublishableType(in.Type); err != nil {
		s.Fail(w, r, err)
		return
	}
	data := bytes.TrimSpace(in.Data)
	if len(data) == 0 || data[0] != '{' {
		s.Fail(w, r, errorf(slotwire.ECodeInvalid, "data is required and must be a JSON object"))
		return
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		s.Fail(w, r, errorf(slotwire.ECodeInvalid, "data is not valid JSON: %v", err))
		return
	}
	key := in.IdempotencyKey
	if h := r.Header.Get("Idempotency-Key"); h != "" {
		if key != "" && key != h {
			s.Fail(w, r, errorf(slotwire.ECodeInvalid, "idempotency_key and the Idempotency-Key header differ"))
			return
		}
		key = h
	}
	if len(key) > 255 || strings.ContainsAny(key, "\x00") {
		s.Fail(w, r, errorf(slotwire.ECodeInvalid, "idempotency_key must be at most 255 bytes"))
		return
	}
	if s.cfg.ValidateEvent != nil {
		if err := s.cfg.ValidateEvent(in.Type, compact.Bytes()); err != nil {
			s.Fail(w, r, err)
			return
		}
	}
	e := &slotwire.Event{TenantID: t.ID, Type: in.Type, Data: compact.Bytes(), IdempotencyKey: key}
	res, err := s.cfg.Publisher.Publish(r.Context(), e)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusAccepted, EventAccepted{ID: res.ID, Duplicate: res.Duplicate})
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) {
	e, err := s.cfg.Store.GetEvent(r.Context(), TenantFrom(r.Context()).ID, r.PathValue("id"))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, e)
}
