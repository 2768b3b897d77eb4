package walk

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/therootcompany/xz"

	"github.com/layerscan/layerscan/internal/ctxio"
)

// Defaults for ArchiveOptions.
const (
	DefaultArchiveDepth        = 3
	DefaultArchiveMaxEntrySize = 256 << 20
	DefaultArchiveMaxTotalSize = 1 << 30
	DefaultArchiveMaxRatio     = 100
	DefaultArchiveMaxEntries   = 10000
	DefaultArchiveMemory       = 64 << 20
	// ratioFloor is how many bytes an entry or stream must decompress to
	// before MaxRatio applies: small, very repetitive files legitimately
	// compress better than any sane bound.
	ratioFloor = 1 << 20
	// xzDictMax bounds the LZMA2 dictionary of .xz streams (xz -9 uses 64 MiB).
	xzDictMax = 64 << 20
	// zstdMaxWindow bounds the window of nested .zst streams.
	zstdMaxWindow = 64 << 20
)

// ArchiveOptions bound the reading of archives nested in layer files.
// Exceeding a bound is a warning for that file (Walk's FileWarnings); the
// walk goes on.
type ArchiveOptions struct {
	// MaxDepth is how many archives deep Walk goes (a jar in a war is 2):
	// 0 is DefaultArchiveDepth, negative opens no archive.
	MaxDepth int
	// MaxEntrySize bounds the decompressed bytes of one member (or of a
	// single-file .gz/.zst/.bz2/.xz stream).
	MaxEntrySize int64
	// MaxTotalSize bounds the decompressed bytes read out of one archive,
	// nested archives' content included, and the size of a zip archive.
	MaxTotalSize int64
	// MaxRatio bounds decompressed / compressed bytes of a member or stream
	// once it has produced more than 1 MiB.
	MaxRatio int64
	// MaxEntries bounds the members of one archive.
	MaxEntries int
	// Memory is how many bytes of zip archives (which need random access)
	// all layers together may hold in memory; a zip archive that does not
	// fit is spooled to a temporary file (mode 0600, in TempDir or
	// $TMPDIR) that is unlinked as soon as it is created, so it goes away
	// with the scan even if the scan is killed.
	Memory  int64
	TempDir string
}

func (o *ArchiveOptions) defaults() {
	switch {
	case o.MaxDepth < 0:
		o.MaxDepth = 0
		return
	case o.MaxDepth == 0:
		o.MaxDepth = DefaultArchiveDepth
	}
	if o.MaxEntrySize <= 0 {
		o.MaxEntrySize = DefaultArchiveMaxEntrySize
	}
	if o.MaxTotalSize <= 0 {
		o.MaxTotalSize = DefaultArchiveMaxTotalSize
	}
	if o.MaxRatio <= 0 {
		o.MaxRatio = DefaultArchiveMaxRatio
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultArchiveMaxEntries
	}
	if o.Memory < 0 {
		o.Memory = 0
	} else if o.Memory == 0 {
		o.Memory = DefaultArchiveMemory
	}
}

// FileWarning is a problem with one file of a layer that did not stop the
// walk: mostly an archive bound crossed.
type FileWarning struct {
	// Path is the file's path in the layer, ArchivePath the members of
	// nested archives leading to the content the warning is about.
	Path        string
	ArchivePath []string
	Message     string
}

type archiveFormat int

const (
	notArchive archiveFormat = iota
	zipArchive
	tarArchive
	gzipStream
	zstdStream
	bzip2Stream
	xzStream
)

var formatNames = [...]string{"", "zip", "tar", "gzip", "zstd", "bzip2", "xz"}

// archiveExts are the names of files opened as archives.
var archiveExts = []string{
	".zip", ".jar", ".war", ".ear", ".whl", ".egg", ".nupkg", ".apk", ".aar",
	".tar", ".tgz", ".gz", ".tzst", ".zst", ".tbz2", ".tbz", ".bz2", ".txz", ".xz",
}

