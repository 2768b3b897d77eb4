package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/layerscan/layerscan/internal/lru"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/sanitize"
	"github.com/layerscan/layerscan/pkg/scan"
	"github.com/layerscan/layerscan/pkg/store"
)

// Options configure Run.
type Options struct {
	// Registry is the registry host ("registry.example.com", "127.0.0.1:5000").
	Registry string
	// Pipeline scans the layers and assembles the images; the registry is
	// read under its fetch options (platform, credentials, every bound),
	// then Fetch's (the sweep's own: fetch.WithQPS, WithPageSize,
	// WithMaxNames …).
	Pipeline *scan.Pipeline
	Fetch    []fetch.Option
	// Repos and Tags select repositories and tags.
	Repos, Tags Patterns
	// RepoList, when set, replaces the catalog (registries that disable
	// /v2/_catalog).
	RepoList []string
	// Since, when positive, skips images whose config was created longer
	// ago than this.
	Since time.Duration
	// Jobs bounds the layers downloaded and scanned at once (default the
	// CPUs); max(Jobs, 8) repositories are enumerated at once.
	Jobs int

	Store store.Store
	// Progress, when set, receives one line per step.
	Progress io.Writer
	// Logger, when set, receives structured events (progress counters,
	// every layer scanned, the summary) instead of Progress lines.
	Logger *slog.Logger

	// Shard and Shards split the work between processes that share the
	// store (Shards ≤ 1: one process does everything). Shard I enumerates
	// only the repositories ShardOf puts in I, scans the unique layers
	// whose digest ShardOf puts in I (those it finds itself, and those
	// the other shards record for it in the store) and assembles the
	// images of its repositories whose layers are all stored; the rest
	// `layerscan report` assembles (docs/sweep.md).
	Shard, Shards int
	// Run names the sharded sweep all the shards belong to.
	Run string
	// ShardWait bounds how long a shard waits for the other shards of its
	// run to enumerate their repositories (they record layers for it)
	// before its last pass over its layers (0: DefaultShardWait).
	ShardWait time.Duration
}

// DefaultShardWait is Options.ShardWait's default.
const DefaultShardWait = 30 * time.Minute

// Stats are a sweep's counters.
type Stats struct {
	Repositories int `json:"repositories"`
	Tags         int `json:"tags"`
	Images       int `json:"images"`
	// ImagesUnchanged are the images whose tag still names the manifest
	// the store holds them for: taken from the store (one HEAD each).
	ImagesUnchanged int `json:"images_unchanged"`
	LayersSeen      int `json:"layers_seen"`
	LayersScanned   int `json:"layers_scanned"`
	LayersCached    int `json:"layers_from_cache"`
	// LayerBytes are the layer blob bytes downloaded; BytesDownloaded
	// every response body byte (manifests, configs, lists included).
	LayerBytes      int64 `json:"layer_bytes_downloaded"`
	BytesDownloaded int64 `json:"bytes_downloaded"`
	Findings        int   `json:"findings"`
	NewFindings     int   `json:"new_findings"`
	Errors          int   `json:"errors"`
	DurationMS      int64 `json:"duration_ms"`

	// Sharded sweeps: which shard, the layers of its share it met, the
	// images of its repositories (assembled, or left for the report
	// because other shards' layers are missing), and the layers of its
	// share that could not be scanned.
	Run             string   `json:"run,omitempty"`
	Shard           int      `json:"shard"`
	Shards          int      `json:"shards"`
	LayersInShare   int      `json:"layers_in_share"`
	ImagesInShare   int      `json:"images_in_share"`
	ImagesPending   int      `json:"images_pending"`
	LayerErrors     int      `json:"layer_errors"`
	ImageErrorsMsgs []string `json:"error_samples,omitempty"`
}

// Result is what a sweep did: its id in the store (whose images Render
// reads) and its counters.
type Result struct {
	Sweep int64
	Stats Stats
}

