package sweep

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/store"
	"github.com/layerscan/layerscan/pkg/store/postgres"
	"github.com/layerscan/layerscan/pkg/store/sqlite"
)

// OpenStore opens the database a DSN names: postgres://… (shared by the
// shards of a run) or a SQLite file (optionally sqlite://PATH).
func OpenStore(ctx context.Context, dsn string) (store.Store, error) {
	if postgres.IsURL(dsn) {
		return postgres.Open(ctx, dsn)
	}
	return sqlite.Open(ctx, strings.TrimPrefix(dsn, "sqlite://"))
}

// ReadRepoList reads a --repos-file: one repository a line, # comments.
func ReadRepoList(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out, sc.Err()
}

// JobIndexEnv is the index Kubernetes gives each pod of an Indexed Job.
const JobIndexEnv = "JOB_COMPLETION_INDEX"

// ShardOptions reads --shard I/N, or --shards N with the index from
// $JOB_COMPLETION_INDEX: (0, 1) without either.
func ShardOptions(shard string, shards int) (int, int, error) {
	switch {
	case shard != "" && shards != 0:
		return 0, 0, fmt.Errorf("--shard I/N and --shards N: give one")
	case shard != "":
		i, n, err := ParseShard(shard)
		if err != nil {
			return 0, 0, fmt.Errorf("--shard %v", err)
		}
		return i, n, nil
	case shards != 0:
		v, ok := os.LookupEnv(JobIndexEnv)
		if !ok {
			return 0, 0, fmt.Errorf("--shards %d needs $%s (set by a Kubernetes Indexed Job); elsewhere use --shard I/N", shards, JobIndexEnv)
		}
		i, err := strconv.Atoi(v)
		if err != nil || shards < 1 || i < 0 || i >= shards {
			return 0, 0, fmt.Errorf("$%s=%q with --shards %d: want 0 ≤ index < shards", JobIndexEnv, v, shards)
		}
		return i, shards, nil
	}
	return 0, 1, nil
}

// Summary is the sweep's summary line (text logs).
func (r *Result) Summary(registry string) string {
	s := r.Stats
	if s.Shards > 1 {
		return fmt.Sprintf("shard %d/%d of run %s (sweep %d of %s): %d layers seen, %d in its share, %d scanned, %d from the store, %d images in its share (%d assembled, %d left for the report), %d findings, %d layer errors, %d images with errors, %s downloaded, %s",
			s.Shard, s.Shards, s.Run, r.Sweep, registry, s.LayersSeen, s.LayersInShare, s.LayersScanned, s.LayersCached,
			s.ImagesInShare, s.Images, s.ImagesPending, s.Findings, s.LayerErrors, s.Errors, report.HumanBytes(s.BytesDownloaded),
			(time.Duration(s.DurationMS) * time.Millisecond).String())
	}
	return fmt.Sprintf("sweep %d of %s: %d repositories, %d tags, %d images, %d layers seen, %d scanned, %d from the store, %s downloaded (%s of layers), %d findings, %d new since the last sweep, %d images with errors, %s",
		r.Sweep, registry, s.Repositories, s.Tags, s.Images, s.LayersSeen, s.LayersScanned, s.LayersCached,
		report.HumanBytes(s.BytesDownloaded), report.HumanBytes(s.LayerBytes), s.Findings, s.NewFindings, s.Errors,
		(time.Duration(s.DurationMS) * time.Millisecond).String())
}

// Log writes the sweep's summary as one structured event.
func (r *Result) Log(l *slog.Logger, registry string) {
	s := r.Stats
	if s.Shards <= 1 {
		l.Info("sweep summary", "sweep", r.Sweep, "registry", registry, "stats", s)
		return
	}
	l.Info("shard summary", "run", s.Run, "shard", s.Shard, "shards", s.Shards, "sweep", r.Sweep, "registry", registry,
		"layers_seen", s.LayersSeen, "layers_in_share", s.LayersInShare, "layers_scanned", s.LayersScanned, "layers_from_cache", s.LayersCached,
		"images_in_share", s.ImagesInShare, "images_assembled", s.Images, "images_pending", s.ImagesPending,
		"findings", s.Findings, "layer_errors", s.LayerErrors, "image_errors", s.Errors,
		"layer_bytes", s.LayerBytes, "bytes", s.BytesDownloaded, "duration_ms", s.DurationMS)
}

// ShardFailed says why a shard's share had errors ("" when it had none):
// run the shard again to retry them.
func (r *Result) ShardFailed() string {
	s := r.Stats
	if s.LayerErrors == 0 && s.Errors == 0 {
		return ""
	}
	return fmt.Sprintf("shard %d/%d of run %s: its share had errors (%d layers not scanned, %d images with errors; e.g. %s); run this shard again to retry them",
		s.Shard, s.Shards, s.Run, s.LayerErrors, s.Errors, strings.Join(s.ImageErrorsMsgs, "; "))
}

// ParseSince reads a --new-since value: a duration back from now ("24h")
// or an RFC 3339 time.
func ParseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q: a duration (24h) or an RFC 3339 time", s)
}

// OpenExistingStore opens a store that must exist (a report reads one):
// a missing SQLite file is ErrNoStore rather than a new empty database.
func OpenExistingStore(ctx context.Context, dsn string) (store.Store, error) {
	if !postgres.IsURL(dsn) {
		if _, err := os.Stat(strings.TrimPrefix(dsn, "sqlite://")); err != nil {
			return nil, fmt.Errorf("%w at %s (run layerscan sweep REGISTRY --db %s first)", ErrNoStore, dsn, dsn)
		}
	}
	return OpenStore(ctx, dsn)
}
