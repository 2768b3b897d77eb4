package benchreg

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"golang.org/x/sync/errgroup"

	"github.com/layerscan/layerscan/internal/testimage"
)

// Bounds of [Options].
const (
	MaxImages      = 10_000_000
	MaxTagsPerRepo = 100_000
)

// Options says what [Generate] writes.
type Options struct {
	// Images is the number of images (one tag each); 1 to MaxImages.
	Images int
	// TagsPerRepo is how many tags each repository holds (the last one may
	// hold fewer); 0 means 50.
	TagsPerRepo int
	// SecretEvery: image i's own layer holds ImageSecret(i) when i is a
	// multiple of SecretEvery; 0 means 10, a negative value never.
	SecretEvery int
	// Workers is how many repositories are written at once; 0 means
	// GOMAXPROCS.
	Workers int
}

// Kind is what a blob is.
type Kind int

// Blob kinds.
const (
	KindUnknown Kind = iota
	KindManifest
	KindConfig
	KindLayer
)

func (k Kind) String() string {
	switch k {
	case KindManifest:
		return "manifest"
	case KindConfig:
		return "config"
	case KindLayer:
		return "layer"
	}
	return "unknown"
}

// Image is one generated image.
type Image struct {
	Repo, Tag string
	// Digest is the manifest's digest ("sha256:…"), what the tag resolves to.
	Digest string
	// MediaType is the manifest's media type (OCI or Docker schema 2).
	MediaType types.MediaType
	// Config and Layer are the digests of the image's config and of its own
	// (last) layer.
	Config, Layer string
	// Secret says whether its own layer holds ImageSecret of its index.
	Secret bool
}

// Registry describes what Generate wrote.
type Registry struct {
	// Repos are the repository names, in the order written.
	Repos []string
	// Images are the images, image i being Images[i].
	Images []Image
	// BaseLayers are the digests of the three layers every image shares,
	// base first; the second holds BaseSecret.
	BaseLayers []string
	// Bytes is the total size of the blobs written.
	Bytes int64

	kinds map[string]Kind
}

// Kind says what the blob with digest d ("sha256:…") is.
func (r *Registry) Kind(d string) Kind { return r.kinds[d] }

// BaseSecret is the fake GitHub token of the shared base layer (file
// etc/app/credentials.env), made for this benchmark.
func BaseSecret() string { return fakeToken("layerscan bench: base layer") }

// ImageSecret is the fake GitHub token in the own layer of image i (file
// app/.env) when Options.SecretEvery selects i.
func ImageSecret(i int) string { return fakeToken(fmt.Sprintf("layerscan bench: image %d", i)) }

