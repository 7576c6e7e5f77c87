package slotwire

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestFormatHeaders(t *testing.T) {
	secret := func(n string) bool { return n == "Authorization" }
	tests := []struct {
		name string
		h    http.Header
		want map[string]string
	}{
		{"empty", http.Header{}, nil},
		{"sorted, masked, repeated", http.Header{"X-B": {"2", "3"}, "Authorization": {"Bearer s3cret"}, "A": {"1"}},
			map[string]string{"A": "1", "Authorization": Masked, "X-B": "2, 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FormatHeaders(tt.h, secret)
			if strings.Contains(string(got), "s3cret") {
				t.Fatalf("secret kept: %q", got)
			}
			m := got.Map()
			if len(m) != len(tt.want) {
				t.Fatalf("map = %v, want %v", m, tt.want)
			}
			for k, v := range tt.want {
				if m[k] != v {
					t.Fatalf("%s = %q, want %q", k, m[k], v)
				}
			}
		})
	}
}

func TestFormatHeadersBounded(t *testing.T) {
	h := http.Header{}
	for i := range 200 {
		h.Set("X-Big-"+strings.Repeat("a", i%20)+string(rune('a'+i%26)), strings.Repeat("v", 100))
	}
	got := FormatHeaders(h, nil)
	if len(got) > MaxHeaderText || !strings.HasSuffix(string(got), truncatedLine) {
		t.Fatalf("len %d, ends %q", len(got), got[len(got)-40:])
	}
	raw, err := json.Marshal(got)
	if err != nil || !strings.Contains(string(raw), `"...":"[truncated]"`) {
		t.Fatalf("json = %.80s…, %v", raw, err)
	}
}
