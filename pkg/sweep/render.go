package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/scan"
	"github.com/layerscan/layerscan/pkg/store"
)

// RenderOptions say which images of a store Render returns.
type RenderOptions struct {
	// Sweep selects a sweep by id; 0 the latest finished sweep of each
	// registry. Run selects a sharded run by name; "" the latest sweep's
	// run when that sweep is a shard.
	Sweep int64
	Run   string
	// Repos filters the images by repository; MinSeverity ("" none) and
	// NewSince (zero: none) filter the findings. A finding kept by
	// NewSince is marked New.
	Repos       Patterns
	MinSeverity string
	NewSince    time.Time
	// NewIn, when set, marks New the findings that sweep saw first
	// (what a sweep's own report says), filtering none.
	NewIn int64
	// Wait is how long to wait for a run's shards to finish.
	Wait time.Duration
	// Scanner gives the scanner that assembles the images a run's shards
	// stored unassembled (it must have the run's ruleset); called once,
	// when one is needed.
	Scanner func() (*scan.Scanner, string, error)
}

// Rendered is what Render gives.
type Rendered struct {
	// Images reads the images from the store, a page at a time, each time
	// it is called: a report of a whole registry is written without
	// being held.
	Images report.Images
	// Ruleset is the sweep's or the run's.
	Ruleset string
	// Run and Shards name the sharded run rendered ("" for a sweep).
	Run    string
	Shards int
	// Failed says, per shard, why the run is incomplete: a shard whose
	// share had errors.
	Failed []string
}

// Render gives the images of the latest sweep (or of opts.Sweep, or of a
// sharded run) in st, filtered, to be read from the store as they are
// written. For a run it checks every shard's stored summary (waiting up to
// opts.Wait for missing ones), assembles the images a shard stored
// unassembled from the stored layer results, and writes them back, so
// that the next Render is quick.
func Render(ctx context.Context, st store.Store, opts RenderOptions) (*Rendered, error) {
	sweeps, err := st.Sweeps(ctx)
	if err != nil {
		return nil, err
	}
	run := opts.Run
	if run == "" && opts.Sweep == 0 && len(sweeps) > 0 {
		run = sweeps[0].Run
	}
	if run != "" {
		return renderRun(ctx, st, run, opts)
	}
	out := &Rendered{}
	for _, sw := range sweeps {
		if !sw.Finished.IsZero() && (opts.Sweep == 0 || sw.ID == opts.Sweep) {
			out.Ruleset = sw.Ruleset
			break
		}
	}
	if out.Ruleset == "" {
		return nil, ErrNoSweep
	}
	out.Images = storedImages(ctx, st, store.ImageFilter{Sweep: opts.Sweep}, opts)
	return out, nil
}

// renderRun renders a sharded run once every shard has finished.
func renderRun(ctx context.Context, st store.Store, run string, opts RenderOptions) (*Rendered, error) {
	deadline := time.Now().Add(opts.Wait)
	var finished map[int]store.Sweep
	out := &Rendered{Run: run}
	for {
		sweeps, err := st.Sweeps(ctx)
		if err != nil {
			return nil, err
		}
		finished, out.Shards, out.Ruleset = map[int]store.Sweep{}, 0, ""
		for _, sw := range sweeps { // newest first
			if sw.Run != run {
				continue
			}
			out.Shards = max(out.Shards, sw.Shards)
			if out.Ruleset == "" {
				out.Ruleset = sw.Ruleset
			}
			if _, ok := finished[sw.Shard]; !ok && !sw.Finished.IsZero() {
				finished[sw.Shard] = sw
			}
		}
		if out.Shards == 0 {
			return nil, fmt.Errorf("%w: no sweep of run %q", ErrNoSweep, run)
		}
		var missing []string
		for i := range out.Shards {
			if _, ok := finished[i]; !ok {
				missing = append(missing, fmt.Sprint(i))
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: run %s: shard(s) %s of %d have not finished (no summary in the database); run them (again) before the report, or wait with --wait",
				ErrShardsMissing, run, strings.Join(missing, ", "), out.Shards)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(10*time.Second, time.Until(deadline)+time.Millisecond)):
		}
	}
	// The shards' summaries: a shard whose share had errors makes the
	// report incomplete.
	for _, i := range slices.Sorted(maps.Keys(finished)) {
		var s Stats
		if err := json.Unmarshal(finished[i].Stats, &s); err != nil {
			out.Failed = append(out.Failed, fmt.Sprintf("shard %d: summary unreadable", i))
			continue
		}
		if s.LayerErrors > 0 || s.Errors > 0 {
			out.Failed = append(out.Failed, fmt.Sprintf("shard %d: %d layer errors, %d images with errors", i, s.LayerErrors, s.Errors))
		}
	}
	// The images left unassembled, a page at a time (each written back
	// with its report leaves the pending ones).
	var scanner *scan.Scanner
	var after store.ImageKey
	for {
		page, err := st.Images(ctx, store.ImageFilter{Run: run, Pending: true, After: after, Limit: 200})
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break
		}
		for _, rec := range page {
			after = rec.Key()
			if rec.Meta == nil {
				continue
			}
			if scanner == nil {
				var ruleset string
				if scanner, ruleset, err = opts.Scanner(); err != nil {
					return nil, err
				}
				if ruleset != out.Ruleset {
					return nil, fmt.Errorf("%w: run %s was swept with ruleset %s, these detector flags give %s: give report the sweep's detector flags (--config, --rules …) to assemble its images",
						ErrRuleset, run, out.Ruleset, ruleset)
				}
			}
			if err := assembleAndStore(ctx, st, scanner, out.Ruleset, rec); err != nil {
				return nil, err
			}
		}
	}
	out.Images = storedImages(ctx, st, store.ImageFilter{Run: run}, opts)
	return out, nil
}

