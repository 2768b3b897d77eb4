package sweep

import (
	"context"
	"encoding/json"
	"time"

	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/scan"
	"github.com/layerscan/layerscan/pkg/store"
)

// assemble makes row's report from its meta and the layer results (a
// layer not scanned is reported so), records its findings as seen by
// this sweep and counts it.
func (s *sweeper) assemble(ctx context.Context, row *store.Image) error {
	img, sc, err := decodeMeta(row.Meta)
	if err != nil {
		return err
	}
	var b []byte
	var im *report.Image
	var results []*scan.LayerResult
	// The key is the manifest and the platform: an index may name one
	// manifest under two platforms, each reported with its own.
	sameKey := row.Digest + " " + row.Platform
	if same, ok := s.reports.Get(sameKey); ok {
		// The same image under another tag, assembled in this sweep.
		im = &report.Image{}
		if err := json.Unmarshal(same, im); err != nil {
			return err
		}
		im.Ref, im.Source = img.Ref, img.Source
	} else {
		start := time.Now()
		results = make([]*scan.LayerResult, len(img.Layers))
		for i, l := range img.Layers {
			if results[i], err = s.layerResult(ctx, l.Digest.String()); err != nil {
				return err
			}
		}
		im = s.scanner.AssembleStored(img, results, sc)
		im.Stats.DurationMS = time.Since(start).Milliseconds()
		if len(im.Errors) == 0 {
			if same, err := json.Marshal(im); err == nil {
				s.reports.Put(sameKey, same)
			}
		}
	}
	// --verify: each secret once per run (the scanner's memo), with the
	// plaintext of the layers scanned in this run; a layer from the store
	// has none, and its secrets get their stored verdict. Verdicts go to
	// the store, not into the report: Render attaches them.
	s.scanner.Verify(ctx, img, results, im)
	if b, err = json.Marshal(im); err != nil {
		return err
	}
	fps := make([]string, 0, len(im.Findings))
	for _, f := range im.Findings {
		fps = append(fps, f.Fingerprint)
	}
	n := 0
	if len(fps) > 0 {
		if n, err = s.o.Store.SeeFindings(ctx, s.id, time.Now(), fps); err != nil {
			return err
		}
	}
	row.Report, row.ReportKey, row.Findings, row.Errors = b, s.reportKey, len(im.Findings), len(im.Errors)
	s.mu.Lock()
	s.stats.Findings += len(im.Findings)
	s.stats.NewFindings += n
	if len(im.Errors) > 0 {
		s.stats.Errors++
		s.noteError(im.Ref + ": " + im.Errors[0].Message)
	}
	s.mu.Unlock()
	return nil
}

// assemblePending assembles the images of this sweep that waited for
// their layers, a page at a time. A shard leaves those whose layers other
// shards have not stored yet to `layerscan report`.
func (s *sweeper) assemblePending(ctx context.Context) error {
	var after store.ImageKey
	pending := 0
	for {
		page, err := s.o.Store.Images(ctx, store.ImageFilter{Sweep: s.id, Pending: true, After: after, Limit: 200})
		if err != nil || len(page) == 0 {
			s.mu.Lock()
			s.stats.ImagesPending = pending
			s.mu.Unlock()
			if pending > 0 {
				s.logf("%d images wait for layers of other shards: layerscan report assembles them", pending)
			}
			return err
		}
		for _, row := range page {
			after = row.Key()
			if s.sharded() {
				stored, err := s.o.Store.StoredLayers(ctx, s.ruleset, row.Layers)
				if err != nil {
					return err
				}
				if len(stored) < len(uniq(row.Layers)) {
					pending++
					continue
				}
			}
			if err := s.assemble(ctx, &row); err != nil {
				return err
			}
			if err := s.o.Store.PutImage(ctx, row); err != nil {
				return err
			}
			s.tick()
		}
	}
}

func uniq(ss []string) map[string]bool {
	m := make(map[string]bool, len(ss))
	for _, s := range ss {
		m[s] = true
	}
	return m
}
