package server

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/slotwire/slotwire/internal/secrets"
)

// secretBox is the key stored secrets are sealed with: cfg.SecretKey
// (SLOTWIRE_SECRET_KEY), else the key file cfg.SecretKeyFile, else, on
// SQLite, slotwire.key next to the database file, created (0600, with a
// warning) on first start. PostgreSQL needs a key given: every node must
// use the same one.
func secretBox(cfg Config) (*secrets.Box, error) {
	var key []byte
	var err error
	switch {
	case cfg.SecretKey != "":
		key, err = secrets.ParseKey(cfg.SecretKey)
	case cfg.SecretKeyFile != "":
		key, _, err = secrets.LoadOrCreateKeyFile(cfg.SecretKeyFile, false)
	case isPostgresDSN(cfg.DB):
		return nil, errors.New("a PostgreSQL database needs SLOTWIRE_SECRET_KEY (or --secret-key-file), the same on every node: " +
			"stored secrets are encrypted with it; make one with `openssl rand -base64 32`")
	default:
		path := filepath.Join(filepath.Dir(cfg.DB), "slotwire.key")
		var created bool
		key, created, err = secrets.LoadOrCreateKeyFile(path, true)
		if created {
			cfg.Logger.Warn("generated the key that encrypts stored secrets; back it up with the database, or set SLOTWIRE_SECRET_KEY",
				"key_file", path)
		}
	}
	if err != nil {
		return nil, err
	}
	return secrets.New(key)
}

func isPostgresDSN(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// restrictDBFile makes the SQLite file (and its WAL files) readable by
// its owner only: it holds events, which may hold personal data.
func restrictDBFile(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		_ = os.Chmod(p, 0o600)
	}
}
