package scheduling

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/slotwire/slotwire/internal/httpx"
	"github.com/slotwire/slotwire/internal/store"
)

// Record is a stored object: its id, the fields a client writes, and
// timestamps. It marshals flat: {"id", <fields…>, "created_at", "updated_at"}.
type Record[F any] struct {
	ID        string
	Fields    F
	CreatedAt time.Time
	UpdatedAt time.Time
}

// MarshalJSON writes the record as one flat object.
func (r Record[F]) MarshalJSON() ([]byte, error) {
	type meta struct {
		CreatedAt time.Time `json:"created_at"`
		UpdatedAt time.Time `json:"updated_at"`
	}
	f, err := json.Marshal(r.Fields)
	if err != nil {
		return nil, err
	}
	m, err := json.Marshal(meta{r.CreatedAt, r.UpdatedAt})
	if err != nil {
		return nil, err
	}
	id, _ := json.Marshal(r.ID)
	var b bytes.Buffer
	b.WriteString(`{"id":`)
	b.Write(id)
	if inner := bytes.TrimSpace(f[1 : len(f)-1]); len(inner) > 0 {
		b.WriteByte(',')
		b.Write(inner)
	}
	b.WriteByte(',')
	b.Write(m[1:])
	return b.Bytes(), nil
}

// UnmarshalJSON reads the flat form.
func (r *Record[F]) UnmarshalJSON(b []byte) error {
	var meta struct {
		ID        string    `json:"id"`
		CreatedAt time.Time `json:"created_at"`
		UpdatedAt time.Time `json:"updated_at"`
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &r.Fields); err != nil {
		return err
	}
	r.ID, r.CreatedAt, r.UpdatedAt = meta.ID, meta.CreatedAt, meta.UpdatedAt
	return nil
}

// Collection is the create/read/update/delete machinery shared by the
// simple entities. Every write emits <name>.created|updated|deleted in the
// same transaction. Updates take a JSON merge patch: fields present in the
// patch replace the stored ones, custom_fields objects are merged and a
// null member removes a key.
type Collection[F any] struct {
	s      *Service
	name   string // event type prefix: "service_group"
	label  string // for messages: "service group"
	path   string // URL segment: "service-groups"
	prefix string // id prefix
	table  string
	cols   []string
	ptrs   func(f *F) []any // one scan/argument target per column

	// check normalises and validates f; old is nil on create.
	check func(t *txn, f *F, old *Record[F]) error
	// expand returns the event data of r (default: r itself).
	expand func(t *txn, r *Record[F]) (any, error)
	// beforeDelete applies the cascading rules (refuse, detach …).
	beforeDelete func(t *txn, r *Record[F]) error
}

type scanner interface{ Scan(dest ...any) error }

func (c *Collection[F]) selectSQL() string {
	return "SELECT id, created_at, updated_at, " + strings.Join(c.cols, ", ") + " FROM " + c.table
}

