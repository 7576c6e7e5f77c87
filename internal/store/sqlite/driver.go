package sqlite

import (
	"errors"
	"net/url"

	sqlitedrv "modernc.org/sqlite" // database/sql driver "sqlite": pure Go, no cgo needed to build slotwire
)

// The SQLite driver is modernc.org/sqlite (SQLite translated to Go). It
// was measured against mattn/go-sqlite3 (cgo) and ncruces/go-sqlite3
// (SQLite's Wasm build translated to Go) under the same load and was as
// fast or faster, with no C compiler needed (docs/performance.md). This
// file is all that names the driver.

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