// archiveKind recognises an archive by its name and its magic bytes: the
// name must be an archive's, and the magic picks the format (an Alpine
// .apk is gzip, an Android one zip).
func archiveKind(name string, head []byte) archiveFormat {
	name = strings.ToLower(name)
	ok := false
	for _, ext := range archiveExts {
		if strings.HasSuffix(name, ext) {
			ok = true
			break
		}
	}
	if !ok {
		return notArchive
	}
	return magicKind(head)
}

func magicKind(head []byte) archiveFormat {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return zipArchive
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return gzipStream
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return zstdStream
	case bytes.HasPrefix(head, []byte("BZh")) && len(head) > 3 && head[3] >= '1' && head[3] <= '9':
		return bzip2Stream
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return xzStream
	case isTar(head):
		return tarArchive
	}
	return notArchive
}

func isTar(head []byte) bool {
	return len(head) >= 262 && bytes.Equal(head[257:262], []byte("ustar"))
}

// boundError is an archive bound crossed, or an archive that cannot be
// read; owner is the archive it is about.
type boundError struct {
	owner *archive
	msg   string
}

func (e *boundError) Error() string { return e.msg }

// archive is the state of one archive being read.
type archive struct {
	f       *file // the archive file itself
	total   int64
	entries int
}

func (a *archive) bound(format string, args ...any) *boundError {
	return &boundError{owner: a, msg: fmt.Sprintf(format, args...)}
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// boundedReader enforces the archive bounds on decompressed bytes.
type boundedReader struct {
	r      io.Reader
	a      *archive
	o      *ArchiveOptions
	what   string
	n      int64
	entry  bool         // MaxEntrySize applies
	comp   *countReader // compressed bytes, for MaxRatio; nil: not checked
	failed error
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.failed != nil {
		return 0, b.failed
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	b.a.total += int64(n)
	switch {
	case b.entry && b.n > b.o.MaxEntrySize:
		b.failed = b.a.bound("%s decompresses to more than %d bytes (--archive-max-entry-size); the rest was not scanned", b.what, b.o.MaxEntrySize)
	case b.a.total > b.o.MaxTotalSize:
		b.failed = b.a.bound("more than %d bytes decompressed from the archive (--archive-max-total-size); the rest was not scanned", b.o.MaxTotalSize)
	case b.comp != nil && b.n > ratioFloor && b.n > b.o.MaxRatio*max(b.comp.n, 1):
		b.failed = b.a.bound("%s decompresses more than %d times its compressed size (--archive-max-ratio): a compression bomb? the rest was not scanned", b.what, b.o.MaxRatio)
	}
	if b.failed != nil {
		return n, b.failed
	}
	return n, err
}

// openArchive reads an archive and scans its members. Problems with the
// archive are warnings; the error is for a cancelled context, or a bound
// of an enclosing archive that its reader returned.
func (w *layerWalker) openArchive(kind archiveFormat, r io.Reader, f *file, size int64) error {
	a := &archive{f: f}
	var err error
	switch kind {
	case zipArchive:
		err = w.readZip(a, r, size)
	case tarArchive:
		br := &boundedReader{r: r, a: a, o: &w.opts.Archives}
		err = w.readArchiveTar(a, tar.NewReader(br))
	default:
		err = w.readStream(a, kind, r)
	}
	if err == nil {
		return nil
	}
	if ctxErr := w.ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	var be *boundError
	if errors.As(err, &be) && be.owner != a {
		return err // an enclosing archive's bound: its reader is spent
	}
	if errors.As(err, &be) {
		w.fileWarn(f, "%s archive: %s", formatNames[kind], be.msg)
	} else {
		w.fileWarn(f, "%s archive could not be read: %v", formatNames[kind], err)
	}
	return nil
}

// readStream opens a single compressed stream: a tarball (.tar.gz, .tgz,
// …, or any stream that turns out to hold a tar) has its members scanned;
// anything else is one member named after the file without its suffix.
func (w *layerWalker) readStream(a *archive, kind archiveFormat, r io.Reader) error {
	cr := &countReader{r: r}
	var dr io.Reader
	switch kind {
	case gzipStream:
		zr, err := gzip.NewReader(bufio.NewReader(cr))
		if err != nil {
			return err
		}
		defer zr.Close()
		dr = zr
	case zstdStream:
		zr, err := zstd.NewReader(cr, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return err
		}
		defer zr.Close()
		dr = zr
	case bzip2Stream:
		dr = bzip2.NewReader(bufio.NewReader(cr))
	case xzStream:
		zr, err := xz.NewReader(bufio.NewReader(cr), xzDictMax)
		if err != nil {
			return err
		}
		dr = zr
	}
	member := memberName(a.f.name)
	br := bufio.NewReaderSize(dr, 64<<10)
	head, err := br.Peek(512)
	if err != nil && err != io.EOF {
		return err
	}
	// Bounds count the bytes consumed, not those read ahead.
	bounded := &boundedReader{r: br, a: a, o: &w.opts.Archives, what: quote(member), entry: true, comp: cr}
	if isTar(head) {
		bounded.entry = false // the per-member bound goes by the tar headers
		return w.readArchiveTar(a, tar.NewReader(bounded))
	}
	return w.scanStream(bounded, a.f.child(member), -1)
}

// memberName is the name of the content of a single compressed stream.
func memberName(name string) string {
	lower := strings.ToLower(name)
	for _, s := range [][2]string{{".tgz", ".tar"}, {".tzst", ".tar"}, {".tbz2", ".tar"}, {".tbz", ".tar"}, {".txz", ".tar"},
		{".gz", ""}, {".zst", ""}, {".bz2", ""}, {".xz", ""}} {
		if strings.HasSuffix(lower, s[0]) && len(name) > len(s[0]) {
			return name[:len(name)-len(s[0])] + s[1]
		}
	}
	return name
}

// readArchiveTar scans the regular files of a tar nested in a layer file.
func (w *layerWalker) readArchiveTar(a *archive, tr *tar.Reader) error {
	o := &w.opts.Archives
	for {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		a.entries++
		if a.entries > o.MaxEntries {
			return a.bound("more than %d entries (--archive-max-entries); the rest was not scanned", o.MaxEntries)
		}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeGNUSparse:
		default:
			continue
		}
		name := memberPath(hdr.Name)
		if hdr.Size <= 0 || name == "" {
			continue
		}
		if hdr.Size > o.MaxEntrySize {
			w.fileWarn(a.f.child(name), "%d bytes, over --archive-max-entry-size (%d): not scanned", hdr.Size, o.MaxEntrySize)
			continue
		}
		if err := w.scanStream(tr, a.f.child(name), hdr.Size); err != nil {
			return err
		}
	}
}

// memberPath cleans an archive member's name, keeping it relative.
func memberPath(name string) string {
	p := strings.TrimPrefix(path.Clean("/"+name), "/")
	if len(p) > DefaultMaxPathLen {
		p = p[:DefaultMaxPathLen]
	}
	return p
}

// readZip scans the members of a zip archive, which is first held in
// memory or spooled to an unlinked temporary file for random access.
func (w *layerWalker) readZip(a *archive, r io.Reader, size int64) error {
	o := &w.opts.Archives
	ra, n, done, err := w.spool(a, r, size)
	if err != nil {
		return err
	}
	defer done()
	zr, err := zip.NewReader(ra, n)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return err
	}
	zr.RegisterDecompressor(zip.Deflate, func(r io.Reader) io.ReadCloser { return flate.NewReader(r) })
	for _, zf := range zr.File {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		a.entries++
		if a.entries > o.MaxEntries {
			return a.bound("more than %d entries (--archive-max-entries); the rest was not scanned", o.MaxEntries)
		}
		if zf.FileInfo().IsDir() || zf.UncompressedSize64 == 0 {
			continue
		}
		name := memberPath(zf.Name)
		child := a.f.child(name)
		usize := zf.UncompressedSize64
		switch {
		case usize > uint64(o.MaxEntrySize):
			w.fileWarn(child, "%d bytes, over --archive-max-entry-size (%d): not scanned", usize, o.MaxEntrySize)
			continue
		case usize > ratioFloor && usize > uint64(o.MaxRatio)*max(zf.CompressedSize64, 1):
			w.fileWarn(child, "decompresses %d times its compressed size, over --archive-max-ratio (%d): a compression bomb? not scanned",
				usize/max(zf.CompressedSize64, 1), o.MaxRatio)
			continue
		case a.total+int64(usize) > o.MaxTotalSize:
			return a.bound("more than %d bytes decompressed from the archive (--archive-max-total-size); the rest was not scanned", o.MaxTotalSize)
		}
		rc, err := zf.Open()
		if err != nil {
			w.fileWarn(child, "cannot be read: %v", err)
			continue
		}
		br := &boundedReader{r: rc, a: a, o: o, what: quote(name), entry: true}
		err = w.scanStream(br, child, int64(usize))
		rc.Close()
		var be *boundError
		switch {
		case err == nil:
		case errors.As(err, &be):
			return err
		case w.ctx.Err() != nil:
			return w.ctx.Err()
		default:
			w.fileWarn(child, "cannot be read: %v", err)
		}
	}
	return nil
}

