// Package sqlite opens the embedded store: a SQLite file through the pure-Go
// modernc.org/sqlite driver (no C toolchain needed).
package sqlite
