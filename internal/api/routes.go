package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/slotwire/slotwire/internal/store"
)

func (s *Server) routes() {
	s.Handle("GET /healthz", http.HandlerFunc(s.healthz))
	s.Handle("GET /openapi.json", http.HandlerFunc(s.openAPI))

	s.HandleAdmin("POST /v1/tenants", s.createTenant)
	s.HandleAdmin("GET /v1/tenants", s.listTenants)
	s.HandleAdmin("PATCH /v1/tenants/{id}", s.patchTenant)
	s.HandleAdmin("POST /v1/tenants/{id}/api-keys", s.createAPIKey)
	s.HandleAdmin("GET /v1/nodes", s.listNodes)
	s.HandleAdmin("GET /v1/queue", s.queue)

	s.HandleTenant("POST /v1/api-keys", s.createKey)
	s.HandleTenant("GET /v1/api-keys", s.listKeys)
	s.HandleTenant("DELETE /v1/api-keys/{id}", s.deleteKey)

	s.HandleTenant("POST /v1/endpoints", s.createEndpoint)
	s.HandleTenant("GET /v1/endpoints", s.listEndpoints)
	s.HandleTenant("POST /v1/endpoints/preview", s.previewEndpoint)
	s.HandleTenant("GET /v1/endpoints/{id}", s.getEndpoint)
	s.HandleTenant("PATCH /v1/endpoints/{id}", s.patchEndpoint)
	s.HandleTenant("DELETE /v1/endpoints/{id}", s.deleteEndpoint)
	s.HandleTenant("GET /v1/endpoints/{id}/secret", s.endpointSecret)
	s.HandleTenant("POST /v1/endpoints/{id}/secret/rotate", s.rotateSecret)
	s.HandleTenant("GET /v1/endpoints/{id}/deliveries", s.listDeliveries)
	s.handleFeed("GET /v1/endpoints/{id}/feed", s.endpointFeed)
	s.HandleTenant("POST /v1/endpoints/{id}/feed-token", s.createFeedToken)
	s.HandleTenant("DELETE /v1/endpoints/{id}/feed-token", s.deleteFeedToken)
	s.HandleTenant("POST /v1/endpoints/{id}/test", s.testEndpoint)
	s.HandleTenant("POST /v1/endpoints/{id}/verify", s.verifyEndpoint)
	s.HandleTenant("POST /v1/endpoints/{id}/recover", s.recoverEndpoint)
	s.HandleTenant("GET /v1/endpoints/{id}/stats", s.endpointStats)

	s.HandleTenant("GET /v1/event-types", s.listEventTypes)
	s.HandleTenant("POST /v1/event-types", s.createEventType)
	s.HandleTenant("DELETE /v1/event-types/{type}", s.deleteEventType)
	s.HandleTenant("GET /v1/settings", s.getSettings)
	s.HandleTenant("PATCH /v1/settings", s.patchSettings)

	s.HandleTenant("POST /v1/hooks", s.createHook)
	s.HandleTenant("DELETE /v1/hooks/{id}", s.deleteHook)
	s.HandleTenant("GET /v1/hooks/sample", s.hookSample)

	s.handlePublish("POST /v1/events", s.publishEvent)
	s.handlePublish("POST /v1/events/batch", s.publishBatch)
	s.HandleTenant("GET /v1/events", s.listEvents)
	s.HandleTenant("GET /v1/events/{id}", s.getEvent)
	s.HandleTenant("GET /v1/deliveries", s.searchDeliveries)
	s.HandleTenant("GET /v1/stats", s.tenantStats)

	s.HandleTenant("GET /v1/deliveries/{id}", s.getDelivery)
	s.HandleTenant("GET /v1/deliveries/{id}/payload", s.deliveryPayload)
	s.HandleTenant("POST /v1/deliveries/{id}/replay", s.replayDelivery)

	s.HandleTenant("POST /v1/portal-sessions", s.createPortalSession)

	s.HandleTenant("POST /v1/erasures", s.createErasure)
	s.HandleTenant("GET /v1/erasures", s.listErasures)

	s.mux.HandleFunc("/", s.noRoute)
}

// noRoute answers requests no route matched: 405 with Allow when the path
// is known under other methods, else 404.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		WriteError(w, errorf("not_found", "no route for %s %s", r.Method, r.URL.Path))
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	WriteJSON(w, http.StatusMethodNotAllowed, errorBody("method_not_allowed",
		fmt.Sprintf("%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, strings.Join(allow, ", "))))
}

func errorBody(code, msg string) ErrorBody {
	var b ErrorBody
	b.Error.Code, b.Error.Message = code, msg
	return b
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Store.Ping(r.Context()); err != nil {
		body := map[string]string{"status": "unavailable"}
		switch {
		case errors.Is(err, store.ErrFull):
			body["reason"] = "storage is full"
		case errors.Is(err, store.ErrUnreachable):
			body["reason"] = "database unreachable"
		}
		WriteJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
