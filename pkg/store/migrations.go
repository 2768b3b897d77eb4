package store

// Migration is one versioned schema change. The SQL is written once for
// every database: the placeholders {{blob}} and {{bigint}} and {{serial}}
// are filled in by the Dialect. Migrations are append-only: a released one
// is never edited.
type Migration struct {
	Version int
	Name    string
	SQL     []string
}

// Migrations is the schema history, oldest first.
var Migrations = []Migration{
	{Version: 1, Name: "initial", SQL: []string{
		`CREATE TABLE sweeps (
			id {{serial}},
			registry TEXT NOT NULL,
			ruleset TEXT NOT NULL,
			started_at {{bigint}} NOT NULL,
			finished_at {{bigint}},
			stats TEXT
		)`,
		`CREATE TABLE layer_results (
			digest TEXT NOT NULL,
			ruleset TEXT NOT NULL,
			scanned_at {{bigint}} NOT NULL,
			result {{blob}} NOT NULL,
			PRIMARY KEY (digest, ruleset)
		)`,
		`CREATE TABLE images (
			registry TEXT NOT NULL,
			repo TEXT NOT NULL,
			tag TEXT NOT NULL,
			platform TEXT NOT NULL,
			digest TEXT NOT NULL,
			config_digest TEXT NOT NULL,
			layers TEXT NOT NULL,
			report {{blob}},
			error TEXT NOT NULL,
			sweep_id {{bigint}} NOT NULL,
			first_seen {{bigint}} NOT NULL,
			last_seen {{bigint}} NOT NULL,
			PRIMARY KEY (registry, repo, tag, platform)
		)`,
		`CREATE TABLE findings (
			fingerprint TEXT PRIMARY KEY,
			first_sweep {{bigint}} NOT NULL,
			first_seen {{bigint}} NOT NULL
		)`,
	}},
	{Version: 2, Name: "index images by sweep", SQL: []string{
		`CREATE INDEX images_sweep ON images (sweep_id)`,
	}},
	{Version: 3, Name: "assembled image reports", SQL: []string{
		`CREATE TABLE image_reports (
			key TEXT PRIMARY KEY,
			source TEXT NOT NULL,
			report {{blob}} NOT NULL,
			made_at {{bigint}} NOT NULL
		)`,
	}},
	{Version: 4, Name: "sharded sweeps", SQL: []string{
		// A run is the sweeps of one registry by N shards (one sweep row
		// per shard attempt); an unsharded sweep has run '' and 1 shard.
		`ALTER TABLE sweeps ADD COLUMN run TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE sweeps ADD COLUMN shard INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE sweeps ADD COLUMN shards INTEGER NOT NULL DEFAULT 1`,
		`CREATE INDEX sweeps_run ON sweeps (run)`,
		// What assembling an image's report needs (manifest, config, layer
		// descriptors; JSON) while the report is not assembled yet: some
		// of its layers belong to other shards.
		`ALTER TABLE images ADD COLUMN meta {{blob}}`,
	}},
	{Version: 5, Name: "keyed fingerprints and verdicts", SQL: []string{
		// Layer results, assembled reports and first-seen fingerprints
		// written before hold unkeyed fingerprints and no secret ids: they
		// are dropped (the next sweep scans the layers again; its findings
		// are all new once). Images keep their last report until then.
		`DELETE FROM layer_results`,
		`DELETE FROM image_reports`,
		`DELETE FROM findings`,
		// The fingerprint key the store is written with (one row, id 1):
		// fingerprint.Key.ID, never the key.
		`CREATE TABLE store_key (
			id INTEGER PRIMARY KEY,
			key_id TEXT NOT NULL
		)`,
		// Live verification verdicts, by secret id (JSON, no secret).
		`CREATE TABLE secret_verdicts (
			secret_id TEXT PRIMARY KEY,
			verdict {{blob}} NOT NULL,
			checked_at {{bigint}} NOT NULL
		)`,
	}},
}

// LatestVersion is the schema version this build writes.
func LatestVersion() int { return Migrations[len(Migrations)-1].Version }
