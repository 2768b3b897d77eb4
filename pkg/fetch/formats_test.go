package fetch_test

import (
	"context"
	"errors"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/fetch"
)

// wantImage is what a fixture image looks like, from the in-memory copy.
type wantImage struct {
	platform       string
	digest, config v1.Hash
	layers         []wantLayer
}

type wantLayer struct {
	digest, diffID v1.Hash
	size           int64
	mediaType      types.MediaType
}

func describe(t testing.TB, img v1.Image) wantImage {
	t.Helper()
	var w wantImage
	var err error
	if w.digest, err = img.Digest(); err != nil {
		t.Fatal(err)
	}
	if w.config, err = img.ConfigName(); err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	w.platform = (&v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}).String()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		var wl wantLayer
		if wl.digest, err = l.Digest(); err != nil {
			t.Fatal(err)
		}
		if wl.diffID, err = l.DiffID(); err != nil {
			t.Fatal(err)
		}
		if wl.size, err = l.Size(); err != nil {
			t.Fatal(err)
		}
		if wl.mediaType, err = l.MediaType(); err != nil {
			t.Fatal(err)
		}
		w.layers = append(w.layers, wl)
	}
	return w
}

// fixtureImages is the fixture's images by platform.
func fixtureImages(t testing.TB, f testimage.Fixture) map[string]wantImage {
	t.Helper()
	out := map[string]wantImage{}
	if f.Image != nil {
		w := describe(t, f.Image)
		out[w.platform] = w
		return out
	}
	im, err := f.Index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range im.Manifests {
		img, err := f.Index.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		w := describe(t, img)
		out[w.platform] = w
	}
	return out
}

// fixtureRefs lists the refs of every format the fixture ships in.
func fixtureRefs(t testing.TB, f testimage.Fixture) map[fetch.Kind]string {
	dir := imagesDir(t)
	refs := map[fetch.Kind]string{fetch.KindOCILayout: filepath.Join(dir, f.Name)}
	if f.DockerArchive {
		refs[fetch.KindDockerArchive] = filepath.Join(dir, f.Name+".docker.tar")
	}
	if f.OCIArchive {
		refs[fetch.KindOCIArchive] = filepath.Join(dir, f.Name+".oci.tar")
	}
	return refs
}

// TestFixturesInEveryFormat opens every fixture from each file it ships
// in: the layers (count, digests, diff IDs, sizes), the platform and the
// config must be the same everywhere and the same as the generator's.
func TestFixturesInEveryFormat(t *testing.T) {
	fixtures, err := testimage.Fixtures()
	if err != nil {
		t.Fatal(err)
	}
	formats := 0
	for _, f := range fixtures {
		t.Run(f.Name, func(t *testing.T) {
			want := fixtureImages(t, f)
			for kind, ref := range fixtureRefs(t, f) {
				formats++
				src := open(t, ref, fetch.WithPlatform("all"))
				if src.Kind != kind {
					t.Errorf("%s: kind %s, want %s", ref, src.Kind, kind)
				}
				if len(src.Images) != len(want) {
					t.Fatalf("%s: %d images, want %d", ref, len(src.Images), len(want))
				}
				for _, img := range src.Images {
					w, ok := want[img.Platform]
					if !ok {
						t.Fatalf("%s: image with platform %q, want one of %v", ref, img.Platform, keys(want))
					}
					checkImage(t, ref, kind, img, w)
					if kind == fetch.KindDockerArchive && img.Ref != testimage.FixtureRef(f.Name) {
						t.Errorf("%s: ref %q, want the RepoTag %q", ref, img.Ref, testimage.FixtureRef(f.Name))
					}
				}
			}
		})
	}
	if formats != 14 {
		t.Errorf("checked %d fixture files, want 14 (see testdata/images/README.md)", formats)
	}
}

