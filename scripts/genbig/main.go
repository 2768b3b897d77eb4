package main

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
)

const mib = 1 << 20

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = runGen(os.Args[2:])
	case "check":
		err = runCheck(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genbig:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: genbig gen -o IMAGE.oci.tar [-layers N] [-layer-mb M] [-secrets K] [-seed S]\n       genbig check -planted PLANTED.json -report REPORT.json")
	os.Exit(2)
}

// ---------------------------------------------------------------- gen

// plant is one planted secret and what layerscan should report about it.
type plant struct {
	Layer       int      `json:"layer"`
	Path        string   `json:"path"`
	ArchivePath []string `json:"archive_path,omitempty"`
	Line        int      `json:"line"` // 0: not checked (binary files)
	Rule        string   `json:"rule"`
	Carrier     string   `json:"carrier"`
	Encoding    string   `json:"encoding,omitempty"`
	Status      string   `json:"status"`
	RemovedBy   int      `json:"removed_by"`
	Secret      string   `json:"secret"` // fake, random
}

// manifest is the -planted file.
type manifest struct {
	Layers       int      `json:"layers"`
	Entries      int64    `json:"entries"`
	Uncompressed int64    `json:"uncompressed"`
	Stored       int64    `json:"stored"`
	ArchiveBytes int64    `json:"archive_bytes"`
	Planted      []*plant `json:"planted"`
}

func runGen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	out := fs.String("o", "", "OCI archive to write (required)")
	plantedOut := fs.String("planted", "", "where to write the planted secrets (default: -o with .planted.json appended)")
	layers := fs.Int("layers", 1, "layers")
	layerMB := fs.Int("layer-mb", 4, "MiB of file content per layer (uncompressed)")
	secrets := fs.Int("secrets", 0, "secrets to plant (0: one per 64 MiB, at least 8 and at least one per layer)")
	seed := fs.Uint64("seed", 1, "random seed")
	scale := fs.Float64("size-scale", 1, "factor on every file size drawn: below 1, more (smaller) files for the same -layer-mb")
	_ = fs.Parse(args)
	if *out == "" || fs.NArg() != 0 || *layers < 1 || *layerMB < 1 || *scale <= 0 {
		usage()
	}
	if *plantedOut == "" {
		*plantedOut = *out + ".planted.json"
	}
	total := int64(*layers) * int64(*layerMB) * mib
	if *secrets <= 0 {
		*secrets = max(8, *layers, int(total/(64*mib)))
	}

	g := newGen(*seed, *layers, total, *secrets)
	g.scale = *scale
	var (
		adds  []mutate.Addendum
		files []*fileLayer
	)
	defer func() {
		for _, f := range files {
			os.Remove(f.path)
		}
	}()
	for i := 0; i < *layers; i++ {
		fl, err := g.writeLayer(fmt.Sprintf("%s.layer%d.tar.gz", *out, i), i, int64(*layerMB)*mib)
		if err != nil {
			return err
		}
		files = append(files, fl)
		adds = append(adds, mutate.Addendum{Layer: fl, History: v1.History{
			Created:   v1.Time{Time: epoch.Add(time.Duration(i) * time.Minute)},
			CreatedBy: g.createdBy(i),
		}})
	}
	m := &manifest{Layers: *layers, Entries: g.entries, Planted: g.planted}
	for _, f := range files {
		m.Uncompressed += f.uncompressed
		m.Stored += f.size
	}
	n, err := writeArchive(*out, adds, files)
	if err != nil {
		return err
	}
	m.ArchiveBytes = n
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*plantedOut, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("layers=%d entries=%d uncompressed=%d stored=%d archive=%d planted=%d\n",
		m.Layers, m.Entries, m.Uncompressed, m.Stored, m.ArchiveBytes, len(m.Planted))
	return nil
}

var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// fileLayer is a gzip layer blob on disk with digests computed while it was
// written.
type fileLayer struct {
	path               string
	digest, diffID     v1.Hash
	size, uncompressed int64
}

func (l *fileLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *fileLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *fileLayer) Size() (int64, error)                { return l.size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }
func (l *fileLayer) Compressed() (io.ReadCloser, error)  { return os.Open(l.path) }
func (l *fileLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		f.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{zr, f}, nil
}

