package scan

import (
	"github.com/layerscan/layerscan/pkg/walk"
)

// binaryMode is the walk's treatment of binary files: printable strings
// checked against the high-confidence rules unless told otherwise.
func (s *Scanner) binaryMode() walk.BinaryMode {
	switch s.opts.Binaries {
	case walk.BinarySkip, walk.BinaryFull:
		return s.opts.Binaries
	}
	return walk.BinaryStrings
}

// accept runs the path-only rules on a file of a layer (chain nil) or a
// member of an archive inside one, and counts binaries. Every file's
// content goes on to the walker, which decides from the binary mode.
func (s *Scanner) accept(col *collector, layer, entry int, path string, chain []string, head []byte) bool {
	p := path
	if chain != nil {
		p = memberPath(path, chain)
	}
	col.addIn(layer, entry, path, chain, s.det.ScanPath(p))
	if chain == nil && s.opts.OnFile != nil {
		s.opts.OnFile(layer)
	}
	if walk.IsBinary(head) {
		col.mu.Lock()
		col.binaries++
		col.mu.Unlock()
	}
	return true
}

// scanChunk runs the detector over one chunk: the high-confidence rules
// only over a binary's strings, every rule over text (or over raw binary
// bytes with --binaries=full).
func (s *Scanner) scanChunk(col *collector, c *walk.Chunk) {
	p := c.Path
	if c.ArchivePath != nil {
		p = memberPath(c.Path, c.ArchivePath)
	}
	if c.Strings {
		col.addIn(c.Layer, c.Entry, c.Path, c.ArchivePath, s.det.ScanBinary(p, c.Data))
		return
	}
	fs := s.det.Scan(p, c.Data, c.StartLine)
	if len(fs) > 0 && c.Whole && c.ArchivePath == nil {
		// The file's bytes are all here: their digests tell vendor
		// content from the builder's (package provenance).
		d := walk.DigestsOf(c.Data)
		col.mu.Lock()
		col.digests[[2]int{c.Layer, c.Entry}] = d
		col.mu.Unlock()
	}
	col.addIn(c.Layer, c.Entry, c.Path, c.ArchivePath, fs)
}
