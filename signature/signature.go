// Package signature signs and verifies webhook requests per the Standard
// Webhooks specification: HMAC-SHA256 over "id.timestamp.body" with a
// base64 secret prefixed "whsec_", sent as "v1,<base64>" in the
// webhook-signature header next to webhook-id and webhook-timestamp.
//
// It also signs and verifies the other profiles an endpoint may pick:
// Ed25519 (whsk_ secret keys, whpk_ public keys; VerifyEd25519), GitHub's
// hex HMAC (VerifyHexHMAC) and Stripe's timestamped HMAC
// (VerifyTimestamped).
package signature

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every Slotwire signing secret.
const SecretPrefix = "whsec_"

// Header names of the Standard Webhooks specification.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Errors returned by Verify.
var (
	ErrMissingHeaders = errors.New("signature: missing webhook-id, webhook-timestamp or webhook-signature header")
	ErrTimestamp      = errors.New("signature: timestamp outside tolerance")
	ErrNoMatch        = errors.New("signature: no matching signature")
	ErrSecret         = errors.New("signature: secret is not valid base64")
)

// NewSecret returns a fresh secret: "whsec_" and the base64 of 32 random bytes
// read from rnd.
func NewSecret(random []byte) string {
	return SecretPrefix + base64.StdEncoding.EncodeToString(random)
}

// DecodeSecret returns the key bytes of a secret, with or without its prefix.
func DecodeSecret(secret string) ([]byte, error) {
	s := strings.TrimPrefix(secret, SecretPrefix)
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSecret, err)
	}
	return key, nil
}

// ValidateSecret checks a user-supplied secret: "whsec_" followed by base64
// of 24 to 64 bytes.
func ValidateSecret(secret string) error {
	if !strings.HasPrefix(secret, SecretPrefix) {
		return fmt.Errorf("secret must start with %q", SecretPrefix)
	}
	key, err := DecodeSecret(secret)
	if err != nil {
		return err
	}
	if len(key) < 24 || len(key) > 64 {
		return fmt.Errorf("secret must encode 24 to 64 bytes, got %d", len(key))
	}
	return nil
}

// Signer signs payloads with one key. It is safe for concurrent use.
type Signer struct{ key []byte }

// NewSigner decodes secret into a Signer.
func NewSigner(secret string) (*Signer, error) {
	key, err := DecodeSecret(secret)
	if err != nil {
		return nil, err
	}
	return &Signer{key: key}, nil
}

// Sign returns the webhook-signature header value for the message.
func (s *Signer) Sign(id string, ts time.Time, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(s.mac(id, ts.Unix(), body))
}

func (s *Signer) mac(id string, unix int64, body []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write(strconv.AppendInt(nil, unix, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Sign is a convenience for NewSigner(secret).Sign.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	s, err := NewSigner(secret)
	if err != nil {
		return "", err
	}
	return s.Sign(id, ts, body), nil
}

// Signature profiles of an endpoint: how its requests are signed.
const (
	// ProfileStandard is Standard Webhooks (webhook-signature: v1,<base64>).
	ProfileStandard = "standard"
	// ProfileHexHMAC is GitHub's style: sha256=<hex HMAC-SHA256 of the
	// body>, keyed with the secret string as given.
	ProfileHexHMAC = "hmac-sha256-hex"
	// ProfileTimestamped is Stripe's style: t=<unix>,v1=<hex HMAC-SHA256
	// of "t.body">, keyed with the secret string as given.
	ProfileTimestamped = "timestamped"
	// ProfileNone signs nothing (receivers that check a static header).
	ProfileNone = "none"
	// ProfileEd25519 is Standard Webhooks' asymmetric signature:
	// webhook-signature: v1a,<base64 Ed25519 signature of
	// "id.timestamp.body">, with a whsk_ secret key kept by Slotwire and a
	// whpk_ public key receivers verify with.
	ProfileEd25519 = "standard-ed25519"
)

// Prefixes of Ed25519 keys.
const (
	SecretKeyPrefix = "whsk_"
	PublicKeyPrefix = "whpk_"
)

// NewKeyPair returns a new Ed25519 secret key (whsk_) and its public key
// (whpk_).
func NewKeyPair() (secretKey, publicKey string) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(fmt.Sprintf("signature: no randomness: %v", err))
	}
	return SecretKeyPrefix + base64.StdEncoding.EncodeToString(priv), PublicKeyPrefix + base64.StdEncoding.EncodeToString(pub)
}