// writeArchive writes the image as an OCI archive and returns its size.
func writeArchive(out string, adds []mutate.Addendum, files []*fileLayer) (int64, error) {
	img, err := mutate.Append(empty.Image, adds...)
	if err != nil {
		return 0, err
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		return 0, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = "amd64", "linux"
	cf.Created = v1.Time{Time: epoch.Add(time.Duration(len(files)) * time.Minute)}
	cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	cf.Config.Cmd = []string{"/usr/bin/app", "serve"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return 0, err
	}
	rawCfg, err := img.RawConfigFile()
	if err != nil {
		return 0, err
	}
	rawMan, err := img.RawManifest()
	if err != nil {
		return 0, err
	}
	manDigest, manSize, err := v1.SHA256(bytes.NewReader(rawMan))
	if err != nil {
		return 0, err
	}
	index, err := json.Marshal(v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIImageIndex,
		Manifests: []v1.Descriptor{{
			MediaType:   types.OCIManifestSchema1,
			Size:        manSize,
			Digest:      manDigest,
			Annotations: map[string]string{"org.opencontainers.image.ref.name": "latest"},
		}},
	})
	if err != nil {
		return 0, err
	}

	f, err := os.Create(out)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, mib)
	tw := tar.NewWriter(bw)
	hdr := func(name string, size int64, dir bool) error {
		h := &tar.Header{Name: name, Size: size, Mode: 0o644, ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if dir {
			h.Mode, h.Typeflag = 0o755, tar.TypeDir
		}
		return tw.WriteHeader(h)
	}
	small := func(name string, b []byte) error {
		if err := hdr(name, int64(len(b)), false); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	if err := small("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return 0, err
	}
	if err := small("index.json", index); err != nil {
		return 0, err
	}
	if err := hdr("blobs/", 0, true); err != nil {
		return 0, err
	}
	if err := hdr("blobs/sha256/", 0, true); err != nil {
		return 0, err
	}
	cfgDigest, _, err := v1.SHA256(bytes.NewReader(rawCfg))
	if err != nil {
		return 0, err
	}
	if err := small("blobs/sha256/"+cfgDigest.Hex, rawCfg); err != nil {
		return 0, err
	}
	if err := small("blobs/sha256/"+manDigest.Hex, rawMan); err != nil {
		return 0, err
	}
	for _, l := range files {
		if err := hdr("blobs/sha256/"+l.digest.Hex, l.size, false); err != nil {
			return 0, err
		}
		lf, err := os.Open(l.path)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(tw, lf)
		lf.Close()
		if err != nil {
			return 0, err
		}
		os.Remove(l.path) // the archive has it now: half the disk
	}
	if err := tw.Close(); err != nil {
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), f.Close()
}

// ---------------------------------------------------------------- layers

type kind int

const (
	kConfig kind = iota
	kSource
	kLog
	kB64
	kBinary
	kGz
	kJar
	nKinds
)

// share is each kind's share of the content bytes: about two thirds text
// (base64 included), a third binary and archives.
var share = [nKinds]float64{kConfig: .08, kSource: .25, kLog: .22, kB64: .10, kBinary: .30, kGz: .02, kJar: .03}

// dirTemplates are where each kind's files go; %s is a package name.
// Templates without %s are shared system directories.
var dirTemplates = [nKinds][]string{
	kConfig: {"/etc/%s", "/etc/%s/conf.d", "/app/config/%s"},
	kSource: {"/app/src/%s", "/app/src/%s/internal/%s", "/srv/%s/lib"},
	kLog:    {"/var/log/%s", "/app/logs/%s"},
	kB64:    {"/etc/%s/certs", "/srv/data/%s", "/app/config/%s/manifests"},
	kBinary: {"/usr/lib/x86_64-linux-gnu", "/usr/bin", "/opt/%s/lib", "/srv/data/%s/index"},
	kGz:     {"/usr/share/doc/%s", "/usr/share/man/man1", "/var/log/%s/archive"},
	kJar:    {"/opt/%s/lib", "/usr/share/java"},
}

// Carriers of planted secrets: each kind in turn.
var carriers = []kind{kConfig, kSource, kLog, kB64, kBinary, kJar, kGz}

var carrierName = [nKinds]string{kConfig: "env", kSource: "source", kLog: "log", kB64: "base64", kBinary: "binary", kGz: "gzip", kJar: "jar"}

// version is one layer's copy of a file.
type version struct {
	layer  int
	plants []*plant
}

type gen struct {
	r      *rand.Rand
	cc     *rand.ChaCha8
	layers int

	// Content bytes per kind and overall, and the planting schedule.
	kindBytes  [nKinds]int64
	total      int64
	target     int64
	nextPlant  int64
	plantEvery int64
	nPlants    int
	planted    []*plant
	carrier    int
	entries    int64

	// The filesystem as the layers so far leave it.
	live     map[string]*version // absolute path -> the visible copy
	liveList []string
	liveIdx  map[string]int
	dirs     [nKinds][]string
	seq      int

	// The layer being written.
	layer     int
	tw        *tar.Writer
	emitted   map[string]bool
	banned    []string // directories this layer whites out: no new files below
	layerLeft int64    // content bytes still to write in this layer
	scale     float64  // -size-scale
	clock     time.Time
	buf       []byte
	zw        *gzip.Writer // reused for .gz files
}

func newGen(seed uint64, layers int, total int64, secrets int) *gen {
	var cs [32]byte
	for i := range cs {
		cs[i] = byte(seed >> (8 * (i % 8)))
	}
	cs[31] ^= 0x5a
	every := total / int64(secrets)
	return &gen{
		r:          rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		cc:         rand.NewChaCha8(cs),
		layers:     layers,
		target:     total,
		plantEvery: every,
		nextPlant:  every / 2,
		nPlants:    secrets,
		live:       map[string]*version{},
		liveIdx:    map[string]int{},
		clock:      epoch,
		buf:        make([]byte, 0, 256<<10),
	}
}

func (g *gen) createdBy(i int) string {
	switch {
	case i == 0:
		return "/bin/sh -c #(nop) ADD file:" + g.hexString(32) + " in / "
	case i%3 == 1:
		return "/bin/sh -c #(nop) COPY dir:" + g.hexString(32) + " in /app "
	case i%3 == 2:
		return "/bin/sh -c apt-get update && apt-get install -y --no-install-recommends " + g.pkgName() + " " + g.pkgName() + " && rm -rf /var/lib/apt/lists/*"
	default:
		return "/bin/sh -c make -C /app/src install && rm -rf /app/src/" + g.pkgName() + "/build"
	}
}

// chunkPipe hands 1 MiB chunks from the tar writer to the compressor.
type chunkPipe struct {
	full, free chan []byte
	cur        []byte
}

func (p *chunkPipe) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		if p.cur == nil {
			p.cur = (<-p.free)[:0]
		}
		k := copy(p.cur[len(p.cur):cap(p.cur)], b)
		p.cur = p.cur[:len(p.cur)+k]
		b = b[k:]
		if len(p.cur) == cap(p.cur) {
			p.full <- p.cur
			p.cur = nil
		}
	}
	return n, nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(b []byte) (int, error) { c.n += int64(len(b)); return len(b), nil }

// writeLayer writes layer i (about size content bytes) to file, gzipped.
func (g *gen) writeLayer(file string, i int, size int64) (*fileLayer, error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	digest, diff := sha256.New(), sha256.New()
	stored, plain := &countWriter{}, &countWriter{}
	bw := bufio.NewWriterSize(io.MultiWriter(f, digest, stored), mib)
	zw, err := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	p := &chunkPipe{full: make(chan []byte, 4), free: make(chan []byte, 6)}
	for range 6 {
		p.free <- make([]byte, 0, mib)
	}
	done := make(chan error, 1)
	go func() {
		var err error
		for c := range p.full {
			if err == nil {
				_, err = zw.Write(c)
			}
			p.free <- c
		}
		if err == nil {
			err = zw.Close()
		}
		if err == nil {
			err = bw.Flush()
		}
		done <- err
	}()

	g.layer = i
	g.tw = tar.NewWriter(io.MultiWriter(p, diff, plain))
	g.emitted = map[string]bool{}
	g.banned = nil
	genErr := g.fillLayer(size)
	if genErr == nil {
		genErr = g.tw.Close()
	}
	if p.cur != nil {
		p.full <- p.cur
		p.cur = nil
	}
	close(p.full)
	if err := <-done; err != nil {
		return nil, err
	}
	if genErr != nil {
		return nil, genErr
	}
	fl := &fileLayer{path: file, size: stored.n, uncompressed: plain.n}
	fl.digest = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(digest.Sum(nil))}
	fl.diffID = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(diff.Sum(nil))}
	return fl, f.Close()
}

