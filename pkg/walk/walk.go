package walk

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sync/errgroup"

	"github.com/layerscan/layerscan/pkg/fetch"
)

// Defaults for Options.
const (
	DefaultChunkSize  = 1 << 20
	DefaultOverlap    = 16 << 10
	DefaultMaxEntries = 500000
	DefaultMaxPathLen = 4096
	// DefaultMaxPathDepth bounds the components of an entry's path.
	DefaultMaxPathDepth = 256
	// DefaultMaxLayerSize bounds the uncompressed bytes of one layer.
	DefaultMaxLayerSize = 32 << 30
	// DefaultMaxImageSize bounds the uncompressed bytes of all the layers
	// of one image together.
	DefaultMaxImageSize = 128 << 30
	// DefaultMaxPathBytes bounds the bytes of the entry paths of one
	// layer (kept in memory until the image's lifecycle is worked out).
	DefaultMaxPathBytes = 64 << 20
	// DefaultMaxImagePathBytes bounds them for all the layers of an image.
	DefaultMaxImagePathBytes = 256 << 20
	// DefaultMaxLayerRatio bounds uncompressed / stored bytes of a layer,
	// and of the image's layers together, once past layerRatioFloor.
	DefaultMaxLayerRatio = 200
	// layerRatioFloor is how many uncompressed bytes a layer (or image)
	// reads before MaxLayerRatio applies: small layers of zeros and
	// repeated text legitimately compress better than any sane ratio.
	layerRatioFloor = 64 << 20
)

// Limits bound what a layer can make Walk read; zero fields take the
// defaults. Crossing one ends that layer's walk with an error naming the
// bound (the entries read so far are kept and were scanned); the other
// layers go on.
type Limits struct {
	// MaxPathLen bounds an entry's path in bytes (longer ones are
	// recorded cut, with a warning); it overrides Options.MaxPathLen.
	MaxPathLen int
	// MaxPathDepth bounds an entry's path components (deeper ones are
	// recorded cut, with a warning).
	MaxPathDepth int
	// MaxLayerSize bounds the uncompressed bytes of one layer.
	MaxLayerSize int64
	// MaxImageSize bounds the uncompressed bytes of all layers of a Walk.
	MaxImageSize int64
	// MaxLayerRatio bounds uncompressed / stored bytes of one layer, and
	// of all layers together, past their first 64 MiB: a decompression
	// bomb (gzip or zstd) stops there.
	MaxLayerRatio int64
	// MaxPathBytes bounds the bytes of the entry paths of one layer, and
	// MaxImagePathBytes of all layers of a Walk: paths are kept until the
	// image's lifecycle is worked out, so many long names are memory.
	MaxPathBytes, MaxImagePathBytes int64
}

func (l *Limits) defaults() {
	if l.MaxPathDepth < 1 {
		l.MaxPathDepth = DefaultMaxPathDepth
	}
	if l.MaxLayerSize < 1 {
		l.MaxLayerSize = DefaultMaxLayerSize
	}
	if l.MaxImageSize < 1 {
		l.MaxImageSize = DefaultMaxImageSize
	}
	if l.MaxLayerRatio < 1 {
		l.MaxLayerRatio = DefaultMaxLayerRatio
	}
	if l.MaxPathBytes < 1 {
		l.MaxPathBytes = DefaultMaxPathBytes
	}
	if l.MaxImagePathBytes < 1 {
		l.MaxImagePathBytes = DefaultMaxImagePathBytes
	}
}

// ErrLimit is wrapped by the layer errors of a crossed Limits bound.
var ErrLimit = errors.New("bound crossed")

// TooManyEntries is the error of a layer with more than max tar entries
// (--max-entries): every reader of layers says it the same way.
func TooManyEntries(max int) error {
	return fmt.Errorf("%w: layer has more than %d entries (--max-entries); the rest was not read", ErrLimit, max)
}

// Chunk is a piece of a regular file's content handed to the detector.
type Chunk struct {
	// Layer is the index of the layer holding the file.
	Layer int
	// Entry is the file's index among the layer's entries.
	Entry int
	// Path is the file's absolute path.
	Path string
	// Data is valid only during the ScanFunc call.
	Data []byte
	// StartLine is the 1-based line number of Data[0].
	StartLine int
	// Offset is the byte offset of Data[0] in the file.
	Offset int64
	// ArchivePath, for content inside (nested) archives, is the chain of
	// member paths from the file at Path down to the content
	// (["lib/inner.jar", "config.properties"]); nil for the file itself.
	ArchivePath []string
	// Strings is set when Data holds the printable string runs of a binary
	// file, one per line (Options.Binaries = BinaryStrings): StartLine and
	// Offset then do not map back to the file.
	Strings bool
	// Whole is set when Data is the complete content of the file (or
	// archive member): its only chunk, not cut by MaxFileSize.
	Whole bool
}

