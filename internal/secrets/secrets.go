// Package secrets encrypts the secrets Slotwire stores (endpoint signing
// secrets, endpoint header values) with AES-256-GCM under a key the
// operator holds: SLOTWIRE_SECRET_KEY, a key file, or on SQLite a key file
// generated next to the database on first start.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
)

// prefix marks a sealed value; a stored value without it is plaintext
// written before encryption existed, read as is and sealed when next
// written.
const prefix = "enc:v1:"

// KeySize is the key length: AES-256.
const KeySize = 32

// Box seals and opens values with one key.
type Box struct{ aead cipher.AEAD }

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secrets: the key must be %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plain ("" stays "").
func (b *Box) Seal(plain string) string {
	if plain == "" {
		return ""
	}
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("secrets: no randomness: %v", err))
	}
	return prefix + base64.RawStdEncoding.EncodeToString(b.aead.Seal(nonce, nonce, []byte(plain), nil))
}

// Open decrypts a sealed value; a value without the prefix is returned as
// is (stored before encryption).
func (b *Box) Open(stored string) (string, error) {
	enc, ok := strings.CutPrefix(stored, prefix)
	if !ok {
		return stored, nil
	}
	raw, err := base64.RawStdEncoding.DecodeString(enc)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", errors.New("secrets: a stored secret is damaged")
	}
	plain, err := b.aead.Open(nil, raw[:b.aead.NonceSize()], raw[b.aead.NonceSize():], nil)
	if err != nil {
		return "", errors.New("secrets: a stored secret does not open with this key (is SLOTWIRE_SECRET_KEY the one it was written with?)")
	}
	return string(plain), nil
}

// ParseKey reads a key written as standard base64 (44 characters).
func ParseKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(key) != KeySize {
		return nil, fmt.Errorf("secrets: a key is %d random bytes in standard base64 (44 characters), e.g. from `openssl rand -base64 32`", KeySize)
	}
	return key, nil
}

// LoadOrCreateKeyFile reads the key in path; when the file does not exist
// and create is set, it writes a new random key there (mode 0600) and
// reports created.
func LoadOrCreateKeyFile(path string, create bool) (key []byte, created bool, err error) {
	data, err := os.ReadFile(path)
	if err == nil {
		key, err := ParseKey(string(data))
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		return key, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) || !create {
		return nil, false, fmt.Errorf("secrets: key file: %w", err)
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, false, fmt.Errorf("secrets: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("secrets: key file: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		return nil, false, fmt.Errorf("secrets: key file: %w", err)
	}
	return key, true, f.Sync()
}
