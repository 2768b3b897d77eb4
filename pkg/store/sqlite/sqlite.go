package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"

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
// processes, foreign keys on. The file is made 0600 (it holds findings:
// paths, redacted secrets, fingerprints); SQLite gives its -wal and -shm
// files the database file's mode.
func OpenDB(path string) (*sql.DB, error) {
	if err := private(path); err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
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

// private creates path 0600 if it does not exist, and takes group and
// other permissions off an existing regular file.
func private(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Mode().IsRegular() && st.Mode().Perm()&0o077 != 0 {
		return f.Chmod(st.Mode().Perm() &^ 0o077)
	}
	return nil
}
