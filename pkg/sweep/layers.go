package sweep

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/scan"
	"github.com/layerscan/layerscan/pkg/store"
)

// layerState is what a sweep knows of a unique layer it met.
type layerState uint8

const (
	layerStored    layerState = iota + 1 // its result is in the store
	layerQueued                          // this process scans it
	layerElsewhere                       // another shard's, not stored yet
	layerFailed                          // scanned here, unreadable
)

// digestKey is a layer digest in 32 bytes (a sha256 digest's own bytes).
func digestKey(d string) [32]byte {
	var k [32]byte
	if len(d) == len("sha256:")+64 && d[:7] == "sha256:" {
		if _, err := hex.Decode(k[:], []byte(d[7:])); err == nil {
			return k
		}
	}
	return sha256.Sum256([]byte(d))
}

// layerJob is a layer to scan and where to read it.
type layerJob struct {
	digest    string
	diffID    string
	repo      string
	size      int64
	mediaType string
	// recorded: another shard recorded it for this one in the store.
	recorded bool
}

// layers runs the enumeration and the scanning: Jobs scanners take the
// new layers as the enumeration meets them (one process), or once it is
// over those the shards recorded for this one (drain).
func (s *sweeper) layers(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	jobs := make(chan layerJob, 2*s.o.Jobs)
	for range s.o.Jobs {
		g.Go(func() error {
			for j := range jobs {
				err := s.scanLayer(gctx, j)
				s.inflight.Done()
				if err != nil {
					for range jobs { // let the producer finish
						s.inflight.Done()
					}
					return err
				}
			}
			return nil
		})
	}
	queue := func(j layerJob) error {
		s.inflight.Add(1)
		select {
		case jobs <- j:
			return nil
		case <-gctx.Done():
			s.inflight.Done()
			return gctx.Err()
		}
	}
	g.Go(func() error {
		defer close(jobs)
		if err := s.enumerate(gctx, queue); err != nil {
			return err
		}
		return s.drain(gctx, queue)
	})
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// scanLayer downloads and scans one layer and stores its result; a
// layer that cannot be read is not stored (the next sweep tries again).
func (s *sweeper) scanLayer(ctx context.Context, j layerJob) error {
	d, err := v1.NewHash(j.digest)
	if err != nil {
		return s.layerDone(ctx, j, scan.FailedLayer(err))
	}
	var diffID v1.Hash
	if j.diffID != "" {
		diffID, _ = v1.NewHash(j.diffID)
	}
	l, err := s.remote.Layer(ctx, j.repo, 0, d, diffID, j.size, types.MediaType(j.mediaType))
	if err != nil {
		return s.layerDone(ctx, j, scan.FailedLayer(err))
	}
	rs, err := s.scanner.ScanLayers(ctx, []fetch.Layer{l})
	if err != nil {
		return err
	}
	return s.layerDone(ctx, j, rs[0])
}

// layerDone stores a scanned layer's result (or records its failure),
// then tells the log.
func (s *sweeper) layerDone(ctx context.Context, j layerJob, r *scan.LayerResult) error {
	if r.Err == "" {
		b, err := EncodeLayer(r)
		if err != nil {
			return err
		}
		if err := s.o.Store.PutLayer(ctx, j.digest, s.ruleset, b, time.Now()); err != nil {
			return err
		}
		s.results.Put(j.digest, r)
	}
	if s.sharded() && r.Err != "" {
		// Tried: not offered to another shard.
		if err := s.o.Store.TriedLayer(ctx, s.run, j.wanted(s.o.Shard), s.id); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.stats.LayersScanned++
	if r.Err != "" {
		s.seen[digestKey(j.digest)] = layerFailed
		if len(s.failed) < 100_000 {
			s.failed[j.digest] = r.Err
		}
		s.stats.LayerErrors++
		s.noteError("layer " + j.digest + ": " + r.Err)
	} else {
		s.seen[digestKey(j.digest)] = layerStored
	}
	s.mu.Unlock()
	if s.o.Logger != nil {
		s.o.Logger.Info("layer scanned", "digest", j.digest, "shard", s.o.Shard, "shards", s.o.Shards, "bytes", r.Bytes, "findings", len(r.Findings), "error", r.Err)
	}
	if r.Err != "" {
		s.logf("layer %s: %s", j.digest, r.Err)
	}
	s.tick()
	return nil
}

func (j layerJob) wanted(owner int) store.WantedLayer {
	return store.WantedLayer{Digest: j.digest, Owner: owner, Repo: j.repo, Size: j.size, MediaType: j.mediaType}
}

// drain is a shard's layer work. Every shard records in the store the new
// layers it meets in its repositories, for the shard that owns each (its
// own among them): once its enumeration is over, a shard scans those
// recorded for it as they come until every shard of the run has
// enumerated (or ShardWait has passed), then, having said so
// (StepDrained), makes a last pass and says it is done (StepScanned). Then it scans the layers
// recorded for shards that are done without having tried them (recorded
// after their last pass: their shard stopped waiting). Every recorded
// layer is so tried by exactly one shard in the normal case, and by some
// shard in every case.
func (s *sweeper) drain(ctx context.Context, queue func(layerJob) error) error {
	if !s.sharded() {
		s.inflight.Wait()
		return nil
	}
	deadline := time.Now().Add(s.o.ShardWait)
	own := store.WantedQuery{Run: s.run, Ruleset: s.ruleset, Owners: []int{s.o.Shard}, NotTriedBy: s.id}
	for {
		if err := s.scanRecorded(ctx, own, queue); err != nil {
			return err
		}
		sweeps, err := s.runSweeps(ctx)
		if err != nil {
			return err
		}
		if len(shardsAt(sweeps, store.StepEnumerated)) == s.o.Shards || time.Now().After(deadline) {
			break
		}
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
	if err := s.o.Store.MarkSweep(ctx, s.id, store.StepDrained, time.Now()); err != nil {
		return err
	}
	if err := s.scanRecorded(ctx, own, queue); err != nil {
		return err
	}
	s.inflight.Wait()
	if err := s.o.Store.MarkSweep(ctx, s.id, store.StepScanned, time.Now()); err != nil {
		return err
	}
	// Layers recorded for shards done without them.
	deadline = time.Now().Add(s.o.ShardWait)
	for {
		sweeps, err := s.runSweeps(ctx)
		if err != nil {
			return err
		}
		done, draining := shardsAt(sweeps, store.StepScanned), shardsAt(sweeps, store.StepDrained)
		if len(done) == len(draining) || time.Now().After(deadline) {
			var others []int
			for _, i := range done {
				if i != s.o.Shard {
					others = append(others, i)
				}
			}
			if len(others) > 0 {
				if err := s.scanRecorded(ctx, store.WantedQuery{Run: s.run, Ruleset: s.ruleset, Owners: others, Untried: true}, queue); err != nil {
					return err
				}
			}
			s.inflight.Wait()
			return nil
		}
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
}

// scanRecorded queues the layers q selects, a page at a time, but those
// this process met already.
func (s *sweeper) scanRecorded(ctx context.Context, q store.WantedQuery, queue func(layerJob) error) error {
	q.Limit = 500
	for {
		page, err := s.o.Store.WantedLayers(ctx, q)
		if err != nil || len(page) == 0 {
			return err
		}
		for _, l := range page {
			k := digestKey(l.Digest)
			s.mu.Lock()
			st := s.seen[k]
			fresh := st == 0 || st == layerElsewhere
			if st == 0 {
				s.stats.LayersSeen++
				if l.Owner == s.o.Shard {
					s.stats.LayersInShare++
				}
			}
			if fresh {
				s.seen[k] = layerQueued
			}
			s.mu.Unlock()
			if fresh {
				if err := queue(layerJob{digest: l.Digest, repo: l.Repo, size: l.Size, mediaType: l.MediaType, recorded: true}); err != nil {
					return err
				}
			}
		}
		q.After = page[len(page)-1].Digest
	}
}

// runSweeps are the sweeps of this shard's run.
func (s *sweeper) runSweeps(ctx context.Context) ([]store.Sweep, error) {
	all, err := s.o.Store.Sweeps(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.Sweep
	for _, sw := range all {
		if sw.Run == s.o.Run {
			out = append(out, sw)
		}
	}
	return out, nil
}

// shardsAt are the shards with an attempt that reached step.
func shardsAt(sweeps []store.Sweep, step store.Step) []int {
	var out []int
	for _, sw := range sweeps {
		at := map[store.Step]time.Time{store.StepEnumerated: sw.Enumerated, store.StepDrained: sw.Drained, store.StepScanned: sw.Scanned}[step]
		if !at.IsZero() && !slices.Contains(out, sw.Shard) {
			out = append(out, sw.Shard)
		}
	}
	slices.Sort(out)
	return out
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// layerResult is the result of a layer for assembling an image: from the
// cache, the store, the failure met in this sweep, or nil (not scanned).
func (s *sweeper) layerResult(ctx context.Context, digest string) (*scan.LayerResult, error) {
	if r, ok := s.results.Get(digest); ok {
		return r, nil
	}
	b, ok, err := s.o.Store.Layer(ctx, digest, s.ruleset)
	if err != nil {
		return nil, err
	}
	if ok {
		if r, err := DecodeLayer(b); err == nil {
			s.results.Put(digest, r)
			return r, nil
		}
	}
	s.mu.Lock()
	msg, failed := s.failed[digest]
	s.mu.Unlock()
	if failed {
		return scan.FailedLayer(errors.New(msg)), nil
	}
	return nil, nil
}

// EncodeLayer is the stored form of a layer result: gzipped JSON, which
// holds no plaintext secret.
func EncodeLayer(lr *scan.LayerResult) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(lr); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// DecodeLayer reads EncodeLayer's form.
func DecodeLayer(b []byte) (*scan.LayerResult, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	var lr scan.LayerResult
	if err := json.NewDecoder(io.LimitReader(zr, 4<<30)).Decode(&lr); err != nil {
		return nil, err
	}
	return &lr, nil
}
