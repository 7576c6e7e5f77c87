package server_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/receiver"
)

// An archived delivery keeps its id, type, times, status and codes; its
// payload, download and replay answer 410 saying when it was archived;
// its event's data is gone; the search finds it by status archived.
func TestRetentionArchives(t *testing.T) {
	t.Parallel()
	cfg := fast()
	cfg.Delivery.Timeout, cfg.Delivery.Lease = 150*time.Millisecond, 400*time.Millisecond // maintenance every 100 ms
	cfg.Delivery.Retention = 300 * time.Millisecond
	e := start(t, cfg)
	c := e.tenant("Acme")
	ctx := context.Background()
	rc := receiver.New(nil)
	defer rc.Close()
	ep := endpoint(t, c, rc.URL, "*")
	id := publish(t, c, "visit.created", map[string]string{"email": "ada@example.com"}, "")
	list, err := c.ListDeliveries(ctx, ep, "", "", 0)
	if err != nil || len(list.Data) != 1 {
		t.Fatalf("deliveries = %+v, %v", list, err)
	}
	d := list.Data[0]
	var det *client.DeliveryDetail
	e.eventually(func() bool {
		det, err = c.GetDelivery(ctx, d.ID)
		return err == nil && det.ArchivedAt != nil
	})
	if det.Status != "succeeded" || det.LastStatusCode != 200 || det.EventType != "visit.created" || len(det.AttemptLog) != 1 ||
		det.AttemptLog[0].StatusCode != 200 || det.AttemptLog[0].RequestHeaders != nil || det.AttemptLog[0].ResponseHeaders != nil {
		t.Fatalf("archived delivery = %+v", det)
	}
	day := det.ArchivedAt.UTC().Format(time.RFC3339)
	for _, call := range []func() error{
		func() error { _, err := c.DeliveryPayload(ctx, d.ID); return err },
		func() error { return c.Do(ctx, "GET", "/v1/deliveries/"+d.ID+"/payload?download=1", nil, nil) },
		func() error { _, err := c.Replay(ctx, d.ID); return err },
	} {
		var ce *client.Error
		if err := call(); !errors.As(err, &ce) || ce.Status != 410 || ce.Code != "archived" || !strings.Contains(ce.Message, day) {
			t.Fatalf("archived: %v", err)
		}
	}
	ev, err := c.GetEvent(ctx, id)
	if err != nil || ev.ArchivedAt == nil || string(ev.Data) != "null" {
		t.Fatalf("archived event = %+v, %v", ev, err)
	}
	var page deliveryPage
	if err := c.Do(ctx, "GET", "/v1/deliveries?status=archived", nil, &page); err != nil || len(page.Data) != 1 || page.Data[0].ID != d.ID {
		t.Fatalf("status=archived: %+v, %v", page, err)
	}
}

// Under a steady load with a short retention and deletion, the SQLite
// file stops growing: the second phase writes twice what the first did,
// and the file grows by much less.
func TestSQLiteFileLevelsOff(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := fast()
	cfg.DB = filepath.Join(dir, "slotwire.db")
	cfg.Delivery.Timeout, cfg.Delivery.Lease = 150*time.Millisecond, 400*time.Millisecond // maintenance every 100 ms
	cfg.Delivery.Retention, cfg.Delivery.DeleteAfter = 200*time.Millisecond, 200*time.Millisecond
	e := start(t, cfg)
	c := e.tenant("Acme")
	rc := receiver.New(nil)
	defer rc.Close()
	endpoint(t, c, rc.URL, "*")
	body := map[string]string{"notes": strings.Repeat("x", 4000)}
	load := func(n int) {
		for range n {
			publish(t, c, "visit.created", body, "")
		}
	}
	size := func() int64 {
		var total int64
		for _, f := range []string{"slotwire.db", "slotwire.db-wal"} {
			if st, err := os.Stat(filepath.Join(dir, f)); err == nil {
				total += st.Size()
			}
		}
		return total
	}
	load(1500) // 6 MB of payloads
	time.Sleep(time.Second)
	first := size()
	load(3000) // 12 MB more
	time.Sleep(time.Second)
	second := size()
	t.Logf("file after 6 MB: %d bytes, after 18 MB: %d bytes", first, second)
	if second > first+first/2 {
		t.Fatalf("the file grew from %d to %d bytes", first, second)
	}
}
