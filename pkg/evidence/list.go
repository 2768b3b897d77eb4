package evidence

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/history"
	"github.com/layerscan/layerscan/pkg/walk"
)

// Listed is one tar entry of one layer, with what became of it.
type Listed struct {
	// Layer is the layer's index; Index the entry's position in its tar.
	Layer, Index int
	walk.Entry
	// Fate is the entry's fate in the final filesystem: present, or deleted
	// or overwritten by layer Fate.By. Whiteouts, opaque markers and
	// directories are always present.
	Fate history.Fate
	// Aliases are the hardlinks through which this regular file's content
	// is reachable too.
	Aliases []history.Alias
	// Hidden is set for a regular file that is deleted or overwritten and
	// not reachable through any surviving hardlink: its bytes are in the
	// image but not in the final filesystem.
	Hidden bool
}

// Layer is what listing one layer found.
type Layer struct {
	Index int
	// Digest is the layer's stored digest as read.
	Digest v1.Hash
	// Entries counts the layer's tar entries; Bytes its uncompressed size.
	Entries int
	Bytes   int64
	// HiddenFiles and HiddenBytes count the layer's regular files that
	// later layers deleted or overwrote (Listed.Hidden), and their sizes.
	HiddenFiles int
	HiddenBytes int64
	// Err is set when the layer could not be read to its end: the entries
	// before the failure are listed, and fates may be incomplete.
	Err error
}

// Listing is every entry of an image's layers.
type Listing struct {
	// Entries are grouped by layer, base first, in tar order.
	Entries []Listed
	Layers  []Layer
	// Warnings are oddities seen while reading or replaying the layers.
	Warnings []string
}

// Incomplete tells whether a layer could not be read to its end.
func (l *Listing) Incomplete() bool {
	for _, li := range l.Layers {
		if li.Err != nil {
			return true
		}
	}
	return false
}

// List reads every layer once, headers only (no content goes to a
// detector), and gives each entry its fate from history.NewLifecycle. A
// layer that cannot be read is reported in its Layer.Err; the returned
// error is only for a cancelled context.
func List(ctx context.Context, layers []fetch.Layer, opts Options) (*Listing, error) {
	wopts := walk.Options{
		Jobs:       opts.Jobs,
		Workers:    1,
		ChunkSize:  4096, // the least Walk reads before asking Accept
		MaxEntries: opts.maxEntries(),
		Limits:     opts.Limits,
		Accept:     func(int, int, *walk.Entry, []byte) bool { return false },
	}
	results, err := walk.Walk(ctx, layers, wopts, func(context.Context, *walk.Chunk) error { return nil })
	if err != nil {
		return nil, err
	}
	all := make([][]walk.Entry, len(results))
	for i, r := range results {
		all[i] = r.Entries
	}
	lc := history.NewLifecycle(all)
	out := &Listing{Layers: make([]Layer, len(results))}
	for i, r := range results {
		li := Layer{Index: r.Index, Digest: r.Digest, Entries: len(r.Entries), Bytes: r.Bytes, Err: r.Err}
		for _, w := range r.Warnings {
			out.Warnings = append(out.Warnings, fmt.Sprintf("layer %d: %s", i, w))
		}
		for j, e := range r.Entries {
			en := Listed{Layer: i, Index: j, Entry: e, Fate: lc.Fate(i, j)}
			if e.Kind == walk.Regular {
				en.Aliases = lc.Aliases(i, j)
				en.Hidden = lc.Hidden(i, j)
				if en.Hidden {
					li.HiddenFiles++
					li.HiddenBytes += e.Size
				}
			}
			out.Entries = append(out.Entries, en)
		}
		out.Layers[i] = li
	}
	out.Warnings = append(out.Warnings, lc.Warnings...)
	return out, nil
}