// fakeToken is "ghp_" and 36 base62 characters derived from seed: the shape
// gitleaks' github-pat rule looks for, with a random-looking body.
func fakeToken(seed string) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	sum := sha512.Sum512([]byte(seed))
	b := make([]byte, 36)
	for i := range b {
		b[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return "ghp_" + string(b)
}

// epoch is the created time of image 0's config; image i's is i minutes
// later.
var epoch = time.Date(2026, time.November, 1, 0, 0, 0, 0, time.UTC)

// RepoName is the name of repository r: 16 namespaces, so that the catalog
// has nested names.
func RepoName(r int) string { return fmt.Sprintf("team-%02d/app-%05d", r%16, r) }

// TagName is the name of the k-th tag of a repository.
func TagName(k int) string { return fmt.Sprintf("v1.%d", k) }

// Generate writes the registry described by opts under dir (the registry's
// storage root: dir/docker/registry/v2/…), creating what is missing and
// overwriting what is there.
func Generate(ctx context.Context, dir string, opts Options) (*Registry, error) {
	if opts.Images < 1 || opts.Images > MaxImages {
		return nil, fmt.Errorf("benchreg: %d images: want 1 to %d", opts.Images, MaxImages)
	}
	if opts.TagsPerRepo == 0 {
		opts.TagsPerRepo = 50
	}
	if opts.TagsPerRepo < 1 || opts.TagsPerRepo > MaxTagsPerRepo {
		return nil, fmt.Errorf("benchreg: %d tags per repository: want 1 to %d", opts.TagsPerRepo, MaxTagsPerRepo)
	}
	if opts.SecretEvery == 0 {
		opts.SecretEvery = 10
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	w := &writer{root: filepath.Join(dir, "docker", "registry", "v2")}
	reg := &Registry{Images: make([]Image, opts.Images)}
	nrepos := (opts.Images + opts.TagsPerRepo - 1) / opts.TagsPerRepo
	for r := range nrepos {
		reg.Repos = append(reg.Repos, RepoName(r))
	}

	var base []layer
	for _, entries := range baseLayers() {
		l, err := newLayer(new(gzipper), entries)
		if err != nil {
			return nil, err
		}
		if err := w.blob(l.digest, l.gz); err != nil {
			return nil, err
		}
		reg.BaseLayers = append(reg.BaseLayers, l.digest)
		reg.Bytes += int64(len(l.gz))
		base = append(base, l)
	}

	repos := make(chan int)
	bytesPerRepo := make([]int64, nrepos)
	g, gctx := errgroup.WithContext(ctx)
	for range opts.Workers {
		g.Go(func() error {
			z := new(gzipper)
			for r := range repos {
				n, err := w.repo(z, reg, base, opts, r)
				if err != nil {
					return err
				}
				bytesPerRepo[r] = n
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(repos)
		for r := range nrepos {
			select {
			case repos <- r:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}

	reg.kinds = make(map[string]Kind, 3*len(reg.Images)+len(base))
	for _, d := range reg.BaseLayers {
		reg.kinds[d] = KindLayer
	}
	for _, im := range reg.Images {
		reg.kinds[im.Digest] = KindManifest
		reg.kinds[im.Config] = KindConfig
		reg.kinds[im.Layer] = KindLayer
	}
	for _, n := range bytesPerRepo {
		reg.Bytes += n
	}
	return reg, nil
}

// layer is a gzipped tar layer.
type layer struct {
	gz             []byte
	digest, diffID string
}

// gzipper compresses layers, reusing one gzip writer.
type gzipper struct {
	buf bytes.Buffer
	zw  *gzip.Writer
}

func (z *gzipper) gzip(b []byte) ([]byte, error) {
	z.buf.Reset()
	if z.zw == nil {
		zw, err := gzip.NewWriterLevel(&z.buf, gzip.DefaultCompression)
		if err != nil {
			return nil, fmt.Errorf("benchreg: gzip: %w", err)
		}
		z.zw = zw
	} else {
		z.zw.Reset(&z.buf)
	}
	if _, err := z.zw.Write(b); err != nil {
		return nil, fmt.Errorf("benchreg: gzip: %w", err)
	}
	if err := z.zw.Close(); err != nil {
		return nil, fmt.Errorf("benchreg: gzip: %w", err)
	}
	return bytes.Clone(z.buf.Bytes()), nil
}

func newLayer(z *gzipper, entries []testimage.Entry) (layer, error) {
	tarball := testimage.Tar(entries...)
	gz, err := z.gzip(tarball)
	if err != nil {
		return layer{}, err
	}
	return layer{gz: gz, digest: digestOf(gz), diffID: digestOf(tarball)}, nil
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// text is n bytes of log-like lines named after name, deterministic.
func text(name string, n int) string {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		sum := sha256.Sum256(fmt.Appendf(nil, "%s %d", name, i))
		fmt.Fprintf(&b, "2026-11-%02dT%02d:%02d:%02dZ INFO %s: worker %d handled request %x in %d ms\n",
			1+i%28, i%24, i%60, (i*7)%60, name, i%7, sum[:8], int(sum[8])+int(sum[9]))
	}
	return b.String()[:n]
}

func dir(name string) testimage.Entry { return testimage.Entry{Name: name, Type: tar.TypeDir} }
func file(name, body string) testimage.Entry {
	return testimage.Entry{Name: name, Body: body}
}

// baseLayers are the entries of the three shared layers.
func baseLayers() [][]testimage.Entry {
	osLayer := []testimage.Entry{dir("etc/"), dir("usr/"), dir("usr/lib/"), dir("usr/lib/bench/"),
		file("etc/os-release", "PRETTY_NAME=\"layerscan bench base\"\nID=bench\nVERSION_ID=1\n"),
		file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n")}
	for i := range 16 {
		name := fmt.Sprintf("usr/lib/bench/lib-%02d.txt", i)
		osLayer = append(osLayer, file(name, text(name, 4096)))
	}
	creds := []testimage.Entry{dir("etc/"), dir("etc/app/"),
		file("etc/app/app.conf", "listen = :8080\nlog_level = info\n"),
		file("etc/app/credentials.env", "# fake credential made for the layerscan sweep benchmark\nGITHUB_TOKEN="+BaseSecret()+"\n")}
	docs := []testimage.Entry{dir("usr/"), dir("usr/share/"), dir("usr/share/doc/"), dir("usr/share/doc/bench/")}
	for i := range 16 {
		name := fmt.Sprintf("usr/share/doc/bench/README-%02d", i)
		docs = append(docs, file(name, text(name, 4096)))
	}
	return [][]testimage.Entry{osLayer, creds, docs}
}

// baseHistory is the history of the base layers, then an empty step.
var baseHistory = []string{
	"/bin/sh -c #(nop) ADD file:5f2a0c… in / ",
	"COPY etc/app/ /etc/app/ # buildkit",
	"RUN /bin/sh -c install-docs # buildkit",
	"ENV APP_HOME=/app",
}

// writer writes the storage tree under root.
type writer struct{ root string }

func (w *writer) write(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("benchreg: %w", err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("benchreg: %w", err)
	}
	return nil
}

func hexOf(d string) string { return d[len("sha256:"):] }

// blob writes data under blobs/sha256/<2 hex>/<hex>/data.
func (w *writer) blob(d string, data []byte) error {
	h := hexOf(d)
	return w.write(filepath.Join(w.root, "blobs", "sha256", h[:2], h, "data"), data)
}

// link writes a link file (the digest, no newline) at the path under the
// repository.
func (w *writer) link(repo string, d string, elem ...string) error {
	p := filepath.Join(append([]string{w.root, "repositories", filepath.FromSlash(repo)}, elem...)...)
	return w.write(p, []byte(d))
}

func (w *writer) layerLink(repo, d string) error {
	return w.link(repo, d, "_layers", "sha256", hexOf(d), "link")
}

// repo writes repository r and its images; it returns the bytes of the
// blobs written.
func (w *writer) repo(z *gzipper, reg *Registry, base []layer, opts Options, r int) (int64, error) {
	name := reg.Repos[r]
	for _, l := range base {
		if err := w.layerLink(name, l.digest); err != nil {
			return 0, err
		}
	}
	oci := r%2 == 0
	var n int64
	for k := range opts.TagsPerRepo {
		i := r*opts.TagsPerRepo + k
		if i >= len(reg.Images) {
			break
		}
		im, blobs, err := w.image(z, name, TagName(k), i, base, oci, opts.SecretEvery > 0 && i%opts.SecretEvery == 0)
		if err != nil {
			return 0, err
		}
		reg.Images[i] = im
		n += blobs
	}
	return n, nil
}

// image writes image i as repo:tag.
func (w *writer) image(z *gzipper, repo, tag string, i int, base []layer, oci, secret bool) (Image, int64, error) {
	entries := []testimage.Entry{dir("app/"),
		file("app/build-info.json", fmt.Sprintf("{\"repo\":%q,\"tag\":%q,\"image\":%d}\n", repo, tag, i)),
		file("app/VERSION", fmt.Sprintf("1.%d.%d\n", i/1000, i%1000)),
		file("app/config.yaml", text(fmt.Sprintf("%s:%s config", repo, tag), 512))}
	if secret {
		entries = append(entries, file("app/.env", "# fake credential made for the layerscan sweep benchmark\nGITHUB_TOKEN="+ImageSecret(i)+"\n"))
	}
	own, err := newLayer(z, entries)
	if err != nil {
		return Image{}, 0, err
	}
	layers := append(append([]layer(nil), base...), own)

	created := epoch.Add(time.Duration(i) * time.Minute)
	cfg := v1.ConfigFile{
		Architecture: "amd64",
		OS:           "linux",
		Created:      v1.Time{Time: created},
		Config: v1.Config{
			Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "APP_HOME=/app"},
			Cmd: []string{"/app/run"},
		},
		RootFS: v1.RootFS{Type: "layers"},
	}
	for j, cb := range append(append([]string(nil), baseHistory...), "COPY app/ /app/ # buildkit") {
		cfg.History = append(cfg.History, v1.History{
			Created:    v1.Time{Time: created.Add(time.Duration(j-len(baseHistory)) * time.Second)},
			CreatedBy:  cb,
			EmptyLayer: j == len(baseHistory)-1,
		})
	}
	for _, l := range layers {
		h, err := v1.NewHash(l.diffID)
		if err != nil {
			return Image{}, 0, fmt.Errorf("benchreg: %w", err)
		}
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, h)
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return Image{}, 0, fmt.Errorf("benchreg: config: %w", err)
	}

	mt, cfgMT, layerMT := types.OCIManifestSchema1, types.OCIConfigJSON, types.OCILayer
	if !oci {
		mt, cfgMT, layerMT = types.DockerManifestSchema2, types.DockerConfigJSON, types.DockerLayer
	}
	man := v1.Manifest{SchemaVersion: 2, MediaType: mt, Config: descriptor(cfgMT, cfgJSON, digestOf(cfgJSON))}
	for _, l := range layers {
		man.Layers = append(man.Layers, descriptor(layerMT, l.gz, l.digest))
	}
	manJSON, err := json.Marshal(man)
	if err != nil {
		return Image{}, 0, fmt.Errorf("benchreg: manifest: %w", err)
	}
	im := Image{Repo: repo, Tag: tag, Digest: digestOf(manJSON), MediaType: mt,
		Config: digestOf(cfgJSON), Layer: own.digest, Secret: secret}

	for _, b := range []struct {
		d    string
		data []byte
	}{{own.digest, own.gz}, {im.Config, cfgJSON}, {im.Digest, manJSON}} {
		if err := w.blob(b.d, b.data); err != nil {
			return Image{}, 0, err
		}
	}
	// What a push leaves: every blob of the manifest linked in _layers
	// (the base layers once per repository, by repo), the manifest's
	// revision, the tag's current link and its index entry.
	err = errors.Join(
		w.layerLink(repo, own.digest),
		w.layerLink(repo, im.Config),
		w.link(repo, im.Digest, "_manifests", "revisions", "sha256", hexOf(im.Digest), "link"),
		w.link(repo, im.Digest, "_manifests", "tags", tag, "current", "link"),
		w.link(repo, im.Digest, "_manifests", "tags", tag, "index", "sha256", hexOf(im.Digest), "link"),
	)
	if err != nil {
		return Image{}, 0, err
	}
	return im, int64(len(own.gz) + len(cfgJSON) + len(manJSON)), nil
}

func descriptor(mt types.MediaType, data []byte, d string) v1.Descriptor {
	h, _ := v1.NewHash(d) // d is digestOf's output, always valid
	return v1.Descriptor{MediaType: mt, Size: int64(len(data)), Digest: h}
}