// memBudget is the memory all layers may use to hold zip archives.
type memBudget struct {
	mu   sync.Mutex
	left int64
}

func (m *memBudget) take(n int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n > m.left {
		return false
	}
	m.left -= n
	return true
}

func (m *memBudget) give(n int64) {
	m.mu.Lock()
	m.left += n
	m.mu.Unlock()
}

// spool makes a zip archive randomly readable: in memory when its size is
// known and fits the budget, else in a temporary file (0600, unlinked at
// once; closing it frees the space). Zip archives larger than
// MaxTotalSize are not read.
func (w *layerWalker) spool(a *archive, r io.Reader, size int64) (io.ReaderAt, int64, func(), error) {
	o := &w.opts.Archives
	if size > o.MaxTotalSize {
		return nil, 0, nil, a.bound("zip archive of %d bytes is larger than --archive-max-total-size (%d): not opened", size, o.MaxTotalSize)
	}
	if size >= 0 && w.mem.take(size) {
		buf := make([]byte, size)
		if _, err := io.ReadFull(r, buf); err != nil {
			w.mem.give(size)
			return nil, 0, nil, err
		}
		return bytes.NewReader(buf), size, func() { w.mem.give(size) }, nil
	}
	tmp, err := os.CreateTemp(o.TempDir, "layerscan-zip-*")
	if err != nil {
		return nil, 0, nil, fmt.Errorf("zip archive does not fit in memory and cannot be spooled: %w", err)
	}
	os.Remove(tmp.Name())
	n, err := io.Copy(tmp, io.LimitReader(ctxio.Reader(w.ctx, r), o.MaxTotalSize+1))
	if err == nil && n > o.MaxTotalSize {
		err = a.bound("zip archive is larger than --archive-max-total-size (%d): not opened", o.MaxTotalSize)
	}
	if err != nil {
		tmp.Close()
		return nil, 0, nil, err
	}
	return tmp, n, func() { tmp.Close() }, nil
}

func (w *layerWalker) fileWarn(f *file, format string, args ...any) {
	if len(w.res.FileWarnings) >= 100 {
		if len(w.res.FileWarnings) == 100 {
			w.res.FileWarnings = append(w.res.FileWarnings, FileWarning{Path: f.path, Message: "more file warnings not shown"})
		}
		return
	}
	w.res.FileWarnings = append(w.res.FileWarnings, FileWarning{Path: f.path, ArchivePath: f.chain, Message: fmt.Sprintf(format, args...)})
}
