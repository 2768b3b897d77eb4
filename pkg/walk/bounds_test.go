package walk

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/fetch"
)

// zeroReader yields zeros forever.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// bombTar writes a tar holding one file of size zero bytes, compressed.
func bombTar(tb testing.TB, comp string, size int64) []byte {
	tb.Helper()
	var buf bytes.Buffer
	var zw io.WriteCloser
	switch comp {
	case "gzip":
		zw, _ = gzip.NewWriterLevel(&buf, gzip.BestCompression)
	case "zstd":
		w, err := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithWindowSize(1<<20))
		if err != nil {
			tb.Fatal(err)
		}
		zw = w
	}
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "before.env", Typeflag: tar.TypeReg, Size: 12, Mode: 0o644})
	io.WriteString(tw, "TOKEN=first\n")
	tw.WriteHeader(&tar.Header{Name: "zeros.bin", Typeflag: tar.TypeReg, Size: size, Mode: 0o644})
	if _, err := io.CopyN(tw, zeroReader{}, size); err != nil {
		tb.Fatal(err)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

var (
	bombsOnce sync.Once
	bombs     map[string][]byte
)

// bombLayers are a gzip and a zstd layer of 512 MiB of zeros each (a few
// hundred KiB stored).
func bombLayers(tb testing.TB) map[string][]byte {
	bombsOnce.Do(func() {
		bombs = map[string][]byte{"gzip": bombTar(tb, "gzip", 512<<20), "zstd": bombTar(tb, "zstd", 512<<20)}
	})
	return bombs
}

func storedLayer(i int, b []byte) fetch.Layer {
	l := layerOf(i, b, nil)
	return fetch.NewLayer(i, l.Digest, fetch.Layer{}.DiffID, int64(len(b)), "", func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	})
}

func TestLayerBombs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 1 GiB of bombs")
	}
	good := testimage.Tar(testimage.Entry{Name: "ok.env", Body: "TOKEN=second\n"})
	for comp, b := range bombLayers(t) {
		t.Run(comp, func(t *testing.T) {
			res, got := collect(t, []fetch.Layer{storedLayer(0, b), layerOf(1, good, good)}, Options{Binaries: BinarySkip})
			err := res[0].Err
			if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "--max-layer-ratio") {
				t.Fatalf("bomb layer: err %v, want the --max-layer-ratio bound", err)
			}
			if res[0].Bytes > 2*layerRatioFloor {
				t.Errorf("read %d bytes of the bomb, want about %d", res[0].Bytes, layerRatioFloor)
			}
			if got["0:/before.env@0"] == "" || got["1:/ok.env@0"] == "" {
				t.Errorf("the file before the bomb and the other layer must be scanned: %v", keys(got))
			}
			if res[1].Err != nil {
				t.Errorf("layer 1: %v", res[1].Err)
			}
		})
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestLayerSizeBounds(t *testing.T) {
	big := testimage.Tar(testimage.Entry{Name: "a", Body: strings.Repeat("x", 200<<10)})
	t.Run("max-layer-size", func(t *testing.T) {
		res, _ := collect(t, []fetch.Layer{layerOf(0, big, big)}, Options{Limits: Limits{MaxLayerSize: 100 << 10}})
		if err := res[0].Err; !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "--max-layer-size") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("max-image-size", func(t *testing.T) {
		res, _ := collect(t, []fetch.Layer{layerOf(0, big, big), layerOf(1, big, big), layerOf(2, big, big)},
			Options{Jobs: 1, Limits: Limits{MaxImageSize: 500 << 10}})
		if res[0].Err != nil || res[1].Err != nil {
			t.Fatalf("layers under the image bound failed: %v %v", res[0].Err, res[1].Err)
		}
		if err := res[2].Err; !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "--max-image-size") {
			t.Fatalf("layer 2: err %v", err)
		}
	})
	t.Run("under the bounds", func(t *testing.T) {
		res, _ := collect(t, []fetch.Layer{layerOf(0, big, big)}, Options{Limits: Limits{MaxLayerSize: 1 << 20}})
		if res[0].Err != nil {
			t.Fatal(res[0].Err)
		}
	})
}

func TestPathBounds(t *testing.T) {
	deep := strings.Repeat("d/", 300) + "f"
	long := strings.Repeat("n", 5000)
	b := testimage.Tar(testimage.Entry{Name: deep, Body: "x", Format: tar.FormatPAX}, testimage.Entry{Name: long, Body: "x", Format: tar.FormatPAX}, testimage.Entry{Name: "ok", Body: "x", Format: tar.FormatPAX})
	res, _ := collect(t, []fetch.Layer{layerOf(0, b, b)}, Options{})
	r := res[0]
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if len(r.Entries) != 3 {
		t.Fatalf("%d entries", len(r.Entries))
	}
	if d := strings.Count(r.Entries[0].Path, "/"); d != DefaultMaxPathDepth {
		t.Errorf("deep path recorded %d deep, want %d", d, DefaultMaxPathDepth)
	}
	if n := len(r.Entries[1].Path); n != DefaultMaxPathLen {
		t.Errorf("long path recorded %d bytes, want %d", n, DefaultMaxPathLen)
	}
	w := strings.Join(r.Warnings, "\n")
	for _, want := range []string{"--max-path-depth", "--max-path-len", "entry 0", "entry 1"} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings do not say %q:\n%s", want, w)
		}
	}
	res, _ = collect(t, []fetch.Layer{layerOf(0, b, b)}, Options{Limits: Limits{MaxPathDepth: 3, MaxPathLen: 100}})
	if p := res[0].Entries[0].Path; !strings.HasPrefix(p, "/d/d/d~#") || len(p) != len("/d/d/d~#")+16 {
		t.Errorf("depth 3: %q", p)
	}
}

