package walk

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	dsbzip2 "github.com/dsnet/compress/bzip2"
	ulxz "github.com/ulikunitz/xz"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/fetch"
)

const (
	ghp  = "ghp_R7tLw9ZcY4bHf6sDg1aEo5uIyT0Qeq8Jk2mV"
	akia = "AKIAZ7QH3LMNX4TR2KWP"
)

type zipEntry struct {
	name, body string
	store      bool
}

func makeZip(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		m := zip.Deflate
		if e.store {
			m = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: m})
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, e.body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func bz2(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw, err := dsbzip2.NewWriter(&buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func xzOf(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw, err := ulxz.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

type seen struct {
	path, chain string
	data        string
	strings     bool
}

// walkSeen walks one uncompressed layer and returns every chunk by
// "path!chain" plus the layer's result.
func walkSeen(t *testing.T, layer []byte, opts Options) (Result, map[string]seen) {
	t.Helper()
	var mu sync.Mutex
	got := map[string]seen{}
	res, err := Walk(context.Background(), []fetch.Layer{layerOf(0, layer, layer)}, opts, func(_ context.Context, c *Chunk) error {
		mu.Lock()
		defer mu.Unlock()
		k := c.Path
		if c.ArchivePath != nil {
			k += "!" + strings.Join(c.ArchivePath, "!")
		}
		s := got[k]
		s.path, s.chain, s.strings = c.Path, strings.Join(c.ArchivePath, "!"), c.Strings
		s.data += string(c.Data)
		got[k] = s
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil {
		t.Fatalf("layer error: %v", res[0].Err)
	}
	return res[0], got
}

func archiveOpts() Options {
	return Options{Archives: ArchiveOptions{MaxDepth: DefaultArchiveDepth}, Binaries: BinaryStrings}
}

func hasWarning(r Result, path, chain, text string) bool {
	for _, w := range r.FileWarnings {
		if w.Path == path && strings.Join(w.ArchivePath, "!") == chain && strings.Contains(w.Message, text) {
			return true
		}
	}
	return false
}

func TestNestedArchivesAllFormats(t *testing.T) {
	props := "token=" + ghp + "\n"
	inner := makeZip(t, zipEntry{name: "config.properties", body: props})
	jar := makeZip(t,
		zipEntry{name: "BOOT-INF/classes/application.properties", body: props},
		zipEntry{name: "BOOT-INF/lib/", body: ""},
		zipEntry{name: "lib/inner.jar", body: string(inner), store: true})
	tarball := testimage.Tar(testimage.Entry{Name: "pkg/.env", Body: props})
	layer := testimage.Tar(
		testimage.Entry{Name: "app/app.jar", Body: string(jar)},
		testimage.Entry{Name: "app/bundle.tar", Body: string(tarball)},
		testimage.Entry{Name: "app/bundle.tar.gz", Body: string(gz(t, tarball))},
		testimage.Entry{Name: "app/bundle.tgz", Body: string(zst(t, tarball))}, // name says gzip, magic says zstd: magic wins
		testimage.Entry{Name: "app/bundle.tar.zst", Body: string(zst(t, tarball))},
		testimage.Entry{Name: "app/bundle.tar.bz2", Body: string(bz2(t, tarball))},
		testimage.Entry{Name: "app/bundle.tar.xz", Body: string(xzOf(t, tarball))},
		testimage.Entry{Name: "app/notes.txt.gz", Body: string(gz(t, []byte(props)))},
		testimage.Entry{Name: "app/notes.txt.xz", Body: string(xzOf(t, []byte(props)))},
		testimage.Entry{Name: "app/fake.zip", Body: props},                // the name alone is not enough
		testimage.Entry{Name: "app/zip-named.txt", Body: string(inner)},   // nor the magic alone
		testimage.Entry{Name: "app/app.jar.gz", Body: string(gz(t, jar))}, // gzip around a jar
	)
	res, got := walkSeen(t, layer, archiveOpts())
	want := []string{
		"/app/app.jar!BOOT-INF/classes/application.properties",
		"/app/app.jar!lib/inner.jar!config.properties",
		"/app/bundle.tar!pkg/.env",
		"/app/bundle.tar.gz!pkg/.env",
		"/app/bundle.tgz!pkg/.env",
		"/app/bundle.tar.zst!pkg/.env",
		"/app/bundle.tar.bz2!pkg/.env",
		"/app/bundle.tar.xz!pkg/.env",
		"/app/notes.txt.gz!notes.txt",
		"/app/notes.txt.xz!notes.txt",
		"/app/fake.zip",
		"/app/app.jar.gz!app.jar!BOOT-INF/classes/application.properties",
		"/app/app.jar.gz!app.jar!lib/inner.jar!config.properties",
	}
	for _, k := range want {
		if got[k].data != props {
			t.Errorf("%s: got %q, want the properties", k, got[k].data)
		}
	}
	if s, ok := got["/app/zip-named.txt"]; !ok || !s.strings || !strings.Contains(s.data, "config.properties") {
		t.Errorf("a zip not named like one is a binary, scanned for strings: %+v", s)
	}
	for k := range got {
		if strings.HasPrefix(k, "/app/app.jar") && !strings.Contains(k, "!") {
			t.Errorf("the archive itself must not be handed over raw: %s", k)
		}
	}
	if len(res.FileWarnings) != 0 {
		t.Errorf("warnings: %+v", res.FileWarnings)
	}
	if res.Files != 12 {
		t.Errorf("files = %d, want 12", res.Files)
	}
}

func TestArchiveDepthBound(t *testing.T) {
	props := "token=" + ghp + "\n"
	z := makeZip(t, zipEntry{name: "deep.properties", body: props})
	for i := 0; i < 3; i++ {
		z = makeZip(t, zipEntry{name: "lib/l.jar", body: string(z)})
	}
	// app.jar → lib/l.jar → lib/l.jar → lib/l.jar → deep.properties: 4 deep.
	layer := testimage.Tar(testimage.Entry{Name: "app.jar", Body: string(z)})
	res, got := walkSeen(t, layer, archiveOpts())
	if _, ok := got["/app.jar!lib/l.jar!lib/l.jar!lib/l.jar!deep.properties"]; ok {
		t.Error("read deeper than --archive-depth 3")
	}
	if !hasWarning(res, "/app.jar", "lib/l.jar!lib/l.jar!lib/l.jar", "--archive-depth 3") {
		t.Errorf("warnings: %+v", res.FileWarnings)
	}
	opts := archiveOpts()
	opts.Archives.MaxDepth = 4
	res, got = walkSeen(t, layer, opts)
	if got["/app.jar!lib/l.jar!lib/l.jar!lib/l.jar!deep.properties"].data != props || len(res.FileWarnings) != 0 {
		t.Errorf("depth 4: %v %+v", got, res.FileWarnings)
	}
	opts.Archives.MaxDepth = -1
	_, got = walkSeen(t, layer, opts)
	if s, ok := got["/app.jar"]; !ok || !s.strings {
		t.Errorf("archives off: the jar is a binary: %v", got)
	}
}

func TestArchiveEntrySizeBound(t *testing.T) {
	big := strings.Repeat("x", 5000) + "\n"
	small := "token=" + ghp + "\n"
	z := makeZip(t, zipEntry{name: "big.txt", body: big}, zipEntry{name: "small.txt", body: small})
	tb := testimage.Tar(testimage.Entry{Name: "big.txt", Body: big}, testimage.Entry{Name: "small.txt", Body: small})
	layer := testimage.Tar(
		testimage.Entry{Name: "a.zip", Body: string(z)},
		testimage.Entry{Name: "a.tgz", Body: string(gz(t, tb))},
		testimage.Entry{Name: "big.txt.gz", Body: string(gz(t, []byte(big)))})
	opts := archiveOpts()
	opts.Archives.MaxEntrySize = 4096
	res, got := walkSeen(t, layer, opts)
	for _, a := range []string{"/a.zip", "/a.tgz"} {
		if _, ok := got[a+"!big.txt"]; ok {
			t.Errorf("%s: an entry over the bound was scanned", a)
		}
		if got[a+"!small.txt"].data != small {
			t.Errorf("%s: the scan must go on after an entry over the bound", a)
		}
		if !hasWarning(res, a, "big.txt", "--archive-max-entry-size") {
			t.Errorf("%s: no warning: %+v", a, res.FileWarnings)
		}
	}
	if !hasWarning(res, "/big.txt.gz", "", "--archive-max-entry-size") {
		t.Errorf("single stream: no warning: %+v", res.FileWarnings)
	}
}

func TestArchiveTotalSizeBound(t *testing.T) {
	var entries []zipEntry
	var tentries []testimage.Entry
	for i := range 10 {
		name := string(rune('a'+i)) + ".txt"
		body := strings.Repeat("y", 1000) + "\n"
		entries = append(entries, zipEntry{name: name, body: body})
		tentries = append(tentries, testimage.Entry{Name: name, Body: body})
	}
	layer := testimage.Tar(
		testimage.Entry{Name: "t.zip", Body: string(makeZip(t, entries...))},
		testimage.Entry{Name: "t.tar.gz", Body: string(gz(t, testimage.Tar(tentries...)))},
		testimage.Entry{Name: "after.txt", Body: "still here\n"})
	opts := archiveOpts()
	opts.Archives.MaxTotalSize = 4500
	res, got := walkSeen(t, layer, opts)
	for _, a := range []string{"/t.zip", "/t.tar.gz"} {
		if !hasWarning(res, a, "", "--archive-max-total-size") {
			t.Errorf("%s: no warning: %+v", a, res.FileWarnings)
		}
		if _, ok := got[a+"!a.txt"]; !ok {
			t.Errorf("%s: the members before the bound are scanned", a)
		}
		if _, ok := got[a+"!j.txt"]; ok {
			t.Errorf("%s: members past the bound were scanned", a)
		}
	}
	if got["/after.txt"].data != "still here\n" {
		t.Error("the layer walk must go on")
	}
}

func TestArchiveRatioBound(t *testing.T) {
	// 8 MiB of zeros: a gzip/zip bomb in miniature (ratio ~1000).
	zeros := make([]byte, 8<<20)
	z := makeZip(t, zipEntry{name: "zeros.bin", body: string(zeros)}, zipEntry{name: "ok.txt", body: "ok=" + ghp + "\n"})
	layer := testimage.Tar(
		testimage.Entry{Name: "bomb.zip", Body: string(z)},
		testimage.Entry{Name: "bomb.gz", Body: string(gz(t, zeros))},
		testimage.Entry{Name: "bomb.tar.zst", Body: string(zst(t, testimage.Tar(testimage.Entry{Name: "zeros", Body: string(zeros)})))},
		// Small, very repetitive files are under the 1 MiB floor.
		testimage.Entry{Name: "small.gz", Body: string(gz(t, []byte(strings.Repeat("a", 100000))))})
	res, got := walkSeen(t, layer, archiveOpts())
	if _, ok := got["/bomb.zip!zeros.bin"]; ok || !hasWarning(res, "/bomb.zip", "zeros.bin", "--archive-max-ratio") {
		t.Errorf("zip bomb: %+v", res.FileWarnings)
	}
	if got["/bomb.zip!ok.txt"].data == "" {
		t.Error("the zip's other members are still scanned")
	}
	if !hasWarning(res, "/bomb.gz", "", "--archive-max-ratio") || !hasWarning(res, "/bomb.tar.zst", "", "--archive-max-ratio") {
		t.Errorf("stream bombs: %+v", res.FileWarnings)
	}
	if len(got["/small.gz!small"].data) != 100000 || hasWarning(res, "/small.gz", "", "") {
		t.Errorf("small repetitive file: %d bytes, %+v", len(got["/small.gz!small"].data), res.FileWarnings)
	}
}

func TestArchiveEntryCountBound(t *testing.T) {
	var entries []zipEntry
	for i := range 20 {
		entries = append(entries, zipEntry{name: strings.Repeat("d/", i) + "f.txt", body: "x\n"})
	}
	layer := testimage.Tar(testimage.Entry{Name: "many.jar", Body: string(makeZip(t, entries...))})
	opts := archiveOpts()
	opts.Archives.MaxEntries = 5
	res, got := walkSeen(t, layer, opts)
	if len(got) != 5 || !hasWarning(res, "/many.jar", "", "--archive-max-entries") {
		t.Errorf("scanned %d members, warnings %+v", len(got), res.FileWarnings)
	}
}

func TestZipSpooledToUnlinkedTempFile(t *testing.T) {
	props := "token=" + ghp + "\n"
	layer := testimage.Tar(testimage.Entry{Name: "app.war", Body: string(makeZip(t, zipEntry{name: "WEB-INF/web.properties", body: props}))})
	dir := t.TempDir()
	opts := archiveOpts()
	opts.Archives.Memory = -1 // nothing in memory: always spool
	opts.Archives.TempDir = dir
	res, got := walkSeen(t, layer, opts)
	if got["/app.war!WEB-INF/web.properties"].data != props || len(res.FileWarnings) != 0 {
		t.Fatalf("got %v, warnings %+v", got, res.FileWarnings)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("temp files left: %v", left)
	}
	// A zip larger than the total bound is not spooled at all.
	opts.Archives.MaxTotalSize = 64
	res, _ = walkSeen(t, layer, opts)
	if !hasWarning(res, "/app.war", "", "larger than --archive-max-total-size") {
		t.Errorf("warnings: %+v", res.FileWarnings)
	}
}

func TestCorruptArchiveIsAWarning(t *testing.T) {
	z := makeZip(t, zipEntry{name: "a.txt", body: strings.Repeat("secret stuff\n", 100)})
	trunc := gz(t, testimage.Tar(testimage.Entry{Name: "a.txt", Body: strings.Repeat("abc\n", 10000)}))
	layer := testimage.Tar(
		testimage.Entry{Name: "broken.jar", Body: string(z[:len(z)-30])},
		testimage.Entry{Name: "broken.tgz", Body: string(trunc[:len(trunc)/2])},
		testimage.Entry{Name: "after.txt", Body: "fine\n"})
	res, got := walkSeen(t, layer, archiveOpts())
	if !hasWarning(res, "/broken.jar", "", "could not be read") || !hasWarning(res, "/broken.tgz", "", "") {
		t.Errorf("warnings: %+v", res.FileWarnings)
	}
	if got["/after.txt"].data != "fine\n" {
		t.Error("the walk must go on")
	}
}

func TestArchiveMembersAccept(t *testing.T) {
	layer := testimage.Tar(testimage.Entry{Name: "a.jar", Body: string(makeZip(t, zipEntry{name: "keep.txt", body: "k\n"}, zipEntry{name: "drop.txt", body: "d\n"}))})
	opts := archiveOpts()
	var chains []string
	opts.AcceptMember = func(_, _ int, e *Entry, chain []string, head []byte) bool {
		chains = append(chains, e.Path+"!"+strings.Join(chain, "!"))
		return chain[len(chain)-1] != "drop.txt"
	}
	_, got := walkSeen(t, layer, opts)
	if _, ok := got["/a.jar!drop.txt"]; ok || got["/a.jar!keep.txt"].data != "k\n" {
		t.Errorf("got %v", got)
	}
	if strings.Join(chains, " ") != "/a.jar!keep.txt /a.jar!drop.txt" {
		t.Errorf("AcceptMember saw %v", chains)
	}
	// Accept refusing the outer file: the archive is not opened at all.
	opts.Accept = func(int, int, *Entry, []byte) bool { return false }
	chains = nil
	_, got = walkSeen(t, layer, opts)
	if len(got) != 0 || len(chains) != 0 {
		t.Errorf("got %v, members %v", got, chains)
	}
}
