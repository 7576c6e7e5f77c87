package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire/signature"
)

// The Standard Webhooks specification's test vector.
const (
	vecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS     = 1614265330
	vecBody   = `{"test": 2432232314}`
)

var vecNow = time.Unix(vecTS, 0).UTC().Add(10 * time.Second).Format(time.RFC3339)

// httpDump writes a raw request as verify reads it; with length, the dump
// has Content-Length.
func httpDump(h http.Header, body string, length bool) string {
	var b strings.Builder
	b.WriteString("POST /hooks HTTP/1.1\r\nHost: erp.example.com\r\n")
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if k != "Content-Length" {
			fmt.Fprintf(&b, "%s: %s\r\n", k, h.Get(k))
		}
	}
	if length {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n" + body)
	return b.String()
}

// standardRequest is a request signed as Slotwire signs a standard
// endpoint's.
func standardRequest(t *testing.T, secret, id string, ts time.Time, body string) http.Header {
	t.Helper()
	sig, err := signature.Sign(secret, id, ts, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {strconv.FormatInt(ts.Unix(), 10)}, "Webhook-Signature": {sig},
		"Content-Type": {"application/json"}}
}

func verifyCall(stdin string) cliCall { return cliCall{stdin: stdin} }

func TestVerifyStandard(t *testing.T) {
	t.Parallel()
	h := standardRequest(t, vecSecret, vecID, time.Unix(vecTS, 0), vecBody)
	dump := httpDump(h, vecBody, true)
	out := verifyCall(dump).must(t, "verify", "--secret", vecSecret, "--now", vecNow)
	if want := "verified: standard signature in webhook-signature, webhook-id " + vecID + ", signed 10s ago\n"; out != want {
		t.Fatalf("verify printed %q, want %q", out, want)
	}
	// The same request as FILE, as --headers and --body (lines, or a JSON
	// object of headers), with LF line ends, and without Content-Length.
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(s), 0o600)
		return p
	}
	hj, _ := json.Marshal(map[string]string{"webhook-id": vecID, "webhook-timestamp": strconv.Itoa(vecTS), "webhook-signature": h.Get("webhook-signature")})
	head, _, _ := strings.Cut(dump, "\r\n\r\n")
	for _, args := range [][]string{
		{write("request.http", dump)},
		{"--headers", write("headers.txt", head+"\r\n"), "--body", write("body.json", vecBody)},
		{"--headers", write("headers.json", string(hj)), "--body", write("body.json", vecBody)},
		{write("lf.http", strings.ReplaceAll(dump, "\r\n", "\n"))},
		{write("nolength.http", httpDump(h, vecBody, false))},
	} {
		verifyCall("").must(t, append([]string{"verify", "--secret", vecSecret, "--now", vecNow}, args...)...)
	}
	// A dump without Content-Length ending in a newline: the newline is
	// the file's.
	out = verifyCall(httpDump(h, vecBody+"\n", false)).must(t, "verify", "--secret", vecSecret, "--now", vecNow)
	if !strings.Contains(out, "without the final newline of the dump") {
		t.Fatalf("verify of a dump ending in a newline: %q", out)
	}
	if out := verifyCall(dump).must(t, "verify", "--secret", vecSecret, "--tolerance", "0"); !strings.Contains(out, "(timestamp not checked)") {
		t.Fatalf("verify --tolerance 0: %q", out)
	}
	var res verifyResult
	if err := json.Unmarshal([]byte(verifyCall(dump).must(t, "verify", "--secret", vecSecret, "--now", vecNow, "--json")), &res); err != nil ||
		!res.Verified || res.Profile != "standard" || res.WebhookID != vecID {
		t.Fatalf("verify --json: %+v, %v", res, err)
	}
}

