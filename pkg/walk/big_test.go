package walk

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/fetch"
)

// TestBigFileStreamed walks a layer with a 300 MB file that is generated
// on the fly through a pipe (never held in memory): one secret sits in the
// middle, another straddles a chunk border. Both must be seen whole, on
// the right lines, with memory bounded by the chunk pool.
func TestBigFileStreamed(t *testing.T) {
	if testing.Short() {
		t.Skip("300 MB stream")
	}
	const size = 300 << 20
	const chunk = DefaultChunkSize
	mid := "MIDDLE=" + akia + "\n"
	border := "BORDER=" + ghp + "\n"
	line := []byte(strings.Repeat("filler text of a large log file ", 4)[:99] + "\n")

	type want struct {
		secret string
		line   int
	}
	var wants []want
	gen := func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 256<<10)
		var off int64
		lines := 0
		fill := func(to int64) {
			for off < to {
				n := min(int64(len(line)), to-off)
				bw.Write(line[len(line)-int(n):]) // ends with '\n'
				off += n
				lines++
			}
		}
		put := func(s, secret string) {
			wants = append(wants, want{secret, lines + 1})
			bw.WriteString(s)
			off += int64(len(s))
			lines++
		}
		fill(size/2 + 12345)
		put(mid, akia)
		// The secret starts 20 bytes before the border at 200 chunks.
		fill(200*chunk - 20 - int64(len("BORDER=")))
		put(border, ghp)
		fill(size)
		return bw.Flush()
	}

	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		if err := tw.WriteHeader(&tar.Header{Name: "var/log/huge.log", Typeflag: tar.TypeReg, Mode: 0o644, Size: size}); err != nil {
			pw.CloseWithError(err)
			return
		}
		if err := gen(tw); err != nil {
			pw.CloseWithError(err)
			return
		}
		pw.CloseWithError(tw.Close())
	}()
	var once sync.Once
	layer := fetch.NewLayer(0, v1.Hash{}, v1.Hash{}, -1, "", func() (io.ReadCloser, error) {
		var rc io.ReadCloser
		once.Do(func() { rc = pr })
		if rc == nil {
			return nil, io.ErrClosedPipe
		}
		return rc, nil
	})

	var mu sync.Mutex
	found := map[string][]int{}
	var chunks int
	var peak uint64
	res, err := Walk(context.Background(), []fetch.Layer{layer}, Options{Workers: 4}, func(_ context.Context, c *Chunk) error {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range []string{akia, ghp} {
			if i := bytes.Index(c.Data, []byte(s)); i >= 0 {
				found[s] = append(found[s], c.StartLine+bytes.Count(c.Data[:i], []byte{'\n'}))
			}
		}
		if chunks++; chunks%25 == 0 {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
		return nil
	})
	if err != nil || res[0].Err != nil {
		t.Fatalf("walk: %v %v", err, res[0].Err)
	}
	if res[0].Bytes < size {
		t.Fatalf("read %d bytes", res[0].Bytes)
	}
	for _, w := range wants {
		lines := found[w.secret]
		if len(lines) == 0 {
			t.Errorf("%s…: not seen whole in any chunk", w.secret[:4])
		}
		for _, l := range lines {
			if l != w.line {
				t.Errorf("%s…: seen on line %d, want %d", w.secret[:4], l, w.line)
			}
		}
	}
	if peak > 96<<20 {
		t.Errorf("heap in use peaked at %d MiB for a 300 MB file", peak>>20)
	}
	t.Logf("%d chunks, heap peak %d MiB, lines %v", chunks, peak>>20, wants)
}

func TestMaxFileSize(t *testing.T) {
	body := strings.Repeat("0123456789\n", 1000) // 11,000 bytes
	layer := testimage.Tar(testimage.Entry{Name: "a.txt", Body: body}, testimage.Entry{Name: "b.txt.gz", Body: string(gz(t, []byte(body)))})
	opts := archiveOpts()
	opts.MaxFileSize = 5000
	opts.ChunkSize = 4096
	opts.Overlap = 512
	res, got := walkSeen(t, layer, opts)
	if !strings.HasPrefix(body, got["/a.txt"].data[:100]) || !hasWarning(res, "/a.txt", "", "only the first 5000") {
		t.Errorf("warnings %+v", res.FileWarnings)
	}
	var mu sync.Mutex
	end := map[string]int64{}
	_, err := Walk(context.Background(), []fetch.Layer{layerOf(0, layer, layer)}, opts, func(_ context.Context, c *Chunk) error {
		mu.Lock()
		defer mu.Unlock()
		k := c.Path + strings.Join(c.ArchivePath, "!")
		end[k] = max(end[k], c.Offset+int64(len(c.Data)))
		return nil
	})
	if err != nil || end["/a.txt"] != 5000 || end["/b.txt.gzb.txt"] != 5000 {
		t.Errorf("scanned up to %v, want 5000 (err %v)", end, err)
	}
	if _, ok := got["/b.txt.gz!b.txt"]; !ok {
		t.Error("the member of a compressed file is scanned, up to the bound")
	}
}
