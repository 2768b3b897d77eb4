package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Dialect is what differs between SQL databases.
type Dialect struct {
	Name string
	// Placeholder is the n-th (1-based) bind parameter: "?" or "$n".
	Placeholder func(n int) string
	// Types fill the migrations' {{blob}}, {{bigint}}, {{serial}}.
	Blob, BigInt, Serial string
	// Lock and Unlock, when set, serialize migrations between processes
	// (run on the migrating connection).
	Lock, Unlock string
}

// SQLite is the dialect of modernc.org/sqlite.
var SQLite = Dialect{
	Name:        "sqlite",
	Placeholder: func(int) string { return "?" },
	Blob:        "BLOB", BigInt: "INTEGER", Serial: "INTEGER PRIMARY KEY AUTOINCREMENT",
}

// Postgres is the dialect of PostgreSQL (pgx's database/sql driver,
// opened by package store/postgres).
var Postgres = Dialect{
	Name:        "postgres",
	Placeholder: func(n int) string { return "$" + strconv.Itoa(n) },
	Blob:        "BYTEA", BigInt: "BIGINT", Serial: "BIGSERIAL PRIMARY KEY",
	// Shards start at once: one of them migrates, the others wait.
	Lock:   "SELECT pg_advisory_lock(7407500)",
	Unlock: "SELECT pg_advisory_unlock(7407500)",
}

// SQL is a Store over database/sql.
type SQL struct {
	db *sql.DB
	d  Dialect
}

var _ Store = (*SQL)(nil)

// NewSQL migrates db to the latest schema version (refusing a database
// written by a newer layerscan) and returns the Store over it.
func NewSQL(ctx context.Context, db *sql.DB, d Dialect) (*SQL, error) {
	s := &SQL{db: db, d: d}
	if err := s.Migrate(ctx, LatestVersion()); err != nil {
		return nil, err
	}
	return s, nil
}

// NewSQLAt migrates db only up to version (tests: an older layerscan's
// database).
func NewSQLAt(ctx context.Context, db *sql.DB, d Dialect, version int) (*SQL, error) {
	s := &SQL{db: db, d: d}
	if err := s.Migrate(ctx, version); err != nil {
		return nil, err
	}
	return s, nil
}

// q rewrites ? placeholders for the dialect.
func (s *SQL) q(query string) string {
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString(s.d.Placeholder(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (s *SQL) render(stmt string) string {
	return strings.NewReplacer("{{blob}}", s.d.Blob, "{{bigint}}", s.d.BigInt, "{{serial}}", s.d.Serial).Replace(stmt)
}

// conn is what migrations run on: one connection, so that a dialect's
// session lock holds for all of them.
type conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// SchemaVersion is the highest migration applied (0 for an empty database).
func (s *SQL) SchemaVersion(ctx context.Context) (int, error) {
	return s.schemaVersion(ctx, s.db)
}

func (s *SQL) schemaVersion(ctx context.Context, c conn) (int, error) {
	if _, err := c.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at `+s.d.BigInt+` NOT NULL)`); err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	var v sql.NullInt64
	if err := c.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: reading the schema version: %w", err)
	}
	return int(v.Int64), nil
}

// Migrate applies the migrations up to version target, each in its own
// transaction, on one connection holding the dialect's lock (concurrent
// processes migrate once). A database at a version this build does not
// know is refused with ErrNewerSchema.
func (s *SQL) Migrate(ctx context.Context, target int) error {
	c, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer c.Close()
	if s.d.Lock != "" {
		if _, err := c.ExecContext(ctx, s.d.Lock); err != nil {
			return fmt.Errorf("store: locking the schema: %w", err)
		}
		defer c.ExecContext(context.WithoutCancel(ctx), s.d.Unlock)
	}
	cur, err := s.schemaVersion(ctx, c)
	if err != nil {
		return err
	}
	if cur > LatestVersion() {
		return fmt.Errorf("%w: the database is at schema version %d, this layerscan knows versions up to %d; upgrade layerscan (or use another --db)", ErrNewerSchema, cur, LatestVersion())
	}
	for _, m := range Migrations {
		if m.Version <= cur || m.Version > target {
			continue
		}
		tx, err := c.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("store: migration %d: %w", m.Version, err)
		}
		failed := error(nil)
		for _, stmt := range m.SQL {
			if _, err := tx.ExecContext(ctx, s.render(stmt)); err != nil {
				failed = err
				break
			}
		}
		if failed != nil {
			tx.Rollback()
			// Another process (without a dialect lock: SQLite) may have
			// applied it meanwhile.
			if v, err := s.schemaVersion(ctx, c); err == nil && v >= m.Version {
				continue
			}
			return fmt.Errorf("store: migration %d (%s): %w", m.Version, m.Name, failed)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`), m.Version, m.Name, time.Now().Unix()); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migration %d: %w", m.Version, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("store: migration %d: %w", m.Version, err)
		}
	}
	return nil
}

