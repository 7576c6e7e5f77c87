package slotwire

import (
	"encoding/json"
	"testing"
	"time"
)

func TestErasureMarshalsFlat(t *testing.T) {
	e := &Erasure{ID: "era_1", TenantID: "ten_1", APIKeyID: "key_1", Subject: "email",
		Counts:    map[string]int{"events": 3, "customers": 1, "attempts": 0},
		CreatedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	b, err := json.Marshal(e)
	want := `{"id":"era_1","created_at":"2026-12-01T09:00:00Z","subject":"email","api_key_id":"key_1","attempts":0,"customers":1,"events":3}`
	if err != nil || string(b) != want {
		t.Fatalf("json = %s, %v\nwant   %s", b, err, want)
	}
	if v, err := json.Marshal(*e); err != nil || string(v) != want {
		t.Fatalf("json of the value = %s, %v", v, err)
	}
}
