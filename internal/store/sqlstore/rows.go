package sqlstore

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"sync"

	"github.com/slotwire/slotwire"
)

// EndpointCols are the columns ScanEndpoint reads and EndpointArgs writes.
const EndpointCols = `id, tenant_id, url, description, event_types, enabled, disabled_reason, headers, secret,
	max_concurrency, ordering, rate_limit, failing_since, created_at, updated_at, source_apps, source_types, payload_format, rest_hook,
	previous_secret, previous_secret_until, signature_profile, signature_header, verify, verified_url, auth, tls,
	filter, transform, type, email, timing_offset`

// DeliveryCols are the columns ScanDelivery reads.
const DeliveryCols = `seq, id, tenant_id, endpoint_id, event_id, event_type, status, attempts, next_attempt_at,
	last_status_code, last_error, replay_of, ordering_key, created_at, updated_at, archived_at`

func (db *DB) scanTenant(row Scanner) (*slotwire.Tenant, error) {
	var t slotwire.Tenant
	var created int64
	if err := row.Scan(&t.ID, &t.Name, &t.Plan, &t.StrictEventTypes, &created); err != nil {
		return nil, db.scanErr("tenant", err)
	}
	t.CreatedAt = FromMS(created)
	return &t, nil
}

// parsed remembers the JSON columns of endpoints already decoded: every
// publish reads the tenant's endpoints (the fan-out), and their
// event_types and headers rarely change. Each caller gets its own copy.
var parsed = &jsonColumns{}

type jsonColumns struct {
	mu    sync.Mutex
	types map[string][]string
	hdrs  map[string]map[string]string
}

// maxParsed bounds each cache; past it the cache starts again.
const maxParsed = 4096

func (c *jsonColumns) eventTypes(raw string) ([]string, error) {
	c.mu.Lock()
	v, ok := c.types[raw]
	c.mu.Unlock()
	if !ok {
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			return nil, err
		}
		c.mu.Lock()
		if c.types == nil || len(c.types) >= maxParsed {
			c.types = map[string][]string{}
		}
		c.types[raw] = v
		c.mu.Unlock()
	}
	return append([]string(nil), v...), nil
}

func (c *jsonColumns) headers(raw string) (map[string]string, error) {
	c.mu.Lock()
	v, ok := c.hdrs[raw]
	c.mu.Unlock()
	if !ok {
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			return nil, err
		}
		c.mu.Lock()
		if c.hdrs == nil || len(c.hdrs) >= maxParsed {
			c.hdrs = map[string]map[string]string{}
		}
		c.hdrs[raw] = v
		c.mu.Unlock()
	}
	return maps.Clone(v), nil
}

// ScanEndpoint reads EndpointCols.
func (db *DB) ScanEndpoint(row Scanner) (*slotwire.Endpoint, error) {
	var e slotwire.Endpoint
	var types, headers, apps, stypes, auth, tlsCfg string
	var failing, prevUntil sql.NullInt64
	var created, updated int64
	if err := row.Scan(&e.ID, &e.TenantID, &e.URL, &e.Description, &types, &e.Enabled, &e.DisabledReason, &headers,
		&e.Secret, &e.MaxConcurrency, &e.Ordering, &e.RateLimit, &failing, &created, &updated,
		&apps, &stypes, &e.PayloadFormat, &e.RESTHook, &e.PreviousSecret, &prevUntil,
		&e.SignatureProfile, &e.SignatureHeader, &e.Verify, &e.VerifiedURL, &auth, &tlsCfg,
		&e.Filter, &e.Transform, &e.Type, &e.Email, &e.Offset); err != nil {
		return nil, db.scanErr("endpoint", err)
	}
	e.PreviousSecretUntil = nullMS(prevUntil)
	e.PendingVerification = e.Verify && e.VerifiedURL != e.URL
	var err error
	if e.Secret, err = db.open(e.Secret); err == nil {
		headers, err = db.open(headers)
	}
	if err == nil {
		e.PreviousSecret, err = db.open(e.PreviousSecret)
	}
	if err == nil {
		err = db.openJSON(auth, &e.Auth)
	}
	if err == nil {
		err = db.openJSON(tlsCfg, &e.TLS)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: endpoint %s: %w", db.D.Name(), e.ID, err)
	}
	if e.SourceApps, err = parsed.eventTypes(apps); err == nil {
		e.SourceTypes, err = parsed.eventTypes(stypes)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: endpoint %s sources: %w", db.D.Name(), e.ID, err)
	}
	if e.EventTypes, err = parsed.eventTypes(types); err != nil {
		return nil, fmt.Errorf("%s: endpoint %s event_types: %w", db.D.Name(), e.ID, err)
	}
	if e.Headers, err = parsed.headers(headers); err != nil {
		return nil, fmt.Errorf("%s: endpoint %s headers: %w", db.D.Name(), e.ID, err)
	}
	e.FailingSince = nullMS(failing)
	e.CreatedAt, e.UpdatedAt = FromMS(created), FromMS(updated)
	return &e, nil
}

