// Package pgtest gives tests a fresh PostgreSQL database on the server
// named by $SLOTWIRE_TEST_POSTGRES (scripts/with-postgres.sh starts one).
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// Database creates an empty database, drops it when the test ends, and
// returns its URL. The test is skipped when no server is configured.
func Database(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("SLOTWIRE_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("SLOTWIRE_TEST_POSTGRES is not set: run under `bash scripts/with-postgres.sh`")
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "swt_" + hex.EncodeToString(b[:])
	exec(t, dsn, `CREATE DATABASE `+name)
	t.Cleanup(func() { exec(t, dsn, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`) })
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("SLOTWIRE_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func exec(t testing.TB, dsn, q string) {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
