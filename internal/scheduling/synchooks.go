package scheduling

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/httpx"
	"github.com/slotwire/slotwire/internal/schemacheck"
	"github.com/slotwire/slotwire/signature"
)

// Sync hook names: asked before a notification of that kind goes out.
const (
	HookConfirmation = "confirmation.before_send"
	HookReminder     = "reminder.before_send"
)

// Sync hook timeouts.
const (
	defaultHookTimeout = 3 * time.Second
	maxHookTimeout     = 10 * time.Second
	maxHookAnswer      = 64 << 10
)

// SyncHook is a tenant's synchronous "before" hook.
type SyncHook struct {
	Name    string   `json:"name"`
	URL     string   `json:"url"`
	Timeout Duration `json:"timeout"`
	// Secret signs the requests (Standard Webhooks, as endpoints).
	Secret    string    `json:"secret"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// HookAnswerSchema is the JSON Schema (draft 2020-12) a hook's answer
// must match.
const HookAnswerSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["action"],
  "additionalProperties": false,
  "properties": {
    "action": {"enum": ["send", "skip"]},
    "reason": {"type": "string", "maxLength": 1000},
    "override": {
      "type": "object",
      "additionalProperties": false,
      "minProperties": 1,
      "properties": {
        "subject": {"type": "string", "minLength": 1, "maxLength": 998},
        "body": {"type": "string", "minLength": 1, "maxLength": 100000},
        "to": {"type": "string", "minLength": 3, "maxLength": 320}
      }
    }
  },
  "if": {"properties": {"action": {"const": "skip"}}},
  "then": {"not": {"required": ["override"]}}
}`

var hookAnswer = sync.OnceValue(func() *jsonschema.Schema {
	s, err := schemacheck.Compile("https://slotwire.dev/schemas/sync-hook-answer.json", []byte(HookAnswerSchema))
	if err != nil {
		panic(err)
	}
	return s
})

// Decision is what was decided before a notification went out.
type Decision struct {
	Action   string    `json:"action"` // send | skip
	Reason   string    `json:"reason,omitempty"`
	Override *Override `json:"override,omitempty"`
	// Note says how: "no hook", "hook answered", or why the answer was
	// not used ("timeout after 3s: sent unchanged").
	Note string `json:"note"`
}

// Override replaces parts of the message.
type Override struct {
	Subject string `json:"subject,omitempty"`
	Body    string `json:"body,omitempty"`
	To      string `json:"to,omitempty"`
}

// ask calls the tenant's hook for a notification (never retried): a
// timeout, an error, a non-2xx or an invalid answer sends it unchanged.
func (s *Service) ask(ctx context.Context, n *notification, msg map[string]any) Decision {
	h, err := s.hook(ctx, n.tenant, n.kind+".before_send")
	if err != nil || h == nil {
		if err != nil {
			return Decision{Action: "send", Note: "hook not read (" + err.Error() + "): sent unchanged"}
		}
		return Decision{Action: "send", Note: "no hook"}
	}
	timeout := time.Duration(h.Timeout)
	body, _ := json.Marshal(map[string]any{"type": h.Name, "id": n.id, "timestamp": s.now().UTC(), "data": msg})
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	answer, err := s.post(ctx, h, n.id, body)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return Decision{Action: "send", Note: "hook timed out after " + timeout.String() + ": sent unchanged"}
	case err != nil:
		return Decision{Action: "send", Note: err.Error() + ": sent unchanged"}
	}
	if err := schemacheck.Check(hookAnswer(), answer); err != nil {
		return Decision{Action: "send", Note: "hook answer invalid (" + err.Error() + "): sent unchanged"}
	}
	var d Decision
	_ = json.Unmarshal(answer, &d)
	d.Note = "hook answered"
	return d
}

