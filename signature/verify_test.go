package signature

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestTimestampErrorSaysByHowMuch(t *testing.T) {
	t.Parallel()
	ts := strconv.Itoa(vecTS)
	signed := time.Unix(vecTS, 0)
	for _, c := range []struct {
		now        time.Time
		skew, over time.Duration
		text       string
	}{
		{signed.Add(7*time.Minute + 30*time.Second), 7*time.Minute + 30*time.Second, 2*time.Minute + 30*time.Second, "7m30s old, 2m30s beyond the 5m0s tolerance"},
		{signed.Add(-6 * time.Minute), -6 * time.Minute, time.Minute, "6m0s in the future, 1m0s beyond the 5m0s tolerance"},
	} {
		err := Verify(vecSecret, vecID, ts, vecSig, []byte(vecBody), c.now, DefaultTolerance)
		var te *TimestampError
		if !errors.Is(err, ErrTimestamp) || !errors.As(err, &te) {
			t.Fatalf("err = %v, want a *TimestampError that is ErrTimestamp", err)
		}
		if te.Skew() != c.skew || te.Excess() != c.over || !te.Timestamp.Equal(signed) || te.Tolerance != DefaultTolerance {
			t.Errorf("skew %s excess %s at %s, want %s and %s", te.Skew(), te.Excess(), te.Timestamp, c.skew, c.over)
		}
		if !strings.HasPrefix(err.Error(), ErrTimestamp.Error()+": ") || !strings.Contains(err.Error(), c.text) {
			t.Errorf("message %q, want %q", err, c.text)
		}
	}
	// Tolerance 0 turns the check off.
	if err := Verify(vecSecret, vecID, ts, vecSig, []byte(vecBody), signed.Add(1000*time.Hour), 0); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyEd25519(t *testing.T) {
	t.Parallel()
	sk, pk := NewKeyPair()
	oldSK, oldPK := NewKeyPair()
	now := time.Unix(vecTS, 0)
	ts := strconv.Itoa(vecTS)
	body := []byte(`{"a":1}`)
	one, err := SignEd25519([]string{sk}, "evt_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	both, _ := SignEd25519([]string{sk, oldSK}, "evt_1", now, body)
	for _, c := range []struct {
		name, pk, id, ts, sig, body string
		now                         time.Time
		want                        error
	}{
		{"ok", pk, "evt_1", ts, one, string(body), now, nil},
		{"rotation new key", pk, "evt_1", ts, both, string(body), now, nil},
		{"rotation old key", oldPK, "evt_1", ts, both, string(body), now, nil},
		{"other key", oldPK, "evt_1", ts, one, string(body), now, ErrNoMatch},
		{"changed body", pk, "evt_1", ts, one, `{"a":2}`, now, ErrNoMatch},
		{"other id", pk, "evt_2", ts, one, string(body), now, ErrNoMatch},
		{"stale", pk, "evt_1", ts, one, string(body), now.Add(time.Hour), ErrTimestamp},
		{"hmac entry only", pk, "evt_1", ts, vecSig, string(body), now, ErrNoMatch},
		{"missing id", pk, "", ts, one, string(body), now, ErrMissingHeaders},
		{"secret key given", sk, "evt_1", ts, one, string(body), now, ErrPublicKey},
		{"not a key", "whpk_abc", "evt_1", ts, one, string(body), now, ErrPublicKey},
	} {
		err := VerifyEd25519(c.pk, c.id, c.ts, c.sig, []byte(c.body), c.now, DefaultTolerance)
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}

// GitHub's documented example of X-Hub-Signature-256.
func TestVerifyHexHMAC(t *testing.T) {
	t.Parallel()
	const secret, body = "It's a Secret to Everybody", "Hello, World!"
	const sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got := HexHMAC(secret, []byte(body)); got != sig {
		t.Fatalf("HexHMAC = %s, want GitHub's %s", got, sig)
	}
	for _, c := range []struct {
		name, secret, sig, body string
		want                    error
	}{
		{"ok", secret, sig, body, nil},
		{"wrong secret", "another secret", sig, body, ErrNoMatch},
		{"changed body", secret, sig, body + " ", ErrNoMatch},
		{"missing", secret, "", body, ErrMissingSignature},
		{"no prefix", secret, strings.TrimPrefix(sig, "sha256="), body, ErrMalformed},
		{"not hex", secret, "sha256=zz", body, ErrMalformed},
		{"empty secret", "", sig, body, ErrSecret},
	} {
		err := VerifyHexHMAC(c.secret, c.sig, []byte(c.body))
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestVerifyTimestamped(t *testing.T) {
	t.Parallel()
	now := time.Unix(vecTS, 0)
	body := []byte(`{"a":1}`)
	one := Timestamped([]string{"s3cret-new"}, now, body)
	both := Timestamped([]string{"s3cret-new", "s3cret-old"}, now, body)
	for _, c := range []struct {
		name, secret, sig, body string
		now                     time.Time
		want                    error
	}{
		{"ok", "s3cret-new", one, string(body), now, nil},
		{"rotation old secret", "s3cret-old", both, string(body), now, nil},
		{"wrong secret", "s3cret-old", one, string(body), now, ErrNoMatch},
		{"changed body", "s3cret-new", one, `{"a":2}`, now, ErrNoMatch},
		{"stale", "s3cret-new", one, string(body), now.Add(10 * time.Minute), ErrTimestamp},
		{"other timestamp", "s3cret-new", strings.Replace(one, "t="+strconv.Itoa(vecTS), "t="+strconv.Itoa(vecTS+1), 1), string(body), now, ErrNoMatch},
		{"missing", "s3cret-new", "", string(body), now, ErrMissingSignature},
		{"no t", "s3cret-new", "v1=00", string(body), now, ErrMalformed},
		{"no v1", "s3cret-new", "t=1", string(body), now, ErrMalformed},
		{"empty secret", "", one, string(body), now, ErrSecret},
	} {
		err := VerifyTimestamped(c.secret, c.sig, []byte(c.body), c.now, DefaultTolerance)
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	var te *TimestampError
	err := VerifyTimestamped("s3cret-new", one, body, now.Add(-7*time.Minute), DefaultTolerance)
	if !errors.As(err, &te) || te.Skew() != -7*time.Minute || te.Excess() != 2*time.Minute {
		t.Fatalf("err = %v, want 7m in the future, 2m beyond", err)
	}
}

func TestDecodePublicKey(t *testing.T) {
	t.Parallel()
	_, pk := NewKeyPair()
	if k, err := DecodePublicKey(pk); err != nil || len(k) != 32 {
		t.Fatalf("DecodePublicKey = %v, %v", k, err)
	}
	for _, s := range []string{"", "whpk_", strings.TrimPrefix(pk, "whpk_"), "whsk_" + strings.TrimPrefix(pk, "whpk_"), pk + "AA"} {
		if _, err := DecodePublicKey(s); !errors.Is(err, ErrPublicKey) {
			t.Errorf("%q: err = %v, want ErrPublicKey", s, err)
		}
	}
}
