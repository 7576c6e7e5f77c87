package netguard

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestForbidden(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		ip   string
		want bool
	}{
		{"127.0.0.1", true}, {"10.1.2.3", true}, {"172.16.0.1", true}, {"192.168.1.1", true},
		{"169.254.169.254", true}, {"0.0.0.0", true}, {"100.64.1.1", true}, {"::1", true},
		{"fe80::1", true}, {"fd00::1", true}, {"::ffff:127.0.0.1", true}, {"224.0.0.1", true},
		{"8.8.8.8", false}, {"93.184.216.34", false}, {"2606:4700::1111", false},
	} {
		if got := Forbidden(netip.MustParseAddr(c.ip)); got != c.want {
			t.Errorf("Forbidden(%s) = %v, want %v", c.ip, got, c.want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	g := &Guard{}
	ctx := context.Background()
	for _, u := range []string{
		"http://127.0.0.1:9000/x", "https://localhost/x", "http://[::1]/", "https://10.0.0.5/hook",
		"http://169.254.169.254/latest/meta-data", "ftp://example.com/", "https:///nohost",
		"https://user:pw@example.com/", "not a url", "http://app.localhost/",
	} {
		if err := g.CheckURL(ctx, u); err == nil {
			t.Errorf("CheckURL(%q): want error", u)
		}
	}
	if err := g.CheckURL(ctx, "https://93.184.216.34/hook"); err != nil {
		t.Errorf("public IP refused: %v", err)
	}
	allow := &Guard{AllowPrivate: true}
	if err := allow.CheckURL(ctx, "http://127.0.0.1:9000/x"); err != nil {
		t.Errorf("AllowPrivate: %v", err)
	}
}

func TestDialRefusesLoopback(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	g := &Guard{}
	client := &http.Client{Transport: &http.Transport{DialContext: g.Dialer(time.Second).DialContext}}
	_, err := client.Get(srv.URL)
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("dial to loopback: got %v, want ErrForbidden", err)
	}
	g.AllowPrivate = true
	client = &http.Client{Transport: &http.Transport{DialContext: g.Dialer(time.Second).DialContext}}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}
