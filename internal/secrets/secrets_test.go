package secrets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key := make([]byte, KeySize)
	b, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	s := b.Seal("whsec_secret")
	if !strings.HasPrefix(s, "enc:v1:") || strings.Contains(s, "whsec_secret") || s == b.Seal("whsec_secret") {
		t.Fatalf("sealed = %q", s)
	}
	if got, err := b.Open(s); err != nil || got != "whsec_secret" {
		t.Fatalf("opened = %q, %v", got, err)
	}
	if got, err := b.Open("legacy plaintext"); err != nil || got != "legacy plaintext" {
		t.Fatalf("plaintext = %q, %v", got, err)
	}
	other, _ := New([]byte(strings.Repeat("k", KeySize)))
	if _, err := other.Open(s); err == nil || !strings.Contains(err.Error(), "SLOTWIRE_SECRET_KEY") {
		t.Fatalf("another key opened it: %v", err)
	}
	if _, err := b.Open("enc:v1:@@"); err == nil {
		t.Fatal("damaged value opened")
	}
	if b.Seal("") != "" {
		t.Fatal("empty sealed")
	}
	if _, err := New([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slotwire.key")
	if _, _, err := LoadOrCreateKeyFile(path, false); err == nil {
		t.Fatal("a missing key file was not an error")
	}
	k1, created, err := LoadOrCreateKeyFile(path, true)
	if err != nil || !created || len(k1) != KeySize {
		t.Fatalf("created %v %v", created, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", st.Mode())
	}
	k2, created, err := LoadOrCreateKeyFile(path, true)
	if err != nil || created || string(k2) != string(k1) {
		t.Fatal("the key file was not read back")
	}
	if _, err := ParseKey("not base64"); err == nil {
		t.Fatal("bad key accepted")
	}
}
