package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/receiver"
)

// fileTrace reports which of the SQLite database's files (the database,
// its WAL and shared-memory index) hold s, ASCII letters in any case.
func fileTrace(t *testing.T, db, s string) []string {
	t.Helper()
	var in []string
	for _, path := range []string{db, db + "-wal", db + "-shm"} {
		b, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(bytes.ToLower(b), []byte(strings.ToLower(s))) {
			in = append(in, filepath.Base(path))
		}
	}
	return in
}

// An erasure through the HTTP API of the real binary leaves no trace of
// the person's address in the SQLite files, where it was before: in a
// scheduling customer (changed once before), an appointment's notes, the
// events of both, a published event, and the attempts of a receiver that
// echoes every body. Checked while the server runs (the erasure
// checkpointed and truncated the WAL) and again after it stopped.
//
// Each safeguard is needed here: without the truncating checkpoint the
// old pages stay in the WAL; without secure_delete fully on in the
// erasure the freed overflow page of the long event keeps the address;
// without the writer's everyday secure_delete FAST a page split before
// the erasure (the deliveries' root, when the echoed bodies arrived)
// leaves a copy of rows in the page it emptied.
func TestErasureLeavesNoTraceInTheSQLiteFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	email := "erase-" + hex.EncodeToString(rnd[:]) + "@example.com"
	addr, db := freeAddr(t), filepath.Join(t.TempDir(), "s.db")
	p := startProc(t, db, addr)
	ctx := context.Background()
	ten, err := client.New("http://"+addr, "adm").CreateTenant(ctx, "Acme", "unlimited")
	if err != nil {
		t.Fatal(err)
	}
	c := client.New("http://"+addr, ten.APIKey)
	echo := receiver.New(func(_ int, w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		_, _ = b.ReadFrom(r.Body)
		_, _ = w.Write(b.Bytes())
	})
	defer echo.Close()
	url := echo.URL + "/hooks"
	if _, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: &url, EventTypes: &[]string{"*"}}); err != nil {
		t.Fatal(err)
	}
	sent := storePerson(t, c, email)
	waitDelivered(t, c, echo, sent)
	if in := fileTrace(t, db, email); len(in) == 0 {
		t.Fatal("the address is in none of the files before the erasure: the test proves nothing")
	}

	e, err := c.Erase(ctx, client.ErasureInput{Email: strings.ToUpper(email)})
	if err != nil {
		t.Fatal(err)
	}
	// Every event but resource.created holds the address, and so does the
	// echo of each but the long one's (the first 4 KiB are kept).
	if e.Counts["customers"] != 1 || e.Counts["appointments"] != 1 || e.Counts["events"] != sent-1 || e.Counts["attempts"] != sent-2 {
		t.Fatalf("counts = %v, want 1 customer, 1 appointment, %d events, %d attempts", e.Counts, sent-1, sent-2)
	}
	if in := fileTrace(t, db, email); len(in) > 0 {
		t.Fatalf("after the erasure the address is still in %v", in)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("slotwire exited: %v\n%s", err, p.log)
	}
	if in := fileTrace(t, db, email); len(in) > 0 {
		t.Fatalf("after the server stopped the address is in %v", in)
	}
}

// storePerson stores the address in a customer, an appointment's notes and
// a published event (each with its webhook), and returns how many events
// that made.
func storePerson(t *testing.T, c *client.Client, email string) int {
	t.Helper()
	ctx := context.Background()
	post := func(path string, body map[string]any) string {
		t.Helper()
		var out struct{ ID string }
		if err := c.Do(ctx, "POST", path, body, &out); err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		return out.ID
	}
	day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 2)
	res := post("/v1/resources", map[string]any{"name": "Room 1", "kind": "room"})
	cus := post("/v1/customers", map[string]any{"name": "Jan Janssens", "email": email, "phone": "+32 470 12 34 56"})
	// A change before the erasure leaves the old row's bytes behind unless
	// the writer zeroes them.
	if err := c.Do(ctx, "PATCH", "/v1/customers/"+cus, map[string]any{"phone": "+32 470 65 43 21"}, nil); err != nil {
		t.Fatal(err)
	}
	post("/v1/appointments", map[string]any{"start": day.Add(9 * time.Hour), "end": day.Add(10 * time.Hour),
		"resource_ids": []string{res}, "customer_id": cus, "origin": "online", "notes": "confirm with " + email})
	// Long comments before the address: the stored payload overflows its
	// page, the address in an overflow page, which the erased (short)
	// payload no longer needs and frees.
	contact := map[string]any{"comments": strings.Repeat("called back, ", 500), "email": email, "name": "Jan"}
	if _, err := c.Publish(ctx, "crm.contact.updated", map[string]any{"contact": contact}, ""); err != nil {
		t.Fatal(err)
	}
	return 5 // resource.created, customer.created and .updated, appointment.created, crm.contact.updated
}

// waitDelivered waits until n webhooks were answered and recorded as
// succeeded.
func waitDelivered(t *testing.T, c *client.Client, rc *receiver.Receiver, n int) {
	t.Helper()
	if !rc.WaitCount(n, 15*time.Second) {
		t.Fatalf("the receiver got %d webhooks, want %d", rc.Count(), n)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		l, err := c.SearchDeliveries(context.Background(), client.DeliveryQuery{Status: client.StatusSucceeded})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Data) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries recorded as succeeded, want %d", len(l.Data), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
