package walk

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/fetch"
)

// fuzzWalk walks one layer made of blob and checks the invariants every
// walk keeps, whatever the bytes: no panic, no hang, entries bounded,
// chunks within their size, paths absolute and clean.
func fuzzWalk(t *testing.T, blob []byte, opts Options) Result {
	opts.ChunkSize, opts.Overlap = 4096, 512
	if opts.MaxEntries == 0 {
		opts.MaxEntries = 1000
	}
	l := layerOf(0, blob, blob) // a diff_id that only matches an uncompressed blob
	l.DiffID = v1.Hash{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var chunks atomic.Int64
	res, err := Walk(ctx, []fetch.Layer{l}, opts, func(_ context.Context, c *Chunk) error {
		if len(c.Data) > opts.ChunkSize+opts.Overlap {
			t.Errorf("chunk of %d bytes", len(c.Data))
		}
		chunks.Add(1)
		return nil
	})
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	r := res[0]
	if len(r.Entries) > opts.MaxEntries {
		t.Fatalf("%d entries over MaxEntries %d", len(r.Entries), opts.MaxEntries)
	}
	for _, e := range r.Entries {
		if !strings.HasPrefix(e.Path, "/") || strings.Contains(e.Path, "/../") || len(e.Path) > DefaultMaxPathLen {
			t.Fatalf("bad entry path %q", e.Path)
		}
	}
	return r
}

// FuzzWalkLayer feeds arbitrary bytes to the layer walker as a layer blob
// (tar, gzip or zstd by magic).
func FuzzWalkLayer(f *testing.F) {
	f.Add(testimage.Tar(testimage.Entry{Name: "a", Body: "x"}, testimage.Entry{Name: "d/", Type: tar.TypeDir},
		testimage.Entry{Name: "d/.wh.a", Body: ""}, testimage.Entry{Name: "l", Linkname: "../../etc", Type: tar.TypeSymlink},
		testimage.Entry{Name: "h", Linkname: "a", Type: tar.TypeLink}))
	f.Add(gz(f, testimage.Tar(testimage.Entry{Name: "x/y/z", Body: strings.Repeat("line\n", 100)})))
	f.Add(zst(f, testimage.Tar(testimage.Entry{Name: "../../abs", Body: "AKIA"})))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0})
	f.Add(testimage.Tar(testimage.Entry{Name: "\xff\xfe/bad", Body: "b"}, testimage.Entry{Name: "a", Body: "1"}, testimage.Entry{Name: "a", Body: "2"})[:700])
	f.Fuzz(func(t *testing.T, blob []byte) {
		fuzzWalk(t, blob, Options{Binaries: BinaryStrings})
	})
}

// FuzzNestedArchive puts arbitrary bytes in a layer file whose name makes
// the walker open it as an archive, three levels deep at most.
func FuzzNestedArchive(f *testing.F) {
	inner := testimage.Tar(testimage.Entry{Name: "cfg/secret.env", Body: "TOKEN=abc\n"})
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("a/b.properties")
	io.WriteString(w, "password=hunter2\n")
	w, _ = zw.Create("inner.tar.gz")
	w.Write(gz(f, inner))
	zw.Close()
	for i, seed := range [][]byte{zb.Bytes(), gz(f, inner), inner, zst(f, inner), gz(f, gz(f, inner)), []byte("PK\x05\x06" + strings.Repeat("\x00", 18))} {
		f.Add(seed, uint8(i))
	}
	names := []string{"x.zip", "x.jar", "x.tar.gz", "x.tar", "x.zst", "x.tgz", "x.bz2", "x.xz"}
	f.Fuzz(func(t *testing.T, content []byte, which uint8) {
		layer := testimage.Tar(testimage.Entry{Name: "app/" + names[int(which)%len(names)], Body: string(content)})
		r := fuzzWalk(t, layer, Options{Archives: ArchiveOptions{MaxDepth: 3, MaxEntrySize: 1 << 20, MaxTotalSize: 4 << 20, Memory: 1 << 20, MaxEntries: 100}})
		if r.Err != nil {
			t.Fatalf("a bad archive inside a file must not fail the layer: %v", r.Err)
		}
	})
}
