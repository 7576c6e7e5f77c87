package scheduling

import (
	"net/http"
	"sync"

	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/slotwire/slotwire/internal/mail"
	"github.com/slotwire/slotwire/internal/netguard"
	"github.com/slotwire/slotwire/internal/secrets"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// ID prefixes of scheduling objects.
const (
	PrefixResource       = "res_"
	PrefixShift          = "shf_"
	PrefixService        = "svc_"
	PrefixServiceGroup   = "sgr_"
	PrefixCustomer       = "cus_"
	PrefixCustomerField  = "cfd_"
	PrefixManager        = "mgr_"
	PrefixAppointment    = "apt_"
	PrefixGroupEvent     = "gev_"
	PrefixBooking        = "gbk_"
	PrefixTimer          = "tmr_"
	PrefixNotification   = "ntf_"
	maxBody              = 1 << 20
	maxText              = 10000
	maxName              = 200
	maxCustomFieldsBytes = 16 << 10
)

// Config of the scheduling core.
type Config struct {
	// Store reads through read-only transactions and writes domain rows
	// and their events in one transaction (transactional outbox).
	Store store.Transactor
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Wake is told about endpoints with new pending deliveries after each
	// committed change, so the dispatcher sends them at once.
	Wake func(endpointIDs ...string)
	// BeforeCommit, when set, runs after a change and its events are
	// written and before the transaction commits; an error rolls both back.
	// op names the operation, e.g. "appointment.create". For tests.
	BeforeCommit func(op string) error
	// Mailer sends notification e-mails to customers (nil: e-mail
	// notifications fail, saying no SMTP server is configured).
	Mailer Mailer
	// Box seals the sync hooks' signing secrets (nil: stored as they are).
	Box *secrets.Box
	// Guard is the SSRF policy of sync hook URLs (nil: nothing private).
	Guard *netguard.Guard
	// HookTransport overrides the sync hooks' HTTP transport (tests).
	HookTransport http.RoundTripper
	// EndpointOffsets returns the offsets of a tenant's endpoints (their
	// "offset" setting): appointment.starting and appointment.ended fire
	// at each of them too. It reads in the caller's transaction tx.
	EndpointOffsets func(ctx context.Context, tx store.ReadTx, tenantID string) ([]time.Duration, error)
	// Retention: notifications that ended longer ago are deleted (the
	// node's --retention; 0 keeps them).
	Retention time.Duration
}

// Mailer sends one e-mail (internal/mail.Sender).
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// Service is the scheduling core. Its collections (Resources, Customers …)
// and methods do the work; Register exposes them over HTTP.
type Service struct {
	cfg Config
	log *slog.Logger

	hookOnce sync.Once
	hooks    *http.Client // the sync hooks' client, guarded

	Resources      *Collection[ResourceFields]
	Shifts         *Collection[ShiftFields]
	Services       *Collection[ServiceFields]
	ServiceGroups  *Collection[ServiceGroupFields]
	Customers      *Collection[CustomerFields]
	CustomerFields *Collection[CustomerFieldFields]
	Managers       *Collection[ManagerFields]
}

// New returns the scheduling core.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	catalogTypes() // build the catalog and compile its schemas now, not on the first event
	s := &Service{cfg: cfg, log: cfg.Logger}
	s.Resources = resourceCollection(s)
	s.Shifts = shiftCollection(s)
	s.Services = serviceCollection(s)
	s.ServiceGroups = serviceGroupCollection(s)
	s.Customers = customerCollection(s)
	s.CustomerFields = customerFieldCollection(s)
	s.Managers = managerCollection(s)
	return s
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

// txn is one transaction of one tenant (a read, or a write with its outbox).
type txn struct {
	ctx    context.Context
	tx     store.ReadTx
	w      store.WriteTx // nil in a read transaction
	tenant string
	now    time.Time
	svc    *Service
}

func (t *txn) exec(q string, args ...any) (sql.Result, error) {
	if t.w == nil {
		return nil, errors.New("scheduling: write in a read transaction")
	}
	r, err := t.w.ExecContext(t.ctx, t.tx.Dialect().Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("scheduling: %w", err)
	}
	return r, nil
}

func (t *txn) query(q string, args ...any) (*sql.Rows, error) {
	r, err := t.tx.QueryContext(t.ctx, t.tx.Dialect().Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("scheduling: %w", err)
	}
	return r, nil
}

func (t *txn) queryRow(q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(t.ctx, t.tx.Dialect().Rebind(q), args...)
}

// exists reports whether a query returns a row.
func (t *txn) exists(q string, args ...any) (bool, error) {
	var one int
	err := t.queryRow(q, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("scheduling: %w", err)
	}
	return true, nil
}

// apptEvent emits an event about appointment a: its ordering key is a's
// id, its source a's back-office app and type (endpoints route by them).
func (t *txn) apptEvent(a *Appointment, typ string, v any) error {
	var src *slotwire.EventSource
	if a.Source.App != "" || a.Source.Type != "" {
		src = &slotwire.EventSource{App: a.Source.App, Type: a.Source.Type}
	}
	if err := t.emit(a.ID, typ, src, v); err != nil {
		return err
	}
	return t.changed(a, typ, v)
}

// event emits an event of this tenant with data marshalled from v. key is
// its ordering key: the appointment, group event or record it is about,
// so that a key-ordered endpoint gets one record's changes in order.
func (t *txn) event(key, typ string, v any) error { return t.emit(key, typ, nil, v) }

func (t *txn) emit(key, typ string, src *slotwire.EventSource, v any) error {
	return t.emitAt(key, typ, src, v, "")
}

// emitAt emits an event fired at an offset (the endpoints with that
// offset get it).
func (t *txn) emitAt(key, typ string, src *slotwire.EventSource, v any, offset string) error {
	if t.w == nil {
		return errors.New("scheduling: event emitted in a read transaction")
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("scheduling: event %s: %w", typ, err)
	}
	return t.w.Emit(&slotwire.Event{
		ID: slotwire.NewID(slotwire.PrefixEvent), TenantID: t.tenant, Type: typ,
		Data: data, OrderingKey: key, Source: src, CreatedAt: t.now, Offset: offset,
	})
}

// write runs fn in a write transaction: its rows and events commit
// together, then the dispatcher is woken.
func (s *Service) write(ctx context.Context, tenantID, op string, fn func(t *txn) error) error {
	res, err := s.cfg.Store.Write(ctx, func(ctx context.Context, tx store.WriteTx) error {
		t := &txn{ctx: ctx, tx: tx, w: tx, tenant: tenantID, now: s.now(), svc: s}
		if err := fn(t); err != nil {
			return err
		}
		if s.cfg.BeforeCommit != nil {
			return s.cfg.BeforeCommit(op)
		}
		return nil
	})
	if err != nil {
		if slotwire.ErrorCode(err) == slotwire.ECodeInternal {
			s.log.ErrorContext(ctx, "scheduling write failed", "op", op, "tenant", tenantID, "err", err)
		}
		return err
	}
	if s.cfg.Wake != nil && len(res.EndpointIDs) > 0 {
		s.cfg.Wake(res.EndpointIDs...)
	}
	return nil
}

// read runs fn in a read-only transaction on the store's reader pool: it
// neither waits for nor takes the write lock.
func (s *Service) read(ctx context.Context, tenantID string, fn func(t *txn) error) error {
	return s.cfg.Store.Read(ctx, func(ctx context.Context, tx store.ReadTx) error {
		return fn(&txn{ctx: ctx, tx: tx, tenant: tenantID, now: s.now(), svc: s})
	})
}

func notFound(what, id string) error {
	return slotwire.Errorf(slotwire.ECodeNotFound, "%s %s not found", what, id)
}

func invalid(format string, args ...any) error {
	return slotwire.Errorf(slotwire.ECodeInvalid, format, args...)
}

func unprocessable(format string, args ...any) error {
	return slotwire.Errorf(slotwire.ECodeUnprocessable, format, args...)
}

func conflict(format string, args ...any) error {
	return slotwire.Errorf(slotwire.ECodeConflict, format, args...)
}

// guard is the SSRF policy of sync hooks.
func (s *Service) guard() *netguard.Guard {
	if s.cfg.Guard == nil {
		return &netguard.Guard{}
	}
	return s.cfg.Guard
}
