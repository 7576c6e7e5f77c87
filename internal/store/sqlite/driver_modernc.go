//go:build !sqlite_cgo && !sqlite_wasm

package sqlite

import (
	"errors"
	"net/url"

	sqlitedrv "modernc.org/sqlite" // database/sql driver "sqlite": pure Go, no cgo needed to build slotwire
)

// The SQLite driver is chosen at build time: modernc.org/sqlite (SQLite
// translated to Go) by default, mattn/go-sqlite3 (cgo) with the tag
// sqlite_cgo, ncruces/go-sqlite3 (SQLite's Wasm build translated to Go)
// with sqlite_wasm. docs/performance.md compares them.

// DriverName names the driver built in, for the benchmark's report.
const DriverName = "modernc.org/sqlite"

const driverName = "sqlite"

// dsn is the data source name of the file with the pragmas; a writer's
// transactions take the write lock when they begin.
func dsn(path string, pragmas []string, writer bool) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	if writer {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// errorCode is the SQLite result code of err, if it has one.
func errorCode(err error) (int, bool) {
	var se *sqlitedrv.Error
	if errors.As(err, &se) {
		return se.Code(), true
	}
	return 0, false
}
