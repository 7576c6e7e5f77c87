// Package httpx holds the HTTP helpers shared by the API and the modules
// that add routes to it (scheduling): decoding JSON bodies, writing JSON and
// errors in the API's error shape, reading pages and the tenant of a request.
// It depends on nothing but the root package, so any handler package can use
// it without importing the API server.
package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/scopes"
	"github.com/slotwire/slotwire/internal/validate"
)

// Router is where a module registers its routes; the API server implements
// it. Handlers registered with HandleTenant find the authenticated tenant
// with TenantFrom(r.Context()).
type Router interface {
	HandleTenant(pattern string, h http.HandlerFunc)
}

type ctxKey int

const tenantKey ctxKey = iota

// TenantFrom returns the tenant authenticated for the request, or nil.
func TenantFrom(ctx context.Context) *slotwire.Tenant {
	t, _ := ctx.Value(tenantKey).(*slotwire.Tenant)
	return t
}

type keyKey struct{}

// KeyFrom returns the API key that authenticated the request (its Hash
// set), or nil.
func KeyFrom(ctx context.Context) *slotwire.APIKey {
	k, _ := ctx.Value(keyKey{}).(*slotwire.APIKey)
	return k
}

// WithKey returns ctx carrying the API key k.
func WithKey(ctx context.Context, k *slotwire.APIKey) context.Context {
	return context.WithValue(ctx, keyKey{}, k)
}

// WithTenant returns ctx carrying t.
func WithTenant(ctx context.Context, t *slotwire.Tenant) context.Context {
	return context.WithValue(ctx, tenantKey, t)
}

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
	case slotwire.ECodeInvalid, slotwire.ECodeSMTPNotConfigured:
		return http.StatusBadRequest
	case slotwire.ECodeUnprocessable:
		return http.StatusUnprocessableEntity
	case slotwire.ECodeConflict:
		return http.StatusConflict
	case slotwire.ECodeUnauthorized:
		return http.StatusUnauthorized
	case slotwire.ECodeForbidden, slotwire.ECodeEndpointLimit, slotwire.ECodePlanLimit, slotwire.ECodeMissingScope:
		return http.StatusForbidden
	case slotwire.ECodeRateLimited:
		return http.StatusTooManyRequests
	case slotwire.ECodeStorageUnavailable:
		return http.StatusServiceUnavailable
	case slotwire.ECodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case slotwire.ECodeArchived:
		return http.StatusGone
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
		body.Error.Code, body.Error.Message = slotwire.ECodeNotFound, trimNotFound(err.Error())
	}
	if body.Error.Code == slotwire.ECodeStorageUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	WriteJSON(w, StatusOf(body.Error.Code), body)
}

// trimNotFound turns "endpoint: not_found: not found" into "endpoint not found".
func trimNotFound(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return s[:i] + " not found"
		}
	}
	return "not found"
}

// Fail writes err; unexpected (internal) errors are also logged, since the
// answer hides their cause.
func Fail(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if slotwire.ErrorCode(err) == slotwire.ECodeInternal {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	WriteError(w, err)
}

// Respond writes v as JSON with status, an empty body for 204, or err
// (through Fail) when it is not nil.
func Respond(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, v any, err error) {
	switch {
	case err != nil:
		Fail(w, r, log, err)
	case status == http.StatusNoContent:
		w.WriteHeader(status)
	default:
		WriteJSON(w, status, v)
	}
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

// UnmarshalStrict decodes one JSON value, refusing unknown fields,
// trailing data, and what a receiver could read differently from us
// (invalid UTF-8, lone surrogates, duplicate keys: see package validate).
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
	return validate.Decoded(body)
}

// Page is a page request read from ?limit= and ?cursor=.
type Page struct {
	Limit  int
	Cursor string // id of the last item of the previous page; "" for the first
}

// PageFrom reads ?limit= (1-1000, default 100) and ?cursor= from a request.
func PageFrom(r *http.Request) (Page, error) {
	p := Page{Limit: 100, Cursor: r.URL.Query().Get("cursor")}
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return p, slotwire.Errorf(slotwire.ECodeInvalid, "limit must be a whole number from 1 to 1000")
		}
		p.Limit = n
	}
	return p, nil
}

// List is the shape of every collection response.
type List[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// NewList builds a page of at most limit items; when it is full, the last
// item's id is the cursor of the next page.
func NewList[T any](items []T, limit int, id func(T) string) List[T] {
	l := List[T]{Data: items}
	if l.Data == nil {
		l.Data = []T{}
	}
	if len(items) == limit && len(items) > 0 {
		l.NextCursor = id(items[len(items)-1])
	}
	return l
}

// Scoped is a Router whose routes need an API key holding scope (or
// admin): others answer 403 missing_scope naming it.
func Scoped(r Router, scope string) Router { return scopedRouter{r, scope} }

type scopedRouter struct {
	Router
	scope string
}

func (s scopedRouter) HandleTenant(pattern string, h http.HandlerFunc) {
	s.Router.HandleTenant(pattern, func(w http.ResponseWriter, r *http.Request) {
		if k := KeyFrom(r.Context()); k == nil || !scopes.Holds(k.Scopes, s.scope) {
			WriteError(w, scopes.Missing(s.scope, "use "+r.Method+" "+r.URL.Path))
			return
		}
		h(w, r)
	})
}
