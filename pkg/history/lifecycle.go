package history

import (
	"fmt"
	"strings"

	"github.com/layerscan/layerscan/pkg/walk"
)

// Status is a file's fate in the final filesystem.
type Status string

// Statuses.
const (
	Present     Status = "present"
	Deleted     Status = "deleted"
	Overwritten Status = "overwritten"
)

// Fate says what became of a file added by a layer.
type Fate struct {
	Status Status
	// By is the index of the layer that deleted or overwrote the file, or
	// -1 when the file is present.
	By int
}

// Alias is another path at which a file's content is reachable: a hardlink.
type Alias struct {
	Layer int
	// Entry is the hardlink's index among its layer's entries.
	Entry int
	Path  string
}

// key names one entry: its layer and its index among the layer's entries
// (a path can appear twice in one hostile layer).
type key struct {
	layer, entry int
}

type occupant struct {
	key
	kind walk.Kind
	// content is where the bytes are: itself, or a hardlink's source.
	content key
}

type node struct {
	children map[string]*node
	occ      *occupant
}

func (n *node) child(name string, create bool) *node {
	c := n.children[name]
	if c == nil && create {
		if n.children == nil {
			n.children = map[string]*node{}
		}
		c = &node{}
		n.children[name] = c
	}
	return c
}

// Lifecycle knows the fate of every entry of every layer.
type Lifecycle struct {
	fates   map[key]Fate
	aliases map[key][]Alias
	// Warnings are oddities seen while replaying the layers (a path twice
	// in one layer, for one).
	Warnings []string
}

// NewLifecycle replays the layers' entries, oldest first, as a container
// runtime applies them: a layer's whiteouts and opaque markers hide what
// earlier layers added (never the same layer's entries, wherever they sit
// in the tar), then its entries are applied in archive order. When a path
// appears twice in one layer the later entry wins, as when extracting.
func NewLifecycle(layers [][]walk.Entry) *Lifecycle {
	lc := &Lifecycle{fates: map[key]Fate{}, aliases: map[key][]Alias{}}
	root := &node{}
	for i, entries := range layers {
		for _, e := range entries {
			switch e.Kind {
			case walk.Opaque:
				if n := lookup(root, e.Target); n != nil {
					for name, c := range n.children {
						lc.hide(c, i, Deleted)
						delete(n.children, name)
					}
				}
			case walk.Whiteout:
				parent, name := lookupParent(root, e.Target)
				if parent != nil && parent.children[name] != nil {
					lc.hide(parent.children[name], i, Deleted)
					delete(parent.children, name)
				} else {
					lc.warn("layer %d: whiteout for %s, which is not in the layers below: it deletes nothing", i, e.Target)
				}
			}
		}
		seen := map[string]bool{}
		for j, e := range entries {
			if e.Kind == walk.Opaque || e.Kind == walk.Whiteout || (e.Path == "/" && e.Kind != walk.Dir) {
				continue // the walker warned about a non-directory at the root
			}
			if e.Kind != walk.Dir && seen[e.Path] {
				lc.warn("layer %d has %s more than once; the last entry wins", i, e.Path)
			}
			seen[e.Path] = true
			lc.apply(root, i, j, e)
		}
	}
	return lc
}

func (lc *Lifecycle) warn(format string, args ...any) {
	if len(lc.Warnings) < 100 {
		lc.Warnings = append(lc.Warnings, fmt.Sprintf(format, args...))
	}
}

// hide marks every occupant under n as gone, removed by layer by.
func (lc *Lifecycle) hide(n *node, by int, st Status) {
	if n.occ != nil && n.occ.kind != walk.Dir {
		if _, done := lc.fates[n.occ.key]; !done {
			lc.fates[n.occ.key] = Fate{Status: st, By: by}
		}
	}
	for _, c := range n.children {
		lc.hide(c, by, Deleted)
	}
}

func (lc *Lifecycle) apply(root *node, layer, idx int, e walk.Entry) {
	parts := split(e.Path)
	n := root
	for _, p := range parts {
		// A file or symlink in the way of a directory is replaced by it.
		if n.occ != nil && n.occ.kind != walk.Dir {
			lc.setFate(n.occ, Fate{Status: Overwritten, By: layer})
			n.occ = nil
		}
		n = n.child(p, true)
	}
	if old := n.occ; old != nil && old.kind != walk.Dir {
		lc.setFate(old, Fate{Status: Overwritten, By: layer})
	}
	if e.Kind != walk.Dir {
		// A directory replaced by a file takes its contents with it, be
		// it an entry of its own or only implied by the paths under it.
		for name, c := range n.children {
			lc.hide(c, layer, Deleted)
			delete(n.children, name)
		}
	}
	occ := &occupant{key: key{layer, idx}, kind: e.Kind}
	occ.content = occ.key
	if e.Kind == walk.Hardlink {
		if t := lookup(root, e.Linkname); t != nil && t.occ != nil && (t.occ.kind == walk.Regular || t.occ.kind == walk.Hardlink) {
			occ.content = t.occ.content
			lc.aliases[occ.content] = append(lc.aliases[occ.content], Alias{Layer: layer, Entry: idx, Path: e.Path})
		}
	}
	n.occ = occ
}

func (lc *Lifecycle) setFate(o *occupant, f Fate) {
	if o.kind == walk.Dir {
		return
	}
	if _, done := lc.fates[o.key]; !done {
		lc.fates[o.key] = f
	}
}

// Fate tells what became of entry number entry of layer. Entries never
// deleted or overwritten are present.
func (lc *Lifecycle) Fate(layer, entry int) Fate {
	if f, ok := lc.fates[key{layer, entry}]; ok {
		return f
	}
	return Fate{Status: Present, By: -1}
}

// Hidden tells whether entry number entry of layer, a regular file, is in
// the image but not in the final filesystem: deleted or overwritten, and
// not reachable through a hardlink that survives.
func (lc *Lifecycle) Hidden(layer, entry int) bool {
	if lc.Fate(layer, entry).Status == Present {
		return false
	}
	for _, a := range lc.Aliases(layer, entry) {
		if lc.Fate(a.Layer, a.Entry).Status == Present {
			return false
		}
	}
	return true
}

// Aliases lists the hardlinks through which the content of entry number
// entry of layer is also reachable, in layer order.
func (lc *Lifecycle) Aliases(layer, entry int) []Alias {
	return lc.aliases[key{layer, entry}]
}

func split(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func lookup(root *node, p string) *node {
	n := root
	for _, part := range split(p) {
		if n = n.child(part, false); n == nil {
			return nil
		}
	}
	return n
}

func lookupParent(root *node, p string) (*node, string) {
	parts := split(p)
	if len(parts) == 0 {
		return nil, ""
	}
	n := root
	for _, part := range parts[:len(parts)-1] {
		if n = n.child(part, false); n == nil {
			return nil, ""
		}
	}
	return n, parts[len(parts)-1]
}
