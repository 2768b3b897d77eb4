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
// killed sweep keeps what it wrote). Nothing a method returns grows with
// the registry unless it says so: lists come in pages.
type Store interface {
	// Layer returns the stored result of the layer with digest under
	// ruleset, and whether there is one.
	Layer(ctx context.Context, digest, ruleset string) ([]byte, bool, error)
	// StoredLayers tells which of digests have a result under ruleset.
	StoredLayers(ctx context.Context, ruleset string, digests []string) (map[string]bool, error)
	// PutLayer stores (or replaces) the result of a layer under ruleset.
	PutLayer(ctx context.Context, digest, ruleset string, result []byte, at time.Time) error
	// BeginSweep records the start of a sweep of registry and returns its id.
	BeginSweep(ctx context.Context, registry, ruleset string, at time.Time) (int64, error)
	// BeginShard records the start of shard (0-based) of shards of the
	// sweep run named run, and returns its sweep id. A shard run again
	// gets a new id in the same run.
	BeginShard(ctx context.Context, registry, ruleset, run string, shard, shards int, at time.Time) (int64, error)
	// MarkSweep records that sweep id reached a step of a sharded run.
	MarkSweep(ctx context.Context, id int64, step Step, at time.Time) error
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
	// SeeImages records that sweep saw the stored images keys again,
	// unchanged (their sweep and last sighting updated).
	SeeImages(ctx context.Context, sweep int64, at time.Time, keys []ImageKey) error
	// RepoImages lists the stored images of one repository, without
	// their reports and metas: what a sweep compares a tag with.
	RepoImages(ctx context.Context, registry, repo string) ([]Image, error)
	// ImageMeta returns the meta of a stored image.
	ImageMeta(ctx context.Context, key ImageKey) ([]byte, error)
	// Images lists a page of the images f selects, in key order.
	Images(ctx context.Context, f ImageFilter) ([]Image, error)
	// SeeFindings records the finding fingerprints a sweep reported and
	// returns how many were never seen before.
	SeeFindings(ctx context.Context, sweep int64, at time.Time, fingerprints []string) (int, error)
	// FindingsFirstSeen tells when, and by which sweep, each of
	// fingerprints was first seen (those never seen are left out).
	FindingsFirstSeen(ctx context.Context, fingerprints []string) (map[string]FirstSeen, error)
	// ImageReport returns the report assembled for an image under key
	// (manifest digest, ruleset and report options) and the reference it
	// was made for.
	ImageReport(ctx context.Context, key string) (report []byte, source string, ok bool, err error)
	// PutImageReport stores an assembled image report under key.
	PutImageReport(ctx context.Context, key, source string, report []byte, at time.Time) error
	// WantLayers records layers a shard of run found that another shard
	// owns (a layer already recorded keeps its first record).
	WantLayers(ctx context.Context, run string, layers []WantedLayer) error
	// WantedLayers lists a page of the layers recorded for run that have
	// no result under the query's ruleset.
	WantedLayers(ctx context.Context, q WantedQuery) ([]WantedLayer, error)
	// TriedLayer records that sweep tried to scan a layer of run (it is
	// not offered to another shard then), recording the layer if needed.
	TriedLayer(ctx context.Context, run string, layer WantedLayer, sweep int64) error
	// ForgetWantedLayers drops the layers recorded for run, and those
	// recorded for any run before before.
	ForgetWantedLayers(ctx context.Context, run string, before time.Time) error
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

// Step is a point a shard of a sharded run reaches.
type Step string

// The steps of a shard, in order.
const (
	// StepEnumerated: its repositories are enumerated, every layer it
	// found for other shards recorded.
	StepEnumerated Step = "enumerated_at"
	// StepDrained: its last pass over the layers recorded for it begins.
	StepDrained Step = "drained_at"
	// StepScanned: that pass is over.
	StepScanned Step = "scanned_at"
)

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
	// Enumerated, Drained and Scanned are when the shard reached each
	// Step (zero: not yet).
	Enumerated, Drained, Scanned time.Time
}

// ImageKey names an image row: one platform image of a repository tag.
type ImageKey struct {
	Registry, Repo, Tag, Platform string
}

// Image is one platform image of a repository tag, as a sweep saw it.
type Image struct {
	Registry, Repo, Tag, Platform string
	Digest, ConfigDigest          string
	// Layers are the layer digests, base first.
	Layers []string
	// Report is the image's layerscan/v1 report entry (JSON).
	// Report is nil while the image waits for layers not scanned yet.
	// Meta holds what assembling it needs (package sweep's JSON).
	Report    []byte
	Meta      []byte
	Error     string
	Sweep     int64
	FirstSeen time.Time
	LastSeen  time.Time
	// TagDigest is the digest of the manifest the tag named when the
	// image was read (an index's own); ResolveKey the platform choice and
	// bounds it was read under; ReportKey the ruleset and report options
	// of Report.
	TagDigest, ResolveKey, ReportKey string
	// Created is the config's creation time (zero: unknown).
	Created time.Time
	// Findings and Errors count Report's findings and errors (an
	// unreadable image has one error).
	Findings, Errors int
}

// Key is the image's key.
func (im *Image) Key() ImageKey {
	return ImageKey{Registry: im.Registry, Repo: im.Repo, Tag: im.Tag, Platform: im.Platform}
}

// ImageFilter selects images, a page at a time.
type ImageFilter struct {
	// Sweep selects one sweep's images; 0 the latest finished sweep of
	// each registry.
	Sweep int64
	// Run selects the images every shard of a sharded run saw.
	Run string
	// Pending selects only the images without a report.
	Pending bool
	// After starts the page after this key (zero: the first page); Limit
	// bounds it (0: every image).
	After ImageKey
	Limit int
}

// FirstSeen is when a finding fingerprint was first seen.
type FirstSeen struct {
	Sweep int64
	At    time.Time
}

// WantedLayer is a layer a shard of a run is to scan.
type WantedLayer struct {
	Digest string
	// Owner is the shard that owns it (sweep.ShardOf its digest).
	Owner int
	// Repo is a repository of the registry that holds it.
	Repo      string
	Size      int64
	MediaType string
	// TriedBy is the sweep that last tried to scan it (0: none).
	TriedBy int64
}

// WantedQuery selects recorded layers of a run without a result under
// Ruleset, in digest order, after After, at most Limit.
type WantedQuery struct {
	Run     string
	Ruleset string
	// Owners selects the layers of these shards.
	Owners []int
	// NotTriedBy leaves out the layers this sweep tried; Untried those
	// any sweep tried.
	NotTriedBy int64
	Untried    bool
	After      string
	Limit      int
}
