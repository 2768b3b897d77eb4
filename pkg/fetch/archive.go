package fetch

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// archiveEntry locates one member of an image archive in the file.
type archiveEntry struct {
	offset, size int64
	typeflag     byte
	linkname     string
}

// archiveIndex maps member names of an uncompressed tar to their place in
// the file, so each blob is read once, as a section of the file.
type archiveIndex struct {
	f       *os.File
	path    string
	entries map[string]archiveEntry
}

// countingReader tracks the offset of a file read by archive/tar. It can
// seek, so tar skips member data instead of reading it.
type countingReader struct {
	r *os.File
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) Seek(off int64, whence int) (int64, error) {
	pos, err := c.r.Seek(off, whence)
	if err == nil {
		c.n = pos
	}
	return pos, err
}

// indexArchive reads the tar headers of path once. The data of each member
// is skipped, not read.
func indexArchive(p string, maxEntries int) (*archiveIndex, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("opening archive: %w", err)
	}
	return indexArchiveFile(f, p, maxEntries)
}

// indexArchiveFile is indexArchive of an open file, named p in messages;
// the index owns f (it is closed on error).
func indexArchiveFile(f *os.File, p string, maxEntries int) (*archiveIndex, error) {
	var magic [4]byte
	if n, _ := io.ReadFull(f, magic[:]); n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		f.Close()
		return nil, fmt.Errorf("%s is gzip-compressed: decompress it first (gunzip -k)", p)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("reading archive: %w", err)
	}
	idx := &archiveIndex{f: f, path: p, entries: map[string]archiveEntry{}}
	cr := &countingReader{r: f}
	tr := tar.NewReader(cr)
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			f.Close()
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("%w: archive is truncated (after %d entries)", ErrNotImage, n)
			}
			return nil, fmt.Errorf("%w: reading archive entry %d: %v", ErrNotImage, n, err)
		}
		if n >= maxEntries {
			f.Close()
			return nil, fmt.Errorf("archive has more than %d entries", maxEntries)
		}
		name := cleanMember(hdr.Name)
		idx.entries[name] = archiveEntry{offset: cr.n, size: hdr.Size, typeflag: hdr.Typeflag, linkname: hdr.Linkname}
		if hdr.Typeflag == tar.TypeReg && hdr.Size > 0 {
			// Check the member is all there without reading it.
			st, err := f.Stat()
			if err == nil && cr.n+hdr.Size > st.Size() {
				f.Close()
				return nil, fmt.Errorf("%w: archive is truncated in %s", ErrNotImage, name)
			}
		}
	}
	if len(idx.entries) == 0 {
		f.Close()
		return nil, fmt.Errorf("%w: empty archive", ErrNotImage)
	}
	return idx, nil
}

func cleanMember(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// Close closes the archive file.
func (a *archiveIndex) Close() error { return a.f.Close() }

// lookup finds a member by name, following symlinks and hardlinks inside
// the archive (docker save writes a repeated layer as a symlink to the
// first copy).
func (a *archiveIndex) lookup(name string) (archiveEntry, error) {
	name = cleanMember(name)
	for hops := 0; hops < 16; hops++ {
		e, ok := a.entries[name]
		if !ok {
			return archiveEntry{}, fmt.Errorf("%s: %w", name, os.ErrNotExist)
		}
		switch e.typeflag {
		case tar.TypeSymlink:
			if strings.HasPrefix(e.linkname, "/") {
				name = cleanMember(e.linkname)
			} else {
				name = cleanMember(path.Join(path.Dir(name), e.linkname))
			}
		case tar.TypeLink:
			name = cleanMember(e.linkname)
		case tar.TypeReg:
			return e, nil
		default:
			return archiveEntry{}, fmt.Errorf("%s: not a regular file in the archive", name)
		}
	}
	return archiveEntry{}, fmt.Errorf("%s: too many links in the archive", name)
}

// open returns a reader over a member's bytes.
func (a *archiveIndex) open(name string) (io.ReadCloser, int64, error) {
	e, err := a.lookup(name)
	if err != nil {
		return nil, 0, err
	}
	return io.NopCloser(io.NewSectionReader(a.f, e.offset, e.size)), e.size, nil
}

// readAll reads a small member (a manifest or a config) under a bound.
func (a *archiveIndex) readAll(name string, limit int64) ([]byte, error) {
	rc, size, err := a.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if size > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d allowed", name, size, limit)
	}
	return io.ReadAll(rc)
}

func (a *archiveIndex) has(name string) bool {
	_, ok := a.entries[cleanMember(name)]
	return ok
}
