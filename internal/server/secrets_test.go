package server_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/receiver"
	"github.com/slotwire/slotwire/signature"
)

// Endpoint secrets and header values are encrypted in the database file
// (with a key file made beside it, 0600), masked in every read, and sent
// as they are.
func TestSecretsAtRest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := fast()
	cfg.DB = filepath.Join(dir, "slotwire.db")
	e := start(t, cfg)
	c := e.tenant("Acme")
	ctx := context.Background()
	rc := receiver.New(nil)
	defer rc.Close()
	const token = "Bearer tok-1234567890-very-secret-abcd"
	created, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr(rc.URL), EventTypes: &[]string{"*"},
		Headers: &map[string]string{"Authorization": token}})
	if err != nil {
		t.Fatal(err)
	}
	if created.Headers["Authorization"] != "Bearer ****abcd" {
		t.Fatalf("created endpoint shows headers %v", created.Headers)
	}
	got, _ := c.GetEndpoint(ctx, created.ID)
	list, _ := c.ListEndpoints(ctx, "", 10)
	if got.Headers["Authorization"] != "Bearer ****abcd" || list.Data[0].Headers["Authorization"] != "Bearer ****abcd" {
		t.Fatalf("reads show %v and %v", got.Headers, list.Data[0].Headers)
	}
	id := publish(t, c, "visit.created", map[string]int{"n": 1}, "")
	if !rc.WaitFor(10*time.Second, func() bool { return rc.IDs()[id] == 1 }) {
		t.Fatal("not delivered")
	}
	req := rc.Requests()[0]
	if req.Header.Get("Authorization") != token {
		t.Fatalf("sent Authorization %q", req.Header.Get("Authorization"))
	}
	h := req.Header
	if err := signature.Verify(created.Secret, h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"), req.Body, time.Now(), time.Minute); err != nil {
		t.Fatal(err)
	}
	e.node.Close()
	for _, f := range []string{"slotwire.db", "slotwire.db-wal"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			continue
		}
		for _, secret := range []string{created.Secret, "tok-1234567890-very-secret-abcd"} {
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("%s holds %q in plaintext", f, secret)
			}
		}
	}
	for _, f := range []string{"slotwire.db", "slotwire.key"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v", f, st.Mode(), err)
		}
	}
}
