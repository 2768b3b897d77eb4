// Package postgres opens the shared store: a PostgreSQL database through
// pgx (github.com/jackc/pgx/v5, its database/sql driver), with the same
// schema and migrations as the embedded SQLite store. Many sweep
// processes (the shards of a sharded sweep) can use one database at once:
// every write is an upsert, and migrations take an advisory lock.
package postgres
