package signature

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestReferenceLibraryVerifies has the published standardwebhooks npm
// package verify signatures made by this package. The test command installs
// it (make test); run `npm ci --prefix signature/testdata/npm` by hand
// otherwise. Set SLOTWIRE_REQUIRE_NPM=1 to fail rather than skip when it is
// missing.
func TestReferenceLibraryVerifies(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "npm")
	node, err := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(dir, "node_modules", "standardwebhooks"))
	if err != nil || modErr != nil {
		if os.Getenv("SLOTWIRE_REQUIRE_NPM") != "" {
			t.Fatalf("node or the standardwebhooks package is missing (node: %v, module: %v)", err, modErr)
		}
		t.Skip("node or standardwebhooks not installed; run make test")
	}
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	now := time.Now()
	bodies := []string{`{}`, `{"id":"evt_1","type":"appointment.created","data":{"name":"Zoë ✓ \u2028"}}`, strings.Repeat(`{"x":"y"}`, 1)}
	for i := 0; i < 50; i++ {
		key := make([]byte, 24+i%9)
		rand.Read(key)
		secret := NewSecret(key)
		body := bodies[i%len(bodies)]
		if i >= len(bodies) {
			body = fmt.Sprintf(`{"n":%d,"s":%q}`, i, strings.Repeat("é", i))
		}
		id := fmt.Sprintf("evt_%d", i)
		sig, err := Sign(secret, id, now, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		enc.Encode(map[string]string{"secret": secret, "id": id, "timestamp": strconv.FormatInt(now.Unix(), 10), "signature": sig, "body": body})
	}
	// While a secret is rotated both sign: the library accepts the header
	// with either secret.
	oldKey, newKey := make([]byte, 32), make([]byte, 32)
	rand.Read(oldKey)
	rand.Read(newKey)
	oldSecret, newSecret := NewSecret(oldKey), NewSecret(newKey)
	both, err := SignAll([]string{newSecret, oldSecret}, "evt_rot", now, []byte(`{"rotated":true}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{oldSecret, newSecret} {
		enc.Encode(map[string]string{"secret": secret, "id": "evt_rot", "timestamp": strconv.FormatInt(now.Unix(), 10), "signature": both, "body": `{"rotated":true}`})
	}
	// The spec's own vector, through the reference library too (its
	// timestamp is old, so it is re-signed at now with the same secret).
	sig, _ := Sign(vecSecret, vecID, now, []byte(vecBody))
	enc.Encode(map[string]string{"secret": vecSecret, "id": vecID, "timestamp": strconv.FormatInt(now.Unix(), 10), "signature": sig, "body": vecBody})
	cmd := exec.Command(node, "verify.mjs")
	cmd.Dir = dir
	cmd.Stdin = &in
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "ok 53") {
		t.Fatalf("reference library: %v\n%s", err, out)
	}
}

// TestReceiverLibrariesVerifyProfiles has GitHub's @octokit/webhooks-methods
// check hmac-sha256-hex signatures and Stripe's SDK check timestamped ones
// (both with a rotated pair too), and refuse a tampered body.
func TestReceiverLibrariesVerifyProfiles(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "npm")
	node, err := exec.LookPath("node")
	_, e1 := os.Stat(filepath.Join(dir, "node_modules", "@octokit", "webhooks-methods"))
	_, e2 := os.Stat(filepath.Join(dir, "node_modules", "stripe"))
	if err != nil || e1 != nil || e2 != nil {
		if os.Getenv("SLOTWIRE_REQUIRE_NPM") != "" {
			t.Fatalf("node or the receivers' libraries are missing: %v %v %v", err, e1, e2)
		}
		t.Skip("node or the receivers' npm libraries not installed; run make test")
	}
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	now := time.Now()
	body := `{"id":"evt_1","type":"appointment.created","data":{"name":"Zoë ✓"}}`
	add := func(profile, secret, sig, b string, want bool) {
		enc.Encode(map[string]any{"profile": profile, "secret": secret, "signature": sig, "body": b, "want": want})
	}
	for _, secret := range []string{"my-github-secret", "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"} {
		add(ProfileHexHMAC, secret, HexHMAC(secret, []byte(body)), body, true)
		add(ProfileHexHMAC, secret, HexHMAC(secret, []byte(body)), body+" ", false)
		add(ProfileTimestamped, secret, Timestamped([]string{secret}, now, []byte(body)), body, true)
	}
	// Ed25519 (v1a), a rotated pair too: verified with the public keys.
	sk1, pk1 := NewKeyPair()
	sk2, pk2 := NewKeyPair()
	for _, c := range []struct {
		keys []string
		pub  string
		want bool
	}{{[]string{sk1}, pk1, true}, {[]string{sk2, sk1}, pk1, true}, {[]string{sk2, sk1}, pk2, true}, {[]string{sk2}, pk1, false}} {
		sig, err := SignEd25519(c.keys, "evt_ed", now, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		enc.Encode(map[string]any{"profile": ProfileEd25519, "secret": c.pub, "signature": sig, "id": "evt_ed",
			"timestamp": strconv.FormatInt(now.Unix(), 10), "body": body, "want": c.want})
	}
	if pub, err := PublicKey(sk1); err != nil || pub != pk1 {
		t.Fatalf("PublicKey = %q, %v", pub, err)
	}
	// A rotation: Stripe accepts either secret.
	rotated := Timestamped([]string{"new-secret", "old-secret"}, now, []byte(body))
	add(ProfileTimestamped, "old-secret", rotated, body, true)
	add(ProfileTimestamped, "new-secret", rotated, body, true)
	cmd := exec.Command(node, "verify-profiles.mjs")
	cmd.Dir = dir
	cmd.Stdin = &in
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "ok 12") {
		t.Fatalf("receiver libraries: %v\n%s", err, out)
	}
}
