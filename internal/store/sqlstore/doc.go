// Package sqlstore is the one SQL store of Slotwire: every query that reads
// or writes tenants, keys, endpoints, the delivery log, leases, send slots,
// endpoint health and module migrations is written once, here, with '?'
// placeholders, and run on SQLite or PostgreSQL through a small Dialect
// (placeholder rebinding, boolean literals, row-lock clauses, which errors
// are worth a retry). The drivers embed a *DB and keep only what really
// differs: opening the database, their migration files, and the hot paths
// that use each engine's strengths (PostgreSQL ingests and completes whole
// batches with unnest arrays and claims with FOR UPDATE SKIP LOCKED;
// SQLite uses prepared statements on its single writer connection).
//
// Why not sqlc: sqlc generates Go per engine from per-engine query files,
// so the queries the two engines share (nearly all of them) would still be
// written twice, once per dialect, and kept in step by hand — the
// duplication this package removes. With the few dialect differences
// expressed in Go, each query has one source of truth, and the shared
// conformance suite (store/storetest) checks it on both engines.
package sqlstore
