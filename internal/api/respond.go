package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// ErrorBody is the JSON shape of every API error.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// StatusOf maps an error code to an HTTP status.
func StatusOf(code string) int {
	switch code {
	case slotwire.ECodeNotFound:
		return http.StatusNotFound
	case slotwire.ECodeInvalid:
		return http.StatusBadRequest
	case slotwire.ECodeUnprocessable:
		return http.StatusUnprocessableEntity
	case slotwire.ECodeConflict:
		return http.StatusConflict
	case slotwire.ECodeUnauthorized:
		return http.StatusUnauthorized
	case slotwire.ECodeForbidden:
		return http.StatusForbidden
	case slotwire.ECodeTooLarge:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}

// WriteError writes err in the API error shape. Errors that are not
// *slotwire.Error become a 500 whose message hides the cause.
func WriteError(w http.ResponseWriter, err error) {
	var body ErrorBody
	body.Error.Code = slotwire.ErrorCode(err)
	body.Error.Message = slotwire.ErrorMessage(err)
	if errors.Is(err, slotwire.ErrNotFound) {
		// "endpoint: not_found: not found" -> "endpoint not found"
		body.Error.Code, body.Error.Message = slotwire.ECodeNotFound, trimNotFound(err.Error())
	}
	WriteJSON(w, StatusOf(body.Error.Code), body)
}

func trimNotFound(s string) string {
	// "endpoint: not_found: not found" -> "endpoint not found"
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return s[:i] + " not found"
		}
	}
	return "not found"
}

// DecodeJSON reads a JSON object body of at most limit bytes into v,
// refusing unknown fields. Errors are *slotwire.Error ready for WriteError.
func DecodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return slotwire.Errorf(slotwire.ECodeTooLarge, "request body is larger than %d bytes", limit)
		}
		return slotwire.Errorf(slotwire.ECodeInvalid, "reading request body: %v", err)
	}
	return UnmarshalStrict(body, v)
}

// UnmarshalStrict decodes one JSON value, refusing unknown fields and
// trailing data.
func UnmarshalStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if err == io.EOF {
			return slotwire.Errorf(slotwire.ECodeInvalid, "request body is empty; send a JSON object")
		}
		return slotwire.Errorf(slotwire.ECodeInvalid, "request body is not valid JSON: %v", err)
	}
	if dec.More() {
		return slotwire.Errorf(slotwire.ECodeInvalid, "request body has data after the JSON object")
	}
	return nil
}

// List is the shape of every collection response.
type List[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// PageFrom reads ?limit= (1-1000, default 100) and ?cursor= from a request.
func PageFrom(r *http.Request) (store.Page, error) {
	p := store.Page{Limit: 100, Before: r.URL.Query().Get("cursor")}
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return p, slotwire.Errorf(slotwire.ECodeInvalid, "limit must be a whole number from 1 to 1000")
		}
		p.Limit = n
	}
	return p, nil
}

// NewList builds a page; when it is full, the last item's id is the cursor.
func NewList[T any](items []T, p store.Page, id func(T) string) List[T] {
	l := List[T]{Data: items}
	if l.Data == nil {
		l.Data = []T{}
	}
	if len(items) == p.Limit && len(items) > 0 {
		l.NextCursor = id(items[len(items)-1])
	}
	return l
}

func errorf(code, format string, args ...any) error { return slotwire.Errorf(code, format, args...) }