func (c *Collection[F]) scan(row scanner) (*Record[F], error) {
	r := &Record[F]{}
	dest := append([]any{&r.ID, msCol{&r.CreatedAt}, msCol{&r.UpdatedAt}}, c.ptrs(&r.Fields)...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	return r, nil
}

func (c *Collection[F]) get(t *txn, id string) (*Record[F], error) {
	r, err := c.scan(t.queryRow(c.selectSQL()+" WHERE tenant_id = ? AND id = ?", t.tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(c.label, id)
	}
	if err != nil {
		return nil, fmt.Errorf("scheduling: get %s: %w", c.name, err)
	}
	return r, nil
}

// where lists the tenant's records matching a condition, oldest first.
func (c *Collection[F]) where(t *txn, cond string, args ...any) ([]*Record[F], error) {
	rows, err := t.query(c.selectSQL()+" WHERE tenant_id = ? AND "+cond+" ORDER BY id", append([]any{t.tenant}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Record[F]
	for rows.Next() {
		r, err := c.scan(rows)
		if err != nil {
			return nil, fmt.Errorf("scheduling: list %s: %w", c.name, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (c *Collection[F]) list(t *txn, p store.Page) ([]*Record[F], error) {
	rows, err := t.newestFirst(c.selectSQL(), p)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Record[F]
	for rows.Next() {
		r, err := c.scan(rows)
		if err != nil {
			return nil, fmt.Errorf("scheduling: list %s: %w", c.name, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// newestFirst runs selectSQL (a SELECT … FROM table) for a page of the
// tenant's rows, newest first: ids below p.Before, at most pageLimit(p).
func (t *txn) newestFirst(selectSQL string, p store.Page) (*sql.Rows, error) {
	q, args := selectSQL+" WHERE tenant_id = ?", []any{t.tenant}
	if p.Before != "" {
		q, args = q+" AND id < ?", append(args, p.Before)
	}
	return t.query(q+" ORDER BY id DESC LIMIT ?", append(args, pageLimit(p))...)
}

func pageLimit(p store.Page) int {
	if p.Limit <= 0 || p.Limit > 1000 {
		return 100
	}
	return p.Limit
}

func (c *Collection[F]) data(t *txn, r *Record[F]) (any, error) {
	if c.expand == nil {
		return r, nil
	}
	return c.expand(t, r)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func (c *Collection[F]) create(t *txn, f F) (*Record[F], error) {
	if err := c.check(t, &f, nil); err != nil {
		return nil, err
	}
	r := &Record[F]{ID: newID(c.prefix), Fields: f, CreatedAt: t.now, UpdatedAt: t.now}
	args := append([]any{r.ID, t.tenant, msCol{&r.CreatedAt}, msCol{&r.UpdatedAt}}, c.ptrs(&r.Fields)...)
	q := "INSERT INTO " + c.table + " (id, tenant_id, created_at, updated_at, " + strings.Join(c.cols, ", ") +
		") VALUES (" + placeholders(len(args)) + ")"
	if _, err := t.exec(q, args...); err != nil {
		return nil, err
	}
	d, err := c.data(t, r)
	if err != nil {
		return nil, err
	}
	return r, t.event(r.ID, c.name+".created", d)
}

// update stores cur as the new fields of old and emits <name>.updated with
// the previous values of the changed fields. Nothing changes (and nothing
// is emitted) when cur equals old.
func (c *Collection[F]) update(t *txn, old *Record[F], cur F) (*Record[F], error) {
	if err := c.check(t, &cur, old); err != nil {
		return nil, err
	}
	return c.updateUnchecked(t, old, cur)
}

// updateUnchecked is update without the validation, for cascades that
// change a field the check would refuse mid-way.
func (c *Collection[F]) updateUnchecked(t *txn, old *Record[F], cur F) (*Record[F], error) {
	prev, err := changes(old.Fields, cur)
	if err != nil {
		return nil, err
	}
	if len(prev) == 0 {
		return old, nil
	}
	r := &Record[F]{ID: old.ID, Fields: cur, CreatedAt: old.CreatedAt, UpdatedAt: t.now}
	sets := make([]string, len(c.cols))
	for i, col := range c.cols {
		sets[i] = col + " = ?"
	}
	args := append([]any{msCol{&r.UpdatedAt}}, c.ptrs(&r.Fields)...)
	args = append(args, t.tenant, r.ID)
	if _, err := t.exec("UPDATE "+c.table+" SET updated_at = ?, "+strings.Join(sets, ", ")+" WHERE tenant_id = ? AND id = ?", args...); err != nil {
		return nil, err
	}
	d, err := c.data(t, r)
	if err != nil {
		return nil, err
	}
	return r, t.event(r.ID, c.name+".updated", with(d, "previous", prev))
}

// patch applies a JSON merge patch to the stored record.
func (c *Collection[F]) patch(t *txn, id string, patch []byte) (*Record[F], error) {
	old, err := c.get(t, id)
	if err != nil {
		return nil, err
	}
	cur, err := applyPatch(old.Fields, patch)
	if err != nil {
		return nil, err
	}
	return c.update(t, old, cur)
}

// applyPatch decodes a JSON object over a deep copy of f.
func applyPatch[F any](f F, patch []byte) (F, error) {
	var cur F
	b, err := json.Marshal(f)
	if err != nil {
		return cur, err
	}
	if err := json.Unmarshal(b, &cur); err != nil {
		return cur, err
	}
	if p := bytes.TrimSpace(patch); len(p) == 0 || p[0] != '{' {
		return cur, invalid("request body must be a JSON object")
	}
	if err := httpx.UnmarshalStrict(patch, &cur); err != nil {
		return cur, err
	}
	return cur, nil
}

func (c *Collection[F]) remove(t *txn, r *Record[F]) error {
	if c.beforeDelete != nil {
		if err := c.beforeDelete(t, r); err != nil {
			return err
		}
	}
	d, err := c.data(t, r)
	if err != nil {
		return err
	}
	if _, err := t.exec("DELETE FROM "+c.table+" WHERE tenant_id = ? AND id = ?", t.tenant, r.ID); err != nil {
		return err
	}
	return t.event(r.ID, c.name+".deleted", d)
}

// Create stores a new record.
func (c *Collection[F]) Create(ctx context.Context, tenantID string, f F) (*Record[F], error) {
	var r *Record[F]
	err := c.s.write(ctx, tenantID, c.name+".create", func(t *txn) (err error) {
		r, err = c.create(t, f)
		return err
	})
	return r, err
}

// Get returns one record of the tenant.
func (c *Collection[F]) Get(ctx context.Context, tenantID, id string) (*Record[F], error) {
	var r *Record[F]
	err := c.s.read(ctx, tenantID, func(t *txn) (err error) {
		r, err = c.get(t, id)
		return err
	})
	return r, err
}

// List returns a page of the tenant's records, newest first.
func (c *Collection[F]) List(ctx context.Context, tenantID string, p store.Page) ([]*Record[F], error) {
	var out []*Record[F]
	err := c.s.read(ctx, tenantID, func(t *txn) (err error) {
		out, err = c.list(t, p)
		return err
	})
	return out, err
}

// Update applies a JSON merge patch (see Collection).
func (c *Collection[F]) Update(ctx context.Context, tenantID, id string, patch []byte) (*Record[F], error) {
	var r *Record[F]
	err := c.s.write(ctx, tenantID, c.name+".update", func(t *txn) (err error) {
		r, err = c.patch(t, id, patch)
		return err
	})
	return r, err
}

// Delete removes a record, applying the cascading rules.
func (c *Collection[F]) Delete(ctx context.Context, tenantID, id string) error {
	return c.s.write(ctx, tenantID, c.name+".delete", func(t *txn) error {
		r, err := c.get(t, id)
		if err != nil {
			return err
		}
		return c.remove(t, r)
	})
}

func (c *Collection[F]) register(srv httpx.Router) {
	base := "/v1/" + c.path
	srv.HandleTenant("GET "+base, func(w http.ResponseWriter, r *http.Request) {
		list(c.s, w, r, func(x *Record[F]) string { return x.ID }, func(p store.Page) ([]*Record[F], error) {
			return c.List(r.Context(), tenantID(r), p)
		})
	})
	srv.HandleTenant("POST "+base, func(w http.ResponseWriter, r *http.Request) {
		var f F
		if err := httpx.DecodeJSON(w, r, maxBody, &f); err != nil {
			c.s.fail(w, r, err)
			return
		}
		rec, err := c.Create(r.Context(), tenantID(r), f)
		c.s.respond(w, r, http.StatusCreated, rec, err)
	})
	srv.HandleTenant("GET "+base+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		rec, err := c.Get(r.Context(), tenantID(r), r.PathValue("id"))
		c.s.respond(w, r, http.StatusOK, rec, err)
	})
	srv.HandleTenant("PATCH "+base+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		var patch json.RawMessage
		if err := httpx.DecodeJSON(w, r, maxBody, &patch); err != nil {
			c.s.fail(w, r, err)
			return
		}
		rec, err := c.Update(r.Context(), tenantID(r), r.PathValue("id"), patch)
		c.s.respond(w, r, http.StatusOK, rec, err)
	})
	srv.HandleTenant("DELETE "+base+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		err := c.Delete(r.Context(), tenantID(r), r.PathValue("id"))
		c.s.respond(w, r, http.StatusNoContent, nil, err)
	})
}
