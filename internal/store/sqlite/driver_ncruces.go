//go:build sqlite_wasm && !sqlite_cgo

package sqlite

import (
	"errors"
	"net/url"

	"github.com/ncruces/go-sqlite3"
	_ "github.com/ncruces/go-sqlite3/driver" // database/sql driver "sqlite3": SQLite's Wasm build translated to Go
)

// DriverName names the driver built in, for the benchmark's report.
const DriverName = "github.com/ncruces/go-sqlite3"

const driverName = "sqlite3"

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

func errorCode(err error) (int, bool) {
	var se *sqlite3.Error
	if errors.As(err, &se) {
		return int(se.Code()), true
	}
	return 0, false
}