// Run sweeps the registry through the store, in phases: begin (the
// sweep's row), enumerate (repositories, tags, manifests and configs of
// the changed tags; each image assembled and stored as soon as its layers
// are, its new layers scanned meanwhile), drain (a shard's last pass over
// the layers other shards found for it), assemble (the images that waited
// for layers) and finish. Nothing grows with the registry but a set of
// the unique layer digests met (32 bytes each). Problems with one
// repository, manifest or layer are recorded on the images concerned;
// the error is for what stops the whole sweep (no catalog, a store
// failure, cancellation).
func Run(ctx context.Context, o Options) (*Result, error) {
	s, err := newSweeper(o)
	if err != nil {
		return nil, err
	}
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := s.layers(ctx); err != nil {
		return nil, err
	}
	if err := s.assemblePending(ctx); err != nil {
		return nil, err
	}
	return s.finish(ctx)
}

// sweeper is one sweep's state.
type sweeper struct {
	o       Options
	remote  *fetch.Remote
	scanner *scan.Scanner
	ruleset string
	// reportKey names the ruleset and report options of an assembled
	// report; resolveKey the platform choice and bounds of a resolution.
	reportKey, resolveKey string
	id                    int64
	run                   string // the key of the run's recorded layers
	start                 time.Time
	cutoff                time.Time // --since: zero for none

	mu     sync.Mutex
	stats  Stats
	seen   map[[32]byte]layerState
	failed map[string]string // layers that could not be scanned: why
	// inflight counts the layers handed to the scanners and not done.
	inflight sync.WaitGroup
	results  *lru.Cache[string, *scan.LayerResult]
	reports  *lru.Cache[string, []byte]

	progress sync.Mutex
	lastLog  time.Time
}

const (
	// resultCacheBytes bounds the layer results kept decoded, by their
	// estimated size in memory (resultSize): a Debian base layer's
	// (10,000 entries) is about 1.5 MB; a small application layer's a
	// few kB, so a count of entries would let 100,000 of them stay.
	resultCacheBytes = 32 << 20
	// reportCacheBytes bounds the assembled reports kept for other tags of
	// the same image.
	reportCacheBytes = 16 << 20
)

func newSweeper(o Options) (*sweeper, error) {
	if o.Jobs < 1 {
		o.Jobs = runtime.NumCPU()
	}
	if o.Shards < 1 {
		o.Shards, o.Shard = 1, 0
	}
	if o.Shard < 0 || o.Shard >= o.Shards {
		return nil, fmt.Errorf("sweep: shard %d of %d", o.Shard, o.Shards)
	}
	if o.Store == nil || o.Pipeline == nil {
		return nil, errors.New("sweep: a store and a pipeline are needed")
	}
	if o.ShardWait <= 0 {
		o.ShardWait = DefaultShardWait
	}
	r, err := o.Pipeline.Remote(o.Registry, o.Fetch...)
	if err != nil {
		return nil, err
	}
	s := &sweeper{o: o, remote: r, scanner: o.Pipeline.Scanner(), ruleset: o.Pipeline.Ruleset(),
		seen: map[[32]byte]layerState{}, failed: map[string]string{},
		results: lru.New[string, *scan.LayerResult](resultCacheBytes, resultSize),
		reports: lru.New[string, []byte](reportCacheBytes, func(b []byte) int64 { return int64(len(b)) }),
	}
	s.reportKey = s.ruleset + "|" + s.scanner.ReportFingerprint()
	s.resolveKey = r.Key()
	return s, nil
}

