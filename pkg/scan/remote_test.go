package scan_test

import (
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/scan"
)

// TestRegistryFindings: images read from a registry (go-containerregistry's
// in-process one) give the fixtures' findings, layer by layer streamed
// from the registry, with more layers read at once than downloads allowed.
func TestRegistryFindings(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	s := newScanner(t, scan.Options{Jobs: 8, Workers: 2})
	for _, fname := range []string{"lifecycle", "compression", "multiarch", "hardlink-survives"} {
		f, err := testimage.FixtureByName(fname)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := name.ParseReference(host + "/fixtures/" + fname + ":v1")
		if err != nil {
			t.Fatal(err)
		}
		if f.Index != nil {
			err = remote.WriteIndex(ref, f.Index)
		} else {
			err = remote.Write(ref, f.Image)
		}
		if err != nil {
			t.Fatalf("pushing %s: %v", fname, err)
		}
		src := openSource(t, ref.String(), fetch.WithPlatform("all"), fetch.WithJobs(1),
			fetch.WithKeychain(authn.NewMultiKeychain()))
		if src.Kind != fetch.KindRegistry {
			t.Errorf("%s: kind %s", ref, src.Kind)
		}
		for _, img := range src.Images {
			checkReport(t, ref.String(), f, scanImage(t, s, img))
		}
	}
}
