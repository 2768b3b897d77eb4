package sweep

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/layerscan/layerscan/internal/testenv"
	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/store"
)

// The phases of Run, each on its own, against go-containerregistry's
// in-memory registry (requests counted) and a SQLite store.

// phaseRegistry holds two repositories, one in each of two shards: repoA
// with tags 1 and 2 naming the same image (a base layer holding a GitHub
// token, and a layer holding an AWS key), repoB with tag 1 (the same base
// layer, and a layer without secrets).
type phaseRegistry struct {
	host         string
	reqs         *testenv.Requests
	repoA, repoB string
	imgA, imgB   v1.Image
	// base, layerA and layerB are the layers' digests.
	base, layerA, layerB string
}

func newPhaseRegistry(t *testing.T) *phaseRegistry {
	t.Helper()
	f := &phaseRegistry{reqs: &testenv.Requests{}}
	srv := httptest.NewServer(f.reqs.Wrap(registry.New(registry.Logger(log.New(io.Discard, "", 0)))))
	t.Cleanup(srv.Close)
	f.host = strings.TrimPrefix(srv.URL, "http://")
	for i := 0; f.repoA == "" || f.repoB == ""; i++ {
		repo := fmt.Sprintf("team/app%d", i)
		if ShardOf(repo, 2) == 0 && f.repoA == "" {
			f.repoA = repo
		} else if ShardOf(repo, 2) == 1 && f.repoB == "" {
			f.repoB = repo
		}
	}
	base := testimage.Layer(testimage.Gzip, testimage.Entry{Name: "etc/service.env", Body: "GITHUB_TOKEN=" + testimage.SecretGitHub + "\n"})
	a := testimage.Layer(testimage.Gzip, testimage.Entry{Name: "app/a.env", Body: "AWS_ACCESS_KEY_ID=" + testimage.SecretAWS + "\n"})
	b := testimage.Layer(testimage.Gzip, testimage.Entry{Name: "app/readme.txt", Body: "nothing to see\n"})
	var err error
	if f.imgA, err = testimage.Image([]testimage.Step{{CreatedBy: "COPY service.env /etc/", Layer: base}, {CreatedBy: "COPY a.env /app/", Layer: a}}); err != nil {
		t.Fatal(err)
	}
	if f.imgB, err = testimage.Image([]testimage.Step{{CreatedBy: "COPY service.env /etc/", Layer: base}, {CreatedBy: "COPY readme.txt /app/", Layer: b}}); err != nil {
		t.Fatal(err)
	}
	digest := func(l v1.Layer) string { d, _ := l.Digest(); return d.String() }
	f.base, f.layerA, f.layerB = digest(base), digest(a), digest(b)
	f.push(t, f.repoA+":1", f.imgA)
	f.push(t, f.repoA+":2", f.imgA)
	f.push(t, f.repoB+":1", f.imgB)
	f.reqs.Reset()
	return f
}

