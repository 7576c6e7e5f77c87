package httpx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/httpx"
)

func decodeError(t *testing.T, rec *httptest.ResponseRecorder) httpx.ErrorBody {
	t.Helper()
	var b httpx.ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	return b
}

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		code       string // "" = ok
		msg        string
	}{
		{"ok", `{"name":"a"}`, "", ""},
		{"empty", ``, slotwire.ECodeInvalid, "request body is empty; send a JSON object"},
		{"unknown field", `{"nam":"a"}`, slotwire.ECodeInvalid, `request body is not valid JSON: json: unknown field "nam"`},
		{"broken", `{"name":`, slotwire.ECodeInvalid, "request body is not valid JSON"},
		{"trailing", `{"name":"a"} {}`, slotwire.ECodeInvalid, "request body has data after the JSON object"},
		{"too large", `{"name":"` + strings.Repeat("x", 100) + `"}`, slotwire.ECodeTooLarge, "request body is larger than 64 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var v struct{ Name string }
			rec := httptest.NewRecorder()
			r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
			err := httpx.DecodeJSON(rec, r, 64, &v)
			if tc.code == "" {
				if err != nil || v.Name != "a" {
					t.Fatalf("err %v, name %q", err, v.Name)
				}
				return
			}
			if slotwire.ErrorCode(err) != tc.code || !strings.Contains(slotwire.ErrorMessage(err), tc.msg) {
				t.Fatalf("error %v, want %s containing %q", err, tc.code, tc.msg)
			}
		})
	}
}

func TestWriteError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err    error
		status int
		code   string
		msg    string
	}{
		{slotwire.Errorf(slotwire.ECodeInvalid, "name is required"), 400, "invalid_request", "name is required"},
		{slotwire.Errorf(slotwire.ECodeConflict, "busy"), 409, "conflict", "busy"},
		{slotwire.Errorf(slotwire.ECodeUnprocessable, "bad"), 422, "unprocessable", "bad"},
		{slotwire.Errorf(slotwire.ECodeTooLarge, "big"), 413, slotwire.ECodeTooLarge, "big"},
		{slotwire.Errorf(slotwire.ECodeUnauthorized, "who"), 401, slotwire.ECodeUnauthorized, "who"},
		{slotwire.Errorf(slotwire.ECodeForbidden, "no"), 403, slotwire.ECodeForbidden, "no"},
		{fmt.Errorf("endpoint: %w", slotwire.ErrNotFound), 404, "not_found", "endpoint not found"},
		{errors.New("disk on fire"), 500, slotwire.ECodeInternal, ""},
	}
	for _, tc := range tests {
		rec := httptest.NewRecorder()
		httpx.WriteError(rec, tc.err)
		b := decodeError(t, rec)
		if rec.Code != tc.status || b.Error.Code != tc.code || (tc.msg != "" && b.Error.Message != tc.msg) {
			t.Errorf("%v: %d %+v, want %d %s %q", tc.err, rec.Code, b.Error, tc.status, tc.code, tc.msg)
		}
		if strings.Contains(rec.Body.String(), "disk on fire") {
			t.Errorf("500 reveals its cause: %s", rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("content type %q", ct)
		}
	}
}

func TestFailLogsInternalErrorsOnly(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	r := httptest.NewRequest("GET", "/v1/things", nil)
	httpx.Fail(httptest.NewRecorder(), r, log, slotwire.Errorf(slotwire.ECodeInvalid, "bad"))
	if logs.Len() != 0 {
		t.Fatalf("client error logged: %s", logs.String())
	}
	httpx.Fail(httptest.NewRecorder(), r, log, errors.New("disk on fire"))
	if !strings.Contains(logs.String(), "disk on fire") || !strings.Contains(logs.String(), "/v1/things") {
		t.Fatalf("internal error not logged: %s", logs.String())
	}
}

func TestRespond(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	r := httptest.NewRequest("GET", "/", nil)
	rec := httptest.NewRecorder()
	httpx.Respond(rec, r, log, http.StatusNoContent, map[string]int{"a": 1}, nil)
	if rec.Code != 204 || rec.Body.Len() != 0 {
		t.Fatalf("204: %d %q", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	httpx.Respond(rec, r, log, http.StatusCreated, map[string]string{"html": "<b>"}, nil)
	if rec.Code != 201 || rec.Body.String() != "{\"html\":\"<b>\"}\n" {
		t.Fatalf("201: %d %q", rec.Code, rec.Body)
	}
}

func TestPages(t *testing.T) {
	t.Parallel()
	for q, want := range map[string]httpx.Page{
		"":                   {Limit: 100},
		"?limit=1&cursor=ev": {Limit: 1, Cursor: "ev"},
		"?limit=1000":        {Limit: 1000},
	} {
		p, err := httpx.PageFrom(httptest.NewRequest("GET", "/"+q, nil))
		if err != nil || p != want {
			t.Errorf("%q: %+v %v, want %+v", q, p, err, want)
		}
	}
	for _, q := range []string{"?limit=0", "?limit=1001", "?limit=x", "?limit=-1"} {
		_, err := httpx.PageFrom(httptest.NewRequest("GET", "/"+q, nil))
		if slotwire.ErrorMessage(err) != "limit must be a whole number from 1 to 1000" {
			t.Errorf("%q: %v", q, err)
		}
	}
	id := func(s string) string { return s }
	if l := httpx.NewList([]string{"a", "b"}, 2, id); l.NextCursor != "b" {
		t.Errorf("full page: %+v", l)
	}
	if l := httpx.NewList([]string{"a"}, 2, id); l.NextCursor != "" {
		t.Errorf("last page: %+v", l)
	}
	if b, _ := json.Marshal(httpx.NewList[string](nil, 2, id)); string(b) != `{"data":[]}` {
		t.Errorf("empty page: %s", b)
	}
}

func TestTenantContext(t *testing.T) {
	t.Parallel()
	if httpx.TenantFrom(context.Background()) != nil {
		t.Fatal("tenant from an empty context")
	}
	tn := &slotwire.Tenant{ID: "ten_1"}
	if got := httpx.TenantFrom(httpx.WithTenant(context.Background(), tn)); got != tn {
		t.Fatalf("got %v", got)
	}
}
