package jq

import (
	"context"
	"strings"
	"testing"
)

const payload = `{"id":"evt_1","type":"appointment.created","data":{"customer":{"email":"a@example.com"},"price":45,"tags":["x"]}}`

func TestFilterAndTransform(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		expr string
		want bool
		err  string
	}{
		{`.data.price > 40`, true, ""},
		{`.data.price > 50`, false, ""},
		{`.data.missing`, false, ""},
		{`empty`, false, ""},
		{`.data.customer.email | test("@example.com$")`, true, ""},
		{`.data.price | error("boom")`, false, "boom"},
		{`def f: f; f`, false, "longer than"},
		{`[range(1e9)] | length > 0`, false, "longer than"},
	} {
		got, err := Filter(ctx, c.expr, []byte(payload))
		if got != c.want || (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("Filter(%s) = %v, %v", c.expr, got, err)
		}
	}
	out, err := Transform(ctx, `{email: .data.customer.email, kind: .type}`, []byte(payload))
	if err != nil || string(out) != `{"email":"a@example.com","kind":"appointment.created"}` {
		t.Fatalf("Transform = %s, %v", out, err)
	}
	if _, err := Transform(ctx, `empty`, []byte(payload)); err == nil {
		t.Fatal("a transform with no output passed")
	}
	if _, err := Transform(ctx, `"a" * 300000`, []byte(payload)); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("an oversized transform passed: %v", err)
	}
	for _, bad := range []string{`.data |`, `{`, `undefined_function(1)`} {
		if _, err := Compile(bad); err == nil {
			t.Errorf("Compile(%q) passed", bad)
		}
	}
}
