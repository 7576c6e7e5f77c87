package signature

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// More errors of the verifiers of the other profiles (VerifyEd25519,
// VerifyHexHMAC, VerifyTimestamped).
var (
	ErrMissingSignature = errors.New("signature: no signature header")
	ErrMalformed        = errors.New("signature: malformed signature header")
	ErrPublicKey        = errors.New("signature: public key is not whpk_ followed by the base64 of an Ed25519 public key")
)

// TimestampError is a webhook timestamp outside the tolerance, with how far
// it is from the receiver's clock. errors.Is(err, ErrTimestamp) holds for it.
type TimestampError struct {
	Timestamp time.Time     // when the request says it was signed
	Now       time.Time     // the receiver's clock
	Tolerance time.Duration // how far they may be apart
}

// Skew is how far the timestamp is behind now: negative when it is in the
// future.
func (e *TimestampError) Skew() time.Duration { return e.Now.Sub(e.Timestamp) }

// Excess is by how much the timestamp is outside the tolerance.
func (e *TimestampError) Excess() time.Duration {
	d := e.Skew()
	if d < 0 {
		d = -d
	}
	return d - e.Tolerance
}

func (e *TimestampError) Error() string {
	d, when := e.Skew(), "old"
	if d < 0 {
		d, when = -d, "in the future"
	}
	return fmt.Sprintf("%v: %s %s, %s beyond the %s tolerance", ErrTimestamp, roundHuman(d), when, roundHuman(e.Excess()), e.Tolerance)
}

// Is makes errors.Is(err, ErrTimestamp) hold.
func (e *TimestampError) Is(target error) bool { return target == ErrTimestamp }

// roundHuman rounds to the second, or to the millisecond under a second.
func roundHuman(d time.Duration) time.Duration {
	if d >= time.Second || d <= -time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

// checkTimestamp parses a decimal Unix time and checks it is within
// tolerance of now (0: no check).
func checkTimestamp(timestamp string, now time.Time, tolerance time.Duration) (int64, error) {
	unix, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not a Unix time", ErrTimestamp, timestamp)
	}
	ts := time.Unix(unix, 0)
	if tolerance > 0 && (now.Sub(ts) > tolerance || ts.Sub(now) > tolerance) {
		return unix, &TimestampError{Timestamp: ts, Now: now, Tolerance: tolerance}
	}
	return unix, nil
}

// DecodePublicKey returns the Ed25519 key of a whpk_ public key.
func DecodePublicKey(publicKey string) (ed25519.PublicKey, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(publicKey, PublicKeyPrefix))
	if !strings.HasPrefix(publicKey, PublicKeyPrefix) || err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, ErrPublicKey
	}
	return ed25519.PublicKey(raw), nil
}

// VerifyEd25519 checks a standard-ed25519 webhook with the endpoint's whpk_
// public key, as Verify does a standard one: the timestamp must be within
// tolerance of now (0: no check), and one of the space-separated
// "v1a,<base64>" entries of the signature header must verify.
func VerifyEd25519(publicKey, id, timestamp, sigHeader string, body []byte, now time.Time, tolerance time.Duration) error {
	if id == "" || timestamp == "" || sigHeader == "" {
		return ErrMissingHeaders
	}
	pub, err := DecodePublicKey(publicKey)
	if err != nil {
		return err
	}
	unix, err := checkTimestamp(timestamp, now, tolerance)
	if err != nil {
		return err
	}
	msg := append([]byte(id+"."+strconv.FormatInt(unix, 10)+"."), body...)
	if anyEntry(sigHeader, "v1a", func(raw []byte) bool {
		return len(raw) == ed25519.SignatureSize && ed25519.Verify(pub, msg, raw)
	}) {
		return nil
	}
	return ErrNoMatch
}

// VerifyHexHMAC checks an hmac-sha256-hex signature header
// ("sha256=<hex>", GitHub's style) against the body, keyed with the secret
// string as given. The profile carries no timestamp in its signature.
func VerifyHexHMAC(secret, sigHeader string, body []byte) error {
	if sigHeader == "" {
		return ErrMissingSignature
	}
	if secret == "" {
		return fmt.Errorf("%w: it is empty", ErrSecret)
	}
	h, ok := strings.CutPrefix(sigHeader, "sha256=")
	got, err := hex.DecodeString(h)
	if !ok || err != nil {
		return fmt.Errorf("%w: want sha256=<hex HMAC-SHA256>", ErrMalformed)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return ErrNoMatch
	}
	return nil
}

// VerifyTimestamped checks a timestamped signature header
// ("t=<unix>,v1=<hex>[,v1=<hex>…]", Stripe's style), keyed with the secret
// string as given: the timestamp must be within tolerance of now (0: no
// check), and one v1 entry must be the HMAC-SHA256 of "t.body".
func VerifyTimestamped(secret, sigHeader string, body []byte, now time.Time, tolerance time.Duration) error {
	if sigHeader == "" {
		return ErrMissingSignature
	}
	if secret == "" {
		return fmt.Errorf("%w: it is empty", ErrSecret)
	}
	var t string
	var sigs []string
	for _, part := range strings.Split(sigHeader, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			t = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if t == "" || len(sigs) == 0 {
		return fmt.Errorf("%w: want t=<unix>,v1=<hex>", ErrMalformed)
	}
	if _, err := checkTimestamp(t, now, tolerance); err != nil {
		return err
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(t + "."))
	m.Write(body)
	want := m.Sum(nil)
	for _, s := range sigs {
		got, err := hex.DecodeString(s)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrNoMatch
}
