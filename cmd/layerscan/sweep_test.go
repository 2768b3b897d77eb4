package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/layerscan/layerscan/internal/testenv"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/store/sqlite"
)

// sweepCases are the buildah corpus images pushed to the test registry;
// every one is then tagged in several repositories so layers are shared.
var sweepCases = []string{"env", "label", "build-arg", "copy-then-rm", "hardlink", "overwrite",
	"whiteout-dir", "multistage", "shell-history", "inherited", "credential-store"}

type sweepFixture struct {
	reg     *testenv.Registry
	ropts   []remote.Option
	images  map[string]bool // "repo:tag platform" expected in a --platform all report
	layers  map[string]bool // unique layer digests (the broken one included)
	broken  string          // the repository whose only layer blob is gone
	secrets []string        // plaintext secrets planted in the corpus
}

// newSweepFixture fills a real registry: the corpus under src/CASE, copied
// (blobs mounted across repositories) to 24 team repositories with three
// tags each, a two-platform OCI index, and one repository whose new layer
// blob is deleted from the registry's storage.
// benchText is LAYERSCAN_BENCH_LAYER_KB kilobytes of log-like text (no
// secrets) for the benchmark's own layers; empty outside it.
func benchText(seed int) string {
	kb, _ := strconv.Atoi(os.Getenv("LAYERSCAN_BENCH_LAYER_KB"))
	if kb <= 0 {
		return ""
	}
	var b strings.Builder
	for i := 0; b.Len() < kb<<10; i++ {
		fmt.Fprintf(&b, "2026-11-28T05:%02d:%02d.%06dZ INFO worker=%d request id=%08x path=/api/v1/items/%d status=200 bytes=%d\n",
			i/60%60, i%60, (i*7919+seed)%1000000, seed, uint32(i*2654435761+seed), i, (i*31+seed)%65536)
	}
	return b.String()
}

func newSweepFixture(t *testing.T) *sweepFixture { return newSweepFixtureN(t, 24, false, true) }

// newSweepFixtureN makes the fixture with nrepos team repositories; with
// own, each team repository's v2 tag gets a layer of its own.
func newSweepFixtureN(t *testing.T, nrepos int, own, broken bool) *sweepFixture {
	corpus := buildahCorpus(t)
	reg := testenv.StartRegistry(t)
	f := &sweepFixture{reg: reg, images: map[string]bool{}, layers: map[string]bool{}}
	f.ropts = []remote.Option{remote.WithTransport(reg.Transport()),
		remote.WithAuth(&authn.Basic{Username: reg.Username, Password: reg.Password}), remote.WithContext(t.Context())}

	srcs := map[string]v1.Image{}
	for _, c := range sweepCases {
		reg.Push(t, "oci-archive:"+filepath.Join(corpus, c+".oci.tar"), "src/"+c+":latest")
		img, err := remote.Image(f.ref(t, "src/"+c+":latest"), f.ropts...)
		if err != nil {
			t.Fatal(err)
		}
		srcs[c] = img
		f.expect(t, "src/"+c, "latest", "linux/amd64", img)
	}
	for i := range nrepos {
		team := []string{"team-a", "team-b", "team-c"}[i%3]
		repo := fmt.Sprintf("%s/svc-%02d", team, i)
		for k, tag := range []string{"v1", "v2", "latest"} {
			img := srcs[sweepCases[(i+k)%len(sweepCases)]]
			if own && tag == "v2" {
				img = appendFile(t, img, "/app/build-id", fmt.Sprintf("%s %d %d\n", repo, i, time.Now().UnixNano())+benchText(i))
			}
			f.write(t, repo+":"+tag, img)
			f.expect(t, repo, tag, "linux/amd64", img)
		}
	}
	// A two-platform index (linux/amd64 and linux/arm64).
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: srcs["env"], Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: srcs["label"], Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	if err := remote.WriteIndex(f.ref(t, "multi/app:1.0"), idx, f.ropts...); err != nil {
		t.Fatal(err)
	}
	f.expect(t, "multi/app", "1.0", "linux/amd64", srcs["env"])
	f.expect(t, "multi/app", "1.0", "linux/arm64", srcs["label"])

	if broken {
		f.addBroken(t, srcs["env"])
	}
	f.plaintexts(t, corpus)
	return f
}

