package walk

import (
	"io"
	"math/rand"
	"strings"
	"testing"

	"github.com/layerscan/layerscan/internal/testimage"
)

func fakeELF(secret string) string {
	var b strings.Builder
	b.WriteString("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	b.WriteString(strings.Repeat("\x00\x01\x02\xff", 300))
	b.WriteString("short\x00ab\x00" + secret + "\x00")
	b.WriteString(strings.Repeat("\x90\x00", 5000))
	return b.String()
}

func TestStringsReader(t *testing.T) {
	in := "\x00\x01abc\x00printable run here\x01\x02" + strings.Repeat("z", 100000) + "\x00tabs\tand spaces ok\xff1234567\x0012345678"
	out, err := io.ReadAll(newStringsReader(iotestHalf{strings.NewReader(in)}))
	if err != nil {
		t.Fatal(err)
	}
	want := "printable run here\n" + strings.Repeat("z", 100000) + "\ntabs\tand spaces ok\n12345678\n"
	if string(out) != want {
		t.Errorf("strings = %q…", string(out)[:min(len(out), 80)])
	}
}

// iotestHalf reads in small pieces, so runs cross reads.
type iotestHalf struct{ r io.Reader }

func (h iotestHalf) Read(p []byte) (int, error) { return h.r.Read(p[:min(len(p), 7)]) }

func TestIsBinary(t *testing.T) {
	for _, c := range []struct {
		head string
		want bool
	}{
		{"\x7fELF\x02", true}, {"\xca\xfe\xba\xbe\x00\x00\x00\x34", true}, {"\xcf\xfa\xed\xfe", true},
		{"MZ\x90\x00\x03\x00", true}, {"MZ is a fine start for text", false}, {"plain text\n", false},
	} {
		if got := IsBinary([]byte(c.head)); got != c.want {
			t.Errorf("IsBinary(%q) = %v", c.head, got)
		}
	}
}

func TestBinaryModes(t *testing.T) {
	elf := fakeELF(ghp)
	noise := make([]byte, 200000)
	rand.New(rand.NewSource(1)).Read(noise)
	layer := testimage.Tar(testimage.Entry{Name: "usr/bin/app", Body: elf}, testimage.Entry{Name: "noise.bin", Body: string(noise)}, testimage.Entry{Name: "t.txt", Body: "text\n"})

	opts := Options{Binaries: BinaryStrings}
	_, got := walkSeen(t, layer, opts)
	s := got["/usr/bin/app"]
	if !s.strings || s.data != ghp+"\n" {
		t.Errorf("strings mode: %+v", s)
	}
	if got["/t.txt"].strings || got["/t.txt"].data != "text\n" {
		t.Errorf("text is text: %+v", got["/t.txt"])
	}
	for _, line := range strings.Split(got["/noise.bin"].data, "\n") {
		if line != "" && len(line) < MinStringRun {
			t.Errorf("short run %q", line)
		}
	}

	opts.Binaries = BinarySkip
	res, got := walkSeen(t, layer, opts)
	if _, ok := got["/usr/bin/app"]; ok || got["/t.txt"].data != "text\n" || res.Files != 3 {
		t.Errorf("skip mode: %v files %d", got, res.Files)
	}

	opts.Binaries = BinaryFull
	_, got = walkSeen(t, layer, opts)
	if got["/usr/bin/app"].data != elf || got["/usr/bin/app"].strings {
		t.Error("full mode hands the raw bytes over")
	}
}
