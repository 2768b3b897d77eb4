// Package sqlite opens the embedded store: a SQLite file through the pure-Go
// modernc.org/sqlite driver (no C toolchain needed).
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	_ "modernc.org/sqlite" // registers "sqlite"

	"github.com/layerscan/layerscan/pkg/store"
)

// Open opens (creating it if needed) the SQLite database at path and
// migrates it to the latest schema.
func Open(ctx context.Context, path string) (*store.SQL, error) {
	db, err := OpenDB(path)
	if err != nil {
		return nil, err
	}
	s, err := store.NewSQL(ctx, db, store.SQLite)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// OpenDB opens the database file without migrating it: WAL journal (a
// killed writer loses nothing committed), a busy timeout for concurrent
// processes, foreign keys on.
func OpenDB(path string) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	// One writer at a time is what SQLite allows anyway; a single
	// connection also avoids SQLITE_BUSY between our own goroutines.
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return db, nil
}
