package walk

import (
	"bytes"
	"io"
)

// BinaryMode says what Walk does with the content of binary files.
type BinaryMode string

// Binary modes.
const (
	// BinaryFull (or "") hands binary files' raw bytes over like text.
	BinaryFull BinaryMode = "full"
	// BinaryStrings hands over only the printable string runs of binary
	// files (Chunk.Strings is set), one run per line.
	BinaryStrings BinaryMode = "strings"
	// BinarySkip hands nothing of binary files over.
	BinarySkip BinaryMode = "skip"
)

// BinarySniff is how much of a file's start IsBinary looks at.
const BinarySniff = 8000

// MinStringRun is the shortest printable run kept from a binary file.
const MinStringRun = 8

var binaryMagics = [][]byte{
	[]byte("\x7fELF"),        // ELF
	{0xfe, 0xed, 0xfa, 0xce}, // Mach-O 32
	{0xfe, 0xed, 0xfa, 0xcf}, // Mach-O 64
	{0xce, 0xfa, 0xed, 0xfe}, // Mach-O 32, little-endian
	{0xcf, 0xfa, 0xed, 0xfe}, // Mach-O 64, little-endian
	{0xca, 0xfe, 0xba, 0xbe}, // Java class file, Mach-O fat binary
	[]byte("\x00asm"),        // WebAssembly
}

// IsBinary tells a binary file from text by its first bytes: an
// executable or class-file magic number, or a NUL byte in the first
// BinarySniff bytes (PE files, whose "MZ" is too short to trust alone,
// always have NULs in their header).
func IsBinary(head []byte) bool {
	for _, m := range binaryMagics {
		if bytes.HasPrefix(head, m) {
			return true
		}
	}
	return bytes.IndexByte(head[:min(len(head), BinarySniff)], 0) >= 0
}

// printable is true for the bytes kept in a string run: ASCII graphic
// characters, space and tab.
var printable = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	t['\t'] = true
	return t
}()

// stringsReader turns a binary stream into its printable runs of at least
// MinStringRun bytes, one per line, in one pass with fixed buffers.
type stringsReader struct {
	src  io.Reader
	in   []byte
	out  []byte // out[pos:] is still to be read
	pos  int
	run  []byte // the start of a run not yet MinStringRun long
	long bool   // the current run is being copied out
	err  error
}

func newStringsReader(r io.Reader) *stringsReader {
	return &stringsReader{src: r, in: make([]byte, 64<<10), out: make([]byte, 0, 64<<10), run: make([]byte, 0, MinStringRun)}
}

func (s *stringsReader) Read(p []byte) (int, error) {
	for s.pos == len(s.out) {
		s.out, s.pos = s.out[:0], 0
		if s.err != nil {
			if !s.long {
				return 0, s.err
			}
			s.long = false
			s.out = append(s.out, '\n')
			break
		}
		n, err := s.src.Read(s.in)
		s.err = err
		for _, c := range s.in[:n] {
			switch {
			case printable[c] && s.long:
				s.out = append(s.out, c)
			case printable[c]:
				s.run = append(s.run, c)
				if len(s.run) == MinStringRun {
					s.out = append(s.out, s.run...)
					s.run, s.long = s.run[:0], true
				}
			case s.long:
				s.out = append(s.out, '\n')
				s.long = false
			default:
				s.run = s.run[:0]
			}
		}
	}
	n := copy(p, s.out[s.pos:])
	s.pos += n
	return n, nil
}
