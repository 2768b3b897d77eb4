package sweep

import "errors"

// The errors of Render and OpenExistingStore wrap one of these.
var (
	// ErrNoStore: a SQLite store to read does not exist.
	ErrNoStore = errors.New("sweep: no sweep database")
	// ErrNoSweep: the store holds no finished sweep (or not the one asked).
	ErrNoSweep = errors.New("sweep: no finished sweep in the store")
	// ErrShardsMissing: shards of the run have not stored their summary.
	ErrShardsMissing = errors.New("sweep: shards of the run have not finished")
	// ErrRuleset: the scanner's ruleset is not the run's.
	ErrRuleset = errors.New("sweep: the scanner's ruleset is not the sweep's")
)
