package benchreg

import (
	"archive/tar"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/zricethezav/gitleaks/v8/detect"

	"github.com/layerscan/layerscan/internal/testenv"
)

// files reads a layer's regular files.
func files(t *testing.T, l v1.Layer) map[string]string {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			out[h.Name] = string(b)
		}
	}
}

// The generated tree, served by a real docker-registry, is a registry: the
// catalog lists every repository, tags resolve to the generated digests,
// images read back with their shared base layers, own layers, secrets and
// history, and a blob is served only from a repository it is linked in.
func TestGenerateServedByDockerRegistry(t *testing.T) {
	reg := testenv.StartRegistry(t, testenv.Anonymous())
	if reg == nil {
		return
	}
	const n, perRepo = 23, 8
	g, err := Generate(t.Context(), reg.StorageDir, Options{Images: n, TagsPerRepo: perRepo, SecretEvery: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Images) != n || len(g.Repos) != 3 || len(g.BaseLayers) != 3 {
		t.Fatalf("%d images in %d repositories, %d base layers; want %d in 3, 3", len(g.Images), len(g.Repos), len(g.BaseLayers), n)
	}
	opts := []remote.Option{remote.WithTransport(reg.Transport()), remote.WithContext(t.Context())}
	ref := func(s string) name.Reference {
		r, err := name.ParseReference(reg.Host + "/" + s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	dig := func(repo, d string) name.Digest {
		r, err := name.NewDigest(reg.Host + "/" + repo + "@" + d)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	host, err := name.NewRegistry(reg.Host)
	if err != nil {
		t.Fatal(err)
	}

	repos, err := remote.Catalog(t.Context(), host, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if want := slices.Sorted(slices.Values(g.Repos)); !slices.Equal(repos, want) {
		t.Errorf("catalog %v, want %v", repos, want)
	}
	repo, err := name.NewRepository(reg.Host + "/" + g.Repos[2])
	if err != nil {
		t.Fatal(err)
	}
	tags, err := remote.List(repo, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{TagName(0), TagName(1), TagName(2), TagName(3), TagName(4), TagName(5), TagName(6)}; !slices.Equal(slices.Sorted(slices.Values(tags)), want) {
		t.Errorf("tags of %s: %v, want %v", g.Repos[2], tags, want)
	}

	// Images 0 and 5 (first repository: OCI; own secrets), 9 (second
	// repository: Docker schema 2), 22 (the last, in the third: OCI).
	for _, i := range []int{0, 5, 9, 22} {
		im := g.Images[i]
		desc, err := remote.Head(ref(im.Repo+":"+im.Tag), opts...)
		if err != nil {
			t.Fatalf("image %d: %v", i, err)
		}
		if desc.Digest.String() != im.Digest || desc.MediaType != im.MediaType {
			t.Errorf("image %d: %s:%s resolves to %s %s, want %s %s", i, im.Repo, im.Tag, desc.Digest, desc.MediaType, im.Digest, im.MediaType)
		}
		img, err := remote.Image(ref(im.Repo+":"+im.Tag), opts...)
		if err != nil {
			t.Fatalf("image %d: %v", i, err)
		}
		layers, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		var digests []string
		for _, l := range layers {
			d, err := l.Digest()
			if err != nil {
				t.Fatal(err)
			}
			digests = append(digests, d.String())
		}
		if want := append(slices.Clone(g.BaseLayers), im.Layer); !slices.Equal(digests, want) {
			t.Errorf("image %d: layers %v, want %v", i, digests, want)
		}
		own := files(t, layers[3]) // verifies the blob's digest at EOF
		if got := own["app/.env"]; strings.Contains(got, ImageSecret(i)) != (i%5 == 0) || im.Secret != (i%5 == 0) {
			t.Errorf("image %d: app/.env %q, Secret %v", i, got, im.Secret)
		}
		if !strings.Contains(own["app/build-info.json"], im.Repo) {
			t.Errorf("image %d: build-info %q", i, own["app/build-info.json"])
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.History) != 5 || !cfg.History[3].EmptyLayer || cfg.History[4].CreatedBy != "COPY app/ /app/ # buildkit" || len(cfg.RootFS.DiffIDs) != 4 {
			t.Errorf("image %d: history %+v, %d diff IDs", i, cfg.History, len(cfg.RootFS.DiffIDs))
		}
		cd, err := img.ConfigName()
		if err != nil {
			t.Fatal(err)
		}
		if g.Kind(cd.String()) != KindConfig || g.Kind(im.Layer) != KindLayer || g.Kind(im.Digest) != KindManifest || g.Kind(g.BaseLayers[0]) != KindLayer {
			t.Errorf("image %d: kinds %s %s %s", i, g.Kind(cd.String()), g.Kind(im.Layer), g.Kind(im.Digest))
		}
	}

	// The base secret, from the second shared layer of another repository.
	base, err := remote.Layer(dig(g.Repos[1], g.BaseLayers[1]), opts...)
	if err != nil {
		t.Fatal(err)
	}
	if got := files(t, base)["etc/app/credentials.env"]; !strings.Contains(got, BaseSecret()) {
		t.Errorf("base layer credentials.env = %q", got)
	}

	// Image 0's own layer is linked only in the first repository.
	other, err := remote.Layer(dig(g.Repos[1], g.Images[0].Layer), opts...)
	if err == nil {
		_, err = other.Compressed()
	}
	var terr *transport.Error
	if !errors.As(err, &terr) || terr.StatusCode != http.StatusNotFound {
		t.Errorf("image 0's layer from %s: %v, want 404", g.Repos[1], err)
	}
}

// The same options give the same digests.
func TestGenerateDeterministic(t *testing.T) {
	opts := Options{Images: 7, TagsPerRepo: 3, Workers: 3}
	a, err := Generate(t.Context(), t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(t.Context(), t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Images, b.Images) || !slices.Equal(a.BaseLayers, b.BaseLayers) || a.Bytes != b.Bytes {
		t.Errorf("two runs differ:\n%+v\n%+v", a.Images, b.Images)
	}
	for _, bad := range []Options{{Images: 0}, {Images: MaxImages + 1}, {Images: 1, TagsPerRepo: -1}} {
		if _, err := Generate(t.Context(), t.TempDir(), bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

// The fake tokens are what gitleaks' default rules report as GitHub
// personal access tokens.
func TestSecretsDetectedByGitleaks(t *testing.T) {
	d, err := detect.NewDetectorDefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{BaseSecret(), ImageSecret(0), ImageSecret(99990)} {
		found := d.DetectString("GITHUB_TOKEN=" + s + "\n")
		if len(found) != 1 || found[0].RuleID != "github-pat" || found[0].Secret != s {
			t.Errorf("%s: findings %+v", s, found)
		}
	}
}