// DB is the underlying database (tests).
func (s *SQL) DB() *sql.DB { return s.db }

// Close closes the database.
func (s *SQL) Close() error { return s.db.Close() }

func (s *SQL) Layer(ctx context.Context, digest, ruleset string) ([]byte, bool, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, s.q(`SELECT result FROM layer_results WHERE digest = ? AND ruleset = ?`), digest, ruleset).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: reading layer %s: %w", digest, err)
	}
	return b, true, nil
}

func (s *SQL) PutLayer(ctx context.Context, digest, ruleset string, result []byte, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO layer_results (digest, ruleset, scanned_at, result) VALUES (?, ?, ?, ?)
		ON CONFLICT (digest, ruleset) DO UPDATE SET scanned_at = excluded.scanned_at, result = excluded.result`),
		digest, ruleset, at.UnixMilli(), result)
	if err != nil {
		return fmt.Errorf("store: writing layer %s: %w", digest, err)
	}
	return nil
}

func (s *SQL) BeginSweep(ctx context.Context, registry, ruleset string, at time.Time) (int64, error) {
	return s.BeginShard(ctx, registry, ruleset, "", 0, 1, at)
}

func (s *SQL) BeginShard(ctx context.Context, registry, ruleset, run string, shard, shards int, at time.Time) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, s.q(`INSERT INTO sweeps (registry, ruleset, started_at, run, shard, shards) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`),
		registry, ruleset, at.UnixMilli(), run, shard, shards).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: starting a sweep: %w", err)
	}
	return id, nil
}

func (s *SQL) FinishSweep(ctx context.Context, id int64, at time.Time, stats []byte) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE sweeps SET finished_at = ?, stats = ? WHERE id = ?`), at.UnixMilli(), string(stats), id)
	if err != nil {
		return fmt.Errorf("store: finishing sweep %d: %w", id, err)
	}
	return nil
}

func (s *SQL) Sweeps(ctx context.Context) ([]Sweep, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, registry, ruleset, started_at, finished_at, stats, run, shard, shards FROM sweeps ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: listing sweeps: %w", err)
	}
	defer rows.Close()
	var out []Sweep
	for rows.Next() {
		var sw Sweep
		var started int64
		var finished sql.NullInt64
		var stats sql.NullString
		if err := rows.Scan(&sw.ID, &sw.Registry, &sw.Ruleset, &started, &finished, &stats, &sw.Run, &sw.Shard, &sw.Shards); err != nil {
			return nil, fmt.Errorf("store: listing sweeps: %w", err)
		}
		sw.Started = time.UnixMilli(started)
		if finished.Valid {
			sw.Finished = time.UnixMilli(finished.Int64)
		}
		sw.Stats = []byte(stats.String)
		out = append(out, sw)
	}
	return out, rows.Err()
}

func (s *SQL) PutImage(ctx context.Context, im Image) error {
	layers, err := json.Marshal(im.Layers)
	if err != nil {
		return err
	}
	at := im.LastSeen.UnixMilli()
	_, err = s.db.ExecContext(ctx, s.q(`INSERT INTO images (registry, repo, tag, platform, digest, config_digest, layers, report, error, sweep_id, first_seen, last_seen, meta)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (registry, repo, tag, platform) DO UPDATE SET digest = excluded.digest, config_digest = excluded.config_digest,
			layers = excluded.layers, report = excluded.report, error = excluded.error, sweep_id = excluded.sweep_id, last_seen = excluded.last_seen,
			meta = excluded.meta`),
		im.Registry, im.Repo, im.Tag, im.Platform, im.Digest, im.ConfigDigest, string(layers), nilIfEmpty(im.Report), im.Error, im.Sweep, at, at, nilIfEmpty(im.Meta))
	if err != nil {
		return fmt.Errorf("store: writing image %s/%s:%s: %w", im.Registry, im.Repo, im.Tag, err)
	}
	return nil
}

