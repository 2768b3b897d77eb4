package fetch

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"

	"github.com/layerscan/layerscan/internal/ctxio"
)

// DefaultMaxStreamSize bounds a spooled stream; it is walk's default
// bound on the uncompressed bytes of an image (--max-image-size).
const DefaultMaxStreamSize = 128 << 30

// WithMaxStreamSize bounds a stream spooled to disk (standard input, a
// daemon's export), in bytes.
func WithMaxStreamSize(n int64) Option {
	return func(o *Options) {
		if n > 0 {
			o.MaxStreamSize = n
		}
	}
}

// WithStdin sets what the reference "-" reads.
func WithStdin(r io.Reader) Option { return func(o *Options) { o.Stdin = r } }

// WithEnv sets how environment variables are looked up (DOCKER_HOST,
// CONTAINER_HOST, XDG_RUNTIME_DIR, HOME).
func WithEnv(getenv func(string) string) Option { return func(o *Options) { o.Env = getenv } }

// spool copies a stream into an unlinked temporary file (mode 0600, in
// $TMPDIR) and returns it rewound: archives need random access, and a
// pipe has none. A gzip stream is decompressed on the way. More than
// limit bytes (decompressed) is an error wrapping ErrTooLarge; the file
// is gone once closed, or when the process ends.
func spool(ctx context.Context, r io.Reader, limit int64, what string) (*os.File, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrNotImage, what, err)
		}
		defer zr.Close()
		src = zr
	}
	f, err := os.CreateTemp("", "layerscan-spool-*")
	if err != nil {
		return nil, fmt.Errorf("spooling %s: %w", what, err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("spooling %s: %w", what, err)
	}
	n, err := io.Copy(f, io.LimitReader(ctxio.Reader(ctx, src), limit+1))
	if err == nil && n > limit {
		err = fmt.Errorf("%w: %s is more than %d bytes (--max-image-size)", ErrTooLarge, what, limit)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("spooling %s to a temporary file: %w", what, err)
	}
	return f, nil
}

// openStdin reads a docker save or OCI archive from standard input.
func openStdin(ctx context.Context, o Options) (*Source, error) {
	const what = "standard input"
	if o.Username != "" && o.Password != "" && o.Stdin == os.Stdin {
		// The CLI reads --password-stdin from the same standard input.
		return nil, fmt.Errorf("%w: - reads the image from standard input, which cannot also give the registry password (--password-stdin)", ErrBadReference)
	}
	if f, ok := o.Stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return nil, fmt.Errorf("%w: %s is a terminal: pipe an archive into it (docker save app | layerscan -)", ErrNotImage, what)
		}
	}
	f, err := spool(ctx, o.Stdin, o.MaxStreamSize, what)
	if err != nil {
		return nil, err
	}
	return openSpooled(f, what, o)
}

// openSpooled reads a spooled docker save or OCI archive (by its
// members); the source owns f.
func openSpooled(f *os.File, what string, o Options) (*Source, error) {
	idx, err := indexArchiveFile(f, what, o.MaxArchiveEntries)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	var src *Source
	switch {
	case idx.has("manifest.json"):
		src, err = readDockerArchive(idx, "", o)
	case idx.has("oci-layout"):
		src, err = readOCIArchive(idx, "", o)
	default:
		err = fmt.Errorf("%w: neither a docker save archive (manifest.json) nor an OCI archive (oci-layout)", ErrNotImage)
	}
	if err != nil {
		idx.Close()
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	src.closer = idx
	return src, nil
}
