package walk

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/fetch"
)

// Every way a Walk ends — done, cancelled midway, a scan error, broken
// layers and archives spooled to disk — leaves no goroutine behind.
func TestWalkLeavesNoGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t)
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("a.properties")
	io.WriteString(w, strings.Repeat("password=x\n", 10000))
	zw.Close()
	big := testimage.Tar(testimage.Entry{Name: "big.txt", Body: strings.Repeat("line\n", 1<<20)}, testimage.Entry{Name: "lib/x.jar", Body: zb.String()})
	broken := gz(t, big)[:1000]
	layers := func() []fetch.Layer {
		return []fetch.Layer{layerOf(0, big, big), layerOf(1, broken, big), layerOf(2, gz(t, big), big), layerOf(3, zst(t, big), big)}
	}
	opts := Options{Jobs: 2, Workers: 2, Archives: ArchiveOptions{MaxDepth: 2, Memory: -1, TempDir: t.TempDir()}}

	if _, err := Walk(context.Background(), layers(), opts, func(context.Context, *Chunk) error { return nil }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int32
	_, err := Walk(ctx, layers(), opts, func(context.Context, *Chunk) error {
		if n.Add(1) == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled walk: %v", err)
	}
	boom := errors.New("boom")
	if _, err := Walk(context.Background(), layers(), opts, func(context.Context, *Chunk) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("scan error: %v", err)
	}
}
