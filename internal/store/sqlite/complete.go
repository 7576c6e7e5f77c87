package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlstore"
)

// recordOutcomes inserts the attempts and moves the deliveries still
// leased to the outcome's owner to their new status. A first attempt that
// succeeded is one update keeping the attempt in the delivery's row. A
// stale outcome (the lease was lost) records its attempt and changes
// nothing else.
func (db *DB) recordOutcomes(ctx context.Context, tx *sql.Tx, b store.CompleteBatch) ([]store.Outcome, error) {
	insAttempt, upd := db.hot.in(ctx, tx, sqlInsAttempt), db.hot.in(ctx, tx, sqlComplete)
	first := db.hot.in(ctx, tx, sqlSucceedFirst)
	n := sqlstore.MS(b.Now)
	var stale []int
	for i := range b.Outcomes {
		o := &b.Outcomes[i]
		a := &o.Attempt
		if o.Status == slotwire.StatusSucceeded {
			res, err := first.ExecContext(ctx, a.StatusCode, n, sqlstore.MS(a.At), a.DurationMS, a.ResponseBody,
				string(a.RequestHeaders), string(a.ResponseHeaders), o.DeliveryID, o.Owner)
			if err != nil {
				return nil, fmt.Errorf("sqlite: complete delivery: %w", err)
			}
			if k, _ := res.RowsAffected(); k == 1 {
				continue
			}
		}
		if _, err := insAttempt.ExecContext(ctx, sqlstore.MS(a.At), a.StatusCode, a.DurationMS, a.ResponseBody, a.Error,
			string(a.RequestHeaders), string(a.ResponseHeaders), o.DeliveryID); err != nil {
			return nil, fmt.Errorf("sqlite: complete attempt: %w", err)
		}
		var next any
		if o.Status == slotwire.StatusPending {
			next = sqlstore.MS(o.NextAttemptAt)
		}
		res, err := upd.ExecContext(ctx, o.Status, next, a.StatusCode, a.Error, n, o.DeliveryID, o.Owner)
		if err != nil {
			return nil, fmt.Errorf("sqlite: complete delivery: %w", err)
		}
		if k, _ := res.RowsAffected(); k != 1 {
			stale = append(stale, i)
		}
	}
	return sqlstore.Without(b.Outcomes, stale), nil
}