// ScanFunc receives file content. It is called from several goroutines at
// once and must not keep Data after it returns.
type ScanFunc func(ctx context.Context, c *Chunk) error

// AcceptFunc decides, from an entry and the first bytes of its content,
// whether the content is handed to the detector. It is called from the
// layer's own goroutine.
type AcceptFunc func(layer, entry int, e *Entry, head []byte) bool

// Options configure Walk.
type Options struct {
	// Jobs is how many layers are read at once (default: number of CPUs).
	// It must not exceed the fetch source's download concurrency.
	Jobs int
	// Workers is how many goroutines run the ScanFunc (default: CPUs).
	Workers int
	// ChunkSize is the largest piece of a file handed over at once.
	ChunkSize int
	// Overlap is how many bytes of a chunk's end start the next chunk too,
	// so a secret across a chunk border is seen whole (default 16 KiB).
	Overlap int
	// MaxEntries bounds the tar entries read from one layer.
	MaxEntries int
	// MaxPathLen bounds an entry's path; longer ones are recorded cut.
	MaxPathLen int
	// MaxFileSize, when positive, bounds the bytes scanned of one file.
	MaxFileSize int64
	// Accept filters which files' content is scanned; nil scans all.
	Accept AcceptFunc
	// AcceptMember filters the members of nested archives, as Accept does
	// the files of the layer; nil scans all. e is the outer file.
	AcceptMember func(layer, entry int, e *Entry, archivePath []string, head []byte) bool
	// Archives bounds the opening of archives nested in files (its zero
	// value takes the defaults; MaxDepth < 0 opens none).
	Archives ArchiveOptions
	// Binaries says what to do with binary files' content (see IsBinary);
	// "" is BinaryFull.
	Binaries BinaryMode
	// Limits bound decompressed sizes and path shapes.
	Limits Limits
	// Capture, when set, picks regular files of a layer (package
	// databases) whose whole content Captured receives, from the layer's
	// goroutine, before it is scanned like any other file's. A file
	// larger than MaxCaptureSize is scanned but not captured (a warning).
	Capture  func(e *Entry) bool
	Captured func(layer, entry int, e *Entry, data []byte)
	// MaxCaptureSize bounds a captured file (default DefaultMaxCaptureSize).
	MaxCaptureSize int64
}

// DefaultMaxCaptureSize bounds the content of one captured file.
const DefaultMaxCaptureSize = 64 << 20

func (o *Options) defaults() {
	if o.Jobs < 1 {
		o.Jobs = runtime.NumCPU()
	}
	if o.Workers < 1 {
		o.Workers = runtime.NumCPU()
	}
	if o.ChunkSize < 4096 {
		o.ChunkSize = DefaultChunkSize
	}
	// Overlap 0 is the default too: without overlap a secret across a
	// chunk border would be lost.
	if o.Overlap <= 0 || o.Overlap >= o.ChunkSize/2 {
		o.Overlap = min(DefaultOverlap, o.ChunkSize/4)
	}
	if o.MaxEntries < 1 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.MaxCaptureSize < 1 {
		o.MaxCaptureSize = DefaultMaxCaptureSize
	}
	if o.Limits.MaxPathLen > 0 {
		o.MaxPathLen = o.Limits.MaxPathLen
	}
	if o.MaxPathLen < 1 {
		o.MaxPathLen = DefaultMaxPathLen
	}
	o.Limits.defaults()
	o.Archives.defaults()
}