func checkImage(t *testing.T, ref string, kind fetch.Kind, img *fetch.Image, w wantImage) {
	t.Helper()
	if img.ConfigDigest != w.config {
		t.Errorf("%s: config digest %s, want %s", ref, img.ConfigDigest, w.config)
	}
	if img.Config == nil || len(img.RawConfig) == 0 {
		t.Errorf("%s: no config", ref)
	}
	switch kind {
	case fetch.KindDockerArchive:
		// docker save keeps no manifest; the Docker 25 layout's index.json
		// would give one, tarball.Write's output has none.
		if img.Digest != (v1.Hash{}) && img.Digest != w.digest {
			t.Errorf("%s: manifest digest %s, want %s or none", ref, img.Digest, w.digest)
		}
	default:
		if img.Digest != w.digest {
			t.Errorf("%s: manifest digest %s, want %s", ref, img.Digest, w.digest)
		}
	}
	if len(img.Layers) != len(w.layers) {
		t.Fatalf("%s: %d layers, want %d", ref, len(img.Layers), len(w.layers))
	}
	for i, l := range img.Layers {
		wl := w.layers[i]
		if l.Index != i {
			t.Errorf("%s: layer %d has index %d", ref, i, l.Index)
		}
		if l.DiffID != wl.diffID {
			t.Errorf("%s: layer %d diff_id %s, want %s", ref, i, l.DiffID, wl.diffID)
		}
		if l.Size != wl.size {
			t.Errorf("%s: layer %d size %d, want %d", ref, i, l.Size, wl.size)
		}
		// An archive written by docker save names layers by file, not by
		// digest: the digest is then learned by reading the layer.
		if l.Digest != wl.digest && !(kind == fetch.KindDockerArchive && l.Digest == (v1.Hash{})) {
			t.Errorf("%s: layer %d digest %s, want %s", ref, i, l.Digest, wl.digest)
		}
		if kind != fetch.KindDockerArchive && l.MediaType != wl.mediaType {
			t.Errorf("%s: layer %d media type %s, want %s", ref, i, l.MediaType, wl.mediaType)
		}
	}
	for i, r := range walkImage(t, img) {
		if r.Digest != w.layers[i].digest || r.DiffID != w.layers[i].diffID {
			t.Errorf("%s: layer %d read as digest %s diff_id %s, want %s %s", ref, i, r.Digest, r.DiffID,
				w.layers[i].digest, w.layers[i].diffID)
		}
		if r.StoredBytes != w.layers[i].size {
			t.Errorf("%s: layer %d: read %d stored bytes, want %d", ref, i, r.StoredBytes, w.layers[i].size)
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestMultiarchPlatformSelection(t *testing.T) {
	f, err := testimage.FixtureByName("multiarch")
	if err != nil {
		t.Fatal(err)
	}
	want := fixtureImages(t, f)
	dir := imagesDir(t)
	for _, ref := range []string{
		filepath.Join(dir, "multiarch"),
		"oci:" + filepath.Join(dir, "multiarch") + ":latest",
		filepath.Join(dir, "multiarch.oci.tar"),
	} {
		t.Run(filepath.Base(ref), func(t *testing.T) {
			for _, tt := range []struct {
				opts []fetch.Option
				want []string
			}{
				{nil, []string{"linux/amd64"}},
				{[]fetch.Option{fetch.WithPlatform("linux/amd64")}, []string{"linux/amd64"}},
				{[]fetch.Option{fetch.WithPlatform("linux/arm64/v8")}, []string{"linux/arm64/v8"}},
				{[]fetch.Option{fetch.WithPlatform("linux/arm64")}, []string{"linux/arm64/v8"}},
				{[]fetch.Option{fetch.WithPlatform("all")}, []string{"linux/amd64", "linux/arm64/v8"}},
			} {
				src := open(t, ref, tt.opts...)
				var got []string
				for _, img := range src.Images {
					got = append(got, img.Platform)
					// The image picked is the right one, not just labelled so.
					if w := want[img.Platform]; img.ConfigDigest != w.config || len(img.Layers) != 1 ||
						img.Layers[0].DiffID != w.layers[0].diffID {
						t.Errorf("%v: %s image has config %s, want %s", tt.want, img.Platform, img.ConfigDigest, w.config)
					}
				}
				sort.Strings(got)
				if strings.Join(got, " ") != strings.Join(tt.want, " ") {
					t.Errorf("platforms %v, want %v", got, tt.want)
				}
			}

			_, err := fetch.Open(context.Background(), ref, fetch.WithPlatform("linux/s390x"))
			if !errors.Is(err, fetch.ErrNoPlatform) {
				t.Fatalf("linux/s390x: %v, want ErrNoPlatform", err)
			}
			for _, s := range []string{"linux/s390x", "linux/amd64", "linux/arm64/v8"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %s", err, s)
				}
			}
		})
	}
}

// A single-platform image is taken whatever platform is asked for: there
// is nothing to choose from.
func TestSinglePlatformImageIgnoresPlatform(t *testing.T) {
	ref := filepath.Join(imagesDir(t), "lifecycle.oci.tar")
	for _, p := range []string{"linux/arm64", "linux/s390x", "all"} {
		img := onlyImage(t, open(t, ref, fetch.WithPlatform(p)))
		if img.Platform != "linux/amd64" {
			t.Errorf("%s: platform %q", p, img.Platform)
		}
	}
}
