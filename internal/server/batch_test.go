package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire/internal/receiver"
)

type batchAnswer struct {
	Data []struct {
		ID        string `json:"id"`
		Duplicate bool   `json:"duplicate"`
		Error     *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	} `json:"data"`
}

// POST /v1/events/batch stores the valid events of a batch in one
// transaction and answers one result per event, in order (issue 9.13).
func TestPublishBatch(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	rc := receiver.New(nil)
	defer rc.Close()
	endpoint(t, c, rc.URL+"/hook", "*")
	ctx := context.Background()
	body := `{"events":[
		{"type":"invoice.paid","data":{"n":1},"idempotency_key":"inv-1"},
		{"type":"bad type","data":{}},
		{"type":"invoice.paid","data":{"n":2}},
		{"type":"invoice.paid","data":{"n":1},"idempotency_key":"inv-1"},
		{"type":"endpoint.disabled","data":{}}]}`
	var got batchAnswer
	if err := c.Do(ctx, "POST", "/v1/events/batch", []byte(body), &got); err != nil {
		t.Fatal(err)
	}
	d := got.Data
	if len(d) != 5 {
		t.Fatalf("answer = %+v", got)
	}
	if !strings.HasPrefix(d[0].ID, "evt_") || d[0].Error != nil || d[0].Duplicate {
		t.Errorf("event 0 = %+v", d[0])
	}
	if d[1].ID != "" || d[1].Error == nil || d[1].Error.Code != "invalid_request" {
		t.Errorf("event 1 = %+v", d[1])
	}
	if !strings.HasPrefix(d[2].ID, "evt_") || d[2].ID == d[0].ID {
		t.Errorf("event 2 = %+v", d[2])
	}
	if d[3].ID != d[0].ID || !d[3].Duplicate {
		t.Errorf("event 3 (same key as 0) = %+v", d[3])
	}
	if d[4].Error == nil || !strings.Contains(d[4].Error.Message, "reserved") {
		t.Errorf("event 4 = %+v", d[4])
	}
	if !rc.WaitCount(2, 10*time.Second) {
		t.Fatalf("delivered %d, want 2", rc.Count())
	}
	time.Sleep(100 * time.Millisecond)
	if rc.Count() != 2 {
		t.Fatalf("delivered %d, want 2", rc.Count())
	}
	// The batch as a whole is bounded.
	var many []string
	for i := 0; i < 101; i++ {
		many = append(many, fmt.Sprintf(`{"type":"a.b","data":{"i":%d}}`, i))
	}
	err := c.Do(ctx, "POST", "/v1/events/batch", []byte(`{"events":[`+strings.Join(many, ",")+`]}`), nil)
	apiErr(t, err, 400, "invalid_request")
	apiErr(t, c.Do(ctx, "POST", "/v1/events/batch", []byte(`{"events":[]}`), nil), 400, "invalid_request")
}
