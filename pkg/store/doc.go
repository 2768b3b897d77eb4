// Package store keeps what sweeps learn: per layer digest the scan result
// under a ruleset fingerprint, the images seen with their layers and
// reports, the sweeps, and when each finding fingerprint was first seen.
//
// Store is the interface; SQL is its implementation over database/sql,
// shared by every SQL database through a small Dialect (the embedded SQLite
// default in package store/sqlite, PostgreSQL in package store/postgres,
// with the same migrations). Nothing stored holds a plaintext
// secret: layer results and reports carry fingerprints and redacted
// secrets only.
package store
