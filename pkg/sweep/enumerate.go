package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/store"
)

// enumerate reads the repositories of this shard's share, their tags,
// and the images of every tag that changed since the store saw it;
// an unchanged tag costs one HEAD. Each image is stored as soon as it is
// read: assembled when its layers are all in the store, else with what
// assembling it needs (meta); its new layers go to queue (one process) or
// are recorded for the shard owning each (drain).
func (s *sweeper) enumerate(ctx context.Context, queue func(layerJob) error) error {
	repos, err := s.repositories(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.stats.Repositories = len(repos)
	s.mu.Unlock()
	if s.sharded() {
		s.logf("%d repositories of %s in shard %d/%d", len(repos), s.remote.Registry(), s.o.Shard, s.o.Shards)
	} else {
		s.logf("%d repositories in %s", len(repos), s.remote.Registry())
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(s.o.Jobs, 8))
	for _, repo := range repos {
		g.Go(func() error { return s.enumerateRepo(gctx, repo, queue) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	st := s.stats
	s.mu.Unlock()
	s.logf("%d tags, %d images (%d unchanged), %d unique layers: %d from the store", st.Tags, st.Images, st.ImagesUnchanged, st.LayersSeen, st.LayersCached)
	if s.sharded() {
		return s.o.Store.MarkSweep(ctx, s.id, store.StepEnumerated, time.Now())
	}
	return nil
}

// repositories lists the selected repositories of this shard's share:
// the catalog (every page) or RepoList.
func (s *sweeper) repositories(ctx context.Context) ([]string, error) {
	all := s.o.RepoList
	if all == nil {
		var err error
		all, err = s.remote.Catalog(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the repositories of %s (/v2/_catalog; use --repos-file if the registry disables it): %w", s.remote.Registry(), err)
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range all {
		r = strings.TrimSpace(r)
		if r == "" || seen[r] || !s.o.Repos.Match(r) || ShardOf(r, s.o.Shards) != s.o.Shard {
			continue
		}
		seen[r] = true
		out = append(out, r)
	}
	sort.Strings(out)
	return out, nil
}

// enumerateRepo lists repo's tags and reads the changed ones.
func (s *sweeper) enumerateRepo(ctx context.Context, repo string, queue func(layerJob) error) error {
	tags, err := s.remote.Tags(ctx, repo)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		ref := s.remote.Registry() + "/" + repo
		return s.putFailed(ctx, repo, "", "", ref, "listing tags: "+fetch.Describe(ref, err))
	}
	stored, err := s.o.Store.RepoImages(ctx, s.remote.Registry(), repo)
	if err != nil {
		return err
	}
	byTag := map[string][]store.Image{}
	for _, im := range stored {
		byTag[im.Tag] = append(byTag[im.Tag], im)
	}
	stored = nil
	sort.Strings(tags)
	var seen []store.ImageKey
	flush := func() error {
		if len(seen) == 0 {
			return nil
		}
		err := s.o.Store.SeeImages(ctx, s.id, time.Now(), seen)
		seen = seen[:0]
		return err
	}
	for _, tag := range tags {
		if !s.o.Tags.Match(tag) {
			continue
		}
		s.mu.Lock()
		s.stats.Tags++
		s.mu.Unlock()
		if rows := byTag[tag]; s.reusable(rows) {
			desc, err := s.remote.Head(ctx, repo, tag)
			if err == nil && desc.Digest.String() == rows[0].TagDigest {
				for _, row := range rows {
					if s.tooOld(row.Created) {
						continue
					}
					if row.ReportKey != s.reportKey {
						// The same image under other report options
						// (suppressions, vendor view): assembled again
						// from what the store holds, without the registry.
						meta, err := s.o.Store.ImageMeta(ctx, row.Key())
						if err != nil {
							return err
						}
						if err := s.record(ctx, row, meta, queue); err != nil {
							return err
						}
						continue
					}
					s.unchanged(row)
					if seen = append(seen, row.Key()); len(seen) >= 200 {
						if err := flush(); err != nil {
							return err
						}
					}
				}
				continue
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		if err := s.resolveTag(ctx, repo, tag, queue); err != nil {
			return err
		}
	}
	return flush()
}

// reusable tells whether a tag's stored images can be taken as they are
// when the tag still names the same manifest: read under the same
// platform choice and bounds, every one assembled without an error under
// the same ruleset.
// The config's findings are kept with the image (its secrets are
// redacted from the stored config): under another ruleset the tag is
// read again.
func (s *sweeper) reusable(rows []store.Image) bool {
	if len(rows) == 0 {
		return false
	}
	for _, r := range rows {
		if r.TagDigest == "" || r.TagDigest != rows[0].TagDigest || r.ResolveKey != s.resolveKey || r.Errors > 0 ||
			!strings.HasPrefix(r.ReportKey, s.ruleset+"|") {
			return false
		}
	}
	return true
}

// tooOld tells whether --since leaves out an image created at created.
func (s *sweeper) tooOld(created time.Time) bool {
	return !s.cutoff.IsZero() && !created.IsZero() && created.Before(s.cutoff)
}

// unchanged counts a stored image taken as it is.
func (s *sweeper) unchanged(row store.Image) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Images++
	s.stats.ImagesInShare++
	s.stats.ImagesUnchanged++
	s.stats.Findings += row.Findings
	for _, d := range row.Layers {
		k := digestKey(d)
		if s.seen[k] == 0 {
			s.seen[k] = layerStored
			s.stats.LayersSeen++
			if ShardOf(d, s.o.Shards) == s.o.Shard {
				s.stats.LayersInShare++
				s.stats.LayersCached++
			}
		}
	}
}

// resolveTag reads the images a tag names and records each.
func (s *sweeper) resolveTag(ctx context.Context, repo, tag string, queue func(layerJob) error) error {
	ref := s.remote.Registry() + "/" + repo + ":" + tag
	res, err := s.remote.Resolve(ctx, repo, tag)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return s.putFailed(ctx, repo, tag, "", ref, fetch.Describe(ref, err))
	}
	for _, f := range res.Failed {
		if err := s.putFailed(ctx, repo, tag, f.Platform, ref, fetch.Describe(ref, f.Err)); err != nil {
			return err
		}
	}
	for _, img := range res.Images {
		if img.Config != nil && s.tooOld(img.Config.Created.Time) {
			continue
		}
		meta, err := encodeMeta(s.scanner, img)
		if err != nil {
			if err := s.putFailed(ctx, repo, tag, img.Platform, ref, "reading the config: "+err.Error()); err != nil {
				return err
			}
			continue
		}
		row := store.Image{Registry: s.remote.Registry(), Repo: repo, Tag: tag, Platform: img.Platform, TagDigest: res.Digest.String()}
		if img.Config != nil {
			row.Created = img.Config.Created.Time
		}
		if err := s.record(ctx, row, meta, queue); err != nil {
			return err
		}
	}
	return nil
}

// record stores an image read (or re-read from its meta) in this sweep:
// its layers classified, its report assembled when they are all stored.
func (s *sweeper) record(ctx context.Context, row store.Image, meta []byte, queue func(layerJob) error) error {
	img, _, err := decodeMeta(meta)
	if err != nil {
		return err
	}
	row.Digest, row.ConfigDigest, row.Meta = img.Digest.String(), img.ConfigDigest.String(), meta
	row.Layers = make([]string, len(img.Layers))
	row.Sweep, row.LastSeen, row.ResolveKey = s.id, time.Now(), s.resolveKey
	row.Report, row.ReportKey = nil, ""
	jobs := make([]layerJob, len(img.Layers))
	for i, l := range img.Layers {
		row.Layers[i] = l.Digest.String()
		jobs[i] = layerJob{digest: row.Layers[i], repo: row.Repo, size: l.Size, mediaType: string(l.MediaType)}
		if l.DiffID.Hex != "" {
			jobs[i].diffID = l.DiffID.String()
		}
	}
	all, err := s.classify(ctx, jobs, queue)
	if err != nil {
		return err
	}
	if all {
		if err := s.assemble(ctx, &row); err != nil {
			return err
		}
	}
	if err := s.o.Store.PutImage(ctx, row); err != nil {
		return err
	}
	s.mu.Lock()
	s.stats.Images++
	s.stats.ImagesInShare++
	s.mu.Unlock()
	s.tick()
	return nil
}

// classify looks up the layers this sweep has not met yet: those stored
// are taken from the store, the new ones queued (one process) or recorded
// for the shard owning each. It tells
// whether every layer of the image is stored.
func (s *sweeper) classify(ctx context.Context, jobs []layerJob, queue func(layerJob) error) (bool, error) {
	var unknown []string
	s.mu.Lock()
	for _, j := range jobs {
		if s.seen[digestKey(j.digest)] == 0 {
			unknown = append(unknown, j.digest)
		}
	}
	s.mu.Unlock()
	stored := map[string]bool{}
	if len(unknown) > 0 {
		var err error
		if stored, err = s.o.Store.StoredLayers(ctx, s.ruleset, unknown); err != nil {
			return false, err
		}
	}
	var mine []layerJob
	var theirs []store.WantedLayer
	all := true
	s.mu.Lock()
	for _, j := range jobs {
		k := digestKey(j.digest)
		if s.seen[k] == 0 {
			owner := ShardOf(j.digest, s.o.Shards)
			s.stats.LayersSeen++
			if owner == s.o.Shard {
				s.stats.LayersInShare++
			}
			switch {
			case stored[j.digest]:
				s.seen[k] = layerStored
				if owner == s.o.Shard {
					s.stats.LayersCached++
				}
			case !s.sharded():
				s.seen[k] = layerQueued
				mine = append(mine, j)
			default:
				// Recorded for its owner, this shard included: scanned
				// once the enumeration is over (drain).
				s.seen[k] = layerElsewhere
				theirs = append(theirs, j.wanted(owner))
			}
		}
		all = all && s.seen[k] == layerStored
	}
	s.mu.Unlock()
	if len(theirs) > 0 {
		if err := s.o.Store.WantLayers(ctx, s.run, theirs); err != nil {
			return false, err
		}
	}
	for _, j := range mine {
		if err := queue(j); err != nil {
			return false, err
		}
	}
	return all, nil
}

// putFailed stores an image (or tag, or repository) that could not be
// read: a report entry holding the error.
func (s *sweeper) putFailed(ctx context.Context, repo, tag, platform, ref, msg string) error {
	im := &report.Image{Ref: ref, Platform: platform, Layers: []report.Layer{}, Findings: []report.Finding{},
		Errors: []report.Problem{{Message: msg}}}
	b, err := json.Marshal(im)
	if err != nil {
		return err
	}
	row := store.Image{Registry: s.remote.Registry(), Repo: repo, Tag: tag, Platform: platform, Layers: []string{}, Report: b, Error: msg,
		Sweep: s.id, LastSeen: time.Now(), ReportKey: s.reportKey, Errors: 1}
	if err := s.o.Store.PutImage(ctx, row); err != nil {
		return err
	}
	s.mu.Lock()
	s.stats.Images++
	s.stats.ImagesInShare++
	s.stats.Errors++
	s.noteError(ref + ": " + msg)
	s.mu.Unlock()
	s.logf("%s: %s", ref, msg)
	return nil
}
