package fetch_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/walk"
)

// repoRoot is the repository's top directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// imagesDir is testdata/images, the generated fixtures.
func imagesDir(t testing.TB) string {
	return filepath.Join(repoRoot(t), "testdata", "images")
}

// externalDir is ../shared/external-images next to the repository. A
// missing directory skips the test, or fails it when
// LAYERSCAN_REQUIRE_TOOLS=1.
func externalDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "..", "shared", "external-images")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("LAYERSCAN_REQUIRE_TOOLS") == "1" {
			t.Fatalf("external images: %v (LAYERSCAN_REQUIRE_TOOLS=1)", err)
		}
		t.Skipf("external images not available: %v", err)
	}
	return dir
}

// open opens ref and closes the source when the test ends.
func open(t testing.TB, ref string, opts ...fetch.Option) *fetch.Source {
	t.Helper()
	src, err := fetch.Open(context.Background(), ref, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", ref, err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// onlyImage returns the single image of src.
func onlyImage(t testing.TB, src *fetch.Source) *fetch.Image {
	t.Helper()
	if len(src.Images) != 1 {
		t.Fatalf("%s: %d images, want 1", src.Ref, len(src.Images))
	}
	return src.Images[0]
}

// walkImage reads every layer of img and fails on any layer error; the
// walker itself checks the stored digest and the diff ID it computes
// against those fetch reported.
func walkImage(t testing.TB, img *fetch.Image) []walk.LayerResult {
	t.Helper()
	res, err := walk.Walk(context.Background(), img.Layers, walk.Options{Jobs: 2, Workers: 2},
		func(context.Context, *walk.Chunk) error { return nil })
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Errorf("layer %d: %v", i, r.Err)
		}
	}
	return res
}
