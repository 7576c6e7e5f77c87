//go:build postgres

package scheduling_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", for the admin connection

	"github.com/slotwire/slotwire/postgres"
)

// With -tags postgres the whole suite runs on PostgreSQL, one fresh
// database per test, on the server named by SLOTWIRE_TEST_POSTGRES:
//
//	bash scripts/with-postgres.sh go test -race -tags postgres ./scheduling/
func init() {
	openStore = func(t *testing.T) testStore {
		t.Helper()
		dsn := os.Getenv("SLOTWIRE_TEST_POSTGRES")
		if dsn == "" {
			t.Skip("SLOTWIRE_TEST_POSTGRES is not set")
		}
		var b [8]byte
		_, _ = rand.Read(b[:])
		name := "sched_" + hex.EncodeToString(b[:])
		adminExec(t, dsn, `CREATE DATABASE `+name)
		t.Cleanup(func() { adminExec(t, dsn, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`) })
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/" + name
		db, err := postgres.Open(context.Background(), u.String(), postgres.Options{Migrate: true, MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
}

func adminExec(t *testing.T, dsn, q string) {
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