// post sends one signed request and returns a 2xx answer's body.
func (s *Service) post(ctx context.Context, h *SyncHook, id string, body []byte) ([]byte, error) {
	if err := s.guard().CheckURL(ctx, h.URL); err != nil {
		return nil, fmt.Errorf("hook URL refused (%v)", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("hook request: %w", err)
	}
	now := s.now()
	sig, err := signature.SignAll([]string{h.Secret}, id, now, body)
	if err != nil {
		return nil, fmt.Errorf("hook secret: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(signature.HeaderID, id)
	req.Header.Set(signature.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(signature.HeaderSignature, sig)
	resp, err := s.hookClient().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, errors.New("hook unreachable")
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxHookAnswer))
	if err != nil {
		return nil, ctx.Err()
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("hook answered HTTP %d", resp.StatusCode)
	}
	return answer, nil
}

func (s *Service) hookClient() *http.Client {
	s.hookOnce.Do(func() {
		tr := s.cfg.HookTransport
		if tr == nil {
			tr = &http.Transport{DialContext: s.guard().Dialer(maxHookTimeout).DialContext, MaxIdleConnsPerHost: 8,
				IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: maxHookTimeout}
		}
		s.hooks = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	})
	return s.hooks
}

// hook reads a tenant's hook (nil when none).
func (s *Service) hook(ctx context.Context, tenantID, name string) (*SyncHook, error) {
	var h *SyncHook
	err := s.read(ctx, tenantID, func(t *txn) error {
		var created, updated, timeout int64
		var secret string
		hk := SyncHook{Name: name}
		err := t.queryRow(`SELECT url, timeout_ms, secret, created_at, updated_at FROM sched_sync_hooks
			WHERE tenant_id = ? AND name = ?`, t.tenant, name).Scan(&hk.URL, &timeout, &secret, &created, &updated)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("scheduling: sync hook: %w", err)
		}
		if hk.Secret, err = s.open(secret); err != nil {
			return err
		}
		hk.Timeout, hk.CreatedAt, hk.UpdatedAt = Duration(time.Duration(timeout)*time.Millisecond), time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
		h = &hk
		return nil
	})
	return h, err
}

func (s *Service) open(stored string) (string, error) {
	if s.cfg.Box == nil {
		return stored, nil
	}
	v, err := s.cfg.Box.Open(stored)
	if err != nil {
		return "", fmt.Errorf("scheduling: sync hook secret: %w", err)
	}
	return v, nil
}

func (s *Service) seal(plain string) string {
	if s.cfg.Box == nil {
		return plain
	}
	return s.cfg.Box.Seal(plain)
}

// hookInput is the body of PUT /v1/sync-hooks/{name}.
type hookInput struct {
	URL     string    `json:"url"`
	Timeout *Duration `json:"timeout"`
}

// PutSyncHook creates or replaces a tenant's hook (its secret is kept).
func (s *Service) PutSyncHook(ctx context.Context, tenantID, name string, in hookInput) (*SyncHook, error) {
	if name != HookConfirmation && name != HookReminder {
		return nil, notFound("sync hook", name)
	}
	timeout := Duration(defaultHookTimeout)
	if in.Timeout != nil {
		timeout = *in.Timeout
	}
	if timeout <= 0 || time.Duration(timeout) > maxHookTimeout {
		return nil, invalid("timeout must be more than 0s and at most %s", maxHookTimeout)
	}
	if in.URL == "" {
		return nil, invalid("url is required")
	}
	if err := s.guard().CheckURL(ctx, in.URL); err != nil {
		return nil, invalid("url: %v", err)
	}
	secret := signature.NewSecret(slotwire.RandomToken(32))
	if old, err := s.hook(ctx, tenantID, name); err != nil {
		return nil, err
	} else if old != nil {
		secret = old.Secret
	}
	err := s.write(ctx, tenantID, "sync_hook.put", func(t *txn) error {
		n := t.now.UnixMilli()
		_, err := t.exec(`INSERT INTO sched_sync_hooks (tenant_id, name, url, timeout_ms, secret, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, name) DO UPDATE SET url = excluded.url,
			timeout_ms = excluded.timeout_ms, updated_at = excluded.updated_at`,
			t.tenant, name, in.URL, time.Duration(timeout).Milliseconds(), s.seal(secret), n, n)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.hook(ctx, tenantID, name)
}

func (s *Service) registerSyncHooks(srv httpx.Router) {
	srv.HandleTenant("GET /v1/sync-hooks/{name}", func(w http.ResponseWriter, r *http.Request) {
		h, err := s.hook(r.Context(), tenantID(r), r.PathValue("name"))
		if err == nil && h == nil {
			err = notFound("sync hook", r.PathValue("name"))
		}
		s.respond(w, r, http.StatusOK, h, err)
	})
	srv.HandleTenant("PUT /v1/sync-hooks/{name}", func(w http.ResponseWriter, r *http.Request) {
		var in hookInput
		if err := httpx.DecodeJSON(w, r, maxBody, &in); err != nil {
			s.fail(w, r, err)
			return
		}
		h, err := s.PutSyncHook(r.Context(), tenantID(r), r.PathValue("name"), in)
		s.respond(w, r, http.StatusOK, h, err)
	})
	srv.HandleTenant("DELETE /v1/sync-hooks/{name}", func(w http.ResponseWriter, r *http.Request) {
		err := s.write(r.Context(), tenantID(r), "sync_hook.delete", func(t *txn) error {
			res, err := t.exec(`DELETE FROM sched_sync_hooks WHERE tenant_id = ? AND name = ?`, t.tenant, r.PathValue("name"))
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 0 {
				return notFound("sync hook", r.PathValue("name"))
			}
			return nil
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