// Result is what walking one layer found out.
type Result struct {
	Index int
	// Entries are the layer's tar entries in archive order.
	Entries []Entry
	// Digest and DiffID are computed from the bytes read.
	Digest, DiffID v1.Hash
	// Compression is "gzip", "zstd" or "none".
	Compression string
	// StoredBytes and Bytes count the stored and uncompressed bytes read.
	StoredBytes, Bytes int64
	// Files is the number of regular files whose content was scanned.
	Files int
	// Warnings are problems that did not stop the layer's walk.
	Warnings []string
	// FileWarnings are problems with one file (an archive bound crossed, a
	// nested archive that cannot be read, a file cut by MaxFileSize).
	FileWarnings []FileWarning
	// Digests are the digests of the files the walker hashed while
	// reading them (text files longer than a chunk, archives), by entry
	// index; see Digests.
	Digests map[int]Digests
	// Err is set when the layer could not be read to its end; entries
	// before the failure are still listed and were scanned.
	Err error
}

// Walk reads every layer once and hands file content to scan. Per-layer
// problems land in the LayerResults; the returned error is only for a
// cancelled context or an error returned by scan.
func Walk(ctx context.Context, layers []fetch.Layer, opts Options, scan ScanFunc) ([]Result, error) {
	opts.defaults()
	results := make([]Result, len(layers))
	pool := chunkPool(opts.ChunkSize + opts.Overlap)

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan *chunkJob, opts.Workers)
	workers, wctx2 := errgroup.WithContext(wctx)
	for range opts.Workers {
		workers.Go(func() error {
			for j := range chunks {
				err := scan(wctx2, &j.Chunk)
				pool.Put(j.buf)
				if err != nil {
					// Keep draining so producers never block on a dead pool.
					for j := range chunks {
						pool.Put(j.buf)
					}
					return err
				}
			}
			return nil
		})
	}

	mem := &memBudget{left: opts.Archives.Memory}
	img := &imageBytes{}
	var g errgroup.Group
	g.SetLimit(opts.Jobs)
	for i, l := range layers {
		g.Go(func() error {
			w := &layerWalker{opts: &opts, pool: pool, out: chunks, ctx: wctx2, mem: mem, img: img}
			results[i] = w.walk(l)
			return nil
		})
	}
	_ = g.Wait()
	close(chunks)
	if err := workers.Wait(); err != nil {
		return results, err
	}
	return results, ctx.Err()
}

// chunkPools are the pools of chunk buffers, one per buffer size, shared
// by every Walk: a sweep walks 100,000 layers one Walk at a time, and a
// pool made per Walk stays reachable (sync.Pool keeps every pool until
// two collections have passed) with its 1 MiB buffers, 150 MB of them at
// a time in a 10,000-image sweep.
var chunkPools sync.Map // int → *sync.Pool

// chunkPool is the shared pool of chunk buffers of capacity size.
func chunkPool(size int) *sync.Pool {
	if p, ok := chunkPools.Load(size); ok {
		return p.(*sync.Pool)
	}
	p, _ := chunkPools.LoadOrStore(size, &sync.Pool{New: func() any {
		b := make([]byte, 0, size)
		return &b
	}})
	return p.(*sync.Pool)
}

type chunkJob struct {
	Chunk
	buf *[]byte
}

type layerWalker struct {
	opts *Options
	pool *sync.Pool
	out  chan<- *chunkJob
	ctx  context.Context
	res  Result
	mem  *memBudget
	img  *imageBytes
}

// imageBytes counts the stored and uncompressed bytes of all the layers
// of a Walk, for the image-wide bounds.
type imageBytes struct {
	stored, plain, paths atomic.Int64
}

// boundedLayer enforces Limits on a layer's uncompressed stream.
type boundedLayer struct {
	r      io.Reader
	stored *hashCounter
	n      int64
	img    *imageBytes
	lim    *Limits
	failed error
}

func (b *boundedLayer) Read(p []byte) (int, error) {
	if b.failed != nil {
		return 0, b.failed
	}
	before := b.stored.n
	n, err := b.r.Read(p)
	b.n += int64(n)
	plain := b.img.plain.Add(int64(n))
	stored := b.img.stored.Add(b.stored.n - before)
	switch {
	case b.n > b.lim.MaxLayerSize:
		b.failed = fmt.Errorf("%w: layer decompresses to more than %d bytes (--max-layer-size); the rest was not read", ErrLimit, b.lim.MaxLayerSize)
	case b.n > layerRatioFloor && b.n > b.lim.MaxLayerRatio*max(b.stored.n, 1):
		b.failed = fmt.Errorf("%w: layer decompresses to more than %d times its stored size (--max-layer-ratio) after %d bytes from %d: a decompression bomb? the rest was not read",
			ErrLimit, b.lim.MaxLayerRatio, b.n, b.stored.n)
	case plain > b.lim.MaxImageSize:
		b.failed = fmt.Errorf("%w: the image's layers decompress to more than %d bytes together (--max-image-size); the rest of this layer was not read", ErrLimit, b.lim.MaxImageSize)
	case plain > layerRatioFloor*4 && plain > b.lim.MaxLayerRatio*max(stored, 1):
		b.failed = fmt.Errorf("%w: the image's layers decompress to more than %d times their stored size together (--max-layer-ratio); the rest of this layer was not read", ErrLimit, b.lim.MaxLayerRatio)
	}
	if b.failed != nil {
		return n, b.failed
	}
	return n, err
}

