package walk

import (
	"archive/tar"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is what a tar entry is in the layer's change set.
type Kind uint8

// Entry kinds.
const (
	Regular  Kind = iota // a file with content
	Dir                  // a directory
	Symlink              // a symbolic link (never followed)
	Hardlink             // a hard link to Linkname in the same layer
	Whiteout             // deletes Target from earlier layers
	Opaque               // hides every earlier entry under Target
	Other                // devices, fifos, aufs metadata
)

var kindNames = [...]string{"file", "dir", "symlink", "hardlink", "whiteout", "opaque", "other"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Whiteout name prefixes from the OCI image spec.
const (
	WhiteoutPrefix = ".wh."
	OpaqueMarker   = ".wh..wh..opq"
	metaPrefix     = ".wh..wh."
)

// Entry is one tar entry of a layer. Its JSON form is compact: a layer
// result cached by a sweep holds one per entry.
type Entry struct {
	// Path is the entry's absolute, cleaned path ("/app/secret.txt"). Names
	// that climb out of the root ("../x") are clamped to it.
	Path string `json:"p"`
	Kind Kind   `json:"k,omitempty"`
	// Size is the content size of a regular file.
	Size int64 `json:"s,omitempty"`
	Mode int64 `json:"m,omitempty"`
	// Linkname is a symlink's target as written, or a hardlink's target as
	// an absolute, cleaned path.
	Linkname string `json:"l,omitempty"`
	// Target is the path a whiteout deletes or the directory an opaque
	// marker empties.
	Target string `json:"t,omitempty"`
}

// CleanPath turns a tar entry name into an absolute, cleaned path.
func CleanPath(name string) string {
	return path.Clean("/" + name)
}

// classify builds the Entry for a tar header.
func classify(hdr *tar.Header) (Entry, string) {
	p := CleanPath(hdr.Name)
	e := Entry{Path: p, Size: hdr.Size, Mode: hdr.Mode}
	var warning string
	switch {
	case strings.Contains("/"+hdr.Name+"/", "/../"):
		warning = "entry name climbs out of the root: " + quote(hdr.Name) + ", recorded as " + quote(p)
	case !utf8.ValidString(hdr.Name):
		warning = "entry name is not valid UTF-8: " + strconv.Quote(hdr.Name)
	}
	base, dir := path.Base(p), path.Dir(p)
	switch {
	case base == OpaqueMarker:
		e.Kind, e.Target, e.Size = Opaque, dir, 0
	case strings.HasPrefix(base, metaPrefix):
		e.Kind, e.Size = Other, 0 // aufs hardlink directories and the like
	case strings.HasPrefix(base, WhiteoutPrefix):
		e.Kind, e.Target, e.Size = Whiteout, path.Join(dir, strings.TrimPrefix(base, WhiteoutPrefix)), 0
	default:
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont:
			e.Kind = Regular
		case tar.TypeDir:
			e.Kind, e.Size = Dir, 0
		case tar.TypeSymlink:
			e.Kind, e.Linkname, e.Size = Symlink, hdr.Linkname, 0
		case tar.TypeLink:
			e.Kind, e.Linkname, e.Size = Hardlink, CleanPath(hdr.Linkname), 0
		case tar.TypeChar:
			if hdr.Devmajor == 0 && hdr.Devminor == 0 {
				// overlayfs's own whiteout, written by some tools.
				e.Kind, e.Target, e.Size = Whiteout, p, 0
				warning = "overlayfs whiteout device (0/0) at " + quote(p)
				break
			}
			e.Kind, e.Size = Other, 0
		default:
			e.Kind, e.Size = Other, 0
		}
	}
	if p == "/" && e.Kind != Dir {
		// "..", "/" or "./" as a file, link or whiteout: nothing a runtime
		// can put at the root; recorded, but never part of the filesystem.
		e.Kind, e.Size, e.Target, e.Linkname = Other, 0, "", ""
		warning = "entry " + quote(hdr.Name) + " names the root directory and is not a directory: ignored"
	}
	return e, warning
}

func quote(s string) string {
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
