package fetch_test

import (
	"context"
	"testing"

	"github.com/layerscan/layerscan/internal/testenv"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/walk"
)

func imagesDir(testing.TB) string { return testenv.ImagesDir() }

func externalDir(t testing.TB) string { return testenv.ExternalImagesDir(t) }

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
func walkImage(t testing.TB, img *fetch.Image) []walk.Result {
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
