package sweep

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/sanitize"
	"github.com/layerscan/layerscan/pkg/scan"
	"github.com/layerscan/layerscan/pkg/store"
)

// Options configure Run.
type Options struct {
	// Registry is the registry host ("registry.example.com", "127.0.0.1:5000").
	Registry string
	// Repos and Tags select repositories and tags.
	Repos, Tags Patterns
	// RepoList, when set, replaces the catalog (registries that disable
	// /v2/_catalog).
	RepoList []string
	// Since, when positive, skips images whose config was created longer
	// ago than this.
	Since time.Duration
	// Platform picks images from multi-arch indexes: os/arch[/variant] or
	// "all"; default linux/amd64.
	Platform string
	// Jobs bounds the layers downloaded and scanned at once, and the
	// repositories enumerated at once.
	Jobs int
	// QPS limits requests per second to the registry (0: no limit).
	QPS float64
	// Timeout bounds each request's wait for response headers (0: 60s).
	Timeout time.Duration
	// PageSize is the n of catalog and tag list pages (0: the registry's).
	PageSize int
	// MaxNames bounds the repositories of the catalog, and the tags of
	// one repository, that are read (0: DefaultMaxNames); more is an error.
	MaxNames int
	// Insecure allows plain HTTP and skips TLS verification.
	Insecure bool
	// Auth, when set, is used instead of Keychain (default
	// authn.DefaultKeychain).
	Auth     authn.Authenticator
	Keychain authn.Keychain
	// Transport is the base HTTP transport (nil: a default one).
	Transport http.RoundTripper
	UserAgent string

	Store   store.Store
	Scanner *scan.Scanner
	// Ruleset is the detector's ruleset fingerprint: cached layer results
	// are used only under the same one.
	Ruleset string
	// Progress, when set, receives one line per step.
	Progress io.Writer
	// LayerStored is called after the n-th layer result of this run was
	// written to the store (tests use it to interrupt a sweep).
	LayerStored func(n int)
	// Logger, when set, receives structured events (progress counters,
	// every layer scanned, the summary) instead of Progress lines.
	Logger *slog.Logger

	// Shard and Shards split the work between processes that share the
	// store (Shards ≤ 1: one process does everything). Every shard
	// enumerates the registry; shard I scans only the unique layers whose
	// digest ShardOf puts in I, and assembles (config scan, report) only
	// the images in I. An image whose layers other shards have not
	// stored yet is stored unassembled: `layerscan report` assembles it.
	Shard, Shards int
	// Run names the sharded sweep all the shards belong to.
	Run string
}

// Stats are a sweep's counters.
type Stats struct {
	Repositories  int `json:"repositories"`
	Tags          int `json:"tags"`
	Images        int `json:"images"`
	LayersSeen    int `json:"layers_seen"`
	LayersScanned int `json:"layers_scanned"`
	LayersCached  int `json:"layers_from_cache"`
	// LayerBytes are the layer blob bytes downloaded; BytesDownloaded
	// every response body byte (manifests, configs, lists included).
	LayerBytes      int64 `json:"layer_bytes_downloaded"`
	BytesDownloaded int64 `json:"bytes_downloaded"`
	Findings        int   `json:"findings"`
	NewFindings     int   `json:"new_findings"`
	Errors          int   `json:"errors"`
	DurationMS      int64 `json:"duration_ms"`

	// Sharded sweeps: which shard, the layers in its share, the images it
	// assembled or left for the report (other shards' layers missing),
	// and the layers of its share that could not be scanned.
	Run             string   `json:"run,omitempty"`
	Shard           int      `json:"shard"`
	Shards          int      `json:"shards"`
	LayersInShare   int      `json:"layers_in_share"`
	ImagesInShare   int      `json:"images_in_share"`
	ImagesPending   int      `json:"images_pending"`
	LayerErrors     int      `json:"layer_errors"`
	ImageErrorsMsgs []string `json:"error_samples,omitempty"`
}

// Result is what a sweep produced.
type Result struct {
	Sweep  int64
	Images []*report.Image
	Stats  Stats
}

// target is one platform image of a tag, or the error that kept it from
// being read.
type target struct {
	repo, tag, platform string
	ref                 string
	img                 *fetch.Image
	err                 string
}

