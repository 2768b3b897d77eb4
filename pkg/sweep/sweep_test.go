package sweep

import (
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/store"
)

func TestPatterns(t *testing.T) {
	p, err := NewPatterns([]string{"team-a/*", "!team-a/tmp-*", "base"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{
		"team-a/web": true, "team-a/tmp-1": false, "base": true, "team-b/web": false, "team-a/x/y": false,
	} {
		if got := p.Match(name); got != want {
			t.Errorf("Match(%q) = %v, want %v", name, got, want)
		}
	}
	all, _ := NewPatterns([]string{"v*,latest", "!v0*"})
	for name, want := range map[string]bool{"v1.2": true, "latest": true, "v0.9": false, "dev": false} {
		if got := all.Match(name); got != want {
			t.Errorf("tags Match(%q) = %v, want %v", name, got, want)
		}
	}
	none, _ := NewPatterns(nil)
	if !none.Match("anything/at/all") {
		t.Error("no patterns should select everything")
	}
	if _, err := NewPatterns([]string{"[bad"}); err == nil {
		t.Error("a malformed glob was accepted")
	}
}

// sweptImages are the images of a finished sweep, as its report has them.
func sweptImages(t *testing.T, st store.Store, res *Result) []*report.Image {
	t.Helper()
	r, err := Render(t.Context(), st, RenderOptions{Sweep: res.Sweep, NewIn: res.Sweep})
	if err != nil {
		t.Fatal(err)
	}
	var out []*report.Image
	if err := r.Images(func(im *report.Image) error { out = append(out, im); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// lifecycleRegistry starts an in-memory registry holding the sample
// image of testdata/images/lifecycle under each of refs ("app:1"), and
// returns its host.
func lifecycleRegistry(t *testing.T, refs ...string) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	idx, err := layout.ImageIndexFromPath("../../testdata/images/lifecycle")
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range refs {
		ref, err := name.ParseReference(host+"/"+r, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
	}
	return host
}
