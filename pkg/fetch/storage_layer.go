package fetch

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"syscall"

	"github.com/klauspost/compress/gzip"
	"github.com/vbatts/tar-split/tar/asm"
	"github.com/vbatts/tar-split/tar/storage"
)

// Bounds on a layer's tar-split metadata.
const (
	// maxTarSplitLine bounds one JSON record (a raw tar header segment,
	// PAX records included, in base64).
	maxTarSplitLine = 16 << 20
	// maxTarSplitEntries bounds the records of one layer: about two per
	// file, well above the walker's own bound on a layer's entries.
	maxTarSplitEntries = 4000000
)

// storageLayer is one layer of a containers-storage store. The store
// keeps no layer tar: it keeps the tar's headers and padding, byte for
// byte, in tar-split metadata (LAYER.tar-split.gz), and the files in a
// directory (overlay: the layer's own; vfs: a snapshot of the whole
// file system at that layer, so the files of this layer are the ones its
// tar-split names, and deletions are whiteout headers in it). Putting the
// two back together gives the very tar the layer was made from, so its
// digest is the diff ID the image config lists.
type storageLayer struct {
	tarSplit, files string
	size            int64
	entries         int
}

func (l storageLayer) open() (io.ReadCloser, error) {
	tsf, _, err := openRegular(l.tarSplit)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: the layer has no tar-split metadata (%s): it cannot be rebuilt from the store", ErrNoStore, path.Base(l.tarSplit))
		}
		return nil, fmt.Errorf("%w: %v", ErrNoStore, err)
	}
	zr, err := gzip.NewReader(bufio.NewReader(tsf))
	if err != nil {
		tsf.Close()
		return nil, fmt.Errorf("%w: %s: %v", ErrNoStore, path.Base(l.tarSplit), err)
	}
	root, err := os.OpenRoot(l.files)
	if err != nil {
		zr.Close()
		tsf.Close()
		return nil, fmt.Errorf("%w: the layer's files: %v", ErrNoStore, err)
	}
	up := &boundedUnpacker{sc: bufio.NewScanner(zr), max: maxTarSplitEntries}
	up.sc.Buffer(make([]byte, 0, 64<<10), maxTarSplitLine)
	fg := &rootGetter{root: root, up: up}
	pr, pw := io.Pipe()
	go func() {
		err := asm.WriteOutputTarStream(fg, up, pw)
		root.Close()
		zr.Close()
		tsf.Close()
		pw.CloseWithError(err)
	}()
	return pr, nil
}

// boundedUnpacker reads tar-split records one line at a time, bounded
// in line length and count, and remembers the last file record so the
// getter serves exactly the size it recorded.
type boundedUnpacker struct {
	sc   *bufio.Scanner
	n    int
	max  int
	last storage.Entry
}

func (u *boundedUnpacker) Next() (*storage.Entry, error) {
	if !u.sc.Scan() {
		if err := u.sc.Err(); err != nil {
			return nil, fmt.Errorf("%w: reading tar-split metadata: %v", ErrNoStore, err)
		}
		return nil, io.EOF
	}
	if u.n++; u.n > u.max {
		return nil, fmt.Errorf("%w: more than %d tar-split records", ErrTooLarge, u.max)
	}
	var e storage.Entry
	if err := json.Unmarshal(u.sc.Bytes(), &e); err != nil {
		return nil, fmt.Errorf("%w: tar-split record %d: %v", ErrNoStore, u.n, err)
	}
	if e.Size < 0 {
		return nil, fmt.Errorf("%w: tar-split record %d: negative size", ErrNoStore, u.n)
	}
	u.last = e
	return &e, nil
}

// rootGetter opens a layer's files inside its directory only (os.Root:
// no "..", no symbolic link out of it), regular files only, and serves
// exactly the size tar-split recorded; the checksum tar-split keeps is
// checked by the assembler.
type rootGetter struct {
	root *os.Root
	up   *boundedUnpacker
}

func (g *rootGetter) Get(name string) (io.ReadCloser, error) {
	rel := path.Clean("/" + name)[1:]
	if rel == "" {
		rel = "."
	}
	f, err := g.root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: file %q of the layer: %v", ErrNoStore, name, err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%w: %s", ErrNotRegular, st.Mode().Type())
	}
	if err == nil && st.Size() < g.up.last.Size {
		err = fmt.Errorf("%d bytes on disk, %d in the layer's tar", st.Size(), g.up.last.Size)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: file %q of the layer: %w", ErrNoStore, name, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, g.up.last.Size), f}, nil
}