// addBroken adds a repository whose newest layer blob is gone from the
// registry's storage.
func (f *sweepFixture) addBroken(t *testing.T, src v1.Image) {
	reg := f.reg
	f.broken = "broken/app"
	img := appendFile(t, src, "/app/broken.txt", "no secret here\n")
	f.write(t, f.broken+":v1", img)
	f.expect(t, f.broken, "v1", "linux/amd64", img)
	ls, _ := img.Layers()
	d, _ := ls[len(ls)-1].Digest()
	storage := filepath.Join(filepath.Dir(reg.LogFile), "storage")
	blob := filepath.Join(storage, "docker", "registry", "v2", "blobs", "sha256", d.Hex[:2], d.Hex, "data")
	if err := os.Remove(blob); err != nil {
		t.Fatalf("deleting the blob of %s: %v", d, err)
	}
}

// plaintexts collects the plaintext secrets of a few corpus images, to
// grep the database for.
func (f *sweepFixture) plaintexts(t *testing.T, corpus string) {

	// The plaintext secrets of a few corpus images, to grep the database for.
	for _, c := range []string{"env", "copy-then-rm", "credential-store", "shell-history"} {
		r := runCLI(t, nil, "scan", "oci-archive:"+filepath.Join(corpus, c+".oci.tar"), "--show-secrets", "--format", "json")
		var rep report.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("scan %s: %v\n%s", c, err, r.stderr)
		}
		for _, im := range rep.Images {
			for _, fd := range im.Findings {
				if len(fd.Secret) >= 8 {
					f.secrets = append(f.secrets, fd.Secret)
				}
			}
		}
	}
	if len(f.secrets) == 0 {
		t.Fatal("the corpus gave no plaintext secret to look for")
	}
}

func (f *sweepFixture) ref(t *testing.T, s string) name.Reference {
	r, err := name.ParseReference(f.reg.Host + "/" + s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *sweepFixture) write(t *testing.T, ref string, img v1.Image) {
	t.Helper()
	if err := remote.Write(f.ref(t, ref), img, f.ropts...); err != nil {
		t.Fatalf("writing %s: %v", ref, err)
	}
}

func (f *sweepFixture) expect(t *testing.T, repo, tag, platform string, img v1.Image) {
	f.images[repo+":"+tag+" "+platform] = true
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		d, _ := l.Digest()
		f.layers[d.String()] = true
	}
}

// appendFile adds a layer holding one file to img.
func appendFile(t *testing.T, img v1.Image, path, content string) v1.Image {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: strings.TrimPrefix(path, "/"), Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg})
	tw.Write([]byte(content))
	tw.Close()
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (ioReadCloser, error) { return nopCloser{bytes.NewReader(data)}, nil })
	if err != nil {
		t.Fatal(err)
	}
	out, err := mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: "/bin/sh -c #(nop) COPY file:x in " + path, Created: v1.Time{Time: time.Now()}}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var counterRE = regexp.MustCompile(`(\d+) repositories, (\d+) tags, (\d+) images, (\d+) layers seen, (\d+) scanned, (\d+) from the store, .* (\d+) findings, (\d+) new since the last sweep, (\d+) images with errors`)

type sweepCounters struct {
	repos, tags, images, seen, scanned, cached, findings, newFindings, errors int
}

func parseCounters(t *testing.T, stderr string) sweepCounters {
	t.Helper()
	m := counterRE.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no counters in stderr:\n%s", stderr)
	}
	n := make([]int, len(m))
	for i := 1; i < len(m); i++ {
		n[i], _ = strconv.Atoi(m[i])
	}
	return sweepCounters{n[1], n[2], n[3], n[4], n[5], n[6], n[7], n[8], n[9]}
}

var blobGET = regexp.MustCompile(`(?m)"GET /v2/(\S+)/blobs/(sha256:[0-9a-f]{64}) HTTP/[0-9.]+" (\d{3}) `)

// layerGETs counts the successful GETs of layer blobs (not configs) in the
// registry's access log.
func (f *sweepFixture) layerGETs(t *testing.T) int {
	f.reg.SyncLog(t)
	n := 0
	for _, m := range blobGET.FindAllStringSubmatch(f.reg.Log(), -1) {
		if m[3][0] == '2' && f.layers[m[2]] {
			n++
		}
	}
	return n
}

func (f *sweepFixture) sweep(t *testing.T, db string, extraEnv []string, args ...string) (result, *report.Report) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "sweep.json")
	all := append([]string{"sweep", f.reg.Host, "--db", db, "--platform", "all", "--page-size", "7", "--format", "json", "-o", out}, args...)
	r := runCLI(t, append(f.reg.Env(), extraEnv...), all...)
	var rep report.Report
	if b, err := os.ReadFile(out); err == nil {
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatalf("sweep JSON: %v", err)
		}
	}
	return r, &rep
}

