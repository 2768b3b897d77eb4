package scan_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/klauspost/compress/gzip"

	"github.com/layerscan/layerscan/internal/testenv"
	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/fingerprint"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/scan"
)

var (
	detOnce sync.Once
	det     *detect.Detector
	detErr  error
)

// detector is one gitleaks detector for the whole test binary: loading
// the rules is the slow part.
func detector(t testing.TB) *detect.Detector {
	t.Helper()
	detOnce.Do(func() { det, detErr = detect.New(detect.Options{}) })
	if detErr != nil {
		t.Fatal(detErr)
	}
	return det
}

// testKey keys the fingerprints of the scanners tests make.
var testKey, _ = fingerprint.ParseKey("layerscan pkg/scan test key")

func newScanner(t testing.TB, opts scan.Options) *scan.Scanner {
	if opts.Key == nil {
		opts.Key = testKey
	}
	return scan.New(detector(t), opts)
}

func repoRoot(testing.TB) string { return testenv.RepoRoot() }

func imagesDir(testing.TB) string { return testenv.ImagesDir() }

func externalDir(t testing.TB) string { return testenv.ExternalImagesDir(t) }

func openSource(t testing.TB, ref string, opts ...fetch.Option) *fetch.Source {
	t.Helper()
	src, err := fetch.Open(context.Background(), ref, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", ref, err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// scanRef opens ref (every platform) and scans each of its images.
func scanRef(t testing.TB, s *scan.Scanner, ref string) []*report.Image {
	t.Helper()
	src := openSource(t, ref, fetch.WithPlatform("all"))
	var out []*report.Image
	for _, img := range src.Images {
		out = append(out, scanImage(t, s, img))
	}
	return out
}

// openLayout writes img as the one image of an OCI layout and opens it
// as layerscan does ("oci:DIR").
func openLayout(t testing.TB, img v1.Image) *fetch.Image {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	src := openSource(t, "oci:"+dir)
	if len(src.Images) != 1 {
		t.Fatalf("%d images in the layout", len(src.Images))
	}
	return src.Images[0]
}

func scanImage(t testing.TB, s *scan.Scanner, img *fetch.Image) *report.Image {
	t.Helper()
	rep, err := s.Image(context.Background(), img)
	if err != nil {
		t.Fatalf("scanning %s: %v", img.Ref, err)
	}
	return rep
}

// jsonOf is the report as layerscan writes it.
func jsonOf(t testing.TB, imgs ...*report.Image) string {
	t.Helper()
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, &report.Report{Schema: report.Schema, Images: imgs}); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// --- building images in memory ---

func gzipOf(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func sha(b []byte) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(b))}
}

func bytesLayer(index int, stored []byte, digest, diffID v1.Hash) fetch.Layer {
	return fetch.NewLayer(index, digest, diffID, int64(len(stored)), "application/vnd.oci.image.layer.v1.tar+gzip",
		func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(stored)), nil })
}

// memImage builds a linux/amd64 image from gzip layers (one per tar) and
// the history's created_by texts (one layer-making step per layer).
func memImage(t testing.TB, createdBy []string, tars ...[]byte) *fetch.Image {
	t.Helper()
	cfg := &v1.ConfigFile{OS: "linux", Architecture: "amd64", RootFS: v1.RootFS{Type: "layers"}}
	img := &fetch.Image{Ref: "memory/test:1", Platform: "linux/amd64", Config: cfg}
	for i, tb := range tars {
		stored := gzipOf(tb)
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, sha(tb))
		img.Layers = append(img.Layers, bytesLayer(i, stored, sha(stored), sha(tb)))
	}
	for _, c := range createdBy {
		cfg.History = append(cfg.History, v1.History{CreatedBy: c})
	}
	return img
}

func envFile(name, value string) string {
	return "# test credential\n" + name + "=" + value + "\n"
}
