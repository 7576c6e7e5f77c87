package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// testWriteEmits: a module's write and the events it emits commit together
// (transactional outbox), with deliveries to the subscribed endpoints; a
// rolled back write emits nothing.
func testWriteEmits(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	ep := newEndpoint(t, s, ten, "plan.*")
	ev := &slotwire.Event{ID: slotwire.NewID(slotwire.PrefixEvent), TenantID: ten.ID, Type: "plan.changed",
		Data: []byte(`{"plan":"enterprise"}`), CreatedAt: t0}
	res, err := s.Write(ctx(), func(ctx context.Context, tx store.WriteTx) error {
		if _, err := tx.ExecContext(ctx, tx.Dialect().Rebind(`UPDATE tenants SET plan = ? WHERE id = ?`), "enterprise", ten.ID); err != nil {
			return err
		}
		return tx.Emit(ev)
	})
	must(t, err)
	if len(res.Events) != 1 || len(res.EndpointIDs) != 1 || res.EndpointIDs[0] != ep.ID {
		t.Fatalf("write result = %+v", res)
	}
	got, err := s.GetEvent(ctx(), ten.ID, ev.ID)
	must(t, err)
	if string(got.Payload) != string(ev.BuildPayload()) {
		t.Fatalf("payload = %s", got.Payload)
	}
	ds, err := s.ListDeliveries(ctx(), ten.ID, store.DeliveryFilter{EndpointID: ep.ID})
	must(t, err)
	if len(ds) != 1 || ds[0].Status != slotwire.StatusPending || ds[0].EventID != ev.ID {
		t.Fatalf("deliveries = %+v", ds)
	}
	if tn, _ := s.GetTenant(ctx(), ten.ID); tn.Plan != "enterprise" {
		t.Fatal("the write was lost")
	}
	ev2 := &slotwire.Event{ID: slotwire.NewID(slotwire.PrefixEvent), TenantID: ten.ID, Type: "plan.changed", Data: []byte(`{}`), CreatedAt: t0}
	boom := errors.New("boom")
	_, err = s.Write(ctx(), func(ctx context.Context, tx store.WriteTx) error {
		if err := tx.Emit(ev2); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("write error = %v", err)
	}
	notFound(t, errOf(s.GetEvent(ctx(), ten.ID, ev2.ID)))
	if ds, _ := s.ListDeliveries(ctx(), ten.ID, store.DeliveryFilter{EndpointID: ep.ID}); len(ds) != 1 {
		t.Fatalf("a rolled back write left %d deliveries", len(ds))
	}
}

func errOf[T any](_ T, err error) error { return err }

// testReadBesideWrite: a module's read sees committed data, cannot write,
// and completes while a write transaction is held open (on SQLite: it does
// not wait for the write lock).
func testReadBesideWrite(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	holding, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := s.Write(ctx(), func(ctx context.Context, tx store.WriteTx) error {
			if _, err := tx.ExecContext(ctx, tx.Dialect().Rebind(`UPDATE tenants SET name = ? WHERE id = ?`), "Held", ten.ID); err != nil {
				return err
			}
			close(holding)
			<-release
			return nil
		})
		done <- err
	}()
	<-holding
	rctx, cancel := context.WithTimeout(ctx(), 5*time.Second)
	defer cancel()
	var name string
	err := s.Read(rctx, func(ctx context.Context, tx store.ReadTx) error {
		return tx.QueryRowContext(ctx, tx.Dialect().Rebind(`SELECT name FROM tenants WHERE id = ?`), ten.ID).Scan(&name)
	})
	close(release)
	must(t, err)
	must(t, <-done)
	if name != "Acme" {
		t.Fatalf("read saw %q, the uncommitted write", name)
	}
	err = s.Read(ctx(), func(ctx context.Context, tx store.ReadTx) error {
		rows, err := tx.QueryContext(ctx, tx.Dialect().Rebind(`UPDATE tenants SET name = ? WHERE id = ? RETURNING id`), "X", ten.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
		}
		return rows.Err()
	})
	if err == nil {
		t.Fatal("a read transaction wrote")
	}
}