// assembleAndStore assembles an image a shard stored unassembled and
// writes its report back (its findings counted as seen by its sweep).
func assembleAndStore(ctx context.Context, st store.Store, scanner *scan.Scanner, ruleset string, rec store.Image) error {
	im, err := AssembleStored(ctx, st, scanner, ruleset, rec, true)
	if err != nil {
		return err
	}
	b, err := json.Marshal(im)
	if err != nil {
		return err
	}
	rec.Report, rec.ReportKey, rec.Findings, rec.Errors = b, ruleset+"|"+scanner.ReportFingerprint(), len(im.Findings), len(im.Errors)
	if err := st.PutImage(ctx, rec); err != nil {
		return err
	}
	fps := make([]string, 0, len(im.Findings))
	for _, f := range im.Findings {
		fps = append(fps, f.Fingerprint)
	}
	_, err = st.SeeFindings(ctx, rec.Sweep, time.Now(), fps)
	return err
}

// storedImages reads the images f selects from st, a page at a time,
// filtered by repository, severity and first sighting.
func storedImages(ctx context.Context, st store.Store, f store.ImageFilter, opts RenderOptions) report.Images {
	minRank := -1
	if opts.MinSeverity != "" {
		minRank = detect.SeverityRank(opts.MinSeverity)
	}
	return func(yield func(*report.Image) error) error {
		verdicts := verdictReader{st: st, known: map[string]*report.Verdict{}}
		f := f
		f.Limit = 200
		for {
			page, err := st.Images(ctx, f)
			if err != nil || len(page) == 0 {
				return err
			}
			for _, rec := range page {
				if !opts.Repos.Match(rec.Repo) {
					continue
				}
				var im report.Image
				if err := json.Unmarshal(rec.Report, &im); err != nil {
					return fmt.Errorf("%s/%s:%s: stored report unreadable: %w", rec.Registry, rec.Repo, rec.Tag, err)
				}
				var first map[string]store.FirstSeen
				if (!opts.NewSince.IsZero() || opts.NewIn != 0) && len(im.Findings) > 0 {
					fps := make([]string, len(im.Findings))
					for i, fd := range im.Findings {
						fps[i] = fd.Fingerprint
					}
					if first, err = st.FindingsFirstSeen(ctx, fps); err != nil {
						return err
					}
				}
				kept := []report.Finding{}
				for _, fd := range im.Findings {
					if detect.SeverityRank(fd.Severity) < minRank {
						continue
					}
					seen, ok := first[fd.Fingerprint]
					if !opts.NewSince.IsZero() {
						if !ok || seen.At.Before(opts.NewSince) {
							continue
						}
						fd.New = true
					}
					if opts.NewIn != 0 {
						fd.New = !ok || seen.Sweep == opts.NewIn
					}
					kept = append(kept, fd)
				}
				im.Findings = kept
				if err := verdicts.attach(ctx, &im); err != nil {
					return err
				}
				if err := yield(&im); err != nil {
					return err
				}
			}
			f.After = page[len(page)-1].Key()
		}
	}
}

// verdictReader attaches the verdicts of --verify sweeps kept in the
// store (by secret id) to the images a report reads, each verdict read
// once per pass.
type verdictReader struct {
	st    store.Store
	known map[string]*report.Verdict // nil: no verdict stored
}

func (vr verdictReader) attach(ctx context.Context, im *report.Image) error {
	for _, f := range im.Findings {
		id := f.SecretID
		if id == "" {
			continue
		}
		v, seen := vr.known[id]
		if !seen {
			b, _, ok, err := vr.st.Verdict(ctx, id)
			if err != nil {
				return err
			}
			if ok {
				v = &report.Verdict{}
				if json.Unmarshal(b, v) != nil {
					v = nil
				}
			}
			vr.known[id] = v
		}
		if v != nil {
			if im.Verdicts == nil {
				im.Verdicts = map[string]report.Verdict{}
			}
			im.Verdicts[id] = *v
		}
	}
	return nil
}
