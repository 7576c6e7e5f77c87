package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/jq"
	"github.com/slotwire/slotwire/internal/shape"
	"github.com/slotwire/slotwire/internal/validate"
)

// PreviewInput is the body of POST /v1/endpoints/preview: an endpoint's
// filter, transform and payload format tried on an event of a type, with
// its data or the catalog's example.
type PreviewInput struct {
	EventType     string          `json:"event_type"`
	Data          json.RawMessage `json:"data"`
	Filter        string          `json:"filter"`
	Transform     string          `json:"transform"`
	PayloadFormat string          `json:"payload_format"`
}

// Preview is what an endpoint with those settings would be sent: nothing
// when the filter does not match, else the body.
type Preview struct {
	Matched bool            `json:"matched"`
	Body    json.RawMessage `json:"body,omitempty"`
}

// previewEndpoint is POST /v1/endpoints/preview: the "try it" of an
// endpoint's jq filter and transform. It stores and sends nothing.
func (s *Server) previewEndpoint(w http.ResponseWriter, r *http.Request) {
	var in PreviewInput
	err := DecodeJSON(w, r, maxJSONBody, &in)
	if err == nil {
		err = s.typeInScope(r, in.EventType, "preview "+in.EventType)
	}
	var ev *slotwire.Event
	if err == nil {
		ev, err = s.previewEvent(r, in)
	}
	var p Preview
	if err == nil {
		p, err = runPreview(r.Context(), in, ev.BuildPayload())
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, p)
}

// previewEvent is the event a preview runs on: the input's data, else the
// example of the catalog's type or of the tenant's registered one.
func (s *Server) previewEvent(r *http.Request, in PreviewInput) (*slotwire.Event, error) {
	if in.EventType == "" {
		return nil, errorf(slotwire.ECodeInvalid, "event_type is required")
	}
	data := in.Data
	if len(data) == 0 || string(data) == "null" {
		var err error
		if data, err = s.example(r, in.EventType); err != nil {
			return nil, err
		}
	}
	if _, err := validate.PayloadFormat(in.PayloadFormat); in.PayloadFormat != "" && err != nil {
		return nil, err
	}
	return &slotwire.Event{ID: "evt_preview", Type: in.EventType, Data: data, CreatedAt: s.cfg.Now().UTC()}, nil
}

// example is an event type's example data: the catalog's, else that the
// tenant registered with its type.
func (s *Server) example(r *http.Request, eventType string) (json.RawMessage, error) {
	if s.cfg.Sample != nil {
		if data, ok := s.cfg.Sample(eventType); ok {
			return data, nil
		}
	}
	types, err := s.types(r, TenantFrom(r.Context()).ID)
	if err != nil {
		return nil, err
	}
	if ct, ok := types[eventType]; ok && len(ct.t.Example) > 0 {
		return ct.t.Example, nil
	}
	return nil, errorf(slotwire.ECodeInvalid, "event type %q has no example: send data", eventType)
}

// runPreview applies the filter, then the transform or the payload format,
// as a delivery does.
func runPreview(ctx context.Context, in PreviewInput, payload []byte) (Preview, error) {
	if in.Filter != "" {
		pass, err := jq.Filter(ctx, in.Filter, payload)
		if err != nil {
			return Preview{}, errorf(slotwire.ECodeInvalid, "filter: %v", err)
		}
		if !pass {
			return Preview{}, nil
		}
	}
	var body []byte
	var err error
	if in.Transform != "" {
		if body, err = jq.Transform(ctx, in.Transform, payload); err != nil {
			return Preview{}, errorf(slotwire.ECodeInvalid, "transform: %v", err)
		}
	} else if body, err = shape.Body(in.PayloadFormat, payload); err != nil {
		return Preview{}, errorf(slotwire.ECodeInvalid, "payload_format: %v", err)
	}
	return Preview{Matched: true, Body: body}, nil
}