func ed25519Key(secretKey string) (ed25519.PrivateKey, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secretKey, SecretKeyPrefix))
	if !strings.HasPrefix(secretKey, SecretKeyPrefix) || err != nil || len(raw) != ed25519.PrivateKeySize {
		return nil, errors.New("not a whsk_ Ed25519 secret key")
	}
	return ed25519.PrivateKey(raw), nil
}

// PublicKey returns the whpk_ public key of a whsk_ secret key.
func PublicKey(secretKey string) (string, error) {
	k, err := ed25519Key(secretKey)
	if err != nil {
		return "", err
	}
	return PublicKeyPrefix + base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey)), nil
}

// SignEd25519 returns a webhook-signature header value with one v1a
// entry per secret key.
func SignEd25519(secretKeys []string, id string, ts time.Time, body []byte) (string, error) {
	msg := append([]byte(id+"."+strconv.FormatInt(ts.Unix(), 10)+"."), body...)
	sigs := make([]string, 0, len(secretKeys))
	for _, sk := range secretKeys {
		k, err := ed25519Key(sk)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, "v1a,"+base64.StdEncoding.EncodeToString(ed25519.Sign(k, msg)))
	}
	return strings.Join(sigs, " "), nil
}

// HexHMAC is the hmac-sha256-hex header value for body.
func HexHMAC(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Timestamped is the timestamped header value for body: one v1 entry per
// secret (several while a secret is rotated, as Stripe does).
func Timestamped(secrets []string, ts time.Time, body []byte) string {
	t := strconv.FormatInt(ts.Unix(), 10)
	var b strings.Builder
	b.WriteString("t=" + t)
	for _, s := range secrets {
		m := hmac.New(sha256.New, []byte(s))
		m.Write([]byte(t + "."))
		m.Write(body)
		b.WriteString(",v1=" + hex.EncodeToString(m.Sum(nil)))
	}
	return b.String()
}

// SignAll returns a webhook-signature header value with one signature per
// secret, space-separated, as Standard Webhooks allows while a secret is
// being rotated: a receiver holding either secret verifies the message.
func SignAll(secrets []string, id string, ts time.Time, body []byte) (string, error) {
	sigs := make([]string, 0, len(secrets))
	for _, secret := range secrets {
		sig, err := Sign(secret, id, ts, body)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}

// DefaultTolerance is how far a timestamp may be from now in Verify.
const DefaultTolerance = 5 * time.Minute

// Verify checks a received webhook as a receiver would: the timestamp must be
// within tolerance of now (0: no check), and one of the space-separated
// "v1,<sig>" entries of the signature header must match. Comparison is
// constant-time. A timestamp outside the tolerance is a *TimestampError
// (errors.Is(err, ErrTimestamp)), which says by how much.
func Verify(secret, id, timestamp, sigHeader string, body []byte, now time.Time, tolerance time.Duration) error {
	if id == "" || timestamp == "" || sigHeader == "" {
		return ErrMissingHeaders
	}
	s, err := NewSigner(secret)
	if err != nil {
		return err
	}
	unix, err := checkTimestamp(timestamp, now, tolerance)
	if err != nil {
		return err
	}
	want := s.mac(id, unix, body)
	if anyEntry(sigHeader, "v1", func(got []byte) bool { return hmac.Equal(got, want) }) {
		return nil
	}
	return ErrNoMatch
}

// anyEntry reports whether one of the space-separated "<version>,<base64>"
// entries of a signature header decodes and passes match.
func anyEntry(sigHeader, version string, match func(sig []byte) bool) bool {
	for _, part := range strings.Split(sigHeader, " ") {
		v, sig, ok := strings.Cut(part, ",")
		if !ok || v != version {
			continue
		}
		if raw, err := base64.StdEncoding.DecodeString(sig); err == nil && match(raw) {
			return true
		}
	}
	return false
}
