package sweep_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/layerscan/layerscan/pkg/scan"
	"github.com/layerscan/layerscan/pkg/store/sqlite"
	"github.com/layerscan/layerscan/pkg/sweep"
)

// Sweep a registry into a SQLite store: every repository and tag, every
// unique layer scanned once. A second sweep takes every layer from the
// store.
func ExampleRun() {
	ctx := context.Background()
	// A registry in this process, holding one image under two tags.
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	idx, err := layout.ImageIndexFromPath("../../testdata/images/lifecycle")
	if err != nil {
		log.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		log.Fatal(err)
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		log.Fatal(err)
	}
	for _, tag := range []string{"app:1", "app:2"} {
		ref, _ := name.ParseReference(host+"/"+tag, name.Insecure)
		if err := remote.Write(ref, img); err != nil {
			log.Fatal(err)
		}
	}

	dir, _ := os.MkdirTemp("", "sweep-example")
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "layerscan.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	p, err := scan.NewPipeline(scan.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	for range 2 {
		res, err := sweep.Run(ctx, sweep.Options{Registry: host, Insecure: true, Store: st,
			Scanner: p.Scanner(), Ruleset: p.Ruleset()})
		if err != nil {
			log.Fatal(err)
		}
		s := res.Stats
		fmt.Printf("%d images, %d layers scanned, %d from the store, %d findings\n",
			s.Images, s.LayersScanned, s.LayersCached, s.Findings)
	}
	// Output:
	// 2 images, 4 layers scanned, 0 from the store, 12 findings
	// 2 images, 0 layers scanned, 4 from the store, 12 findings
}