type sweeper struct {
	o         Options
	reg       name.Registry
	ropts     []remote.Option
	transport http.RoundTripper // the polite base transport
	// configs are the config blobs read in this run, by digest.
	configMu   sync.Mutex
	configs    map[string][]byte
	bytes      atomic.Int64
	layerBytes atomic.Int64
	progress   sync.Mutex
	start      time.Time
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

// Run sweeps the registry. Problems with one repository, manifest or
// layer are recorded on the images concerned; the error is for what stops
// the whole sweep (no catalog, a store failure, cancellation).
func Run(ctx context.Context, o Options) (*Result, error) {
	start := time.Now()
	if o.Jobs < 1 {
		o.Jobs = runtime.NumCPU()
	}
	if o.Platform == "" {
		o.Platform = "linux/amd64"
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.Shards < 1 {
		o.Shards, o.Shard = 1, 0
	}
	if o.Shard < 0 || o.Shard >= o.Shards {
		return nil, fmt.Errorf("sweep: shard %d of %d", o.Shard, o.Shards)
	}
	if o.Store == nil || o.Scanner == nil {
		return nil, errors.New("sweep: a store and a scanner are needed")
	}
	if err := o.Store.ClaimKey(ctx, o.Scanner.KeyID()); err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	s := &sweeper{o: o, start: start}
	var nopts []name.Option
	if o.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	reg, err := name.NewRegistry(o.Registry, nopts...)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", fetch.ErrBadReference, o.Registry, err)
	}
	s.reg = reg
	s.ropts = s.remoteOptions(ctx)
	// One puller for the run: its transports (auth tokens, pings) are
	// reused per repository instead of made again for every request.
	if p, err := remote.NewPuller(s.ropts...); err == nil {
		s.ropts = append(s.ropts, remote.Reuse(p))
	}
	s.configs = map[string][]byte{}

	id, err := o.Store.BeginShard(ctx, reg.Name(), o.Ruleset, o.Run, o.Shard, o.Shards, start)
	if err != nil {
		return nil, err
	}
	res := &Result{Sweep: id}
	res.Stats.Run, res.Stats.Shard, res.Stats.Shards = o.Run, o.Shard, o.Shards

	repos, err := s.repositories(ctx)
	if err != nil {
		return nil, err
	}
	res.Stats.Repositories = len(repos)
	s.logf("%d repositories in %s", len(repos), reg.Name())

	targets, tags := s.resolve(ctx, repos)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res.Stats.Tags = tags

	// The unique layers, each with the first image that has it.
	type layerJob struct {
		layer  fetch.Layer
		result *scan.LayerResult
	}
	jobs := map[string]*layerJob{}
	var order []string
	for _, t := range targets {
		if t.img == nil {
			continue
		}
		for _, l := range t.img.Layers {
			d := l.Digest.String()
			if jobs[d] == nil {
				jobs[d] = &layerJob{layer: l}
				order = append(order, d)
			}
		}
	}
	res.Stats.LayersSeen = len(order)

	var todo []string
	for _, d := range order {
		if !s.ownsLayer(d) {
			continue // another shard's
		}
		res.Stats.LayersInShare++
		b, ok, err := o.Store.Layer(ctx, d, o.Ruleset)
		if err != nil {
			return nil, err
		}
		if ok {
			if lr, err := DecodeLayer(b); err == nil {
				jobs[d].result = lr
				res.Stats.LayersCached++
				continue
			}
		}
		todo = append(todo, d)
	}
	if o.Shards > 1 {
		s.logf("%d images, %d unique layers, %d in shard %d/%d: %d from the store, %d to scan", countImages(targets), len(order), res.Stats.LayersInShare, o.Shard, o.Shards, res.Stats.LayersCached, len(todo))
	} else {
		s.logf("%d images, %d unique layers: %d from the store, %d to scan", countImages(targets), len(order), res.Stats.LayersCached, len(todo))
	}
	progressEvery := max(1, len(todo)/20)

	var stored atomic.Int64
	var scanned atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Jobs)
	for _, d := range todo {
		j := jobs[d]
		g.Go(func() error {
			l := j.layer
			l.Index = 0
			rs, err := o.Scanner.ScanLayers(gctx, []fetch.Layer{l})
			if err != nil {
				return err
			}
			j.result = rs[0]
			k := scanned.Add(1)
			if o.Logger != nil {
				o.Logger.Info("layer scanned", "digest", d, "shard", o.Shard, "shards", o.Shards, "bytes", j.result.Bytes, "findings", len(j.result.Findings), "error", j.result.Err)
				if int(k)%progressEvery == 0 || int(k) == len(todo) {
					o.Logger.Info("progress", "shard", o.Shard, "shards", o.Shards, "layers_done", k, "layers_todo", len(todo),
						"layer_bytes", s.layerBytes.Load(), "elapsed_ms", time.Since(start).Milliseconds())
				}
			}
			if j.result.Err != "" {
				s.logf("layer %s: %s", d, j.result.Err)
				return nil // not stored: tried again next time
			}
			b, err := EncodeLayer(j.result)
			if err != nil {
				return err
			}
			if err := o.Store.PutLayer(gctx, d, o.Ruleset, b, time.Now()); err != nil {
				return err
			}
			n := int(stored.Add(1))
			if o.LayerStored != nil {
				o.LayerStored(n)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	res.Stats.LayersScanned = int(scanned.Load())
	for _, d := range todo {
		if r := jobs[d].result; r == nil || r.Err != "" {
			res.Stats.LayerErrors++
			if len(res.Stats.ImageErrorsMsgs) < 5 && r != nil {
				res.Stats.ImageErrorsMsgs = append(res.Stats.ImageErrorsMsgs, "layer "+d+": "+r.Err)
			}
		}
	}
	s.logf("layers done; assembling %d image reports", len(targets))

	var fps []string
	// The same image under several tags is assembled once, then copied
	// with its own reference; an image assembled by an earlier sweep from
	// the same layer results is taken from the store.
	done := map[string]assembled{}
	scannedSet := map[string]bool{}
	for _, d := range todo {
		scannedSet[d] = true
	}
	for _, t := range targets {
		if !s.ownsTarget(t) {
			continue // another shard assembles it
		}
		res.Stats.ImagesInShare++
		if t.img != nil && done[t.img.Digest.String()].json == nil && o.Shards > 1 {
			// Layers of other shards come from the store; when one is not
			// there yet, the image is stored for the report to assemble.
			pending := false
			for _, l := range t.img.Layers {
				j := jobs[l.Digest.String()]
				if j.result != nil {
					continue
				}
				b, ok, err := o.Store.Layer(ctx, l.Digest.String(), o.Ruleset)
				if err != nil {
					return nil, err
				}
				if lr, derr := DecodeLayer(b); ok && derr == nil {
					j.result = lr
					continue
				}
				pending = true
			}
			if pending {
				if err := s.putPending(ctx, id, t); err != nil {
					return nil, err
				}
				res.Stats.ImagesPending++
				continue
			}
		}
		var im *report.Image
		if t.img != nil && done[t.img.Digest.String()].json == nil {
			if a := s.cachedReport(ctx, t, jobs2scanned(t, scannedSet)); a != nil {
				done[t.img.Digest.String()] = *a
			}
		}
		switch {
		case t.img == nil:
			im = &report.Image{Ref: t.ref, Platform: t.platform, Layers: []report.Layer{}, Findings: []report.Finding{},
				Errors: []report.Problem{{Message: t.err}}}
		case done[t.img.Digest.String()].json != nil:
			a := done[t.img.Digest.String()]
			im = &report.Image{}
			if err := json.Unmarshal(a.json, im); err != nil {
				return nil, err
			}
			im.Ref = t.img.Ref
			im.Source = t.img.Source
		default:
			imStart := time.Now()
			results := make([]*scan.LayerResult, len(t.img.Layers))
			for i, l := range t.img.Layers {
				results[i] = jobs[l.Digest.String()].result
			}
			im = o.Scanner.Assemble(t.img, results)
			im.Stats.DurationMS = time.Since(imStart).Milliseconds()
			if b, err := json.Marshal(im); err == nil {
				done[t.img.Digest.String()] = assembled{source: t.img.Source, json: b}
				if len(im.Errors) == 0 {
					if err := o.Store.PutImageReport(ctx, s.reportKey(t), t.img.Source, b, time.Now()); err != nil {
						return nil, err
					}
				}
			}
		}
		res.Images = append(res.Images, im)
		res.Stats.Images++
		res.Stats.Findings += len(im.Findings)
		if len(im.Errors) > 0 {
			res.Stats.Errors++
			if len(res.Stats.ImageErrorsMsgs) < 5 {
				res.Stats.ImageErrorsMsgs = append(res.Stats.ImageErrorsMsgs, im.Ref+": "+im.Errors[0].Message)
			}
		}
		for _, f := range im.Findings {
			fps = append(fps, f.Fingerprint)
		}
		if err := s.putImage(ctx, id, t, im); err != nil {
			return nil, err
		}
	}
	seenBefore, err := o.Store.FindingsFirstSeen(ctx)
	if err != nil {
		return nil, err
	}
	for _, im := range res.Images {
		for i := range im.Findings {
			_, old := seenBefore[im.Findings[i].Fingerprint]
			im.Findings[i].New = !old // new since the last sweep
		}
	}
	n, err := o.Store.SeeFindings(ctx, id, time.Now(), fps)
	if err != nil {
		return nil, err
	}
	res.Stats.NewFindings = n
	res.Stats.LayerBytes = s.layerBytes.Load()
	res.Stats.BytesDownloaded = s.bytes.Load()
	res.Stats.DurationMS = time.Since(start).Milliseconds()
	st, _ := json.Marshal(res.Stats)
	if err := o.Store.FinishSweep(ctx, id, time.Now(), st); err != nil {
		return nil, err
	}
	return res, nil
}

type assembled struct {
	source string
	json   []byte
}

// jobs2scanned tells whether any layer of t was scanned in this run (its
// result may differ from the one an old report was assembled from).
func jobs2scanned(t *target, scanned map[string]bool) bool {
	for _, l := range t.img.Layers {
		if scanned[l.Digest.String()] {
			return true
		}
	}
	return false
}

// reportKey names an assembled report: the manifest digest, the ruleset
// and the report options.
func (s *sweeper) reportKey(t *target) string {
	return t.img.Digest.String() + "|" + s.o.Ruleset + "|" + s.o.Scanner.ReportFingerprint()
}

// cachedReport is the stored assembled report of t's image, unless one
// of its layers was scanned in this run.
func (s *sweeper) cachedReport(ctx context.Context, t *target, anyScanned bool) *assembled {
	if anyScanned {
		return nil
	}
	b, src, ok, err := s.o.Store.ImageReport(ctx, s.reportKey(t))
	if err != nil || !ok {
		return nil
	}
	return &assembled{source: src, json: b}
}

func countImages(ts []*target) int {
	n := 0
	for _, t := range ts {
		if t.img != nil {
			n++
		}
	}
	return n
}

// putPending stores an image of the shard's share whose report waits for
// other shards' layers.
func (s *sweeper) putPending(ctx context.Context, sweep int64, t *target) error {
	meta, err := encodeMeta(s.o.Scanner, t.img)
	if err != nil {
		return err
	}
	rec := store.Image{
		Registry: s.reg.Name(), Repo: t.repo, Tag: t.tag, Platform: t.platform,
		Digest: t.img.Digest.String(), ConfigDigest: t.img.ConfigDigest.String(), Layers: []string{}, Meta: meta,
		Sweep: sweep, LastSeen: time.Now(),
	}
	for _, l := range t.img.Layers {
		rec.Layers = append(rec.Layers, l.Digest.String())
	}
	return s.o.Store.PutImage(ctx, rec)
}

func (s *sweeper) putImage(ctx context.Context, sweep int64, t *target, im *report.Image) error {
	b, err := json.Marshal(im)
	if err != nil {
		return err
	}
	rec := store.Image{
		Registry: s.reg.Name(), Repo: t.repo, Tag: t.tag, Platform: t.platform,
		Digest: im.Digest, ConfigDigest: im.ConfigDigest, Layers: []string{}, Report: b, Error: t.err,
		Sweep: sweep, LastSeen: time.Now(),
	}
	if t.img != nil {
		for _, l := range t.img.Layers {
			rec.Layers = append(rec.Layers, l.Digest.String())
		}
	}
	return s.o.Store.PutImage(ctx, rec)
}

func (s *sweeper) remoteOptions(ctx context.Context) []remote.Option {
	base := s.o.Transport
	if base == nil {
		t := remote.DefaultTransport.(*http.Transport).Clone()
		if s.o.Insecure {
			t.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // asked for with --insecure
		}
		t.ResponseHeaderTimeout = s.o.Timeout
		t.DialContext = (&net.Dialer{Timeout: s.o.Timeout, KeepAlive: 30 * time.Second}).DialContext
		t.TLSHandshakeTimeout = s.o.Timeout
		base = t
	} else if t, ok := base.(*http.Transport); ok {
		t = t.Clone()
		t.ResponseHeaderTimeout = s.o.Timeout
		base = t
	}
	pt := &politeTransport{base: base, bytes: &s.bytes, maxRetryAfter: 2 * time.Minute, retries: 3}
	if s.o.QPS > 0 {
		pt.limiter = rate.NewLimiter(rate.Limit(s.o.QPS), max(1, int(s.o.QPS)))
	}
	s.transport = pt
	ropts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(pt),
		remote.WithJobs(max(s.o.Jobs, 1)),
		remote.WithRetryBackoff(remote.Backoff{Duration: 500 * time.Millisecond, Factor: 3, Jitter: 0.1, Steps: 4}),
		remote.WithRetryStatusCodes(http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout),
	}
	if s.o.PageSize > 0 {
		ropts = append(ropts, remote.WithPageSize(s.o.PageSize))
	}
	if s.o.UserAgent != "" {
		ropts = append(ropts, remote.WithUserAgent(s.o.UserAgent))
	}
	switch {
	case s.o.Auth != nil:
		ropts = append(ropts, remote.WithAuth(s.o.Auth))
	case s.o.Keychain != nil:
		ropts = append(ropts, remote.WithAuthFromKeychain(s.o.Keychain))
	default:
		ropts = append(ropts, remote.WithAuthFromKeychain(authn.DefaultKeychain))
	}
	return ropts
}

// repositories lists the selected repositories: the catalog (every page)
// or RepoList.
func (s *sweeper) repositories(ctx context.Context) ([]string, error) {
	all := s.o.RepoList
	if all == nil {
		var err error
		all, err = s.catalog(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the repositories of %s (/v2/_catalog; use --repos-file if the registry disables it): %w", s.reg.Name(), err)
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range all {
		r = strings.TrimSpace(r)
		if r == "" || seen[r] || !s.o.Repos.Match(r) {
			continue
		}
		seen[r] = true
		out = append(out, r)
	}
	sort.Strings(out)
	return out, nil
}

// resolve lists the tags of every repository and reads their manifests
// and configs, Jobs repositories at a time. It returns the targets sorted
// by repository, tag and platform, and the number of tags selected.
func (s *sweeper) resolve(ctx context.Context, repos []string) ([]*target, int) {
	var mu sync.Mutex
	var out []*target
	tags := 0
	var g errgroup.Group
	g.SetLimit(max(s.o.Jobs, 8))
	for _, repo := range repos {
		g.Go(func() error {
			ts, n := s.resolveRepo(ctx, repo)
			mu.Lock()
			out = append(out, ts...)
			tags += n
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.repo != b.repo {
			return a.repo < b.repo
		}
		if a.tag != b.tag {
			return a.tag < b.tag
		}
		return a.platform < b.platform
	})
	return out, tags
}

func (s *sweeper) resolveRepo(ctx context.Context, repo string) ([]*target, int) {
	r, err := name.NewRepository(s.reg.Name()+"/"+repo, s.nameOpts()...)
	if err != nil {
		return []*target{{repo: repo, ref: s.reg.Name() + "/" + repo, err: fmt.Sprintf("bad repository name %q: %v", repo, err)}}, 0
	}
	all, err := s.tags(ctx, r)
	if err != nil {
		return []*target{{repo: repo, ref: r.String(), err: "listing tags: " + sanitize.OneLine(err.Error())}}, 0
	}
	sort.Strings(all)
	var out []*target
	n := 0
	for _, tag := range all {
		if !s.o.Tags.Match(tag) {
			continue
		}
		n++
		out = append(out, s.resolveTag(ctx, r, repo, tag)...)
	}
	return out, n
}

func (s *sweeper) nameOpts() []name.Option {
	if s.o.Insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// resolveTag reads a tag's manifest: an image, or an index whose platform
// images are selected by Platform.
func (s *sweeper) resolveTag(ctx context.Context, r name.Repository, repo, tag string) []*target {
	ref := r.Tag(tag)
	fail := func(format string, args ...any) []*target {
		return []*target{{repo: repo, tag: tag, ref: ref.String(), err: fmt.Sprintf(format, args...)}}
	}
	var desc *remote.Descriptor
	err := fetch.Retry(ctx, func() (err error) {
		desc, err = remote.Get(ref, s.ropts...)
		return err
	})
	if err != nil {
		return fail("fetching the manifest: %s", sanitize.OneLine(err.Error()))
	}
	if desc.Size > fetch.DefaultMaxMetadataSize {
		return fail("manifest is %d bytes, more than the %d allowed", desc.Size, fetch.DefaultMaxMetadataSize)
	}
	switch {
	case desc.MediaType.IsIndex():
		idx, err := desc.ImageIndex()
		if err != nil {
			return fail("reading the index: %s", sanitize.OneLine(err.Error()))
		}
		out, err := s.resolveIndex(ctx, ref, repo, tag, idx, 0)
		if err != nil {
			return fail("%s", sanitize.OneLine(err.Error()))
		}
		return out
	case desc.MediaType.IsImage() || desc.MediaType == "":
		img, err := desc.Image()
		if err != nil {
			return fail("reading the image: %s", sanitize.OneLine(err.Error()))
		}
		if t := s.image(ctx, ref, repo, tag, desc.Digest, img); t != nil {
			return []*target{t}
		}
		return nil
	default:
		return fail("not an image: media type %s", desc.MediaType)
	}
}

// image reads an image's manifest and config; nil when --since leaves it out.
func (s *sweeper) image(ctx context.Context, ref name.Tag, repo, tag string, digest v1.Hash, img v1.Image) *target {
	t := &target{repo: repo, tag: tag, ref: ref.String()}
	var m *v1.Manifest
	err := fetch.Retry(ctx, func() (err error) {
		m, err = img.Manifest()
		return err
	})
	if err != nil {
		t.err = "reading the manifest: " + sanitize.OneLine(err.Error())
		return t
	}
	if len(m.Layers) > fetch.DefaultMaxLayers {
		t.err = fmt.Sprintf("%d layers, more than the %d allowed", len(m.Layers), fetch.DefaultMaxLayers)
		return t
	}
	if m.Config.Size > fetch.DefaultMaxMetadataSize {
		t.err = fmt.Sprintf("config is %d bytes, more than the %d allowed", m.Config.Size, fetch.DefaultMaxMetadataSize)
		return t
	}
	raw, err := s.config(ctx, ref.Context().Digest(m.Config.Digest.String()), m.Config.Digest)
	if err != nil {
		t.err = "reading the config: " + sanitize.OneLine(err.Error())
		return t
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(raw))
	if err != nil {
		t.err = "parsing the config: " + sanitize.OneLine(err.Error())
		return t
	}
	if s.o.Since > 0 && !cfg.Created.IsZero() && cfg.Created.Time.Before(time.Now().Add(-s.o.Since)) {
		return nil
	}
	fi := &fetch.Image{
		Ref: ref.String(), Source: ref.String(), Digest: digest, ConfigDigest: m.Config.Digest,
		RawConfig: raw, Config: cfg, Platform: configPlatform(cfg), Annotations: m.Annotations,
	}
	t.platform = fi.Platform
	for i, d := range m.Layers {
		var diffID v1.Hash
		if i < len(cfg.RootFS.DiffIDs) {
			diffID = cfg.RootFS.DiffIDs[i]
		}
		blob := ref.Context().Digest(d.Digest.String())
		fi.Layers = append(fi.Layers, fetch.NewLayer(i, d.Digest, diffID, d.Size, d.MediaType, func() (io.ReadCloser, error) {
			rc, err := fetch.ResumingBlob(ctx, func() (io.ReadCloser, error) {
				l, err := remote.Layer(blob, s.ropts...)
				if err != nil {
					return nil, err
				}
				return l.Compressed()
			})
			if err != nil {
				return nil, fmt.Errorf("downloading %s: %s", blob, sanitize.OneLine(err.Error()))
			}
			return &countingBody{ReadCloser: rc, n: &s.layerBytes}, nil
		}))
	}
	t.img = fi
	return t
}

// config reads an image's config blob once per run, checked against its
// digest, and read again when the body broke off.
func (s *sweeper) config(ctx context.Context, blob name.Digest, digest v1.Hash) ([]byte, error) {
	s.configMu.Lock()
	raw, ok := s.configs[digest.String()]
	s.configMu.Unlock()
	if ok {
		return raw, nil
	}
	err := fetch.Retry(ctx, func() error {
		l, err := remote.Layer(blob, s.ropts...)
		if err != nil {
			return err
		}
		rc, err := l.Compressed()
		if err != nil {
			return err
		}
		defer rc.Close()
		raw, err = io.ReadAll(io.LimitReader(rc, fetch.DefaultMaxMetadataSize+1))
		if err != nil {
			return err
		}
		if int64(len(raw)) > fetch.DefaultMaxMetadataSize {
			return fmt.Errorf("config is more than the %d bytes allowed", fetch.DefaultMaxMetadataSize)
		}
		if got, _, err := v1.SHA256(bytes.NewReader(raw)); err == nil && digest.Algorithm == "sha256" && got != digest {
			return fmt.Errorf("config content is %s, not %s: %w", got, digest, io.ErrUnexpectedEOF)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.configMu.Lock()
	s.configs[digest.String()] = raw
	s.configMu.Unlock()
	return raw, nil
}

func configPlatform(cfg *v1.ConfigFile) string {
	if cfg == nil || cfg.OS == "" {
		return ""
	}
	p := cfg.OS + "/" + cfg.Architecture
	if cfg.Variant != "" {
		p += "/" + cfg.Variant
	}
	return p
}

func platformString(p *v1.Platform) string {
	if p == nil {
		return "unknown"
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// resolveIndex selects an index's images as scan does
// (fetch.SelectPlatforms), descending into nested indexes up to
// fetch.MaxIndexDepth. An index with no image for the platform is an
// error, with "all" too: a gate must not pass on an image it never read.
func (s *sweeper) resolveIndex(ctx context.Context, ref name.Tag, repo, tag string, idx v1.ImageIndex, depth int) ([]*target, error) {
	if depth >= fetch.MaxIndexDepth {
		return nil, fmt.Errorf("image indexes nested more than %d deep", fetch.MaxIndexDepth)
	}
	var im *v1.IndexManifest
	if err := fetch.Retry(ctx, func() (err error) {
		im, err = idx.IndexManifest()
		return err
	}); err != nil {
		return nil, fmt.Errorf("reading the index: %w", err)
	}
	platform := s.o.Platform
	if platform == "" {
		platform = "linux/amd64"
	}
	children, err := fetch.SelectPlatforms(im.Manifests, platform)
	if err != nil {
		return nil, err
	}
	var out []*target
	for _, c := range children {
		switch {
		case c.MediaType.IsIndex():
			child, err := idx.ImageIndex(c.Digest)
			if err != nil {
				return nil, fmt.Errorf("reading the index %s: %w", c.Digest, err)
			}
			ts, err := s.resolveIndex(ctx, ref, repo, tag, child, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, ts...)
		case c.MediaType.IsImage():
			p := platformString(c.Platform)
			img, err := idx.Image(c.Digest)
			if err != nil {
				out = append(out, &target{repo: repo, tag: tag, platform: p, ref: ref.String(), err: fmt.Sprintf("reading %s: %s", c.Digest, sanitize.OneLine(err.Error()))})
				continue
			}
			if t := s.image(ctx, ref, repo, tag, c.Digest, img); t != nil {
				t.platform = p // the index's word, unique per child
				out = append(out, t)
			}
		}
	}
	if len(out) == 0 && len(children) == 0 {
		return nil, fmt.Errorf("%w: the index holds no image for platform %s", fetch.ErrNoPlatform, platform)
	}
	return out, nil
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
