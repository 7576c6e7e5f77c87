package sqlite

import (
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/sqlrows"
)

// Row mapping shared with the other database/sql driver.
const (
	endpointCols = sqlrows.EndpointCols
	deliveryCols = sqlrows.DeliveryCols
)

type scanner = sqlrows.Scanner

func ms(t time.Time) int64                    { return sqlrows.MS(t) }
func fromMS(v int64) time.Time                { return sqlrows.FromMS(v) }
func endpointArgs(e *slotwire.Endpoint) []any { return sqlrows.EndpointArgs(e) }

func scanTenant(row scanner) (*slotwire.Tenant, error) { return sqlrows.ScanTenant("sqlite", row) }

func scanEndpoint(row scanner) (*slotwire.Endpoint, error) {
	return sqlrows.ScanEndpoint("sqlite", row)
}

func scanDelivery(row scanner, extra ...any) (*slotwire.Delivery, error) {
	return sqlrows.ScanDelivery("sqlite", row, extra...)
}
