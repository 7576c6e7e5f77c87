package api

import (
	"net/http"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/httpx"
	"github.com/slotwire/slotwire/internal/store"
)

// The API's handlers use the shared helpers of package httpx; these names
// keep the handlers short.

// ErrorBody is the JSON shape of every API error.
type ErrorBody = httpx.ErrorBody

// List is the shape of every collection response.
type List[T any] = httpx.List[T]

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) { httpx.WriteJSON(w, status, v) }

// WriteError writes err in the API error shape.
func WriteError(w http.ResponseWriter, err error) { httpx.WriteError(w, err) }

// DecodeJSON reads a JSON object body of at most limit bytes into v,
// refusing unknown fields.
func DecodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	return httpx.DecodeJSON(w, r, limit, v)
}

// UnmarshalStrict decodes one JSON value, refusing unknown fields and
// trailing data.
func UnmarshalStrict(body []byte, v any) error { return httpx.UnmarshalStrict(body, v) }

// PageFrom reads ?limit= (1-1000, default 100) and ?cursor= from a request.
func PageFrom(r *http.Request) (store.Page, error) {
	p, err := httpx.PageFrom(r)
	return store.Page{Limit: p.Limit, Before: p.Cursor}, err
}

// NewList builds a page; when it is full, the last item's id is the cursor.
func NewList[T any](items []T, p store.Page, id func(T) string) List[T] {
	return httpx.NewList(items, p.Limit, id)
}

func errorf(code, format string, args ...any) error { return slotwire.Errorf(code, format, args...) }
