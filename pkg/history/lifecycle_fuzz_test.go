package history

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/walk"
)

// fuzzLayers decodes fuzz input into layers of tar headers. Each op is a
// byte picking the kind, then bytes picking 1-3 path components from a
// small alphabet (so paths collide often), and for links a target.
func fuzzLayers(data []byte) [][]*tar.Header {
	names := []string{"a", "b", "c", "..", ".", ".wh.a", ".wh.b", ".wh..wh..opq"}
	layers := [][]*tar.Header{nil}
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	pathOf := func() string {
		b := next()
		depth := 1 + int(b%3)
		var parts []string
		for i := 0; i < depth; i++ {
			parts = append(parts, names[int(next())%len(names)])
		}
		p := strings.Join(parts, "/")
		if b&0x80 != 0 {
			p = "/" + p
		}
		return p
	}
	for n := 0; len(data) > 0 && n < 64; n++ {
		op := next()
		cur := len(layers) - 1
		switch op % 6 {
		case 0:
			if len(layers) < 8 {
				layers = append(layers, nil)
			}
		case 1, 5:
			layers[cur] = append(layers[cur], &tar.Header{Name: pathOf(), Typeflag: tar.TypeReg, Mode: 0o644})
		case 2:
			layers[cur] = append(layers[cur], &tar.Header{Name: pathOf(), Typeflag: tar.TypeDir, Mode: 0o755})
		case 3:
			layers[cur] = append(layers[cur], &tar.Header{Name: pathOf(), Typeflag: tar.TypeSymlink, Linkname: pathOf(), Mode: 0o777})
		case 4:
			layers[cur] = append(layers[cur], &tar.Header{Name: pathOf(), Typeflag: tar.TypeLink, Linkname: pathOf(), Mode: 0o644})
		}
	}
	return layers
}

type refOcc struct {
	dir        bool
	layer, idx int
}

// referenceApply is a deliberately naive applier: the filesystem is a flat
// map from absolute path to what sits there, and each layer is applied as
// the OCI image spec says: its whiteouts and opaque markers first (they
// only ever hide lower layers), then its entries in archive order, each
// replacing whatever is at its path (a non-directory replacing a
// directory takes the directory's content with it) and turning any
// non-directory on the way to it into a directory.
func referenceApply(layers [][]*tar.Header) map[string]refOcc {
	fs := map[string]refOcc{}
	removeTree := func(p string) {
		prefix := strings.TrimSuffix(p, "/") + "/"
		for k := range fs {
			if k == p || strings.HasPrefix(k, prefix) {
				delete(fs, k)
			}
		}
	}
	for i, hdrs := range layers {
		for _, h := range hdrs {
			p := path.Clean("/" + h.Name)
			base, dir := path.Base(p), path.Dir(p)
			switch {
			case base == ".wh..wh..opq":
				prefix := strings.TrimSuffix(dir, "/") + "/"
				for k := range fs {
					if strings.HasPrefix(k, prefix) {
						delete(fs, k)
					}
				}
			case strings.HasPrefix(base, ".wh..wh."):
			case strings.HasPrefix(base, ".wh."):
				removeTree(path.Join(dir, strings.TrimPrefix(base, ".wh.")))
			}
		}
		for j, h := range hdrs {
			p := path.Clean("/" + h.Name)
			if strings.HasPrefix(path.Base(p), ".wh.") || (p == "/" && h.Typeflag != tar.TypeDir) {
				continue // a whiteout, or something that cannot sit at the root
			}
			// Everything on the way becomes a directory.
			for a := path.Dir(p); ; a = path.Dir(a) {
				if o, ok := fs[a]; ok && !o.dir {
					delete(fs, a)
				}
				if a == "/" {
					break
				}
			}
			isDir := h.Typeflag == tar.TypeDir
			if !isDir {
				removeTree(p)
			}
			fs[p] = refOcc{dir: isDir, layer: i, idx: j}
		}
	}
	return fs
}

func walkLayers(t testing.TB, layers [][]*tar.Header) [][]walk.Entry {
	var fl []fetch.Layer
	for i, hdrs := range layers {
		b := testimage.TarHeaders(hdrs...)
		fl = append(fl, fetch.NewLayer(i, v1.Hash{}, v1.Hash{}, int64(len(b)), "", func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(b)), nil
		}))
	}
	res, err := walk.Walk(context.Background(), fl, walk.Options{Jobs: 2, Workers: 1}, func(context.Context, *walk.Chunk) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]walk.Entry, len(res))
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("layer %d: %v", i, r.Err)
		}
		if len(r.Entries) != len(layers[i]) {
			t.Fatalf("layer %d: walked %d entries of %d", i, len(r.Entries), len(layers[i]))
		}
		out[i] = r.Entries
	}
	return out
}

// checkLifecycle compares the set of non-directory entries the Lifecycle
// calls present with the final filesystem of the reference applier.
func checkLifecycle(t testing.TB, layers [][]*tar.Header) {
	entries := walkLayers(t, layers)
	lc := NewLifecycle(entries)
	var got, want []string
	for i, es := range entries {
		for j, e := range es {
			if e.Kind == walk.Dir || e.Kind == walk.Whiteout || e.Kind == walk.Opaque || e.Kind == walk.Other {
				continue
			}
			if f := lc.Fate(i, j); f.Status == Present {
				got = append(got, fmt.Sprintf("%d/%d %s", i, j, e.Path))
			} else if f.By < i {
				t.Errorf("layer %d entry %d %s: %s by earlier layer %d", i, j, e.Path, f.Status, f.By)
			}
		}
	}
	for p, o := range referenceApply(layers) {
		if !o.dir {
			want = append(want, fmt.Sprintf("%d/%d %s", o.layer, o.idx, p))
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		var desc strings.Builder
		for i, hdrs := range layers {
			fmt.Fprintf(&desc, "layer %d:\n", i)
			for j, h := range hdrs {
				fmt.Fprintf(&desc, "  %d %c %s -> %s\n", j, h.Typeflag, h.Name, h.Linkname)
			}
		}
		t.Fatalf("final filesystem differs\n%sLifecycle present:\n  %s\nreference:\n  %s", desc.String(),
			strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// FuzzLifecycle: for any sequence of layers, the entries the Lifecycle
// says are present are exactly the final filesystem that applying the
// layers in order gives (tar bytes → walk → lifecycle vs a naive applier).
func FuzzLifecycle(f *testing.F) {
	for _, s := range [][]byte{
		{1, 0, 0, 0, 1, 1, 1, 2}, // a; a/b
		{1, 0, 0, 0, 0, 1, 0, 5},
		{2, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 0, 7},
		{1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 1},
		{4, 0, 0, 0, 1, 1, 0, 1, 0, 3, 0, 1, 0, 1},
		{2, 0, 0, 1, 1, 0, 1, 0, 2, 0, 0, 0, 1, 0, 7},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkLifecycle(t, fuzzLayers(data))
	})
}