// sealJSON stores v (a pointer; nil: "") as sealed JSON.
func (db *DB) sealJSON(v any) string {
	if reflect.ValueOf(v).IsNil() {
		return ""
	}
	b, _ := json.Marshal(v)
	return db.seal(string(b))
}

// openJSON reads sealed JSON into *dst (left nil for "").
func (db *DB) openJSON(stored string, dst any) error {
	if stored == "" {
		return nil
	}
	plain, err := db.open(stored)
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(plain), dst)
}

// open decrypts a stored secret (as is without a Box).
func (db *DB) open(v string) (string, error) {
	if db.Box == nil {
		return v, nil
	}
	return db.Box.Open(v)
}

// seal encrypts a secret to store (as is without a Box).
func (db *DB) seal(v string) string {
	if db.Box == nil {
		return v
	}
	return db.Box.Seal(v)
}

// endpointArgs are the values of EndpointCols, secrets sealed.
func (db *DB) endpointArgs(e *slotwire.Endpoint) []any {
	a := EndpointArgs(e)
	a[7], a[8], a[19] = db.seal(a[7].(string)), db.seal(a[8].(string)), db.seal(a[19].(string))
	a[25], a[26] = db.sealJSON(e.Auth), db.sealJSON(e.TLS)
	return a
}

// EndpointArgs are the values of EndpointCols, as they are.
func EndpointArgs(e *slotwire.Endpoint) []any {
	types, _ := json.Marshal(e.EventTypes)
	if e.Headers == nil {
		e.Headers = map[string]string{}
	}
	headers, _ := json.Marshal(e.Headers)
	return []any{e.ID, e.TenantID, e.URL, e.Description, string(types), e.Enabled, e.DisabledReason, string(headers),
		e.Secret, e.MaxConcurrency, e.Ordering, e.RateLimit, optMS(e.FailingSince), MS(e.CreatedAt), MS(e.UpdatedAt),
		jsonList(e.SourceApps), jsonList(e.SourceTypes), e.PayloadFormat, e.RESTHook, e.PreviousSecret, optMS(e.PreviousSecretUntil),
		e.SignatureProfile, e.SignatureHeader, e.Verify, e.VerifiedURL, "", "", // auth, tls: see endpointArgs
		e.Filter, e.Transform, endpointType(e.Type), e.Email, e.Offset}
}

// endpointType is the stored type ("" is http).
func endpointType(t string) string {
	if t == "" {
		return slotwire.EndpointHTTP
	}
	return t
}

// jsonList is a list as a JSON array, [] for none.
func jsonList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l)
	return string(b)
}

// ScanDelivery reads DeliveryCols, then extra.
func (db *DB) ScanDelivery(row Scanner, extra ...any) (*slotwire.Delivery, error) {
	var d slotwire.Delivery
	var next sql.NullInt64
	var replay sql.NullString
	var created, updated int64
	var archived sql.NullInt64
	dest := []any{&d.Seq, &d.ID, &d.TenantID, &d.EndpointID, &d.EventID, &d.EventType, &d.Status, &d.Attempts, &next,
		&d.LastStatusCode, &d.LastError, &replay, &d.OrderingKey, &created, &updated, &archived}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, db.scanErr("delivery", err)
	}
	if d.Status == slotwire.StatusPending || d.Status == slotwire.StatusInflight {
		d.NextAttemptAt = nullMS(next)
	}
	d.ReplayOf = replay.String
	d.CreatedAt, d.UpdatedAt, d.ArchivedAt = FromMS(created), FromMS(updated), nullMS(archived)
	return &d, nil
}