func TestSweepRealRegistry(t *testing.T) {
	start := time.Now()
	f := newSweepFixture(t)
	t.Logf("fixture: %d images, %d unique layers, in %s", len(f.images), len(f.layers), time.Since(start))
	if len(f.images) < 60 {
		t.Fatalf("fixture has %d images, want ≥ 60", len(f.images))
	}
	db := filepath.Join(t.TempDir(), "layerscan.db")

	// First sweep: everything is scanned once.
	get0 := f.layerGETs(t)
	r, rep := f.sweep(t, db, nil)
	if r.code != exitIncomplete {
		t.Fatalf("first sweep: exit %d, want %d (the broken repository)\n%s", r.code, exitIncomplete, r.stderr)
	}
	c := parseCounters(t, r.stderr)
	t.Logf("first sweep: %+v", c)
	if c.repos < 20 || c.tags < 60 {
		t.Errorf("counters %+v: want ≥ 20 repositories and ≥ 60 tags", c)
	}
	if c.seen != len(f.layers) || c.scanned != len(f.layers) || c.cached != 0 {
		t.Errorf("layers seen/scanned/cached = %d/%d/%d, want %d/%d/0", c.seen, c.scanned, c.cached, len(f.layers), len(f.layers))
	}
	got := map[string]bool{}
	var brokenErr string
	for _, im := range rep.Images {
		repoTag := strings.TrimPrefix(im.Ref, f.reg.Host+"/")
		key := repoTag + " " + im.Platform
		if strings.HasPrefix(repoTag, "multi/") {
			key = repoTag + " " + platformOfFindings(im)
		}
		got[key] = true
		if strings.HasPrefix(repoTag, f.broken) {
			for _, e := range im.Errors {
				brokenErr += e.Message
			}
		} else if len(im.Errors) > 0 {
			t.Errorf("%s: unexpected errors %v", im.Ref, im.Errors)
		}
	}
	for k := range f.images {
		if !got[k] && !strings.HasPrefix(k, "multi/") {
			t.Errorf("image %s not in the sweep report", k)
		}
	}
	if n := countPrefix(rep, "multi/app:1.0"); n != 2 {
		t.Errorf("multi-arch index: %d images reported, want 2", n)
	}
	if len(rep.Images) != len(f.images) {
		t.Errorf("%d images reported, want %d", len(rep.Images), len(f.images))
	}
	if brokenErr == "" {
		t.Errorf("the broken repository's error is not in the report")
	}
	if c.findings == 0 || c.newFindings == 0 {
		t.Errorf("first sweep: %d findings, %d new: want some", c.findings, c.newFindings)
	}
	// Every layer blob was downloaded once (the deleted one cannot be).
	if n := f.layerGETs(t) - get0; n != len(f.layers)-1 {
		t.Errorf("first sweep downloaded %d layer blobs, want %d", n, len(f.layers)-1)
	}
	// A shared layer's finding is attributed to each image with its own index.
	checkAttribution(t, rep)

	// The database holds no plaintext secret.
	for _, p := range []string{db, db + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, s := range f.secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds the plaintext secret %q", filepath.Base(p), detectRedact(s))
			}
		}
	}

	// Second sweep: nothing downloaded but manifests and configs.
	get1 := f.layerGETs(t)
	t2 := time.Now()
	r2, rep2 := f.sweep(t, db, nil)
	c2 := parseCounters(t, r2.stderr)
	t.Logf("second sweep: %+v in %s", c2, time.Since(t2))
	if n := f.layerGETs(t) - get1; n != 0 {
		t.Errorf("second sweep downloaded %d layer blobs, want 0", n)
	}
	if c2.cached != len(f.layers)-1 || c2.scanned != 1 || c2.newFindings != 0 {
		t.Errorf("second sweep: %+v: want %d from the store, only the broken layer retried, no new finding", c2, len(f.layers)-1)
	}
	if len(rep2.Images) != len(rep.Images) || rep2.FindingCount() != rep.FindingCount() {
		t.Errorf("second sweep: %d images / %d findings, first %d / %d", len(rep2.Images), rep2.FindingCount(), len(rep.Images), rep.FindingCount())
	}

	// One new tag with one new layer: only that layer is downloaded.
	src, err := remote.Image(f.ref(t, "src/env:latest"), f.ropts...)
	if err != nil {
		t.Fatal(err)
	}
	img := appendFile(t, src, "/app/.env", "GITHUB_TOKEN=ghp_"+strings.Repeat("Ab3dE", 7)+"x\n")
	f.write(t, "team-a/svc-00:v3", img)
	f.expect(t, "team-a/svc-00", "v3", "linux/amd64", img)
	get2 := f.layerGETs(t)
	r3, _ := f.sweep(t, db, nil)
	c3 := parseCounters(t, r3.stderr)
	if n := f.layerGETs(t) - get2; n != 1 {
		t.Errorf("sweep after a new tag downloaded %d layer blobs, want 1", n)
	}
	if c3.scanned != 2 || c3.images != len(f.images) || c3.newFindings == 0 {
		t.Errorf("sweep after a new tag: %+v: want 2 layers scanned (new + broken), %d images, new findings", c3, len(f.images))
	}

	// report renders the store without the network, in every format.
	rr := runCLI(t, nil, "report", "--db", db, "--format", "json")
	var frep report.Report
	if err := json.Unmarshal([]byte(rr.stdout), &frep); err != nil {
		t.Fatalf("report json: %v\n%s", err, rr.stderr)
	}
	if frep.Schema != report.Schema || len(frep.Images) != len(f.images) {
		t.Errorf("report: schema %q, %d images, want %d", frep.Schema, len(frep.Images), len(f.images))
	}
	for _, format := range []string{"table", "sarif", "csv", "markdown", "html"} {
		rf := runCLI(t, nil, "report", "--db", db, "--format", format)
		if rf.code != exitIncomplete || len(rf.stdout) == 0 {
			t.Errorf("report --format %s: exit %d, %d bytes: %s", format, rf.code, len(rf.stdout), rf.stderr)
		}
		if format == "html" && (!strings.Contains(rf.stdout, "layerscan-report") || !strings.Contains(rf.stdout, f.reg.Host)) {
			t.Errorf("report --format html: not the report of the sweep")
		}
	}
	ra := runCLI(t, nil, "report", "--db", db, "--format", "json", "--repo", "team-a/*", "--severity", "critical")
	var arep report.Report
	if err := json.Unmarshal([]byte(ra.stdout), &arep); err != nil {
		t.Fatalf("report --repo: %v\n%s", err, ra.stderr)
	}
	for _, im := range arep.Images {
		if !strings.HasPrefix(im.Ref, f.reg.Host+"/team-a/") {
			t.Errorf("report --repo team-a/*: %s", im.Ref)
		}
		for _, fd := range im.Findings {
			if fd.Severity != "critical" {
				t.Errorf("report --severity critical: %s finding", fd.Severity)
			}
		}
	}
	rn := runCLI(t, nil, "report", "--db", db, "--format", "json", "--new-since", time.Now().Add(time.Hour).Format(time.RFC3339))
	var nrep report.Report
	if err := json.Unmarshal([]byte(rn.stdout), &nrep); err != nil || nrep.FindingCount() != 0 {
		t.Errorf("report --new-since (future): %d findings, %v", nrep.FindingCount(), err)
	}

	// --repos-file instead of the catalog, with --tags and --since.
	db3 := filepath.Join(t.TempDir(), "subset.db")
	list := filepath.Join(t.TempDir(), "repos.txt")
	os.WriteFile(list, []byte("# two repositories\nteam-a/svc-00\nsrc/env\n"), 0o600)
	rl, lrep := f.sweep(t, db3, nil, "--repos-file", list, "--tags", "v*,latest", "--tags", "!v2", "--registry-qps", "500", "--since", "87600h")
	var refs []string
	for _, im := range lrep.Images {
		refs = append(refs, strings.TrimPrefix(im.Ref, f.reg.Host+"/"))
	}
	if want := "src/env:latest team-a/svc-00:latest team-a/svc-00:v1 team-a/svc-00:v3"; strings.Join(refs, " ") != want {
		t.Errorf("--repos-file/--tags: images %v, want %s\n%s", refs, want, rl.stderr)
	}
	rz, zrep := f.sweep(t, db3, nil, "--repos-file", list, "--since", "1ns")
	if rz.code != 0 || len(zrep.Images) != 0 {
		t.Errorf("--since 1ns: exit %d, %d images, want none\n%s", rz.code, len(zrep.Images), rz.stderr)
	}

	// A killed sweep keeps its layers; the next one scans only the rest.
	db2 := filepath.Join(t.TempDir(), "killed.db")
	rk, _ := f.sweep(t, db2, []string{exitAfterLayersEnv + "=5"}, "--jobs", "1")
	if rk.code != 75 {
		t.Fatalf("interrupted sweep: exit %d, want 75\n%s", rk.code, rk.stderr)
	}
	rs, _ := f.sweep(t, db2, nil)
	cs := parseCounters(t, rs.stderr)
	if cs.cached != 5 || cs.scanned != len(f.layers)-5 {
		t.Errorf("resumed sweep: %d from the store, %d scanned; want 5 and %d", cs.cached, cs.scanned, len(f.layers)-5)
	}
	t.Logf("sweep test took %s", time.Since(start))
}