func (f *phaseRegistry) push(t *testing.T, ref string, img v1.Image) {
	t.Helper()
	r, err := name.ParseReference(f.host+"/"+ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
}

// requests are the registry's requests counted since the last Reset, in
// the kinds a sweep makes.
func (f *phaseRegistry) requests() string {
	var out []string
	for _, k := range []string{"GET ping", "GET catalog", "GET tags", "HEAD manifest", "GET manifest", "GET blob"} {
		out = append(out, fmt.Sprintf("%s=%d", k, f.reqs.Get(k)))
	}
	return strings.Join(out, " ")
}

func phaseSweeper(t *testing.T, o Options) *sweeper {
	t.Helper()
	s, err := newSweeper(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.begin(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

// collect is a queue that keeps the jobs (the scanners' side is left
// out: a test scans them itself, or not).
type collect struct {
	mu   sync.Mutex
	jobs []layerJob
	scan func(layerJob) error
}

func (c *collect) queue(j layerJob) error {
	c.mu.Lock()
	c.jobs = append(c.jobs, j)
	c.mu.Unlock()
	if c.scan != nil {
		return c.scan(j)
	}
	return nil
}

func (c *collect) digests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, j := range c.jobs {
		out = append(out, j.digest)
	}
	sort.Strings(out)
	return out
}

func sorted(ss ...string) []string {
	out := slices.Clone(ss)
	sort.Strings(out)
	return out
}

func pendingImages(t *testing.T, st store.Store, sweep int64) []store.Image {
	t.Helper()
	rows, err := st.Images(t.Context(), store.ImageFilter{Sweep: sweep, Pending: true})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// begin records the sweep in the store, running, and asks the registry
// nothing.
func TestPhaseBegin(t *testing.T) {
	f := newPhaseRegistry(t)
	o := sweepOpts(t, f.host)
	s := phaseSweeper(t, o)
	sweeps, err := o.Store.Sweeps(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(sweeps) != 1 || sweeps[0].ID != s.id || sweeps[0].Registry != f.host || !sweeps[0].Finished.IsZero() || sweeps[0].Ruleset != s.ruleset {
		t.Errorf("sweeps in the store after begin: %+v, want sweep %d of %s, running", sweeps, s.id, f.host)
	}
	if s.run != fmt.Sprintf("sweep %d", s.id) {
		t.Errorf("run %q", s.run)
	}
	if got := f.reqs.String(); got != "" {
		t.Errorf("begin asked the registry: %s", got)
	}
}

// enumerate lists the catalog and tags, reads each changed tag's manifest
// and config (a config shared by two tags once), stores every image
// without a report yet (its layers are not stored), and queues each new
// layer once — the base layer of both repositories too. No layer is
// downloaded.
func TestPhaseEnumerate(t *testing.T) {
	f := newPhaseRegistry(t)
	o := sweepOpts(t, f.host)
	s := phaseSweeper(t, o)
	var c collect
	if err := s.enumerate(t.Context(), c.queue); err != nil {
		t.Fatal(err)
	}
	if got, want := c.digests(), sorted(f.base, f.layerA, f.layerB); !slices.Equal(got, want) {
		t.Errorf("queued %v, want each layer once: %v", got, want)
	}
	for _, j := range c.jobs {
		if j.repo != f.repoA && j.repo != f.repoB || j.size <= 0 || j.mediaType == "" || j.diffID == "" {
			t.Errorf("job %+v: want the repository to read it from, its size, media type and diff id", j)
		}
	}
	if got, want := f.requests(), "GET ping=1 GET catalog=1 GET tags=2 HEAD manifest=0 GET manifest=3 GET blob=2"; got != want {
		t.Errorf("requests: %s, want %s", got, want)
	}
	st := s.stats
	if st.Repositories != 2 || st.Tags != 3 || st.Images != 3 || st.LayersSeen != 3 || st.LayersScanned != 0 {
		t.Errorf("stats %+v", st)
	}
	rows := pendingImages(t, o.Store, s.id)
	if len(rows) != 3 {
		t.Fatalf("%d images waiting for their layers, want 3", len(rows))
	}
	for _, r := range rows {
		if len(r.Meta) == 0 || len(r.Layers) != 2 || r.Layers[0] != f.base {
			t.Errorf("stored %s:%s without what assembling it needs: %d bytes of meta, layers %v", r.Repo, r.Tag, len(r.Meta), r.Layers)
		}
	}
}

// scanLayer downloads a layer once and stores its result; assemblePending
// then makes every waiting image's report from the stored layers; finish
// records the counters, and the sweep is what Render reads.
func TestPhaseScanAssembleFinish(t *testing.T) {
	f := newPhaseRegistry(t)
	o := sweepOpts(t, f.host)
	s := phaseSweeper(t, o)
	ctx := t.Context()
	c := collect{scan: func(j layerJob) error { return s.scanLayer(ctx, j) }}
	if err := s.enumerate(ctx, c.queue); err != nil {
		t.Fatal(err)
	}
	if n := f.reqs.Get("GET blob"); n != 2+3 {
		t.Errorf("%d blob GETs, want 2 configs and 3 layers", n)
	}
	for _, d := range []string{f.base, f.layerA, f.layerB} {
		if _, ok, err := o.Store.Layer(ctx, d, s.ruleset); !ok || err != nil {
			t.Errorf("layer %s not stored (%v)", d, err)
		}
	}
	// The layers were scanned as the enumeration met them: every image
	// after the first of its layers was assembled at once.
	before := len(pendingImages(t, o.Store, s.id))
	if err := s.assemblePending(ctx); err != nil {
		t.Fatal(err)
	}
	if rows := pendingImages(t, o.Store, s.id); len(rows) != 0 || s.stats.ImagesPending != 0 {
		t.Errorf("%d images still waiting (%d before assemblePending)", len(rows), before)
	}
	res, err := s.finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sweeps, _ := o.Store.Sweeps(ctx)
	var stats Stats
	if len(sweeps) != 1 || sweeps[0].Finished.IsZero() || json.Unmarshal(sweeps[0].Stats, &stats) != nil || stats.LayersScanned != 3 || stats.Images != 3 {
		t.Errorf("finished sweep in the store: %+v (stats %+v)", sweeps, stats)
	}
	want := map[string][]string{
		f.repoA + ":1": {"github-pat /etc/service.env 0 COPY service.env /etc/", "aws-access-token /app/a.env 1 COPY a.env /app/"},
		f.repoA + ":2": {"github-pat /etc/service.env 0 COPY service.env /etc/", "aws-access-token /app/a.env 1 COPY a.env /app/"},
		f.repoB + ":1": {"github-pat /etc/service.env 0 COPY service.env /etc/"},
	}
	for _, im := range sweptImages(t, o.Store, res) {
		var got []string
		for _, fd := range im.Findings {
			got = append(got, fmt.Sprintf("%s %s %d %s", fd.Rule, fd.Path, fd.Layer.Index, fd.Layer.Instruction))
		}
		sort.Strings(got)
		ref := strings.TrimPrefix(im.Ref, f.host+"/")
		if w := sorted(want[ref]...); !slices.Equal(got, w) {
			t.Errorf("%s: findings %v, want %v", ref, got, w)
		}
		delete(want, ref)
	}
	if len(want) != 0 {
		t.Errorf("images missing from the report: %v", want)
	}
}

// A layer that cannot be read is not stored (the next sweep tries it
// again); the images holding it are assembled with the layer's error.
func TestPhaseLayerThatCannotBeRead(t *testing.T) {
	f := newPhaseRegistry(t)
	o := sweepOpts(t, f.host)
	s := phaseSweeper(t, o)
	ctx := t.Context()
	missing := "sha256:" + strings.Repeat("0", 64)
	if err := s.scanLayer(ctx, layerJob{digest: missing, repo: f.repoA, size: 10, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip"}); err != nil {
		t.Fatalf("a layer the registry does not have stopped the sweep: %v", err)
	}
	if _, ok, _ := o.Store.Layer(ctx, missing, s.ruleset); ok {
		t.Error("a layer that could not be read was stored")
	}
	r, err := s.layerResult(ctx, missing)
	if err != nil || r == nil || r.Err == "" || s.stats.LayerErrors != 1 {
		t.Errorf("layerResult: %+v %v (layer errors %d), want the failure", r, err, s.stats.LayerErrors)
	}
}

// A second enumeration of an unchanged registry costs a HEAD per tag, plus
// the list pages and one ping; nothing is queued. A tag pushed again
// with a new layer is read again, and only its new layer is queued.
func TestPhaseEnumerateUnchanged(t *testing.T) {
	f := newPhaseRegistry(t)
	o := sweepOpts(t, f.host)
	if _, err := Run(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	f.reqs.Reset()
	s := phaseSweeper(t, o)
	var c collect
	if err := s.enumerate(t.Context(), c.queue); err != nil {
		t.Fatal(err)
	}
	if got, want := f.requests(), "GET ping=1 GET catalog=1 GET tags=2 HEAD manifest=3 GET manifest=0 GET blob=0"; got != want {
		t.Errorf("requests: %s, want %s", got, want)
	}
	if len(c.jobs) != 0 || s.stats.ImagesUnchanged != 3 || s.stats.LayersCached != 3 {
		t.Errorf("queued %v; stats %+v", c.digests(), s.stats)
	}

	extra := testimage.Layer(testimage.Gzip, testimage.Entry{Name: "app/new.txt", Body: "new\n"})
	ls, _ := f.imgB.Layers()
	img, err := testimage.Image([]testimage.Step{{CreatedBy: "COPY service.env /etc/", Layer: ls[0]}, {CreatedBy: "COPY new.txt /app/", Layer: extra}})
	if err != nil {
		t.Fatal(err)
	}
	f.push(t, f.repoB+":1", img)
	f.reqs.Reset()
	s = phaseSweeper(t, o)
	c = collect{}
	if err := s.enumerate(t.Context(), c.queue); err != nil {
		t.Fatal(err)
	}
	d, _ := extra.Digest()
	if got := c.digests(); !slices.Equal(got, []string{d.String()}) {
		t.Errorf("queued %v, want only the new layer %s", got, d)
	}
	if got, want := f.requests(), "GET ping=1 GET catalog=1 GET tags=2 HEAD manifest=3 GET manifest=1 GET blob=1"; got != want {
		t.Errorf("requests after one tag changed: %s, want %s", got, want)
	}
}

// Two shards of one run: each lists the tags and reads the manifests of
// its own repository only, queues nothing while enumerating (the layers
// are recorded in the store for their owners), then drains exactly the
// layers ShardOf gives it; every image is then assembled by the shard of
// its repository.
func TestPhaseShards(t *testing.T) {
	f := newPhaseRegistry(t)
	o := sweepOpts(t, f.host)
	o.Shards, o.Run, o.ShardWait = 2, "nightly", 5*time.Second
	ctx := t.Context()
	var shards [2]*sweeper
	for i := range shards {
		oi := o
		oi.Shard = i
		shards[i] = phaseSweeper(t, oi)
	}
	wantTags := map[int]string{0: "GET tags=1 HEAD manifest=0 GET manifest=2", 1: "GET tags=1 HEAD manifest=0 GET manifest=1"}
	for i, s := range shards {
		f.reqs.Reset()
		var c collect
		if err := s.enumerate(ctx, c.queue); err != nil {
			t.Fatal(err)
		}
		if len(c.jobs) != 0 {
			t.Errorf("shard %d queued %v while enumerating", i, c.digests())
		}
		if got := f.requests(); !strings.Contains(got, wantTags[i]) || s.stats.Repositories != 1 {
			t.Errorf("shard %d: requests %s (want %s), %d repositories", i, got, wantTags[i], s.stats.Repositories)
		}
	}
	recorded, err := o.Store.WantedLayers(ctx, store.WantedQuery{Run: "nightly", Ruleset: shards[0].ruleset})
	if err != nil || len(recorded) != 3 {
		t.Fatalf("layers recorded for the shards: %+v %v, want 3", recorded, err)
	}
	owned := map[int][]string{}
	for _, l := range recorded {
		if l.Owner != ShardOf(l.Digest, 2) {
			t.Errorf("layer %s recorded for shard %d, ShardOf says %d", l.Digest, l.Owner, ShardOf(l.Digest, 2))
		}
		owned[l.Owner] = append(owned[l.Owner], l.Digest)
	}
	for i, s := range shards {
		c := collect{scan: func(j layerJob) error { return s.scanLayer(ctx, j) }}
		if err := s.drain(ctx, c.queue); err != nil {
			t.Fatal(err)
		}
		if got, want := c.digests(), sorted(owned[i]...); !slices.Equal(got, want) {
			t.Errorf("shard %d drained %v, want the layers it owns: %v", i, got, want)
		}
	}
	for i, s := range shards {
		if err := s.assemblePending(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(pendingImages(t, o.Store, s.id)); n != 0 || s.stats.ImagesPending != 0 {
			t.Errorf("shard %d left %d images waiting", i, n)
		}
	}
}

// A shard alone (the other never started) stops waiting after ShardWait,
// scans its own layers, and leaves the images that need the other
// shard's layers to `layerscan report`.
func TestPhaseShardLeavesImagesWaiting(t *testing.T) {
	f := newPhaseRegistry(t)
	// The shard that runs is one whose repository's image has a layer of
	// the other shard's.
	shard, repo, tags := -1, "", 0
	for i, c := range []struct {
		repo   string
		tags   int
		layers []string
	}{{f.repoA, 2, []string{f.base, f.layerA}}, {f.repoB, 1, []string{f.base, f.layerB}}} {
		for _, d := range c.layers {
			if ShardOf(d, 2) != i && shard < 0 {
				shard, repo, tags = i, c.repo, c.tags
			}
		}
	}
	if shard < 0 {
		t.Fatal("each repository's layers are all of its own shard: change the test images")
	}
	o := sweepOpts(t, f.host)
	o.Shards, o.Shard, o.Run, o.ShardWait = 2, shard, "alone", 200*time.Millisecond
	ctx := t.Context()
	s := phaseSweeper(t, o)
	c := collect{scan: func(j layerJob) error { return s.scanLayer(ctx, j) }}
	if err := s.enumerate(ctx, c.queue); err != nil {
		t.Fatal(err)
	}
	if err := s.drain(ctx, c.queue); err != nil {
		t.Fatal(err)
	}
	for _, d := range c.digests() {
		if ShardOf(d, 2) != shard {
			t.Errorf("shard %d scanned the other shard's layer %s", shard, d)
		}
	}
	if err := s.assemblePending(ctx); err != nil {
		t.Fatal(err)
	}
	rows := pendingImages(t, o.Store, s.id)
	if len(rows) != tags || s.stats.ImagesPending != tags {
		t.Errorf("%d images waiting (stats %d), want %s's %d", len(rows), s.stats.ImagesPending, repo, tags)
	}
	for _, r := range rows {
		if r.Repo != repo {
			t.Errorf("%s:%s waits, want only %s's", r.Repo, r.Tag, repo)
		}
	}
}
