package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/slotwire/slotwire/docs"
)

// TestOpenAPIServed: GET /openapi.json answers docs/openapi.yaml as JSON,
// without a key.
func TestOpenAPIServed(t *testing.T) {
	srv := New(Config{})
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	var got, want map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if err := yaml.Unmarshal(docs.OpenAPIYAML, &want); err != nil {
		t.Fatal(err)
	}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Fatal("/openapi.json differs from docs/openapi.yaml")
	}
	if got["openapi"] != "3.1.0" {
		t.Fatalf("openapi = %v", got["openapi"])
	}
	paths, _ := got["paths"].(map[string]any)
	if _, ok := paths["/openapi.json"]; !ok {
		t.Fatal("the document does not describe /openapi.json")
	}
}
