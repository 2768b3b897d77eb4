package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"

	"github.com/layerscan/layerscan/pkg/store"
)

// IsURL tells whether dsn names a PostgreSQL database.
func IsURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open connects to the database at dsn (postgres://user:pass@host/db?…)
// and migrates it to the latest schema.
func Open(ctx context.Context, dsn string) (*store.SQL, error) {
	db, err := OpenDB(ctx, dsn)
	if err != nil {
		return nil, err
	}
	s, err := store.NewSQL(ctx, db, store.Postgres)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", Redact(dsn), err)
	}
	return s, nil
}

// OpenDB connects without migrating.
func OpenDB(ctx context.Context, dsn string) (*sql.DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", Redact(dsn), err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to %s: %s", Redact(dsn), strings.ReplaceAll(err.Error(), dsn, Redact(dsn)))
	}
	return db, nil
}

// Redact hides the password of a database URL, for messages.
func Redact(dsn string) string {
	i := strings.Index(dsn, "://")
	at := strings.LastIndex(dsn, "@")
	if i < 0 || at < i {
		return dsn
	}
	userinfo := dsn[i+3 : at]
	if c := strings.IndexByte(userinfo, ':'); c >= 0 {
		return dsn[:i+3] + userinfo[:c] + ":xxxxx" + dsn[at:]
	}
	return dsn
}
