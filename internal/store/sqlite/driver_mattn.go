//go:build sqlite_cgo

package sqlite

import (
	"errors"
	"net/url"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3" // database/sql driver "sqlite3": SQLite's C library through cgo
)

// DriverName names the driver built in, for the benchmark's report.
const DriverName = "github.com/mattn/go-sqlite3"

const driverName = "sqlite3"

// dsn turns the pragmas, written name(value), into mattn's _name=value
// parameters.
func dsn(path string, pragmas []string, writer bool) string {
	q := url.Values{}
	for _, p := range pragmas {
		name, value, _ := strings.Cut(strings.TrimSuffix(p, ")"), "(")
		q.Set("_"+name, value)
	}
	if writer {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

func errorCode(err error) (int, bool) {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return int(se.ExtendedCode), true
	}
	return 0, false
}
