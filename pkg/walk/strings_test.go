package walk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// refStrings is the byte-at-a-time stringsReader this package had before
// it worked on whole runs, kept as the reference the reader must match
// byte for byte: every printable run of at least MinStringRun bytes,
// each followed by '\n' (also the one at the end of the input).
func refStrings(in []byte) []byte {
	var out, run []byte
	long := false
	for _, c := range in {
		switch {
		case printable[c] && long:
			out = append(out, c)
		case printable[c]:
			run = append(run, c)
			if len(run) == MinStringRun {
				out = append(out, run...)
				run, long = run[:0], true
			}
		case long:
			out = append(out, '\n')
			long = false
		default:
			run = run[:0]
		}
	}
	if long {
		out = append(out, '\n')
	}
	return out
}

// chunkReader delivers its data in reads of random size (0 to max bytes,
// never more than asked), so runs cross reads at every possible place.
type chunkReader struct {
	data []byte
	rng  *rand.Rand
	max  int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(c.rng.Intn(c.max+1), len(p), len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// readers are the ways the differential tests feed data to the reader.
func readers(data []byte, seed int64) map[string]io.Reader {
	return map[string]io.Reader{
		"whole":    bytes.NewReader(data),
		"onebyte":  iotest.OneByteReader(bytes.NewReader(data)),
		"half":     iotest.HalfReader(bytes.NewReader(data)),
		"chunks17": &chunkReader{data: data, rng: rand.New(rand.NewSource(seed)), max: 17},
		"chunks4k": &chunkReader{data: data, rng: rand.New(rand.NewSource(seed)), max: 4 << 10},
		"dataeof":  iotest.DataErrReader(bytes.NewReader(data)),
	}
}

// readAllVaried reads r to its end with reads of varying size, some of
// them empty, as callers other than io.ReadAll might.
func readAllVaried(r io.Reader, rng *rand.Rand) ([]byte, error) {
	var out []byte
	buf := make([]byte, 70<<10)
	for {
		n, err := r.Read(buf[:rng.Intn(len(buf)+1)])
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func checkStrings(t *testing.T, name string, data []byte) {
	t.Helper()
	want := refStrings(data)
	for how, r := range readers(data, int64(len(data))) {
		got, err := io.ReadAll(newStringsReader(r))
		if err != nil {
			t.Fatalf("%s, %s: %v", name, how, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s, %s: %s", name, how, firstDiff(got, want))
		}
	}
	got, err := readAllVaried(newStringsReader(bytes.NewReader(data)), rand.New(rand.NewSource(int64(len(data)))))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s, varied reads: %v %s", name, err, firstDiff(got, want))
	}
}

func firstDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Sprintf("first difference at %d of %d/%d bytes: got %s, want %s", i, len(got), len(want), around(got, i), around(want, i))
}

// around quotes b near i.
func around(b []byte, i int) string {
	return fmt.Sprintf("%q", b[max(0, i-20):min(len(b), i+20)])
}

func TestStringsReaderEdgeCases(t *testing.T) {
	run := func(n int) string { return strings.Repeat("r", n) }
	cases := []string{
		"",
		"\x00",
		run(1), run(7), run(8), run(9), run(15), run(16), run(17), run(64), run(65),
		"\x00" + run(7), "\x00" + run(8), "\x00" + run(9),
		run(7) + "\x00", run(8) + "\x00", run(9) + "\x00",
		"\x00" + run(7) + "\x00", "\x00" + run(8) + "\x00", "\x00" + run(9) + "\x00",
		run(7) + "\x00" + run(7), run(8) + "\x00" + run(8), run(7) + "\x7f" + run(8) + "\x80" + run(9),
		"tab\tin\ta\trun\t", "\t\t\t\t\t\t\t", "\t\t\t\t\t\t\t\t", "\t\t\t\t\t\t\t\t\x0a\t",
		"\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f", "abc\x7fdefghij\x7fklmnopqrs",
		"\xff\xfe\xa0\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9", "caf\xc3\xa9 au lait, ol\xc3\xa9!",
		"\x1f" + run(8) + "\x20" + run(8), " ~~~~~~~", " ~~~~~~~~", "\n\n\n\n\n\n\n\n\n",
		"\x00\x01\x02" + run(100) + "\x03" + run(6) + "\x04" + run(8),
		strings.Repeat(run(7)+"\x00", 100), strings.Repeat(run(8)+"\x00", 100), strings.Repeat(run(8)+"\x00\x00", 100),
		strings.Repeat("\x00", 10000) + run(8),
	}
	// Runs of every length ending at every place around the reader's
	// buffer boundaries (its input buffer is 64 KiB).
	for _, size := range []int{64 << 10, 128 << 10} {
		for _, n := range []int{1, 6, 7, 8, 9, 20} {
			for _, end := range []int{size - 9, size - 8, size - 7, size - 1, size, size + 1, size + 7, size + 8, size + 9} {
				b := bytes.Repeat([]byte{0}, end+3)
				copy(b[max(0, end-n):end], run(n))
				cases = append(cases, string(b), string(b[:end]))
				b = []byte(strings.Repeat("x", end+3))
				b[end-n-1] = 0
				cases = append(cases, string(b), string(b[:end]))
			}
		}
	}
	for i, c := range cases {
		checkStrings(t, fmt.Sprintf("case %d (%.20q, %d bytes)", i, c, len(c)), []byte(c))
	}
}

// TestStringsReaderRandom checks random bytes, from all 256 values and
// from mostly-printable alphabets where runs are long and varied.
func TestStringsReaderRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	alphabets := [][]byte{
		nil, // all bytes
		[]byte("abcdefgh\x00"),
		[]byte("abcdefghijklmnopqrstuvwxyz0123456789 \t\x00"),
		[]byte("ab\t \x7f\x1f\x80\xff~"),
		[]byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\x00"),
	}
	for i := 0; i < 200; i++ {
		n := rng.Intn(1 << (4 + rng.Intn(15)))
		b := make([]byte, n)
		alpha := alphabets[i%len(alphabets)]
		for j := range b {
			if alpha == nil {
				b[j] = byte(rng.Intn(256))
			} else {
				b[j] = alpha[rng.Intn(len(alpha))]
			}
		}
		checkStrings(t, fmt.Sprintf("random %d", i), b)
	}
}

// TestStringsReaderRealBinaries checks programs and libraries from this
// machine, a few MB of them.
func TestStringsReaderRealBinaries(t *testing.T) {
	files := realBinaries([]string{"/usr/bin/*", "/usr/lib/x86_64-linux-gnu/*.so*"}, 6, 2<<20)
	if len(files) == 0 {
		t.Skip("no binaries in /usr/bin or /usr/lib/x86_64-linux-gnu")
	}
	for _, f := range files {
		checkStrings(t, f.name, f.data)
	}
}

type namedData struct {
	name string
	data []byte
}

// realBinaries reads up to per binary files from each glob, in name order,
// at most total bytes a glob, skipping symlinks, files under 4 KiB and
// files over total/2.
func realBinaries(globs []string, per int, total int64) []namedData {
	var out []namedData
	for _, g := range globs {
		names, _ := filepath.Glob(g)
		slices.Sort(names)
		var sum int64
		count := 0
		for _, name := range names {
			fi, err := os.Lstat(name)
			if err != nil || !fi.Mode().IsRegular() || fi.Size() < 4<<10 || fi.Size() > total/2 || sum+fi.Size() > total {
				continue
			}
			b, err := os.ReadFile(name)
			if err != nil || !IsBinary(b) {
				continue
			}
			out = append(out, namedData{name, b})
			sum += int64(len(b))
			if count++; count == per {
				break
			}
		}
	}
	return out
}

var errSource = errors.New("source broke")

// failingReader hands its data over in reads of at most 1000 bytes, then err.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p[:min(len(p), 1000)], f.data)
	f.data = f.data[n:]
	return n, nil
}

// TestStringsReaderErrors checks that a source's error comes out after all
// the data, once a long run at the end has its '\n', and then again on
// every further Read, as before.
func TestStringsReaderErrors(t *testing.T) {
	for _, in := range []string{"", "abc", "\x00" + strings.Repeat("y", 5000), strings.Repeat("y", 3000) + "\x00", "12345678\x00abc"} {
		for _, dataErr := range []bool{false, true} {
			var src io.Reader = &failingReader{[]byte(in), errSource}
			if dataErr {
				src = iotest.DataErrReader(src)
			}
			s := newStringsReader(src)
			got, err := io.ReadAll(s)
			if err != errSource {
				t.Errorf("%.10q: err %v", in, err)
			}
			if want := refStrings([]byte(in)); !bytes.Equal(got, want) {
				t.Errorf("%.10q: %s", in, firstDiff(got, want))
			}
			for range 2 {
				if n, err := s.Read(make([]byte, 10)); n != 0 || err != errSource {
					t.Errorf("%.10q: after the error, Read = %d, %v", in, n, err)
				}
			}
		}
	}
	// Timeouts and other errors that come with data keep their data.
	s := newStringsReader(iotest.TimeoutReader(strings.NewReader(strings.Repeat("z", 10))))
	if got, err := io.ReadAll(s); string(got) != "zzzzzzzzzz\n" || err != iotest.ErrTimeout {
		t.Errorf("timeout: %q %v", got, err)
	}
}

func FuzzStringsReader(f *testing.F) {
	f.Add([]byte(""), uint8(0))
	f.Add([]byte("\x00\x01abc\x00printable run here\x01\x02tabs\tand spaces ok\xff1234567\x0012345678"), uint8(3))
	f.Add([]byte("1234567\x7f12345678\x80123456789\t\t\t\t\t\t\t\t"), uint8(1))
	f.Add(bytes.Repeat([]byte("abcdefg\x00"), 50), uint8(7))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		want := refStrings(data)
		var src io.Reader = bytes.NewReader(data)
		if chunk > 0 {
			src = &chunkReader{data: data, rng: rand.New(rand.NewSource(int64(chunk))), max: int(chunk)}
		}
		got, err := io.ReadAll(newStringsReader(src))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s", firstDiff(got, want))
		}
	})
}

// BenchmarkStringsReader runs the reader over ~32 MB of this machine's
// shared libraries, as Walk does in BinaryStrings mode (a new reader per
// file, read in large pieces).
func BenchmarkStringsReader(b *testing.B) {
	files := realBinaries([]string{"/usr/lib/x86_64-linux-gnu/*.so*"}, 1000, 32<<20)
	if len(files) == 0 {
		b.Skip("no libraries in /usr/lib/x86_64-linux-gnu")
	}
	var size int64
	for _, f := range files {
		size += int64(len(f.data))
	}
	b.SetBytes(size)
	buf := make([]byte, 1<<20)
	var out int64
	b.ResetTimer()
	for b.Loop() {
		out = 0
		for _, f := range files {
			s := newStringsReader(bytes.NewReader(f.data))
			for {
				n, err := io.ReadFull(s, buf)
				out += int64(n)
				if err != nil {
					break
				}
			}
		}
	}
	b.ReportMetric(float64(out)/float64(size), "out/in")
}
