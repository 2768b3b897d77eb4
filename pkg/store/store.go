package store

import (
	"context"
	"errors"
	"time"
)

// Errors of the store.
var (
	// ErrNewerSchema says the database was written by a newer layerscan.
	ErrNewerSchema = errors.New("database schema is newer than this layerscan supports")
	// ErrOtherKey says the store was written under another fingerprint
	// key: its fingerprints and secret ids cannot be mixed with this
	// run's.
	ErrOtherKey = errors.New("the store was written with another fingerprint key")
)

// Store is a sweep's persistent state. Implementations are safe for
// concurrent use, and every write is committed when the call returns (a
// killed sweep keeps what it wrote).
type Store interface {
	// Layer returns the stored result of the layer with digest under
	// ruleset, and whether there is one.
	Layer(ctx context.Context, digest, ruleset string) ([]byte, bool, error)
	// PutLayer stores (or replaces) the result of a layer under ruleset.
	PutLayer(ctx context.Context, digest, ruleset string, result []byte, at time.Time) error
	// BeginSweep records the start of a sweep of registry and returns its id.
	BeginSweep(ctx context.Context, registry, ruleset string, at time.Time) (int64, error)
	// BeginShard records the start of shard (0-based) of shards of the
	// sweep run named run, and returns its sweep id. A shard run again
	// gets a new id in the same run.
	BeginShard(ctx context.Context, registry, ruleset, run string, shard, shards int, at time.Time) (int64, error)
	// LayerCount is the number of stored layer results under ruleset
	// (every ruleset when empty).
	LayerCount(ctx context.Context, ruleset string) (int, error)
	// FinishSweep records a sweep's end and its counters (JSON).
	FinishSweep(ctx context.Context, id int64, at time.Time, stats []byte) error
	// Sweeps lists the sweeps, newest first.
	Sweeps(ctx context.Context) ([]Sweep, error)
	// PutImage records an image seen by a sweep: inserted, or updated with
	// first_seen kept.
	PutImage(ctx context.Context, im Image) error
	// Images lists the images the latest finished sweep of each registry
	// saw (sweep 0 in the filter), or those of one sweep.
	Images(ctx context.Context, f ImageFilter) ([]Image, error)
	// SeeFindings records the finding fingerprints a sweep reported and
	// returns how many were never seen before.
	SeeFindings(ctx context.Context, sweep int64, at time.Time, fingerprints []string) (int, error)
	// FindingsFirstSeen tells when each fingerprint was first seen.
	FindingsFirstSeen(ctx context.Context) (map[string]time.Time, error)
	// ImageReport returns the report assembled for an image under key
	// (manifest digest, ruleset and report options) and the reference it
	// was made for.
	ImageReport(ctx context.Context, key string) (report []byte, source string, ok bool, err error)
	// PutImageReport stores an assembled image report under key.
	PutImageReport(ctx context.Context, key, source string, report []byte, at time.Time) error
	// ClaimKey records the fingerprint key id (fingerprint.Key.ID) the
	// store is written with, the first time; later it returns ErrOtherKey
	// for another id.
	ClaimKey(ctx context.Context, keyID string) error
	// Verdict returns the verification verdict stored for a secret id
	// (JSON) and when it was checked.
	Verdict(ctx context.Context, secretID string) (verdict []byte, at time.Time, ok bool, err error)
	// PutVerdict stores (or replaces) a secret's verdict.
	PutVerdict(ctx context.Context, secretID string, verdict []byte, at time.Time) error
	// SchemaVersion is the database's migration level.
	SchemaVersion(ctx context.Context) (int, error)
	Close() error
}

// Sweep is one run of layerscan sweep.
type Sweep struct {
	ID       int64
	Registry string
	Ruleset  string
	Started  time.Time
	Finished time.Time // zero while running or when interrupted
	Stats    []byte    // JSON counters
	// Run names a sharded sweep ('' for an unsharded one); Shard is this
	// sweep's index in it, of Shards.
	Run           string
	Shard, Shards int
}

// Image is one platform image of a repository tag, as a sweep saw it.
type Image struct {
	Registry, Repo, Tag, Platform string
	Digest, ConfigDigest          string
	// Layers are the layer digests, base first.
	Layers []string
	// Report is the image's layerscan/v1 report entry (JSON).
	// Report is nil while the image waits for layers other shards scan:
	// Meta then holds what assembling it needs (package sweep's JSON).
	Report    []byte
	Meta      []byte
	Error     string
	Sweep     int64
	FirstSeen time.Time
	LastSeen  time.Time
}

// ImageFilter selects images.
type ImageFilter struct {
	// Sweep selects one sweep's images; 0 the latest finished sweep of
	// each registry.
	Sweep int64
	// Run selects the images every shard of a sharded run saw.
	Run string
}
