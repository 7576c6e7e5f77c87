package scheduling

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

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
	maxBody              = 1 << 20
	maxText              = 10000
	maxName              = 200
	maxCustomFieldsBytes = 16 << 10
)

// Config of the scheduling core.
type Config struct {
	// Store writes domain rows and their events in one transaction.
	Store store.Outbox
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
}

// Service is the scheduling core. Its collections (Resources, Customers …)
// and methods do the work; Register exposes them over HTTP.
type Service struct {
	cfg Config
	log *slog.Logger

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

// txn is one Outbox transaction of one tenant.
type txn struct {
	ctx    context.Context
	tx     *sql.Tx
	d      store.Dialect
	emit   store.Emit
	tenant string
	now    time.Time
	write  bool
}

func (t *txn) exec(q string, args ...any) (sql.Result, error) {
	r, err := t.tx.ExecContext(t.ctx, t.d.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("scheduling: %w", err)
	}
	return r, nil
}

func (t *txn) query(q string, args ...any) (*sql.Rows, error) {
	r, err := t.tx.QueryContext(t.ctx, t.d.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("scheduling: %w", err)
	}
	return r, nil
}

func (t *txn) queryRow(q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(t.ctx, t.d.Rebind(q), args...)
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

// event emits an event of this tenant with data marshalled from v.
func (t *txn) event(typ string, v any) error {
	if !t.write {
		return errors.New("scheduling: event emitted in a read transaction")
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("scheduling: event %s: %w", typ, err)
	}
	return t.emit(&slotwire.Event{
		ID: slotwire.NewID(slotwire.PrefixEvent), TenantID: t.tenant, Type: typ,
		Data: data, CreatedAt: t.now,
	})
}

// write runs fn in an Outbox transaction: its rows and events commit
// together, then the dispatcher is woken.
func (s *Service) write(ctx context.Context, tenantID, op string, fn func(t *txn) error) error {
	res, err := s.cfg.Store.Outbox(ctx, func(ctx context.Context, tx *sql.Tx, d store.Dialect, emit store.Emit) error {
		t := &txn{ctx: ctx, tx: tx, d: d, emit: emit, tenant: tenantID, now: s.now(), write: true}
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

// read runs fn in a transaction that emits nothing (store.Outbox is the one
// way in to the database this package has).
func (s *Service) read(ctx context.Context, tenantID string, fn func(t *txn) error) error {
	_, err := s.cfg.Store.Outbox(ctx, func(ctx context.Context, tx *sql.Tx, d store.Dialect, emit store.Emit) error {
		return fn(&txn{ctx: ctx, tx: tx, d: d, emit: emit, tenant: tenantID, now: s.now()})
	})
	return err
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