// begin records the sweep (a shard's attempt) in the store.
func (s *sweeper) begin(ctx context.Context) error {
	s.start = time.Now()
	if s.o.Since > 0 {
		s.cutoff = s.start.Add(-s.o.Since)
	}
	if err := s.o.Store.ClaimKey(ctx, s.scanner.KeyID()); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	// --verify: verdicts are kept in the store, one per secret, for every
	// image and the nights to come (docs/verification.md).
	s.scanner.UseVerdictStore(s.o.Store)
	id, err := s.o.Store.BeginShard(ctx, s.remote.Registry(), s.ruleset, s.o.Run, s.o.Shard, s.o.Shards, s.start)
	if err != nil {
		return err
	}
	s.id = id
	s.run = s.o.Run
	if s.run == "" {
		s.run = "sweep " + strconv.FormatInt(id, 10)
	}
	s.stats.Run, s.stats.Shard, s.stats.Shards = s.o.Run, s.o.Shard, s.o.Shards
	if s.sharded() {
		// What older runs recorded for their shards is of no use now.
		if err := s.o.Store.ForgetWantedLayers(ctx, "", s.start.Add(-7*24*time.Hour)); err != nil {
			return err
		}
	}
	return nil
}

func (s *sweeper) sharded() bool { return s.o.Shards > 1 }

// finish records the sweep's counters: the sweep is then what Render
// reads.
func (s *sweeper) finish(ctx context.Context) (*Result, error) {
	s.mu.Lock()
	s.stats.LayerBytes = s.remote.LayerBytesRead()
	s.stats.BytesDownloaded = s.remote.BytesRead()
	s.stats.DurationMS = time.Since(s.start).Milliseconds()
	st := s.stats
	s.mu.Unlock()
	b, _ := json.Marshal(st)
	if err := s.o.Store.FinishSweep(ctx, s.id, time.Now(), b); err != nil {
		return nil, err
	}
	return &Result{Sweep: s.id, Stats: st}, nil
}

func (s *sweeper) logf(format string, args ...any) {
	// Repository names, tags and messages come from the registry: the
	// line is sanitised.
	line := sanitize.Text(fmt.Sprintf(format, args...))
	if s.o.Logger != nil {
		s.o.Logger.Info(line, "shard", s.o.Shard, "shards", s.o.Shards)
		return
	}
	if s.o.Progress == nil {
		return
	}
	s.progress.Lock()
	fmt.Fprintf(s.o.Progress, "layerscan: [%s] %s\n", time.Since(s.start).Round(time.Millisecond), line)
	s.progress.Unlock()
}

// tick logs the counters at most every 10 seconds.
func (s *sweeper) tick() {
	s.progress.Lock()
	due := time.Since(s.lastLog) >= 10*time.Second
	if due {
		s.lastLog = time.Now()
	}
	s.progress.Unlock()
	if !due {
		return
	}
	s.mu.Lock()
	st := s.stats
	s.mu.Unlock()
	if s.o.Logger != nil {
		s.o.Logger.Info("progress", "shard", s.o.Shard, "shards", s.o.Shards, "images", st.Images, "images_unchanged", st.ImagesUnchanged,
			"layers_seen", st.LayersSeen, "layers_done", st.LayersScanned, "layer_bytes", s.remote.LayerBytesRead(), "elapsed_ms", time.Since(s.start).Milliseconds())
		return
	}
	s.logf("%d images (%d unchanged), %d unique layers, %d scanned", st.Images, st.ImagesUnchanged, st.LayersSeen, st.LayersScanned)
}

// noteError keeps a few error messages for the summary.
func (s *sweeper) noteError(msg string) {
	if len(s.stats.ImageErrorsMsgs) < 5 {
		s.stats.ImageErrorsMsgs = append(s.stats.ImageErrorsMsgs, sanitize.OneLine(msg))
	}
}

// resultSize estimates the memory a decoded layer result holds: its
// entries (a walk.Entry and its strings) and findings, and the struct.
func resultSize(r *scan.LayerResult) int64 {
	n := int64(512)
	for _, e := range r.Entries {
		n += 96 + int64(len(e.Path)+len(e.Linkname)+len(e.Target))
	}
	for _, h := range r.Findings {
		n += 768 + int64(len(h.Path)+len(h.Description)+len(h.Note)+64*len(h.LinkFingerprints))
	}
	return n
}
