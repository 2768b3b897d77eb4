package walk

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/fetch"
)

func sum(b []byte) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(b))}
}

func layerOf(index int, stored, plain []byte) fetch.Layer {
	return fetch.NewLayer(index, sum(stored), sum(plain), int64(len(stored)), "", func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(stored)), nil
	})
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func zst(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// collect runs Walk and gathers each file's content back from the chunks.
func collect(t *testing.T, layers []fetch.Layer, opts Options) ([]Result, map[string]string) {
	t.Helper()
	var mu sync.Mutex
	got := map[string]string{}
	res, err := Walk(context.Background(), layers, opts, func(_ context.Context, c *Chunk) error {
		mu.Lock()
		defer mu.Unlock()
		k := fmt.Sprintf("%d:%s@%d", c.Layer, c.Path, c.Offset)
		got[k] = string(c.Data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return res, got
}

func TestWalkCompressions(t *testing.T) {
	plain := testimage.Tar(testimage.Entry{Name: "app/", Type: tar.TypeDir}, testimage.Entry{Name: "app/a.txt", Body: "hello\n"})
	layers := []fetch.Layer{layerOf(0, plain, plain), layerOf(1, gz(t, plain), plain), layerOf(2, zst(t, plain), plain)}
	res, got := collect(t, layers, Options{Jobs: 2, Workers: 2})
	for i, want := range []string{"none", "gzip", "zstd"} {
		r := res[i]
		if r.Err != nil {
			t.Fatalf("layer %d: %v", i, r.Err)
		}
		if r.Compression != want || r.DiffID != sum(plain) || r.Files != 1 || len(r.Entries) != 2 {
			t.Errorf("layer %d: compression %s diffid %s files %d entries %d", i, r.Compression, r.DiffID, r.Files, len(r.Entries))
		}
		if got[fmt.Sprintf("%d:/app/a.txt@0", i)] != "hello\n" {
			t.Errorf("layer %d content = %q", i, got[fmt.Sprintf("%d:/app/a.txt@0", i)])
		}
	}
}

func TestWalkClassifiesEntries(t *testing.T) {
	plain := testimage.Tar(
		testimage.Entry{Name: "./etc/", Type: tar.TypeDir},
		testimage.Entry{Name: "etc/.wh.passwd"},
		testimage.Entry{Name: "var/cache/.wh..wh..opq"},
		testimage.Entry{Name: "etc/link", Type: tar.TypeSymlink, Linkname: "../secret"},
		testimage.Entry{Name: "etc/hard", Type: tar.TypeLink, Linkname: "etc/real"},
		testimage.Entry{Name: "../../escape.txt", Body: "x"},
		testimage.Entry{Name: "x/.wh..wh.plnk", Type: tar.TypeDir},
	)
	res, _ := collect(t, []fetch.Layer{layerOf(0, plain, plain)}, Options{})
	want := []Entry{
		{Path: "/etc", Kind: Dir},
		{Path: "/etc/.wh.passwd", Kind: Whiteout, Target: "/etc/passwd"},
		{Path: "/var/cache/.wh..wh..opq", Kind: Opaque, Target: "/var/cache"},
		{Path: "/etc/link", Kind: Symlink, Linkname: "../secret"},
		{Path: "/etc/hard", Kind: Hardlink, Linkname: "/etc/real"},
		{Path: "/escape.txt", Kind: Regular, Size: 1},
		{Path: "/x/.wh..wh.plnk", Kind: Other},
	}
	if len(res[0].Entries) != len(want) {
		t.Fatalf("entries = %+v", res[0].Entries)
	}
	for i, w := range want {
		g := res[0].Entries[i]
		g.Mode = 0
		if g != w {
			t.Errorf("entry %d = %+v, want %+v", i, g, w)
		}
	}
	if len(res[0].Warnings) != 1 || !strings.Contains(res[0].Warnings[0], "climbs out") {
		t.Errorf("warnings = %v", res[0].Warnings)
	}
}

func TestChunksOverlapSoBorderSecretsAreWhole(t *testing.T) {
	secret := "ghp_R7tLw9ZcY4bHf6sDg1aEo5uIyT0Qeq8Jk2mV"
	var body strings.Builder
	for body.Len() < 10000 {
		body.WriteString("filler line of text\n")
	}
	// The secret straddles the first 8 KiB chunk border.
	text := body.String()[:8192-20] + "TOKEN=" + secret + "\n" + body.String()
	plain := testimage.Tar(testimage.Entry{Name: "big.txt", Body: text})
	var mu sync.Mutex
	var whole bool
	var lines []int
	_, err := Walk(context.Background(), []fetch.Layer{layerOf(0, plain, plain)}, Options{ChunkSize: 8192, Overlap: 1024, Workers: 3},
		func(_ context.Context, c *Chunk) error {
			mu.Lock()
			defer mu.Unlock()
			if i := strings.Index(string(c.Data), secret); i >= 0 {
				whole = true
				lines = append(lines, c.StartLine+strings.Count(string(c.Data[:i]), "\n"))
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	wantLine := strings.Count(text[:strings.Index(text, secret)], "\n") + 1
	if !whole {
		t.Fatal("no chunk holds the whole secret")
	}
	for _, l := range lines {
		if l != wantLine {
			t.Errorf("secret seen on line %d, want %d", l, wantLine)
		}
	}
}

func TestDigestMismatchIsALayerError(t *testing.T) {
	plain := testimage.Tar(testimage.Entry{Name: "a", Body: "a"})
	l := fetch.NewLayer(0, sum([]byte("something else")), sum(plain), int64(len(plain)), "", func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(plain)), nil
	})
	good := layerOf(1, plain, plain)
	res, _ := collect(t, []fetch.Layer{l, good}, Options{})
	if res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "digest mismatch") {
		t.Errorf("layer 0 err = %v, want a digest mismatch", res[0].Err)
	}
	if res[1].Err != nil {
		t.Errorf("layer 1 err = %v: other layers must still be read", res[1].Err)
	}
}

func TestTruncatedGzipIsALayerError(t *testing.T) {
	plain := testimage.Tar(testimage.Entry{Name: "a.txt", Body: strings.Repeat("abc\n", 5000)})
	z := gz(t, plain)
	z = z[:len(z)/2]
	res, _ := collect(t, []fetch.Layer{layerOf(0, z, plain)}, Options{})
	if res[0].Err == nil {
		t.Fatal("a truncated layer must be an error")
	}
}

func TestMaxEntries(t *testing.T) {
	plain := testimage.Tar(testimage.Entry{Name: "a"}, testimage.Entry{Name: "b"}, testimage.Entry{Name: "c"})
	res, _ := collect(t, []fetch.Layer{layerOf(0, plain, plain)}, Options{MaxEntries: 2})
	if res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "more than 2 entries") || len(res[0].Entries) != 2 {
		t.Errorf("err = %v entries = %d", res[0].Err, len(res[0].Entries))
	}
}

func TestAcceptSkipsContent(t *testing.T) {
	plain := testimage.Tar(testimage.Entry{Name: "bin", Body: "\x7fELF\x00\x00secret"}, testimage.Entry{Name: "txt", Body: "text"})
	res, got := collect(t, []fetch.Layer{layerOf(0, plain, plain)}, Options{Accept: func(_, _ int, e *Entry, head []byte) bool {
		return !bytes.Contains(head, []byte{0})
	}})
	if _, ok := got["0:/bin@0"]; ok || got["0:/txt@0"] != "text" || res[0].Files != 1 {
		t.Errorf("got %v files %d", got, res[0].Files)
	}
	if res[0].Err != nil || res[0].DiffID != sum(plain) {
		t.Errorf("skipping content must still read the whole layer: %v", res[0].Err)
	}
}