// hashCounter hashes (unless h is nil) and counts what passes through it.
type hashCounter struct {
	r    io.Reader
	h    hash.Hash
	algo string
	n    int64
}

func (h *hashCounter) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if n > 0 {
		if h.h != nil {
			h.h.Write(p[:n])
		}
		h.n += int64(n)
	}
	return n, err
}

func (h *hashCounter) sum() v1.Hash {
	return v1.Hash{Algorithm: h.algo, Hex: fmt.Sprintf("%x", h.h.Sum(nil))}
}

// digester is the hash of a digest algorithm the OCI image spec
// registers: sha256 (also for an unknown, empty digest) or sha512.
func digester(algo string) (hash.Hash, string, error) {
	switch algo {
	case "", "sha256":
		return sha256.New(), "sha256", nil
	case "sha512":
		return sha512.New(), "sha512", nil
	}
	return nil, "", fmt.Errorf("digest algorithm %q is not supported (sha256 and sha512 are): the layer cannot be verified", algo)
}

func (w *layerWalker) walk(l fetch.Layer) Result {
	w.res = Result{Index: l.Index}
	if err := w.read(l); err != nil {
		w.res.Err = err
	}
	return w.res
}

func (w *layerWalker) warn(format string, args ...any) {
	if len(w.res.Warnings) < 100 {
		w.res.Warnings = append(w.res.Warnings, fmt.Sprintf(format, args...))
	} else if len(w.res.Warnings) == 100 {
		w.res.Warnings = append(w.res.Warnings, "more warnings not shown")
	}
}

func (w *layerWalker) read(l fetch.Layer) error {
	rc, err := l.Open()
	if err != nil {
		return fmt.Errorf("opening layer: %w", err)
	}
	defer rc.Close()
	sh, salgo, err := digester(l.Digest.Algorithm)
	if err != nil {
		return err
	}
	dh, dalgo, err := digester(l.DiffID.Algorithm)
	if err != nil {
		return err
	}
	stored := &hashCounter{r: rc, h: sh, algo: salgo}
	br := bufio.NewReaderSize(stored, 64<<10)
	dr, comp, err := decompress(br)
	if err != nil {
		return err
	}
	defer dr.Close()
	w.res.Compression = comp
	plain := &hashCounter{r: &boundedLayer{r: dr, stored: stored, img: w.img, lim: &w.opts.Limits}, h: dh, algo: dalgo}
	tarErr := w.readTar(tar.NewReader(plain))
	if tarErr != nil {
		w.res.StoredBytes, w.res.Bytes = stored.n, plain.n
		return tarErr
	}
	// Read to the very end: tar padding, then the rest of the stored blob,
	// so both digests cover every byte (registry blobs verify at EOF).
	if _, err := io.Copy(io.Discard, plain); err != nil {
		return fmt.Errorf("reading past the tar end: %w", err)
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return fmt.Errorf("reading the stored blob: %w", err)
	}
	w.res.StoredBytes, w.res.Bytes = stored.n, plain.n
	w.res.Digest, w.res.DiffID = stored.sum(), plain.sum()
	if l.Digest.Algorithm != "" && l.Digest != w.res.Digest {
		return fmt.Errorf("layer digest mismatch: manifest says %s, content is %s", l.Digest, w.res.Digest)
	}
	if l.DiffID.Algorithm != "" && l.DiffID != w.res.DiffID {
		return fmt.Errorf("diff_id mismatch: config says %s, content is %s", l.DiffID, w.res.DiffID)
	}
	return nil
}