// checkAttribution finds a finding fingerprint reported in two images at
// different layer indexes (a shared layer under another base), or at least
// in many images, each with its own layer digest matching its layer list.
func checkAttribution(t *testing.T, rep *report.Report) {
	t.Helper()
	for _, im := range rep.Images {
		for _, fd := range im.Findings {
			if fd.Source != "file" {
				continue
			}
			if fd.Layer.Index < 0 || fd.Layer.Index >= len(im.Layers) || im.Layers[fd.Layer.Index].Digest != fd.Layer.Digest {
				t.Errorf("%s: finding %s in layer %d (%s) does not match the image's layer list", im.Ref, fd.Path, fd.Layer.Index, fd.Layer.Digest)
			}
		}
	}
}

func platformOfFindings(im *report.Image) string {
	return im.Platform
}

func countPrefix(rep *report.Report, ref string) int {
	n := 0
	for _, im := range rep.Images {
		if strings.HasSuffix(im.Ref, "/"+ref) {
			n++
		}
	}
	return n
}

func detectRedact(s string) string {
	if len(s) > 4 {
		return s[:4] + "****"
	}
	return "****"
}

// TestStoreMigrations: an older database is upgraded in place, a newer one
// is refused with a clear message.
func TestStoreMigrations(t *testing.T) {
	db := filepath.Join(t.TempDir(), "old.db")
	raw, err := sqlite.OpenDB(db)
	if err != nil {
		t.Fatal(err)
	}
	st, err := storeAt(t, raw, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutLayer(t.Context(), "sha256:aa", "rs", []byte("x"), time.Now()); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	s2, err := sqlite.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s2.SchemaVersion(t.Context()); v < 2 {
		t.Errorf("schema version %d after opening, want the latest", v)
	}
	// Migration 5 drops layer results written with unkeyed fingerprints.
	if b, ok, err := s2.Layer(t.Context(), "sha256:aa", "rs"); err != nil || ok {
		t.Errorf("an unkeyed layer result after the upgrade: %q %v %v", b, ok, err)
	}
	if _, err := s2.DB().Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	s2.Close()
	r := runCLI(t, nil, "report", "--db", db)
	if r.code != exitError2 || !strings.Contains(r.stderr, "schema version 99") || !strings.Contains(r.stderr, "upgrade layerscan") {
		t.Errorf("newer database: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestBenchSweep is make bench-sweep: ≥ 200 tags over ≥ 40 repositories,
// first and second sweep timed. Not a timed test: it runs only when
// LAYERSCAN_BENCH_SWEEP=1.
func TestBenchSweep(t *testing.T) {
	if os.Getenv("LAYERSCAN_BENCH_SWEEP") != "1" {
		t.Skip("set LAYERSCAN_BENCH_SWEEP=1 (make bench-sweep)")
	}
	f := newSweepFixtureN(t, 64, true, false)
	db := filepath.Join(t.TempDir(), "bench.db")
	for i, name := range []string{"first", "second"} {
		get := f.layerGETs(t)
		start := time.Now()
		r, _ := f.sweep(t, db, nil, "--jobs", strconv.Itoa(max(4, runtime.NumCPU())))
		wall := time.Since(start)
		c := parseCounters(t, r.stderr)
		m := regexp.MustCompile(`, ([0-9.]+ [KMG]?i?B) downloaded \(([0-9.]+ [KMG]?i?B) of layers\)`).FindStringSubmatch(r.stderr)
		if m == nil {
			t.Fatalf("%s sweep: no byte counters:\n%s", name, r.stderr)
		}
		fmt.Printf("bench-sweep %s sweep: %d repositories, %d tags, %d images, %d unique layers, %d scanned, %d from the store, %d layer blob GETs, %s downloaded (%s of layers), wall %s\n",
			name, c.repos, c.tags, c.images, c.seen, c.scanned, c.cached, f.layerGETs(t)-get, m[1], m[2], wall.Round(time.Millisecond))
		_ = i
		if testing.Verbose() {
			for _, line := range strings.Split(r.stderr, "\n") {
				if strings.HasPrefix(line, "layerscan: [") {
					fmt.Println("bench-sweep   " + line)
				}
			}
		}
	}
}