func TestVerifyStandardFailures(t *testing.T) {
	t.Parallel()
	signed := time.Unix(vecTS, 0)
	h := standardRequest(t, vecSecret, vecID, signed, vecBody)
	otherKey := signature.NewSecret([]byte("another key of thirty-two bytes!"))
	at := func(d time.Duration) string { return signed.Add(d).UTC().Format(time.RFC3339) }
	noTS := h.Clone()
	noTS.Del("Webhook-Timestamp")
	v2 := h.Clone()
	v2.Set("Webhook-Signature", strings.Replace(h.Get("Webhook-Signature"), "v1,", "v2,", 1))
	// Slotwire sends compact JSON; a receiver's framework wrote it again.
	compact := `{"id":"evt_1","type":"order.paid","data":{"n":1}}`
	hc := standardRequest(t, vecSecret, vecID, signed, compact)
	pretty := "{\n  \"id\": \"evt_1\",\n  \"type\": \"order.paid\",\n  \"data\": {\n    \"n\": 1\n  }\n}"
	for _, c := range []struct {
		name, dump string
		args       []string
		code       int
		msg        string
	}{
		{"stale", httpDump(h, vecBody, true), []string{"--now", at(7*time.Minute + 30*time.Second)}, 1,
			"timestamp 2021-02-25T15:02:10Z is 7m30s old: outside the 5m tolerance by 2m30s (the signature itself matches)"},
		{"future", httpDump(h, vecBody, true), []string{"--now", at(-6 * time.Minute)}, 1,
			"timestamp 2021-02-25T15:02:10Z is 6m in the future: outside the 5m tolerance by 1m (the signature itself matches)"},
		{"stale, tolerance given", httpDump(h, vecBody, true), []string{"--now", at(time.Hour), "--tolerance", "30m"}, 1, "is 1h old: outside the 30m tolerance by 30m"},
		{"stale and another body", httpDump(h, `{"test": 1}`, true), []string{"--now", at(time.Hour)}, 1,
			"outside the 5m tolerance by 55m; the signature does not match either (wrong secret or body changed)"},
		{"wrong secret", httpDump(h, vecBody, true), []string{"--now", at(0), "--secret", otherKey}, 1, "signature does not match: wrong secret or body changed"},
		{"changed body", httpDump(h, `{"test": 2432232315}`, true), []string{"--now", at(0)}, 1, "signature does not match: wrong secret or body changed"},
		{"re-serialised body", httpDump(hc, pretty, true), []string{"--now", at(0)}, 1,
			"signature does not match: the body was re-serialised (the same JSON compacted verifies); verify the raw bytes as received"},
		{"missing header", httpDump(noTS, vecBody, true), []string{"--now", at(0)}, 1, "missing header webhook-timestamp\n"},
		{"no v1 entry", httpDump(v2, vecBody, true), []string{"--now", at(0)}, 1, "signature does not match: webhook-signature has no v1 entry"},
		{"not a Unix time", strings.Replace(httpDump(h, vecBody, true), strconv.Itoa(vecTS), "yesterday", 1), nil, 1, `timestamp outside tolerance: "yesterday" is not a Unix time`},
		{"malformed secret", httpDump(h, vecBody, true), []string{"--secret", "whsec_!!!"}, 2, "malformed secret: want whsec_ followed by standard base64"},
		{"an Ed25519 secret key", httpDump(h, vecBody, true), []string{"--secret", "whsk_abc"}, 2, "malformed secret: whsk_… is an Ed25519 secret key"},
		{"no key", httpDump(h, vecBody, true), []string{"--secret", ""}, 2, "give the endpoint's secret, --secret whsec_…"},
		{"a public key for an HMAC", httpDump(h, vecBody, true), []string{"--secret", "", "--public-key", "whpk_x"}, 2, "signed with a shared secret (standard), not Ed25519: verify it with --secret"},
		{"no request", "", nil, 2, "verify: no request"},
		{"not a request", "hello\n\n", nil, 2, "the request does not parse: line 1 is not a header"},
		{"short body", httpDump(h, vecBody, true)[:len(httpDump(h, vecBody, true))-3], nil, 2, "the body is shorter than its Content-Length (17 of 20 bytes)"},
		{"bad --now", httpDump(h, vecBody, true), []string{"--now", "tomorrow"}, 2, `--now "tomorrow": want an RFC 3339 time`},
		{"unknown profile", httpDump(h, vecBody, true), []string{"--profile", "rsa"}, 2, `--profile "rsa": use standard, ed25519, hex-hmac or timestamped`},
		{"headers without body", "", []string{"--headers", "h.txt"}, 2, "--headers and --body go together"},
	} {
		args := append([]string{"verify", "--secret", vecSecret}, c.args...)
		r := verifyCall(c.dump).run(t, args...)
		if r.code != c.code || !strings.Contains(r.err, c.msg) || strings.Count(r.err, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and one line with %q", c.name, r.code, r.err, c.code, c.msg)
		}
	}
	var res verifyResult
	r := verifyCall(httpDump(h, vecBody, true)).run(t, "verify", "--secret", otherKey, "--now", at(0), "--json")
	if json.Unmarshal([]byte(r.out), &res) != nil || res.Verified || res.Reason != "signature does not match: wrong secret or body changed" || r.code != 1 {
		t.Fatalf("verify --json of a wrong secret: %+v (exit %d)", res, r.code)
	}
}

