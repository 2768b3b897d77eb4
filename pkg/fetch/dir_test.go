package fetch_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/layerscan/layerscan/pkg/fetch"
)

// TestDirLayer: a directory is one layer whose tar holds its files in
// name order, symbolic links as links (never followed, even out of the
// directory), hard links as links, FIFOs as headers never opened; the
// image says it has no history.
func TestDirLayer(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "host-secret")
	must(t, os.WriteFile(outside, []byte("host only\n"), 0o600))
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "app", "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "app", "sub", "a.env"), []byte("A=1\n"), 0o644))
	must(t, os.Link(filepath.Join(dir, "app", "sub", "a.env"), filepath.Join(dir, "app", "b.env")))
	must(t, os.Symlink(outside, filepath.Join(dir, "app", "out")))
	must(t, os.Symlink("../../..", filepath.Join(dir, "app", "up")))
	must(t, syscall.Mkfifo(filepath.Join(dir, "app", "fifo"), 0o644))

	src := open(t, "dir:"+dir)
	img := onlyImage(t, src)
	if src.Kind != fetch.KindDir || len(img.Layers) != 1 {
		t.Fatalf("kind %s, %d layers", src.Kind, len(img.Layers))
	}
	if len(img.Warnings) != 1 || !strings.Contains(img.Warnings[0], "one layer, no history: instructions unknown") {
		t.Errorf("warnings %q", img.Warnings)
	}
	blobs, err := readLayers(img)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(blobs[0], []byte("host only")) {
		t.Error("a symbolic link out of the directory was followed")
	}
	tr := tar.NewReader(bytes.NewReader(blobs[0]))
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		must(t, err)
		body, _ := io.ReadAll(tr)
		got = append(got, string(h.Typeflag)+" "+h.Name+" "+h.Linkname+" "+string(body))
	}
	// b.env sorts before sub/a.env: it is the file, a.env the link.
	want := []string{
		"5 app/  ",
		"0 app/b.env  A=1\n",
		"6 app/fifo  ",
		"2 app/out " + outside + " ",
		"5 app/sub/  ",
		"1 app/sub/a.env app/b.env ",
		"2 app/up ../../.. ",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("tar entries:\n got %q\nwant %q", got, want)
	}
	walkImage(t, img)
}

func TestDirBounds(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "big"), make([]byte, 4096), 0o644))
	img := onlyImage(t, open(t, "dir:"+dir, fetch.WithMaxStreamSize(1024)))
	if _, err := readLayers(img); !errors.Is(err, fetch.ErrTooLarge) {
		t.Errorf("%v, want ErrTooLarge", err)
	}
	if _, err := fetch.Open(context.Background(), "dir:"+filepath.Join(dir, "big")); !errors.Is(err, fetch.ErrNotImage) {
		t.Errorf("a file as dir: %v", err)
	}
	if _, err := fetch.Open(context.Background(), "dir:"+filepath.Join(dir, "nope")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing dir: %v", err)
	}
}

// TestStdin: a docker save archive, and a gzipped OCI archive, read from
// standard input give the same image as the file; more than
// --max-image-size is refused.
func TestStdin(t *testing.T) {
	images := imagesDir(t)
	want := onlyImage(t, open(t, filepath.Join(images, "lifecycle.docker.tar")))
	docker, err := os.ReadFile(filepath.Join(images, "lifecycle.docker.tar"))
	must(t, err)
	oci, err := os.ReadFile(filepath.Join(images, "lifecycle.oci.tar"))
	must(t, err)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(oci)
	zw.Close()
	for name, in := range map[string][]byte{"docker": docker, "oci.gz": gz.Bytes()} {
		src := open(t, "-", fetch.WithStdin(bytes.NewReader(in)))
		img := onlyImage(t, src)
		if src.Kind != fetch.KindStdin || img.ConfigDigest != want.ConfigDigest || len(img.Layers) != len(want.Layers) {
			t.Errorf("%s: kind %s, config %s, %d layers", name, src.Kind, img.ConfigDigest, len(img.Layers))
		}
		walkImage(t, img)
	}
	_, err = fetch.Open(context.Background(), "-", fetch.WithStdin(bytes.NewReader(docker)), fetch.WithMaxStreamSize(1000))
	if !errors.Is(err, fetch.ErrTooLarge) {
		t.Errorf("over the bound: %v", err)
	}
	_, err = fetch.Open(context.Background(), "-", fetch.WithStdin(strings.NewReader("not an archive")))
	if !errors.Is(err, fetch.ErrNotImage) {
		t.Errorf("junk: %v", err)
	}
}
