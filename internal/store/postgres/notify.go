package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// workChannel is the LISTEN/NOTIFY channel announcing new pending
// deliveries; the payload is the endpoint id.
const workChannel = "slotwire_work"

// listenBuffer is how many announcements ListenWork keeps for a slow
// reader before it drops new ones (the reader polls anyway).
const listenBuffer = 256

// Liveness checks of the LISTEN connection, and reconnection back-off.
var (
	listenPingEvery = 30 * time.Second
	reconnectMin    = 100 * time.Millisecond
	reconnectMax    = 5 * time.Second
)

// NotifyWork announces endpoints with new pending deliveries to every node
// listening, this one included.
func (db *DB) NotifyWork(ctx context.Context, endpointIDs []string) error {
	if len(endpointIDs) == 0 {
		return nil
	}
	if _, err := db.sql.ExecContext(ctx, `SELECT pg_notify('`+workChannel+`', id) FROM unnest($1::text[]) AS id`, endpointIDs); err != nil {
		return fmt.Errorf("postgres: notify work: %w", err)
	}
	return nil
}

// ListenWork delivers the endpoint ids announced by NotifyWork until ctx
// ends, then closes the channel. It listens on a dedicated connection,
// established before it returns (so a NotifyWork made after ListenWork
// returns is received), and re-established after any error. Announcements
// made while it reconnects, or while the channel is full, are lost: the
// reader must still poll now and then.
func (db *DB) ListenWork(ctx context.Context) (<-chan string, error) {
	conn, err := db.listenConn(ctx)
	if err != nil {
		return nil, err
	}
	ch := make(chan string, listenBuffer)
	go db.listen(ctx, conn, ch)
	return ch, nil
}

func (db *DB) listenConn(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, db.cfg.Copy())
	if err != nil {
		return nil, fmt.Errorf("postgres: listen: connect: %w", err)
	}
	if _, err := conn.Exec(ctx, `LISTEN `+workChannel); err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("postgres: listen: %w", err)
	}
	return conn, nil
}

func (db *DB) listen(ctx context.Context, conn *pgx.Conn, ch chan<- string) {
	defer close(ch)
	backoff := reconnectMin
	for {
		if conn == nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			c, err := db.listenConn(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				db.log.Warn("postgres: listen: reconnect failed", "err", err, "retry_in", backoff)
				backoff = min(2*backoff, reconnectMax)
				continue
			}
			db.log.Info("postgres: listen: reconnected")
			conn, backoff = c, reconnectMin
		}
		err := db.waitWork(ctx, conn, ch)
		closeConn(conn)
		conn = nil
		if ctx.Err() != nil {
			return
		}
		db.log.Warn("postgres: listen: connection lost", "err", err)
	}
}

// waitWork forwards notifications until the connection fails or ctx
// ends. When nothing arrives for a while it pings the server, so that a
// connection that died silently is noticed and replaced.
func (db *DB) waitWork(ctx context.Context, conn *pgx.Conn, ch chan<- string) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, listenPingEvery)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			select {
			case ch <- n.Payload:
			default:
				db.log.Debug("postgres: listen: channel full, announcement dropped", "endpoint", n.Payload)
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			// Quiet period: a timed-out read leaves the connection usable.
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
		default:
			return err
		}
	}
}

// TryLock takes the advisory lock named name if no other session holds
// it. The lock lives in a dedicated connection, kept until release is
// called; should that connection die (or the node), PostgreSQL drops the
// lock and another node may take it.
func (db *DB) TryLock(ctx context.Context, name string) (release func(), ok bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, db.cfg.Copy())
	if err != nil {
		return nil, false, fmt.Errorf("postgres: lock %s: connect: %w", name, err)
	}
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext($1))`, name).Scan(&ok); err != nil {
		closeConn(conn)
		return nil, false, fmt.Errorf("postgres: lock %s: %w", name, err)
	}
	if !ok {
		closeConn(conn)
		return nil, false, nil
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			// Unlock before closing: the server ends the session (and
			// frees the lock) only some time after the socket closes.
			uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock(hashtext($1))`, name); err != nil {
				db.log.Warn("postgres: unlock failed; closing the session frees it", "lock", name, "err", err)
			}
			closeConn(conn)
		})
	}
	return release, true, nil
}
