package api

import (
	"net/http"

	"github.com/slotwire/slotwire/docs"
)

// openAPI serves the OpenAPI document built into the binary
// (docs/openapi.yaml, as JSON). It needs no authentication.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	b, err := docs.OpenAPIJSON()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(b)
}