// fillLayer writes the entries of g.layer: first what it removes from the
// layers below (when it is not the first), then new files up to size bytes.
func (g *gen) fillLayer(size int64) error {
	var written int64
	g.layerLeft = size
	if g.layer > 0 {
		// Whole directories: a whiteout of the directory, or an opaque
		// marker followed by a fresh file in it.
		if g.r.IntN(10) == 0 {
			if _, err := g.dirEvent(false); err != nil {
				return err
			}
		}
		if g.r.IntN(20) == 0 {
			n, err := g.dirEvent(true)
			if err != nil {
				return err
			}
			written += n
			g.layerLeft = size - written
		}
		for range g.r.IntN(4) {
			if p := g.pickLower(); p != "" {
				if err := g.whiteout(p); err != nil {
					return err
				}
			}
		}
		for range g.r.IntN(4) {
			if p := g.pickLower(); p != "" {
				g.hide(p, "overwritten")
				n, err := g.writeFile(p, g.kindOf(p), nil)
				if err != nil {
					return err
				}
				written += n
				g.layerLeft = size - written
			}
		}
	}
	for written < size {
		k, pl := g.nextKind()
		p := g.newPath(k, pl != nil)
		n, err := g.writeFile(p, k, pl)
		if err != nil {
			return err
		}
		written += n
		g.layerLeft = size - written
		if g.r.IntN(40) == 0 && k == kBinary {
			// A symlink to the library, as packages install them.
			if err := g.symlink(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// nextKind picks the kind of the next file, and makes it carry a planted
// secret when the schedule says so.
func (g *gen) nextKind() (kind, *plant) {
	if len(g.planted) < g.nPlants && g.total >= g.nextPlant {
		g.nextPlant += g.plantEvery
		k := carriers[g.carrier%len(carriers)]
		pl := &plant{Layer: g.layer, Carrier: carrierName[k], Status: "present", RemovedBy: -1}
		g.makeSecret(pl, g.carrier%5)
		g.carrier++
		return k, pl
	}
	// The kind furthest behind its share, at random among those behind.
	var w [nKinds]float64
	var sum float64
	for k := range nKinds {
		d := share[k]*float64(g.total+mib) - float64(g.kindBytes[k])
		if d > 0 {
			w[k] = d
			sum += d
		}
	}
	if sum == 0 {
		return kind(g.r.IntN(int(nKinds))), nil
	}
	x := g.r.Float64() * sum
	for k := range nKinds {
		if x < w[k] {
			return k, nil
		}
		x -= w[k]
	}
	return kSource, nil
}

var (
	alnum     = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	base32ish = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	digits    = "0123456789"
)

func (g *gen) pick(set string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = set[g.r.IntN(len(set))]
	}
	return string(b)
}

// makeSecret fills in a fresh fake secret of one of five gitleaks rules.
// Each is random (none is a documentation example, which gitleaks
// allowlists); the env-style name goes with it on the planted line.
func (g *gen) makeSecret(pl *plant, which int) {
	switch which {
	case 0: // AWS access key ID: the suffix is base32 ([A-Z2-7]).
		pl.Rule, pl.Secret = "aws-access-token", "AKIA"+g.pick(base32ish, 16)
	case 1:
		pl.Rule, pl.Secret = "github-pat", "ghp_"+g.pick(alnum, 36)
	case 2:
		pl.Rule, pl.Secret = "gitlab-pat", "glpat-"+g.pick(alnum, 20)
	case 3:
		pl.Rule, pl.Secret = "stripe-access-token", "sk_"+"live_"+g.pick(alnum, 32)
	default:
		pl.Rule, pl.Secret = "slack-bot-token", "xoxb-"+g.pick(digits, 10)+"-"+g.pick(digits, 13)+"-"+g.pick(alnum, 24)
	}
}

var envName = map[string]string{
	"aws-access-token":    "AWS_ACCESS_KEY_ID",
	"github-pat":          "GITHUB_TOKEN",
	"gitlab-pat":          "GITLAB_TOKEN",
	"stripe-access-token": "STRIPE_SECRET_KEY",
	"slack-bot-token":     "SLACK_BOT_TOKEN",
}

func (g *gen) pkgName() string {
	s := syllables[g.r.IntN(len(syllables))] + syllables[g.r.IntN(len(syllables))]
	if g.r.IntN(3) == 0 {
		s += syllables[g.r.IntN(len(syllables))]
	}
	if g.r.IntN(4) == 0 {
		s = "lib" + s
	}
	return s
}

// newDir returns a directory for a new file of kind k: mostly one used
// before, sometimes a new package's. Directories this layer whites out are
// avoided.
func (g *gen) newDir(k kind) string {
	for {
		var d string
		if n := len(g.dirs[k]); n > 0 && g.r.IntN(25) != 0 {
			d = g.dirs[k][g.r.IntN(n)]
		} else {
			t := dirTemplates[k][g.r.IntN(len(dirTemplates[k]))]
			for strings.Contains(t, "%s") {
				t = strings.Replace(t, "%s", g.pkgName(), 1)
			}
			d = t
			if !slicesContains(g.dirs[k], d) {
				g.dirs[k] = append(g.dirs[k], d)
			}
		}
		if !g.isBanned(d) {
			return d
		}
	}
}

func slicesContains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

func (g *gen) isBanned(p string) bool {
	for _, b := range g.banned {
		if p == b || strings.HasPrefix(p, b+"/") {
			return true
		}
	}
	return false
}

var extensions = [nKinds][]string{
	kConfig: {".conf", ".ini", ".yaml", ".toml", ".properties", ".env"},
	kSource: {".go", ".py", ".js", ".ts", ".java", ".c", ".h"},
	kLog:    {".log"},
	kB64:    {".yaml", ".pem", ".crt"},
	kBinary: {".so", ".so.1", ".dat", ".idx", ".pack", ""},
	kGz:     {".gz"},
	kJar:    {".jar"},
}

func (g *gen) newPath(k kind, planted bool) string {
	g.seq++
	dir := g.newDir(k)
	if planted && k == kGz {
		// layerscan allowlists package documentation (/usr/share/doc,
		// man pages): a secret there is not reported. Rotated logs it is.
		dir = "/var/log/" + g.pkgName() + "/archive"
	}
	ext := extensions[k][g.r.IntN(len(extensions[k]))]
	base := words[g.r.IntN(len(words))]
	switch k {
	case kBinary:
		if strings.HasPrefix(ext, ".so") {
			base = "lib" + g.pkgName()
		}
	case kGz:
		switch {
		case strings.Contains(dir, "/man"):
			ext = ".1.gz"
		case strings.Contains(dir, "/log/"):
			ext = ".log.1.gz"
		default:
			base, ext = "changelog", ".Debian.gz"
		}
	case kJar:
		ext = "-" + strconv.Itoa(1+g.r.IntN(9)) + "." + strconv.Itoa(g.r.IntN(20)) + ".jar"
	}
	return fmt.Sprintf("%s/%s-%d%s", dir, base, g.seq, ext)
}

// kindOf guesses the kind of an existing path (for overwrites).
func (g *gen) kindOf(p string) kind {
	switch {
	case strings.HasSuffix(p, ".jar"):
		return kJar
	case strings.HasSuffix(p, ".gz"):
		return kGz
	case strings.HasSuffix(p, ".log"):
		return kLog
	case strings.HasSuffix(p, ".pem"), strings.HasSuffix(p, ".crt"), strings.Contains(p, "/manifests/"), strings.HasPrefix(p, "/srv/data/") && strings.HasSuffix(p, ".yaml"):
		return kB64
	case strings.HasPrefix(p, "/etc/"), strings.HasPrefix(p, "/app/config/"):
		return kConfig
	case strings.HasPrefix(p, "/app/src/"), strings.HasPrefix(p, "/srv/") && strings.Contains(p, "/lib/"):
		return kSource
	}
	return kBinary
}

// ---------------------------------------------------------------- lifecycle

// pickLower picks a visible file from a lower layer: a planted one half the
// time when there is one.
func (g *gen) pickLower() string {
	if len(g.liveList) == 0 {
		return ""
	}
	if g.r.IntN(2) == 0 {
		var cands []string
		for _, p := range g.liveList {
			if v := g.live[p]; v.layer < g.layer && len(v.plants) > 0 {
				cands = append(cands, p)
			}
		}
		if len(cands) > 0 {
			sort.Strings(cands)
			return cands[g.r.IntN(len(cands))]
		}
	}
	for range 20 {
		p := g.liveList[g.r.IntN(len(g.liveList))]
		if g.live[p].layer < g.layer {
			return p
		}
	}
	return ""
}

func (g *gen) addLive(p string, v *version) {
	if _, ok := g.live[p]; !ok {
		g.liveIdx[p] = len(g.liveList)
		g.liveList = append(g.liveList, p)
	}
	g.live[p] = v
}

// hide records that the current layer hides the visible copy of p.
func (g *gen) hide(p, status string) {
	v, ok := g.live[p]
	if !ok {
		return
	}
	for _, pl := range v.plants {
		pl.Status, pl.RemovedBy = status, g.layer
	}
	i := g.liveIdx[p]
	last := g.liveList[len(g.liveList)-1]
	g.liveList[i] = last
	g.liveIdx[last] = i
	g.liveList = g.liveList[:len(g.liveList)-1]
	delete(g.liveIdx, p)
	delete(g.live, p)
}

func (g *gen) whiteout(p string) error {
	g.hide(p, "deleted")
	return g.entry(path.Dir(p)+"/.wh."+path.Base(p), tar.TypeReg, 0, "")
}

// dirEvent whites out (opaque: marks opaque and refills) the package
// directory of a visible lower file. It returns the content bytes written.
func (g *gen) dirEvent(opaque bool) (int64, error) {
	p := g.pickLower()
	if p == "" {
		return 0, nil
	}
	dir := path.Dir(p)
	if !strings.Contains(strings.TrimPrefix(dir, "/"), "/") || dir == "/usr/lib/x86_64-linux-gnu" || dir == "/usr/bin" ||
		dir == "/usr/share/java" || dir == "/usr/share/man/man1" || dir == "/usr/share/doc" {
		return 0, nil // a shared system directory: leave it
	}
	var under []string
	for _, q := range g.liveList {
		if strings.HasPrefix(q, dir+"/") && g.live[q].layer < g.layer {
			under = append(under, q)
		}
	}
	sort.Strings(under)
	status := "deleted"
	for _, q := range under {
		g.hide(q, status)
	}
	if !opaque {
		g.banned = append(g.banned, dir)
		return 0, g.entry(path.Dir(dir)+"/.wh."+path.Base(dir), tar.TypeReg, 0, "")
	}
	if err := g.entry(dir+"/.wh..wh..opq", tar.TypeReg, 0, ""); err != nil {
		return 0, err
	}
	k := g.kindOf(p)
	g.seq++
	return g.writeFile(fmt.Sprintf("%s/%s-%d%s", dir, words[g.r.IntN(len(words))], g.seq, path.Ext(p)), k, nil)
}

func (g *gen) symlink(target string) error {
	return g.entry(strings.TrimSuffix(strings.TrimSuffix(target, ".1"), path.Ext(target))+".link", tar.TypeSymlink, 0, path.Base(target))
}

// entry writes a header (and the headers of the parent directories not
// yet in this layer). Regular files get their content from the caller.
func (g *gen) entry(p string, typ byte, size int64, link string) error {
	var parents []string
	for d := path.Dir(p); d != "/" && !g.emitted[d]; d = path.Dir(d) {
		g.emitted[d] = true
		parents = append(parents, d)
	}
	for i := len(parents) - 1; i >= 0; i-- {
		if err := g.tw.WriteHeader(&tar.Header{Name: parents[i][1:] + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch, Uname: "root", Gname: "root"}); err != nil {
			return err
		}
		g.entries++
	}
	mode := int64(0o644)
	if typ == tar.TypeSymlink || strings.Contains(p, ".so") || strings.HasPrefix(p, "/usr/bin/") {
		mode = 0o755
	}
	g.entries++
	return g.tw.WriteHeader(&tar.Header{Name: p[1:], Typeflag: typ, Size: size, Linkname: link, Mode: mode, ModTime: epoch, Uname: "root", Gname: "root"})
}

// ---------------------------------------------------------------- content

// logUniform returns a size between lo and hi, uniform in its logarithm.
func (g *gen) logUniform(lo, hi int64) int64 {
	return int64(float64(lo) * math.Pow(float64(hi)/float64(lo), g.r.Float64()))
}

// size draws a content size for kind k.
func (g *gen) size(k kind) int64 {
	switch k {
	case kConfig:
		return g.logUniform(200, 16<<10)
	case kSource:
		return g.logUniform(1<<10, 96<<10)
	case kLog:
		if g.r.IntN(20) == 0 {
			return g.logUniform(4*mib, 64*mib)
		}
		return g.logUniform(16<<10, 2*mib)
	case kB64:
		return g.logUniform(2<<10, 1*mib)
	case kBinary:
		if g.r.IntN(40) == 0 {
			return g.logUniform(16*mib, 192*mib)
		}
		return g.logUniform(8<<10, 4*mib)
	case kGz:
		return g.logUniform(8<<10, 1*mib) // uncompressed
	default:
		return g.logUniform(32<<10, 1*mib) // uncompressed members
	}
}

// writeFile writes a regular file of kind k at p, carrying pl when not
// nil, and records it as the visible copy of p. It returns its size.
func (g *gen) writeFile(p string, k kind, pl *plant) (int64, error) {
	size := max(1, int64(float64(g.size(k))*g.scale))
	// Keep the sizes within what is left of the layer, so that a small
	// -layer-mb stays small.
	if size > g.layerLeft && size > 64<<10 {
		size = max(g.layerLeft, 64<<10)
	}
	if pl != nil {
		pl.Path = p
	}
	var (
		n   int64
		err error
	)
	switch k {
	case kGz, kJar:
		var b []byte
		if k == kGz {
			b, err = g.gzipFile(p, size, pl)
		} else {
			b, err = g.jarFile(size, pl)
		}
		if err == nil {
			if err = g.entry(p, tar.TypeReg, int64(len(b)), ""); err == nil {
				_, err = g.tw.Write(b)
			}
		}
		n = int64(len(b))
	case kBinary:
		if err = g.entry(p, tar.TypeReg, size, ""); err == nil {
			err = g.binary(g.tw, p, size, pl)
		}
		n = size
	default:
		if pl != nil {
			size = max(size, 16<<10)
		}
		if err = g.entry(p, tar.TypeReg, size, ""); err == nil {
			err = g.text(g.tw, k, p, size, pl)
		}
		n = size
	}
	if err != nil {
		return 0, err
	}
	g.kindBytes[k] += n
	g.total += n
	v := &version{layer: g.layer}
	if pl != nil {
		v.plants = []*plant{pl}
		g.planted = append(g.planted, pl)
	}
	g.addLive(p, v)
	return n, nil
}

// text writes exactly size bytes of lines of kind k to w, with pl's line
// somewhere in them.
func (g *gen) text(w io.Writer, k kind, p string, size int64, pl *plant) error {
	// Lines, planted ones included, are shorter than maxLine: planting
	// before size-2*maxLine leaves room for the planted line.
	const maxLine = 4 << 10
	plantAt := int64(-1)
	if pl != nil {
		plantAt = g.r.Int64N(max(1, size-2*maxLine))
	}
	ext := path.Ext(p)
	var written int64
	lines := 0
	b := g.buf[:0]
	flush := func() error {
		_, err := w.Write(b)
		b = b[:0]
		return err
	}
	if k == kB64 && ext == ".yaml" {
		b = append(b, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "...)
		b = append(b, words[g.r.IntN(len(words))]...)
		b = append(b, "\nbinaryData:\n"...)
		lines = 5
	}
	for written+int64(len(b)) < size {
		start := len(b)
		if plantAt >= 0 && written+int64(len(b)) >= plantAt {
			b = append(b, g.plantLine(k, pl)...)
			pl.Line = lines + 1
			plantAt = -1
		} else {
			b = g.line(b, k, ext)
		}
		lines += bytes.Count(b[start:], []byte{'\n'})
		if left := size - written - int64(start); int64(len(b)-start) > left {
			b = b[:start+int(left)]
			if left > 0 {
				b[len(b)-1] = '\n'
			}
		}
		if len(b) >= cap(g.buf)-maxLine {
			written += int64(len(b))
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// plantLine is the line that carries pl's secret in a text file of kind k.
func (g *gen) plantLine(k kind, pl *plant) []byte {
	name := envName[pl.Rule]
	switch k {
	case kSource:
		return []byte("\tclient := newClient(\"" + pl.Secret + "\") // TODO: read from the vault\n")
	case kLog, kGz:
		g.clock = g.clock.Add(time.Millisecond)
		return []byte(g.clock.Format("2006-01-02T15:04:05.000Z") + " WARN  [boot] msg=\"environment at start\" " + name + "=" + pl.Secret + " pid=" + strconv.Itoa(1+g.r.IntN(30000)) + "\n")
	case kB64:
		pl.Encoding = "base64"
		return []byte("  bootstrap-" + strconv.Itoa(g.r.IntN(100)) + ".env: " + base64.StdEncoding.EncodeToString([]byte(name+"="+pl.Secret+"\n")) + "\n")
	default:
		return []byte(name + "=" + pl.Secret + "\n")
	}
}

func (g *gen) words(b []byte, n int) []byte {
	for i := range n {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, words[g.r.IntN(len(words))]...)
	}
	return b
}

func (g *gen) ident(b []byte) []byte {
	b = append(b, words[g.r.IntN(len(words))]...)
	if g.r.IntN(2) == 0 {
		w := words[g.r.IntN(len(words))]
		b = append(b, w[0]-'a'+'A')
		b = append(b, w[1:]...)
	}
	return b
}

func (g *gen) hexAppend(b []byte, n int) []byte {
	const hx = "0123456789abcdef"
	for i := 0; i < n; i += 16 {
		x := g.r.Uint64()
		for j := 0; j < 16 && i+j < n; j++ {
			b = append(b, hx[x&15])
			x >>= 4
		}
	}
	return b
}

func (g *gen) hexString(n int) string { return string(g.hexAppend(nil, n)) }

func (g *gen) value(b []byte) []byte {
	switch g.r.IntN(9) {
	case 0:
		return strconv.AppendInt(b, int64(g.r.IntN(65536)), 10)
	case 1:
		return append(strconv.AppendInt(b, int64(1+g.r.IntN(300)), 10), "s"...)
	case 2:
		if g.r.IntN(2) == 0 {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case 3:
		b = append(b, words[g.r.IntN(len(words))]...)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(g.r.IntN(12)), 10)
		return append(b, ".internal.example"...)
	case 4:
		b = append(b, "/var/lib/"...)
		b = append(b, words[g.r.IntN(len(words))]...)
		b = append(b, '/')
		return append(b, words[g.r.IntN(len(words))]...)
	case 5:
		b = append(b, "10."...)
		for i := range 3 {
			if i > 0 {
				b = append(b, '.')
			}
			b = strconv.AppendInt(b, int64(g.r.IntN(256)), 10)
		}
		return b
	case 6:
		b = append(b, "https://"...)
		b = append(b, words[g.r.IntN(len(words))]...)
		b = append(b, ".example.com:"...)
		b = strconv.AppendInt(b, int64(1024+g.r.IntN(9000)), 10)
		b = append(b, '/')
		return append(b, words[g.r.IntN(len(words))]...)
	case 7:
		for i := range 1 + g.r.IntN(4) {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, words[g.r.IntN(len(words))]...)
		}
		return b
	default:
		return append(b, words[g.r.IntN(len(words))]...)
	}
}

// line appends one line of kind k (file extension ext) to b.
func (g *gen) line(b []byte, k kind, ext string) []byte {
	switch k {
	case kConfig:
		switch x := g.r.IntN(20); {
		case x == 0:
			b = append(b, '\n')
		case x < 3:
			b = append(b, "# "...)
			b = g.words(b, 4+g.r.IntN(10))
			b = append(b, '\n')
		case x == 3 && (ext == ".ini" || ext == ".toml" || ext == ".conf"):
			b = append(b, '[')
			b = append(b, words[g.r.IntN(len(words))]...)
			b = append(b, "]\n"...)
		default:
			key := configKeys[g.r.IntN(len(configKeys))]
			switch ext {
			case ".env":
				b = append(b, strings.ToUpper(key)...)
				b = append(b, '=')
			case ".yaml":
				if g.r.IntN(2) == 0 {
					b = append(b, "  "...)
				}
				b = append(b, key...)
				b = append(b, ": "...)
			case ".properties":
				b = append(b, words[g.r.IntN(len(words))]...)
				b = append(b, '.')
				b = append(b, strings.ReplaceAll(key, "_", ".")...)
				b = append(b, '=')
			default:
				b = append(b, key...)
				b = append(b, " = "...)
			}
			b = g.value(b)
			b = append(b, '\n')
		}
	case kSource:
		t := sourceLines[g.r.IntN(len(sourceLines))]
		for {
			i := strings.IndexByte(t, '@')
			if i < 0 {
				break
			}
			b = append(b, t[:i]...)
			b = g.ident(b)
			t = t[i+1:]
		}
		b = append(b, t...)
		b = append(b, '\n')
	case kLog:
		g.clock = g.clock.Add(time.Duration(g.r.IntN(2000)) * time.Millisecond)
		b = g.clock.AppendFormat(b, "2006-01-02T15:04:05.000Z")
		b = append(b, ' ')
		b = append(b, levels[g.r.IntN(len(levels))]...)
		b = append(b, " ["...)
		b = append(b, words[g.r.IntN(len(words))]...)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(g.r.IntN(16)), 10)
		b = append(b, "] msg=\""...)
		b = g.words(b, 3+g.r.IntN(8))
		b = append(b, "\" request_id="...)
		b = g.hexAppend(b, 16)
		if g.r.IntN(3) > 0 {
			b = append(b, " method="...)
			b = append(b, methods[g.r.IntN(len(methods))]...)
			b = append(b, " path=/v1/"...)
			b = append(b, words[g.r.IntN(len(words))]...)
			b = append(b, '/')
			b = strconv.AppendInt(b, int64(g.r.IntN(100000)), 10)
			b = append(b, " status="...)
			b = strconv.AppendInt(b, int64(statuses[g.r.IntN(len(statuses))]), 10)
			b = append(b, " duration_ms="...)
			b = strconv.AppendInt(b, int64(g.r.IntN(3000)), 10)
			b = append(b, " client="...)
			b = g.value(b)
		} else {
			b = append(b, ' ')
			b = append(b, configKeys[g.r.IntN(len(configKeys))]...)
			b = append(b, '=')
			b = g.value(b)
		}
		b = append(b, '\n')
	case kB64:
		var raw [1536]byte
		if ext == ".yaml" {
			n := 48 + g.r.IntN(len(raw)-48)
			g.cc.Read(raw[:n])
			b = append(b, "  "...)
			b = append(b, words[g.r.IntN(len(words))]...)
			b = append(b, '-')
			b = strconv.AppendInt(b, int64(g.r.IntN(1000)), 10)
			b = append(b, ".bin: "...)
			b = base64.StdEncoding.AppendEncode(b, raw[:n])
			b = append(b, '\n')
		} else {
			// PEM-like certificates: 64 columns.
			b = append(b, "-----BEGIN CERTIFICATE-----\n"...)
			for range 8 + g.r.IntN(16) {
				g.cc.Read(raw[:48])
				b = base64.StdEncoding.AppendEncode(b, raw[:48])
				b = append(b, '\n')
			}
			b = append(b, "-----END CERTIFICATE-----\n"...)
		}
	}
	return b
}

// binary writes exactly size bytes of binary-looking content: a header with
// NUL bytes (ELF for libraries), then blocks of random bytes, zeros,
// code-like bytes of a small alphabet, and string tables; pl's secret, if
// any, sits in a NUL-delimited run of its own.
func (g *gen) binary(w io.Writer, p string, size int64, pl *plant) error {
	var plantRun []byte
	plantAt := int64(-1)
	if pl != nil {
		plantRun = []byte("\x00" + envName[pl.Rule] + "=" + pl.Secret + "\x00")
		plantAt = g.r.Int64N(max(1, size-int64(len(plantRun))-8192))
	}
	b := g.buf[:0]
	if strings.Contains(p, ".so") || strings.HasPrefix(p, "/usr/bin/") {
		b = append(b, "\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00\x3e\x00\x01\x00\x00\x00"...)
	} else {
		b = append(b, "PACK\x00\x00\x00\x02\x00\x00"...)
	}
	var written int64
	for written+int64(len(b)) < size {
		if plantAt >= 0 && written+int64(len(b)) >= plantAt {
			b = append(b, plantRun...)
			plantAt = -1
		}
		n := 256 + g.r.IntN(4096-256)
		switch x := g.r.IntN(20); {
		case x < 9: // random (compressed data, tables)
			start := len(b)
			b = b[:start+n]
			g.cc.Read(b[start:])
		case x < 12: // padding
			b = append(b, make([]byte, n)...)
		case x < 18: // code-like: a few frequent bytes
			for i := 0; i < n; i += 16 {
				u := g.r.Uint64()
				for range 16 {
					b = append(b, opcodes[u&15])
					u >>= 4
				}
			}
		default: // a string table
			for len(b) < cap(b) && n > 0 {
				s := symbolPrefixes[g.r.IntN(len(symbolPrefixes))] + words[g.r.IntN(len(words))] + "_" + words[g.r.IntN(len(words))]
				b = append(b, s...)
				b = append(b, 0)
				n -= len(s) + 1
			}
		}
		if left := size - written; int64(len(b)) > left {
			b = b[:left]
		}
		if len(b) >= cap(g.buf)-8192 {
			written += int64(len(b))
			if _, err := w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	_, err := w.Write(b)
	return err
}

// gzipFile makes a gzip-compressed text file: a man page or changelog, or
// a rotated log (the gzip carrier: a rotated log with pl's line).
func (g *gen) gzipFile(p string, size int64, pl *plant) ([]byte, error) {
	var out bytes.Buffer
	if g.zw == nil {
		zw, err := gzip.NewWriterLevel(&out, gzip.BestSpeed)
		if err != nil {
			return nil, err
		}
		g.zw = zw
	}
	zw := g.zw
	zw.Reset(&out)
	k := kConfig
	if strings.Contains(p, ".log") || pl != nil {
		k = kLog
	}
	if pl != nil {
		pl.ArchivePath = []string{strings.TrimSuffix(path.Base(p), ".gz")}
	}
	if err := g.text(zw, k, p, size, pl); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// jarFile makes a jar: a manifest, class files and, with pl, an
// application.properties holding pl's secret.
func (g *gen) jarFile(size int64, pl *plant) ([]byte, error) {
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	w, err := zw.Create("META-INF/MANIFEST.MF")
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, "Manifest-Version: 1.0\r\nCreated-By: 21.0.2 (Eclipse Adoptium)\r\n"); err != nil {
		return nil, err
	}
	pkg := "com/example/" + words[g.r.IntN(len(words))] + "/"
	for left := size; left > 0; {
		n := min(left, g.logUniform(512, 64<<10))
		w, err := zw.Create(pkg + strings.ToUpper(words[g.r.IntN(len(words))][:1]) + words[g.r.IntN(len(words))] + strconv.Itoa(int(left%1000)) + ".class")
		if err != nil {
			return nil, err
		}
		if _, err := w.Write([]byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 65}); err != nil {
			return nil, err
		}
		if err := g.binary(w, "class", n, nil); err != nil {
			return nil, err
		}
		left -= n
	}
	if pl != nil {
		const member = "BOOT-INF/classes/application.properties"
		pl.ArchivePath = []string{member}
		w, err := zw.Create(member)
		if err != nil {
			return nil, err
		}
		if err := g.text(w, kConfig, member, 2<<10+g.r.Int64N(6<<10), pl); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// ---------------------------------------------------------------- check

type report struct {
	Images []struct {
		Findings []struct {
			Rule        string   `json:"rule"`
			Path        string   `json:"path"`
			Line        int      `json:"line"`
			ArchivePath []string `json:"archive_path"`
			Encoding    string   `json:"encoding"`
			Status      string   `json:"status"`
			Layer       struct {
				Index int `json:"index"`
			} `json:"layer"`
			RemovedBy *struct {
				Index int `json:"index"`
			} `json:"removed_by"`
		} `json:"findings"`
		Errors   []json.RawMessage `json:"errors"`
		Warnings []json.RawMessage `json:"warnings"`
		Stats    struct {
			LayersScanned int   `json:"layers_scanned"`
			FilesScanned  int64 `json:"files_scanned"`
			Entries       int64 `json:"entries"`
			StoredBytes   int64 `json:"stored_bytes"`
			Bytes         int64 `json:"bytes"`
		} `json:"stats"`
	} `json:"images"`
}

func runCheck(args []string) error {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	plantedPath := fs.String("planted", "", "the planted secrets written by gen (required)")
	reportPath := fs.String("report", "", "layerscan's -f json report (required)")
	_ = fs.Parse(args)
	if *plantedPath == "" || *reportPath == "" || fs.NArg() != 0 {
		usage()
	}
	var m manifest
	if err := readJSON(*plantedPath, &m); err != nil {
		return err
	}
	var rep report
	if err := readJSON(*reportPath, &rep); err != nil {
		return err
	}
	if len(rep.Images) != 1 {
		return fmt.Errorf("%s: %d images, want 1", *reportPath, len(rep.Images))
	}
	im := rep.Images[0]
	used := make([]bool, len(im.Findings))
	found, statusOK := 0, 0
	for _, p := range m.Planted {
		match := -1
		for i, f := range im.Findings {
			if used[i] || f.Rule != p.Rule || f.Path != p.Path || f.Layer.Index != p.Layer ||
				strings.Join(f.ArchivePath, "!") != strings.Join(p.ArchivePath, "!") || (p.Line > 0 && f.Line != p.Line) {
				continue
			}
			match = i
			break
		}
		if match < 0 {
			fmt.Fprintf(os.Stderr, "missing: layer %d %s %v line %d %s (%s)\n", p.Layer, p.Path, p.ArchivePath, p.Line, p.Rule, p.Carrier)
			continue
		}
		used[match] = true
		found++
		f := im.Findings[match]
		removedBy := -1
		if f.RemovedBy != nil {
			removedBy = f.RemovedBy.Index
		}
		if f.Status == p.Status && removedBy == p.RemovedBy {
			statusOK++
		} else {
			fmt.Fprintf(os.Stderr, "status: layer %d %s: %s by %d, want %s by %d\n", p.Layer, p.Path, f.Status, removedBy, p.Status, p.RemovedBy)
		}
	}
	other := map[string]int{}
	for i, f := range im.Findings {
		if !used[i] {
			other[f.Rule]++
		}
	}
	var otherList []string
	for r, n := range other {
		otherList = append(otherList, r+":"+strconv.Itoa(n))
	}
	sort.Strings(otherList)
	if len(otherList) > 0 {
		fmt.Fprintf(os.Stderr, "other findings: %s\n", strings.Join(otherList, " "))
	}
	st := im.Stats
	if st.Entries != m.Entries || st.Bytes != m.Uncompressed || st.StoredBytes != m.Stored {
		fmt.Fprintf(os.Stderr, "stats differ from the image: entries %d (made %d), bytes %d (made %d), stored %d (made %d)\n",
			st.Entries, m.Entries, st.Bytes, m.Uncompressed, st.StoredBytes, m.Stored)
	}
	fmt.Printf("planted=%d found=%d status_ok=%d other=%d errors=%d warnings=%d layers_scanned=%d files=%d entries=%d bytes=%d stored=%d\n",
		len(m.Planted), found, statusOK, len(im.Findings)-found, len(im.Errors), len(im.Warnings),
		st.LayersScanned, st.FilesScanned, st.Entries, st.Bytes, st.StoredBytes)
	return nil
}

func readJSON(p string, v any) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

// ---------------------------------------------------------------- vocabulary

var syllables = []string{"ka", "lo", "mir", "tan", "vex", "dor", "bel", "qui", "zan", "pro", "net", "sol", "cor", "fin", "gra", "hub", "jet", "lum", "nor", "pix", "ros", "tur", "vol", "wen", "xen", "yal", "zep", "mar", "cal", "dex"}

var words = strings.Fields(`account action active adapter agent alpha archive array backend balance batch beacon billing binary block bridge broker bucket buffer build bundle cache canary catalog channel chart checkout client cluster collect column commit compute config console container context control cursor daemon dashboard database debug default delivery deploy device digest domain driver edge engine entry event export factory feature fetch filter flag format frame gateway graph group handler header health history host image import index inventory invoice job journal kernel label layer ledger limit linker listener loader local lookup manager mapper market member memory merge message metric mirror module monitor mount network node notice object order origin output owner packet page parser patch payload peer pipeline planner plugin policy pool portal preview printer probe process profile project proxy publish queue quota reader record region registry relay release render replica report request resolver resource result review router runner sample scanner schema scope search sender server service session shard signal snapshot socket source span stage state status storage stream summary switch syslog table target task tenant thread ticket timer topic trace tracker update upload user value vendor version view volume watcher window worker writer zone`)

var configKeys = []string{"listen_port", "max_connections", "log_level", "cache_ttl", "worker_threads", "region", "bind_address", "timeout", "retry_count", "upstream", "data_dir", "feature_flags", "pool_size", "queue_depth", "compression", "backlog", "keepalive", "read_buffer", "write_buffer", "metrics_path", "health_interval", "shard_count", "replica", "hostname", "locale", "timezone", "max_body_size", "gc_interval", "tls_enabled", "proxy_protocol"}

var levels = []string{"INFO ", "INFO ", "INFO ", "DEBUG", "DEBUG", "WARN ", "ERROR"}

var methods = []string{"GET", "GET", "GET", "POST", "PUT", "DELETE", "PATCH"}

var statuses = []int{200, 200, 200, 200, 201, 204, 301, 304, 400, 404, 409, 500, 503}

var opcodes = []byte{0x48, 0x89, 0x8b, 0xe8, 0x00, 0x00, 0x0f, 0x85, 0xc3, 0x24, 0x44, 0x4c, 0xff, 0x83, 0xc7, 0x74}

var symbolPrefixes = []string{"_ZN4core3fmt", "__libc_", "_ZNSt6vector", "g_", "pthread_", "Py", "_ZTV", "go.", "runtime.", "."}

var sourceLines = []string{
	"func (@ *@) @(ctx context.Context, @ string) error {",
	"\tif err := @.@(ctx, @); err != nil {",
	"\t\treturn fmt.Errorf(\"@: %w\", err)",
	"\t}",
	"}",
	"",
	"\t@ := make(map[string]int, 64)",
	"\tfor _, @ := range @.@ {",
	"// @ returns the @ of the @, or nil when there is none.",
	"def @(self, @, @=None):",
	"    return self.@.@(@)",
	"    if @ is None:",
	"        raise ValueError(\"@ is required\")",
	"import { @ } from \"./@.js\";",
	"const @ = require(\"@\");",
	"export function @(@, @) {",
	"  return @.map((@) => @.@);",
	"public final class @ implements @ {",
	"    private static final Logger @ = LoggerFactory.getLogger(@.class);",
	"#include <@.h>",
	"static int @(struct @ *@, size_t @)",
	"\t@.@ = @.@ + 1",
	"\tlog.Printf(\"@ @ %d @\", @)",
}