func TestMaxEntriesBound(t *testing.T) {
	var es []testimage.Entry
	for i := range 50 {
		es = append(es, testimage.Entry{Name: "f" + strconv.Itoa(i), Body: "x"})
	}
	b := testimage.Tar(es...)
	res, _ := collect(t, []fetch.Layer{layerOf(0, b, b)}, Options{MaxEntries: 10})
	if err := res[0].Err; err == nil || !strings.Contains(err.Error(), "--max-entries") || len(res[0].Entries) != 10 {
		t.Fatalf("err %v, %d entries", err, len(res[0].Entries))
	}
}

// A file that is one 40 MiB line reaches the detector in chunks of at
// most ChunkSize+Overlap bytes: line length never sets memory use.
func TestLongLineIsChunked(t *testing.T) {
	line := bytes.Repeat([]byte("A"), 40<<20)
	b := testimage.Tar(testimage.Entry{Name: "one-line.txt", Body: string(line)})
	var mu sync.Mutex
	largest, total := 0, 0
	_, err := Walk(context.Background(), []fetch.Layer{layerOf(0, b, b)}, Options{}, func(_ context.Context, c *Chunk) error {
		mu.Lock()
		largest = max(largest, len(c.Data))
		total += len(c.Data)
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if largest > DefaultChunkSize+DefaultOverlap {
		t.Errorf("a chunk of %d bytes", largest)
	}
	if total < len(line) {
		t.Errorf("scanned %d bytes of %d", total, len(line))
	}
}

// peakRSS is the process's peak resident set (VmHWM), in bytes.
func peakRSS(tb testing.TB) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	tb.Skip("no VmHWM")
	return 0
}

// BenchmarkBomb walks a gzip and a zstd bomb (512 MiB of zeros each), a
// nested zip-free archive bomb and a 40 MiB single-line file with the
// default options, and fails if the process's peak RSS passes 256 MB.
func BenchmarkBomb(b *testing.B) {
	layers := bombLayers(b)
	var nested bytes.Buffer
	tw := tar.NewWriter(&nested)
	gzBomb := bombTar(b, "gzip", 256<<20)
	tw.WriteHeader(&tar.Header{Name: "app/bomb.tar.gz", Typeflag: tar.TypeReg, Size: int64(len(gzBomb)), Mode: 0o644})
	tw.Write(gzBomb)
	tw.Close()
	line := testimage.Tar(testimage.Entry{Name: "line.txt", Body: strings.Repeat("B", 40<<20)})
	b.ResetTimer()
	for range b.N {
		ls := []fetch.Layer{storedLayer(0, layers["gzip"]), storedLayer(1, layers["zstd"]),
			layerOf(2, nested.Bytes(), nested.Bytes()), layerOf(3, line, line)}
		_, err := Walk(context.Background(), ls, Options{Archives: ArchiveOptions{MaxDepth: DefaultArchiveDepth}}, func(context.Context, *Chunk) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
	rss := peakRSS(b)
	b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
	if rss > 256<<20 {
		b.Fatalf("peak RSS %d MiB, over 256 MB", rss>>20)
	}
}

// TestPathBytesBounded: a layer of many long names stops at the path-bytes
// bound, naming it; the image bound catches the same layer listed several
// times; a layer within both is read.
func TestPathBytesBounded(t *testing.T) {
	var entries []testimage.Entry
	for i := range 400 {
		entries = append(entries, testimage.Entry{Name: fmt.Sprintf("d/%04d-%s", i, strings.Repeat("n", 2000)), Body: "x"})
	}
	long := testimage.Tar(entries...)
	res, _ := collect(t, []fetch.Layer{layerOf(0, long, long)}, Options{Limits: Limits{MaxPathBytes: 256 << 10}})
	if res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "--max-path-bytes") || len(res[0].Entries) > 130 {
		t.Errorf("layer: err %v, %d entries kept", res[0].Err, len(res[0].Entries))
	}
	layers := []fetch.Layer{layerOf(0, long, long), layerOf(1, long, long), layerOf(2, long, long), layerOf(3, long, long)}
	res, _ = collect(t, layers, Options{Jobs: 1, Limits: Limits{MaxPathBytes: 1 << 20, MaxImagePathBytes: 2 << 20}})
	failed := 0
	for _, r := range res {
		if r.Err != nil && strings.Contains(r.Err.Error(), "--max-image-path-bytes") {
			failed++
		}
	}
	if failed == 0 || res[0].Err != nil {
		t.Errorf("image bound: %d layers stopped, first layer err %v", failed, res[0].Err)
	}
	res, _ = collect(t, []fetch.Layer{layerOf(0, long, long)}, Options{})
	if res[0].Err != nil || len(res[0].Entries) != 400 {
		t.Errorf("defaults: err %v, %d entries", res[0].Err, len(res[0].Entries))
	}
}
