package report

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/layerscan/layerscan/pkg/evidence"
	"github.com/layerscan/layerscan/pkg/history"
	"github.com/layerscan/layerscan/pkg/sanitize"
	"github.com/layerscan/layerscan/pkg/walk"
)

// ListingOptions say what WriteListing shows.
type ListingOptions struct {
	// Instructions are the layers' instructions (history.Map), by layer.
	Instructions []string
	// Only, when ≥ 0, lists that layer alone; Deleted lists only the
	// entries a later layer deleted or overwrote; Long adds mode, size
	// and link targets.
	Only          int
	Deleted, Long bool
	// Redact hides secrets in names (a file may be named after one); nil
	// shows them.
	Redact func(string) string
}

// WriteListing writes every entry of every layer with its fate, grouped
// by layer (layerscan ls). Names are redacted and sanitised.
func WriteListing(out io.Writer, list *evidence.Listing, o ListingOptions) error {
	ew := &errWriter{w: out}
	show := func(s string) string {
		if o.Redact != nil {
			s = o.Redact(s)
		}
		return sanitize.Text(s)
	}
	byLayer := make([][]evidence.Listed, len(list.Layers))
	for _, e := range list.Entries {
		if o.Deleted && e.Fate.Status == history.Present {
			continue
		}
		byLayer[e.Layer] = append(byLayer[e.Layer], e)
	}
	first := true
	for i, li := range list.Layers {
		if (o.Only >= 0 && i != o.Only) || (o.Deleted && len(byLayer[i]) == 0 && li.Err == nil) {
			continue
		}
		if !first {
			ew.printf("\n")
		}
		first = false
		instr := history.MissingInstruction
		if i < len(o.Instructions) {
			instr = o.Instructions[i]
		}
		ew.printf("Layer %d  %s  %s\n", i, ShortDigest(li.Digest.String()), show(instr))
		if li.Err != nil {
			ew.printf("  ! could not be read to its end: %s\n", show(sanitize.OneLine(li.Err.Error())))
		}
		tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
		for _, e := range byLayer[i] {
			fate := string(e.Fate.Status)
			if e.Fate.By >= 0 {
				fate = fmt.Sprintf("%s by layer %d", e.Fate.Status, e.Fate.By)
			}
			if e.Kind == walk.Whiteout || e.Kind == walk.Opaque {
				fate = "-"
			}
			name := show(e.Path)
			switch e.Kind {
			case walk.Whiteout:
				name += "  (deletes " + show(e.Target) + ")"
			case walk.Opaque:
				name += "  (empties " + show(e.Target) + ")"
			case walk.Symlink, walk.Hardlink:
				if o.Long {
					name += " -> " + show(e.Linkname)
				}
			}
			if o.Long {
				size := "-"
				if e.Kind == walk.Regular {
					size = fmt.Sprint(e.Size)
				}
				fmt.Fprintf(tw, "  %s\t%s\t%04o\t%s\t%s\n", fate, e.Kind, e.Mode&0o7777, size, name)
			} else {
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", fate, e.Kind, name)
			}
		}
		tw.Flush()
	}
	return ew.err
}
