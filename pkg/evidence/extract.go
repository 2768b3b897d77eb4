package evidence

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/layerscan/layerscan/internal/ctxio"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/outfile"
	"github.com/layerscan/layerscan/pkg/walk"
)

// ErrNotFound says the layer has no entry at the path asked for.
var ErrNotFound = errors.New("no such path in the layer")

// ErrNotRegular says the entry at the path is not a regular file (nor a
// hardlink to one): a directory, symlink, whiteout or device.
var ErrNotRegular = errors.New("not a regular file")

// Options bound what Extract and List read.
type Options struct {
	// MaxEntries bounds the tar entries read from one layer
	// (default walk.DefaultMaxEntries).
	MaxEntries int
	// Jobs is how many layers List reads at once (default: CPUs).
	Jobs int
	// Limits are the walk's bounds (sizes, ratios, path lengths): the
	// same as the scan's, so that a path a report names is the path
	// Extract matches.
	Limits walk.Limits
}

func (o Options) maxEntries() int {
	if o.MaxEntries < 1 {
		return walk.DefaultMaxEntries
	}
	return o.MaxEntries
}

// Extract writes to w the content of the regular file at path exactly as
// layer stores it, whatever later layers did to it. path is cleaned the way
// layer entries are ("app/x" and "/app/./x" both name "/app/x"). A hardlink
// at path is resolved to its target in the same layer (which costs a second
// read of the layer up to the target); a symlink is never followed. When a
// (hostile) layer holds path more than once, the first regular entry is
// written. At most the tar header's size is copied. The layer's digests are
// not checked: Extract stops reading at the file.
func Extract(ctx context.Context, layer fetch.Layer, path string, w io.Writer, opts Options) error {
	if outer, chain := SplitMember(path); len(chain) > 0 {
		// PATH!member: a file inside a (nested) archive — unless the layer
		// holds a file whose own name has a "!".
		err := extractMember(ctx, layer, outer, chain, w, opts)
		if !errors.Is(err, ErrNotFound) || !strings.HasPrefix(err.Error(), walk.CleanPath(outer)+" is not in layer") {
			return err
		}
	}
	want := walk.CleanPath(path)
	seen := map[string]walk.Entry{} // earlier entries, for hardlink targets
	_, e, err := find(ctx, layer, opts, func(_ int, e walk.Entry) (bool, error) {
		if e.Path == want {
			return true, nil
		}
		if rec, cut := walk.RecordPath(e.Path, opts.Limits.MaxPathLen, opts.Limits.MaxPathDepth); cut && rec == want {
			return true, nil // the path a report gives for a long one
		}
		if e.Kind == walk.Regular || e.Kind == walk.Hardlink {
			if _, dup := seen[e.Path]; !dup {
				seen[e.Path] = e
			}
		}
		return false, nil
	}, w)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%s is not in layer %d: %w", want, layer.Index, ErrNotFound)
	}
	if err != nil || e.Kind == walk.Regular {
		return err
	}
	if e.Kind != walk.Hardlink {
		return fmt.Errorf("%s in layer %d is a %s%s: %w", want, layer.Index, e.Kind, linkNote(e), ErrNotRegular)
	}
	// Follow hardlink chains through the entries before it.
	target := e.Linkname
	for hops := 0; ; hops++ {
		t, ok := seen[target]
		if !ok || hops > 64 {
			return fmt.Errorf("%s in layer %d is a hardlink to %s, which the layer does not hold before it: %w", want, layer.Index, e.Linkname, ErrNotFound)
		}
		if t.Kind == walk.Regular {
			break
		}
		target = t.Linkname
	}
	_, _, err = find(ctx, layer, opts, func(_ int, e walk.Entry) (bool, error) {
		return e.Path == target && e.Kind == walk.Regular, nil
	}, w)
	return err
}

func linkNote(e walk.Entry) string {
	switch e.Kind {
	case walk.Symlink:
		return " to " + e.Linkname + " (symlinks are not followed)"
	case walk.Whiteout, walk.Opaque:
		return " for " + e.Target
	}
	return ""
}

// find reads the layer's entries until match says stop. When the matching
// entry is a regular file, its content is copied to w.
func find(ctx context.Context, layer fetch.Layer, opts Options, match func(int, walk.Entry) (bool, error), w io.Writer) (int, walk.Entry, error) {
	tr, c, err := walk.OpenTar(layer, opts.Limits)
	if err != nil {
		return -1, walk.Entry{}, fmt.Errorf("layer %d: %w", layer.Index, err)
	}
	defer c.Close()
	limit := opts.maxEntries()
	for i := 0; ; i++ {
		if err := ctx.Err(); err != nil {
			return -1, walk.Entry{}, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return -1, walk.Entry{}, ErrNotFound
		}
		if err != nil {
			return -1, walk.Entry{}, fmt.Errorf("layer %d: reading tar entry %d: %w", layer.Index, i, err)
		}
		if i >= limit {
			return -1, walk.Entry{}, fmt.Errorf("layer %d: %w", layer.Index, walk.TooManyEntries(limit))
		}
		e := walk.EntryOf(hdr)
		ok, err := match(i, e)
		if err != nil {
			return -1, e, err
		}
		if !ok {
			continue
		}
		if e.Kind != walk.Regular {
			return i, e, nil
		}
		n, err := io.CopyN(w, ctxio.Reader(ctx, tr), hdr.Size)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return i, e, fmt.Errorf("layer %d: %s: copied %d of %d bytes: %w", layer.Index, e.Path, n, hdr.Size, err)
		}
		return i, e, nil
	}
}

// ExtractFile is Extract into the file dest, created 0600 and never
// overwritten unless force (a symbolic link at dest is refused, or with
// force replaced: outfile.Create); dest is removed when the extraction
// fails.
func ExtractFile(ctx context.Context, layer fetch.Layer, path, dest string, force bool, opts Options) (err error) {
	f, err := outfile.Create(dest, outfile.Options{Mode: 0o600, Secret: true, Force: force})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(dest)
		}
	}()
	return Extract(ctx, layer, path, f, opts)
}