func TestVerifyEd25519(t *testing.T) {
	t.Parallel()
	sk, pk := signature.NewKeyPair()
	_, otherPK := signature.NewKeyPair()
	now := time.Now().Truncate(time.Second)
	body := `{"id":"evt_1","type":"order.paid","data":{"n":1}}`
	sig, err := signature.SignEd25519([]string{sk}, "evt_1", now, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Webhook-Id": {"evt_1"}, "Webhook-Timestamp": {strconv.FormatInt(now.Unix(), 10)}, "Webhook-Signature": {sig}}
	dump := httpDump(h, body, true)
	if out := verifyCall(dump).must(t, "verify", "--public-key", pk); !strings.HasPrefix(out, "verified: standard-ed25519 signature in webhook-signature, webhook-id evt_1") {
		t.Fatalf("verify --public-key: %q", out)
	}
	verifyCall(dump).must(t, "verify", "--public-key", pk, "--profile", "ed25519")
	verifyCall(dump).want(t, 1, "signature does not match: wrong secret or body changed", "verify", "--public-key", otherPK)
	verifyCall(httpDump(h, `{"id":"evt_1"}`, true)).want(t, 1, "signature does not match: wrong secret or body changed", "verify", "--public-key", pk)
	verifyCall(httpDump(h, "{\n \"id\": \"evt_1\",\n \"type\": \"order.paid\",\n \"data\": {\"n\": 1}\n}", true)).want(t, 1, "the body was re-serialised", "verify", "--public-key", pk)
	verifyCall(dump).want(t, 1, "is 1h0m1s old: outside the 5m tolerance by 55m1s (the signature itself matches)",
		"verify", "--public-key", pk, "--now", now.Add(time.Hour+time.Second).UTC().Format(time.RFC3339Nano))
	verifyCall(dump).want(t, 2, "the request is signed with Ed25519 (v1a): verify it with the endpoint's public key", "verify", "--secret", vecSecret)
	verifyCall(dump).want(t, 2, "malformed public key: want whpk_", "verify", "--public-key", sk)
	noID := h.Clone()
	noID.Del("Webhook-Id")
	verifyCall(httpDump(noID, body, true)).want(t, 1, "missing header webhook-id", "verify", "--public-key", pk)
}

func TestVerifyHexHMAC(t *testing.T) {
	t.Parallel()
	const secret, body = "It's a Secret to Everybody", `{"action":"opened","n":1}`
	sig := signature.HexHMAC(secret, []byte(body))
	for _, c := range []struct {
		header string
		args   []string
	}{
		{"X-Signature-256", nil},     // Slotwire's default header, found alone
		{"X-Hub-Signature-256", nil}, // GitHub's, found by its value
		{"X-Erp-Sig", []string{"--signature-header", "X-Erp-Sig"}},
		{"X-Erp-Sig", []string{"--signature-header", "x-erp-sig", "--profile", "hex-hmac"}},
	} {
		dump := httpDump(http.Header{c.header: {sig}}, body, true)
		out := verifyCall(dump).must(t, append([]string{"verify", "--secret", secret}, c.args...)...)
		if !strings.Contains(out, "verified: hmac-sha256-hex signature in ") || !strings.Contains(out, "(this profile signs no timestamp)") {
			t.Errorf("%s: %q", c.header, out)
		}
	}
	dump := httpDump(http.Header{"X-Signature-256": {sig}}, body, true)
	verifyCall(dump).want(t, 1, "signature does not match: wrong secret or body changed", "verify", "--secret", "another secret")
	verifyCall(httpDump(http.Header{"X-Signature-256": {sig}}, `{"action": "opened", "n": 1}`, true)).want(t, 1, "the body was re-serialised (the same JSON compacted verifies)", "verify", "--secret", secret)
	verifyCall(httpDump(http.Header{"X-Signature-256": {"sha256=zz"}}, body, true)).want(t, 1, "malformed X-Signature-256: want sha256=<hex HMAC-SHA256>", "verify", "--secret", secret)
	verifyCall(httpDump(http.Header{"Other": {"x"}}, body, true)).want(t, 1, "missing header X-Signature-256", "verify", "--secret", secret, "--profile", "hex-hmac")
	verifyCall(dump).must(t, "verify", "--secret", secret, "--profile", "hmac-sha256-hex")
}

func TestVerifyTimestamped(t *testing.T) {
	t.Parallel()
	const secret, body = "s3cret-of-the-erp", `{"type":"invoice.paid"}`
	signed := time.Unix(1795356836, 0)
	sig := signature.Timestamped([]string{"new-secret", secret}, signed, []byte(body))
	dump := httpDump(http.Header{"X-Signature": {sig}}, body, true)
	now := signed.Add(3 * time.Second).UTC().Format(time.RFC3339)
	if out := verifyCall(dump).must(t, "verify", "--secret", secret, "--now", now); !strings.Contains(out, "verified: timestamped signature in X-Signature, signed 3s ago") {
		t.Fatalf("verify: %q", out)
	}
	verifyCall(dump).must(t, "verify", "--secret", "new-secret", "--now", now, "--profile", "stripe")
	verifyCall(httpDump(http.Header{"Stripe-Signature": {sig}}, body, true)).must(t, "verify", "--secret", secret, "--now", now)
	verifyCall(dump).want(t, 1, "timestamp 2026-11-22T14:13:56Z is 10m old: outside the 5m tolerance by 5m (the signature itself matches)",
		"verify", "--secret", secret, "--now", signed.Add(10*time.Minute).UTC().Format(time.RFC3339))
	verifyCall(dump).want(t, 1, "signature does not match: wrong secret or body changed", "verify", "--secret", "old", "--now", now)
	verifyCall(httpDump(http.Header{"X-Signature": {"v1=00"}}, body, true)).want(t, 1, "malformed X-Signature: want t=<unix>,v1=<hex>", "verify", "--secret", secret, "--profile", "timestamped")
}

// TestVerifyRealDeliveries: what a real node sends with each signature
// profile verifies with the key "endpoints secret" prints.
func TestVerifyRealDeliveries(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t, nil)
	c := s.tenant(t, "Acme")
	for _, profile := range []string{"standard", "standard-ed25519", "hmac-sha256-hex", "timestamped"} {
		rc := newReceiver(t, nil)
		ep := idOf(t, c.must(t, "endpoints", "create", rc.URL, "--types", "order."+profile, "--signature-profile", profile, "--json"))
		c.must(t, "events", "publish", "--type", "order."+profile, "--data", `{"total":"12.50 €","note":"<b>&</b>"}`)
		if !rc.WaitCount(1, 10*time.Second) {
			t.Fatalf("%s: no webhook", profile)
		}
		key := strings.TrimSpace(c.must(t, "endpoints", "secret", ep))
		flag := "--secret"
		if strings.HasPrefix(key, "whpk_") {
			flag = "--public-key"
		}
		r := rc.Requests()[0]
		out := verifyCall(httpDump(r.Header, string(r.Body), true)).must(t, "verify", flag, key)
		if !strings.Contains(out, "verified: "+profile+" signature") {
			t.Errorf("%s: %q", profile, out)
		}
		// The same request after a JSON library wrote it again: indented,
		// or without the \u escapes Go's encoder (which the client
		// publishes with) writes for <, > and &.
		var indented bytes.Buffer
		json.Indent(&indented, r.Body, "", "  ")
		verifyCall(httpDump(r.Header, indented.String(), true)).want(t, 1, "the body was re-serialised (the same JSON compacted verifies)", "verify", flag, key)
		plain := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(r.Body))
		if plain == string(r.Body) {
			t.Fatalf("%s: the body has no escapes: %s", profile, r.Body)
		}
		verifyCall(httpDump(r.Header, plain, true)).want(t, 1, "the body was re-serialised (the same JSON compacted and HTML-escaped verifies)", "verify", flag, key)
	}
}
