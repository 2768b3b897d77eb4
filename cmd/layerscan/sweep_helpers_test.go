package main

import (
	"database/sql"
	"io"
	"testing"

	"github.com/layerscan/layerscan/pkg/store"
)

type ioReadCloser = io.ReadCloser

type nopCloser struct{ io.Reader }

func (nopCloser) Close() error { return nil }

// storeAt migrates db to version v only (an older layerscan's database).
func storeAt(t *testing.T, db *sql.DB, v int) (*store.SQL, error) {
	t.Helper()
	s, err := store.NewSQLAt(t.Context(), db, store.SQLite, v)
	return s, err
}
