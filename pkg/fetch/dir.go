package fetch

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// DirWarning is the warning every image read from a directory carries:
// a directory is one layer with no build history.
const DirWarning = "one layer, no history: instructions unknown (read from a directory: what a later layer deleted or overwrote is not there to find)"

// Bounds on a directory read as a layer.
const (
	// DefaultMaxDirEntries bounds the files, directories and links.
	DefaultMaxDirEntries = 1000000
	// maxDirDepth bounds nested directories.
	maxDirDepth = 256
	// dirBatch is how many names are read from a directory at a time.
	dirBatch = 4096
)

// openDir reads a directory (an unpacked root file system) as an image of
// one layer: a tar stream made on the fly from what is under it, in name
// order, never following a symbolic link (links are kept as links, and
// nothing out of the directory is read: os.Root), with no history.
func openDir(target string, o Options) (*Source, error) {
	st, err := os.Stat(target)
	if err != nil {
		return nil, fmt.Errorf("dir: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%w: dir:%s is not a directory", ErrNotImage, target)
	}
	cfg := &v1.ConfigFile{
		RootFS:  v1.RootFS{Type: "layers"},
		History: []v1.History{{Comment: "the directory " + target}},
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("dir: %w", err)
	}
	limit := o.MaxStreamSize
	img := &Image{
		Ref: target, RawConfig: raw, Config: cfg, Warnings: []string{DirWarning},
		Layers: []Layer{{Index: 0, Size: -1, MediaType: types.OCIUncompressedLayer, open: func() (io.ReadCloser, error) {
			root, err := os.OpenRoot(target)
			if err != nil {
				return nil, fmt.Errorf("dir: %w", err)
			}
			pr, pw := io.Pipe()
			go func() {
				dw := &dirWriter{root: root, tw: tar.NewWriter(pw), limit: limit, maxEntries: DefaultMaxDirEntries, links: map[[2]uint64]string{}}
				err := dw.dir(".", 0)
				if err == nil {
					err = dw.tw.Close()
				}
				root.Close()
				pw.CloseWithError(err)
			}()
			return pr, nil
		}}},
	}
	return &Source{Images: []*Image{img}}, nil
}

// dirWriter writes a directory tree as a tar, bounded.
type dirWriter struct {
	root        *os.Root
	tw          *tar.Writer
	limit, size int64
	entries     int
	maxEntries  int
	// links maps device and inode of files with several links to the
	// first name written, so later names are hard links, as in a layer.
	links map[[2]uint64]string
}

func (d *dirWriter) dir(rel string, depth int) error {
	if depth > maxDirDepth {
		return fmt.Errorf("%w: %s is more than %d directories deep", ErrTooLarge, rel, maxDirDepth)
	}
	names, err := d.names(rel)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := d.entry(path.Join(rel, n), depth); err != nil {
			return err
		}
	}
	return nil
}

// names lists a directory's names, sorted, within the entry bound.
func (d *dirWriter) names(rel string) ([]string, error) {
	f, err := d.root.Open(rel)
	if err != nil {
		return nil, fmt.Errorf("dir: %w", err)
	}
	defer f.Close()
	var names []string
	for {
		batch, err := f.Readdirnames(dirBatch)
		names = append(names, batch...)
		if d.entries+len(names) > d.maxEntries {
			return nil, fmt.Errorf("%w: more than %d files and directories", ErrTooLarge, d.maxEntries)
		}
		if errors.Is(err, io.EOF) || (err == nil && len(batch) == 0) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("dir: reading %s: %w", rel, err)
		}
	}
	sort.Strings(names)
	return names, nil
}

func (d *dirWriter) entry(rel string, depth int) error {
	d.entries++
	fi, err := d.root.Lstat(rel)
	if err != nil {
		return fmt.Errorf("dir: %w", err)
	}
	switch {
	case fi.IsDir():
		if err := d.header(fi, rel+"/", ""); err != nil {
			return err
		}
		return d.dir(rel, depth+1)
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := d.root.Readlink(rel)
		if err != nil {
			return fmt.Errorf("dir: %w", err)
		}
		return d.header(fi, rel, target)
	case fi.Mode().IsRegular():
		return d.file(rel)
	case fi.Mode()&(fs.ModeSocket) != 0:
		return nil // a socket has no place in a tar
	}
	// Devices and FIFOs: a header, never opened; a kind of file tar has
	// no type for is left out.
	if _, err := tar.FileInfoHeader(fi, ""); err != nil {
		return nil
	}
	return d.header(fi, rel, "")
}

func (d *dirWriter) header(fi fs.FileInfo, name, link string) error {
	h, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return fmt.Errorf("dir: %s: %w", name, err)
	}
	h.Name = name
	d.size += 512
	if d.size > d.limit {
		return fmt.Errorf("%w: the directory is more than %d bytes (--max-image-size)", ErrTooLarge, d.limit)
	}
	return d.tw.WriteHeader(h)
}

// file writes a regular file, opened without following a link and
// checked to be regular once open; a file that shrinks while it is read
// is padded with zeros to the size its header gave.
func (d *dirWriter) file(rel string) error {
	f, err := d.root.OpenFile(rel, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("dir: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("dir: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return d.header(fi, rel, "")
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
		key := [2]uint64{uint64(st.Dev), st.Ino}
		if first, ok := d.links[key]; ok {
			h, err := tar.FileInfoHeader(fi, "")
			if err != nil {
				return fmt.Errorf("dir: %s: %w", rel, err)
			}
			h.Typeflag, h.Name, h.Linkname, h.Size = tar.TypeLink, rel, first, 0
			return d.tw.WriteHeader(h)
		}
		d.links[key] = rel
	}
	if err := d.header(fi, rel, ""); err != nil {
		return err
	}
	d.size += fi.Size()
	if d.size > d.limit {
		return fmt.Errorf("%w: the directory is more than %d bytes (--max-image-size)", ErrTooLarge, d.limit)
	}
	n, err := io.Copy(d.tw, io.LimitReader(f, fi.Size()))
	if err != nil {
		return fmt.Errorf("dir: reading %s: %w", filepath.ToSlash(rel), err)
	}
	if n < fi.Size() {
		_, err = io.CopyN(d.tw, zeros{}, fi.Size()-n)
	}
	return err
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