// RecordPath is how Walk records an entry's path p: as it is when it has
// at most maxLen bytes and maxDepth components; otherwise cut to fit, with
// "~#" and 16 hex digits of the whole path's SHA-256 at the end
// ("/a/b/cc…c~#3f2a9c1d07e4b5a6"), so that two long paths sharing their
// start stay two paths (and two fates), and a report's path still names
// one entry: evidence.Extract matches entries by their recorded path.
func RecordPath(p string, maxLen, maxDepth int) (string, bool) {
	if maxLen < 1 {
		maxLen = DefaultMaxPathLen
	}
	if maxDepth < 1 {
		maxDepth = DefaultMaxPathDepth
	}
	if len(p) <= maxLen && strings.Count(p, "/") <= maxDepth {
		return p, false
	}
	sum := sha256.Sum256([]byte(p))
	tag := fmt.Sprintf("~#%x", sum[:8])
	cut := p
	if strings.Count(cut, "/") > maxDepth {
		parts := strings.SplitN(cut, "/", maxDepth+2)
		cut = strings.Join(parts[:maxDepth+1], "/")
	}
	if keep := maxLen - len(tag); len(cut) > keep {
		keep = max(keep, 1)
		for keep > 1 && !utf8.RuneStart(cut[keep]) {
			keep--
		}
		cut = cut[:keep]
	}
	return cut + tag, true
}

// decompress picks a decompressor from the stream's magic bytes.
func decompress(br *bufio.Reader) (io.ReadCloser, string, error) {
	magic, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, "", fmt.Errorf("reading layer: %w", err)
	}
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, "", fmt.Errorf("opening gzip stream: %w", err)
		}
		return zr, "gzip", nil
	case len(magic) >= 4 && bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(1<<27))
		if err != nil {
			return nil, "", fmt.Errorf("opening zstd stream: %w", err)
		}
		return zr.IOReadCloser(), "zstd", nil
	}
	return io.NopCloser(br), "none", nil
}

func (w *layerWalker) readTar(tr *tar.Reader) error {
	var pathBytes int64
	for n := 0; ; n++ {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading tar entry %d: %w", n, err)
		}
		if n >= w.opts.MaxEntries {
			return TooManyEntries(w.opts.MaxEntries)
		}
		e, warning := classify(hdr)
		if warning != "" {
			w.warn("%s", warning)
		}
		if p, cut := RecordPath(e.Path, w.opts.MaxPathLen, w.opts.Limits.MaxPathDepth); cut {
			w.warn("path of entry %d is %d bytes, %d directories deep; recorded cut (--max-path-len %d, --max-path-depth %d) as %s",
				n, len(e.Path), strings.Count(e.Path, "/"), w.opts.MaxPathLen, w.opts.Limits.MaxPathDepth, quote(p))
			e.Path = p
		}
		// What a whiteout, an opaque marker or a hardlink names is an
		// entry's path: recorded the same way, or it would miss it.
		e.Target, _ = RecordPath(e.Target, w.opts.MaxPathLen, w.opts.Limits.MaxPathDepth)
		if e.Kind == Hardlink {
			e.Linkname, _ = RecordPath(e.Linkname, w.opts.MaxPathLen, w.opts.Limits.MaxPathDepth)
		}
		pathBytes += int64(len(e.Path) + len(e.Linkname) + len(e.Target))
		imagePaths := w.img.paths.Add(int64(len(e.Path) + len(e.Linkname) + len(e.Target)))
		switch {
		case pathBytes > w.opts.Limits.MaxPathBytes:
			return fmt.Errorf("%w: the layer's entry paths take more than %d bytes (--max-path-bytes); the rest was not read", ErrLimit, w.opts.Limits.MaxPathBytes)
		case imagePaths > w.opts.Limits.MaxImagePathBytes:
			return fmt.Errorf("%w: the image's entry paths take more than %d bytes together (--max-image-path-bytes); the rest of this layer was not read", ErrLimit, w.opts.Limits.MaxImagePathBytes)
		}
		w.res.Entries = append(w.res.Entries, e)
		if e.Kind != Regular || hdr.Size <= 0 {
			continue
		}
		idx := len(w.res.Entries) - 1
		if w.opts.Capture != nil && w.opts.Capture(&w.res.Entries[idx]) {
			if err := w.capture(tr, idx); err != nil {
				return fmt.Errorf("reading %s: %w", quote(e.Path), err)
			}
			continue
		}
		if err := w.readFile(tr, idx); err != nil {
			return fmt.Errorf("reading %s: %w", quote(e.Path), err)
		}
	}
}