func (s *SQL) Images(ctx context.Context, f ImageFilter) ([]Image, error) {
	query := `SELECT registry, repo, tag, platform, digest, config_digest, layers, report, error, sweep_id, first_seen, last_seen, meta FROM images `
	var args []any
	switch {
	case f.Sweep > 0:
		query += `WHERE sweep_id = ?`
		args = append(args, f.Sweep)
	case f.Run != "":
		query += `WHERE sweep_id IN (SELECT id FROM sweeps WHERE run = ?)`
		args = append(args, f.Run)
	default:
		query += `WHERE sweep_id IN (SELECT MAX(id) FROM sweeps WHERE finished_at IS NOT NULL GROUP BY registry)`
	}
	query += ` ORDER BY registry, repo, tag, platform`
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: listing images: %w", err)
	}
	defer rows.Close()
	var out []Image
	for rows.Next() {
		var im Image
		var layers string
		var first, last int64
		if err := rows.Scan(&im.Registry, &im.Repo, &im.Tag, &im.Platform, &im.Digest, &im.ConfigDigest, &layers, &im.Report, &im.Error, &im.Sweep, &first, &last, &im.Meta); err != nil {
			return nil, fmt.Errorf("store: listing images: %w", err)
		}
		_ = json.Unmarshal([]byte(layers), &im.Layers)
		im.FirstSeen, im.LastSeen = time.UnixMilli(first), time.UnixMilli(last)
		out = append(out, im)
	}
	return out, rows.Err()
}

func (s *SQL) SeeFindings(ctx context.Context, sweep int64, at time.Time, fps []string) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: recording findings: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, s.q(`INSERT INTO findings (fingerprint, first_sweep, first_seen) VALUES (?, ?, ?) ON CONFLICT (fingerprint) DO NOTHING`))
	if err != nil {
		return 0, fmt.Errorf("store: recording findings: %w", err)
	}
	defer stmt.Close()
	n := 0
	seen := map[string]bool{}
	for _, fp := range fps {
		if seen[fp] {
			continue
		}
		seen[fp] = true
		res, err := stmt.ExecContext(ctx, fp, sweep, at.UnixMilli())
		if err != nil {
			return 0, fmt.Errorf("store: recording findings: %w", err)
		}
		if k, err := res.RowsAffected(); err == nil {
			n += int(k)
		}
	}
	return n, tx.Commit()
}

func (s *SQL) FindingsFirstSeen(ctx context.Context) (map[string]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT fingerprint, first_seen FROM findings`)
	if err != nil {
		return nil, fmt.Errorf("store: reading findings: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var fp string
		var at int64
		if err := rows.Scan(&fp, &at); err != nil {
			return nil, err
		}
		out[fp] = time.UnixMilli(at)
	}
	return out, rows.Err()
}

func (s *SQL) ImageReport(ctx context.Context, key string) ([]byte, string, bool, error) {
	var b []byte
	var src string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT report, source FROM image_reports WHERE key = ?`), key).Scan(&b, &src)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", false, nil
	}
	if err != nil {
		return nil, "", false, fmt.Errorf("store: reading an image report: %w", err)
	}
	return b, src, true, nil
}

func (s *SQL) PutImageReport(ctx context.Context, key, source string, report []byte, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO image_reports (key, source, report, made_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET source = excluded.source, report = excluded.report, made_at = excluded.made_at`),
		key, source, report, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: writing an image report: %w", err)
	}
	return nil
}

func nilIfEmpty(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// LayerCount is the number of stored layer results under ruleset (all
// rulesets when empty).
func (s *SQL) LayerCount(ctx context.Context, ruleset string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM layer_results WHERE ruleset = ? OR ? = ''`), ruleset, ruleset).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: counting layers: %w", err)
	}
	return n, nil
}

func (s *SQL) ClaimKey(ctx context.Context, keyID string) error {
	if _, err := s.db.ExecContext(ctx, s.q(`INSERT INTO store_key (id, key_id) VALUES (1, ?) ON CONFLICT (id) DO NOTHING`), keyID); err != nil {
		return fmt.Errorf("store: recording the fingerprint key: %w", err)
	}
	var have string
	if err := s.db.QueryRowContext(ctx, `SELECT key_id FROM store_key WHERE id = 1`).Scan(&have); err != nil {
		return fmt.Errorf("store: reading the fingerprint key: %w", err)
	}
	if have != keyID {
		return fmt.Errorf("%w (%s; this run's is %s): give every run of this store the same key (LAYERSCAN_FINGERPRINT_KEY or --fingerprint-key-file)", ErrOtherKey, have, keyID)
	}
	return nil
}

func (s *SQL) Verdict(ctx context.Context, secretID string) ([]byte, time.Time, bool, error) {
	var b []byte
	var at int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT verdict, checked_at FROM secret_verdicts WHERE secret_id = ?`), secretID).Scan(&b, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, false, nil
	}
	if err != nil {
		return nil, time.Time{}, false, fmt.Errorf("store: reading a verdict: %w", err)
	}
	return b, time.UnixMilli(at), true, nil
}

func (s *SQL) PutVerdict(ctx context.Context, secretID string, verdict []byte, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO secret_verdicts (secret_id, verdict, checked_at) VALUES (?, ?, ?)
		ON CONFLICT (secret_id) DO UPDATE SET verdict = excluded.verdict, checked_at = excluded.checked_at`), secretID, verdict, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: writing a verdict: %w", err)
	}
	return nil
}
