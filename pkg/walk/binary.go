package walk

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/bits"
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

// nextLongRun looks for runs of 8 bytes: changing MinStringRun needs a
// change there, and these fail to compile until then.
var (
	_ [MinStringRun - 8]struct{}
	_ [8 - MinStringRun]struct{}
)

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
// characters, space and tab. printable8 computes the same set without the
// table: change both together.
var printable = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	t['\t'] = true
	return t
}()

// stringsReader turns a binary stream into its printable runs of at least
// MinStringRun bytes, one per line, in one pass with fixed buffers. Runs
// that span reads of the source come out whole, and a long run at the
// end of the stream ends with '\n' too; the source's error (io.EOF
// included) is returned once all of that has been read.
//
// It works on whole runs rather than byte by byte: each read of the source
// is first turned into a bitmap of its printable bytes, eight bytes at a
// time (printableBits), in which the starts of long enough runs are looked
// for 64 bytes at a time (nextLongRun), so the stretches without one, most
// of a binary, cost a few instructions per word; each run is then copied
// out with one append.
type stringsReader struct {
	src  io.Reader
	in   []byte
	bits []uint64 // printable bitmap of in (see printableBits), one word more
	out  []byte   // out[pos:] is still to be read
	pos  int
	run  []byte // the start of a run not yet MinStringRun long
	long bool   // the current run is being copied out
	err  error
}

// stringsBuf is the size of stringsReader's reads of its source.
const stringsBuf = 64 << 10

func newStringsReader(r io.Reader) *stringsReader {
	return &stringsReader{
		src:  r,
		in:   make([]byte, stringsBuf),
		bits: make([]uint64, stringsBuf/64+1),
		// A read's runs and newlines take at most one byte for each
		// byte read, plus the carried-over start of a run.
		out: make([]byte, 0, stringsBuf+MinStringRun),
		run: make([]byte, 0, MinStringRun),
	}
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
		s.scan(s.in[:n])
	}
	n := copy(p, s.out[s.pos:])
	s.pos += n
	return n, nil
}

// scan appends the long runs of in to s.out, each followed by '\n' unless
// it reaches the end of in: first the rest of the run left open by the
// previous read (s.long, or s.run while that is still short), then the
// runs found in in's bitmap. A run at the end of in is left open for the
// next read (or for Read's '\n' at the end of the stream).
func (s *stringsReader) scan(in []byte) {
	n := len(in)
	if n == 0 {
		return
	}
	bm := s.bits[:(n+63)/64+1]
	printableBits(bm, in)
	i := 0 // in[i-1], if any, is not printable
	if s.long || len(s.run) > 0 {
		e := nextUnprintable(bm, 0)
		switch {
		case s.long:
			s.out = append(s.out, in[:e]...)
		case len(s.run)+e >= MinStringRun:
			s.out = append(s.out, s.run...)
			s.out = append(s.out, in[:e]...)
			s.long = true
		case e == n:
			s.run = append(s.run, in...)
			return
		}
		s.run = s.run[:0]
		if e == n {
			return
		}
		if s.long {
			s.out = append(s.out, '\n')
			s.long = false
		}
		i = e + 1
	}
	for {
		// The first long run from i starts after a byte that is not
		// printable, or at i, so it is a whole run.
		start := nextLongRun(bm, i)
		if start < 0 {
			break
		}
		e := nextUnprintable(bm, start+MinStringRun)
		s.out = append(s.out, in[start:e]...)
		if e == n {
			s.long = true
			return
		}
		s.out = append(s.out, '\n')
		i = e + 1
	}
	// The run at the end of in, if any, is shorter than MinStringRun:
	// remember it.
	t := n
	for t > i && printable[in[t-1]] {
		t--
	}
	s.run = append(s.run, in[t:]...)
}

const (
	lanes01 = 0x0101010101010101
	lanes7f = 0x7f * lanes01
	lanes80 = 0x80 * lanes01
)

// printableBits sets bm to the bitmap of in's printable bytes: bit i%64
// of bm[i/64] is set if in[i] is printable. The bits past len(in), to the
// end of bm, are 0; bm must have room for at least one of them.
func printableBits(bm []uint64, in []byte) {
	w := 0
	for ; (w+1)*64 <= len(in); w++ {
		b := in[w*64 : w*64+64]
		bm[w] = printable8(binary.LittleEndian.Uint64(b[0:])) |
			printable8(binary.LittleEndian.Uint64(b[8:]))<<8 |
			printable8(binary.LittleEndian.Uint64(b[16:]))<<16 |
			printable8(binary.LittleEndian.Uint64(b[24:]))<<24 |
			printable8(binary.LittleEndian.Uint64(b[32:]))<<32 |
			printable8(binary.LittleEndian.Uint64(b[40:]))<<40 |
			printable8(binary.LittleEndian.Uint64(b[48:]))<<48 |
			printable8(binary.LittleEndian.Uint64(b[56:]))<<56
	}
	clear(bm[w:])
	for i, c := range in[w*64:] {
		if printable[c] {
			bm[w] |= 1 << i
		}
	}
}

// printable8 returns the bitmap of the printable bytes among the eight in
// x (little-endian), as the result's low eight bits. It works on all eight
// bytes at once: with their top bits cleared, adding to a byte cannot
// carry into the next one, and the sum's top bit says whether the byte is
// at least 0x20, is 0x7f, or (after the XOR) differs from '\t'.
func printable8(x uint64) uint64 {
	low := x & lanes7f
	ge20 := low + (0x80-0x20)*lanes01
	is7f := low + lanes01
	t := x ^ '\t'*lanes01
	notTab := (t&lanes7f + lanes7f) | t
	p := (ge20&^is7f&^x | ^notTab) & lanes80
	// Gather the eight top bits into the top byte, in order: the
	// multiplier moves lane j's bit 8j+7 to 56+j, and nothing collides.
	return p * 0x0002040810204081 >> 56
}

// nextLongRun returns the first i >= from where MinStringRun printable
// bytes start in the bitmap bm (from printableBits), or -1.
func nextLongRun(bm []uint64, from int) int {
	w := from / 64
	mask := ^uint64(0) << (from % 64)
	for ; w+1 < len(bm); w++ {
		m, next := bm[w], bm[w+1]
		// Bit i of r says bits i and i+1 of m are set, of r2 bits i to
		// i+3, of r3 bits i to i+7 (MinStringRun), taking the bits past
		// 63 from next.
		r, rn := m&(m>>1|next<<63), next&(next>>1)
		r2, r2n := r&(r>>2|rn<<62), rn&(rn>>2)
		r3 := r2 & (r2>>4 | r2n<<60) & mask
		if r3 != 0 {
			return w*64 + bits.TrailingZeros64(r3)
		}
		mask = ^uint64(0)
	}
	return -1
}

// nextUnprintable returns the first i >= from where the bitmap bm (from
// printableBits) has a 0: the end of the run that has in[from-1], or
// len(in) if it reaches there.
func nextUnprintable(bm []uint64, from int) int {
	w := from / 64
	z := ^bm[w] &^ (1<<(from%64) - 1)
	for z == 0 {
		w++
		z = ^bm[w]
	}
	return w*64 + bits.TrailingZeros64(z)
}
