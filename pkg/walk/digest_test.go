package walk

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/fetch"
)

// walkDigests walks one layer and returns the paths handed over Whole and
// the digests the walker computed, by path.
func walkDigests(t *testing.T, tarball []byte, opts Options) (map[string]bool, map[string]Digests) {
	t.Helper()
	var mu sync.Mutex
	whole := map[string]bool{}
	res, err := Walk(context.Background(), []fetch.Layer{layerOf(0, tarball, tarball)}, opts, func(_ context.Context, c *Chunk) error {
		mu.Lock()
		defer mu.Unlock()
		if c.Whole {
			whole[c.Path] = true
		}
		return nil
	})
	if err != nil || res[0].Err != nil {
		t.Fatalf("walk: %v %v", err, res[0].Err)
	}
	digests := map[string]Digests{}
	for idx, d := range res[0].Digests {
		digests[res[0].Entries[idx].Path] = d
	}
	return whole, digests
}

// TestDigests: a file whose content is one chunk is handed over Whole (the
// scanner hashes it when it holds a finding); a text file longer than a
// chunk and an archive are hashed by the walker as it reads them; a
// binary read as strings and a file cut by MaxFileSize are neither.
func TestDigests(t *testing.T) {
	small := "token = 1\n"
	long := strings.Repeat("a line of a long text file\n", 5000) // > one 64 KiB chunk
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("a.properties")
	w.Write([]byte("x=1\n"))
	zw.Close()
	tarball := testimage.Tar(
		testimage.Entry{Name: "small.txt", Body: small},
		testimage.Entry{Name: "long.txt", Body: long},
		testimage.Entry{Name: "lib.jar", Body: zbuf.String()},
		testimage.Entry{Name: "bin", Body: "\x7fELF" + long},
	)
	opts := Options{ChunkSize: 64 << 10, Binaries: BinaryStrings, Archives: ArchiveOptions{MaxDepth: 1}}
	whole, digests := walkDigests(t, tarball, opts)
	if !whole["/small.txt"] || whole["/long.txt"] || whole["/bin"] {
		t.Errorf("whole chunks: %v", whole)
	}
	if d := digests["/long.txt"]; d != DigestsOf([]byte(long)) {
		t.Errorf("long.txt digests %+v", d)
	}
	if d := digests["/lib.jar"]; d != DigestsOf(zbuf.Bytes()) {
		t.Errorf("lib.jar digests %+v", d)
	}
	if _, ok := digests["/bin"]; ok {
		t.Error("a binary read as strings was hashed")
	}
	if _, ok := digests["/small.txt"]; ok {
		t.Error("a one-chunk file was hashed by the walker")
	}

	opts.MaxFileSize = 100 << 10
	whole, digests = walkDigests(t, testimage.Tar(testimage.Entry{Name: "cut.txt", Body: long + long}), opts)
	if _, ok := digests["/cut.txt"]; ok || whole["/cut.txt"] {
		t.Errorf("a file cut by MaxFileSize got digests %v / whole %v", digests, whole)
	}
}

// TestCapture: a captured file is handed over whole, once, and scanned
// too; one larger than MaxCaptureSize is only scanned, with a warning.
func TestCapture(t *testing.T) {
	db := "Package: x\nVersion: 1\n"
	tarball := testimage.Tar(testimage.Entry{Name: "var/lib/dpkg/status", Body: db}, testimage.Entry{Name: "big.db", Body: strings.Repeat("x", 5000)})
	var mu sync.Mutex
	captured := map[string]string{}
	scanned := map[string]int{}
	opts := Options{
		Capture:        func(e *Entry) bool { return strings.HasSuffix(e.Path, "status") || strings.HasSuffix(e.Path, ".db") },
		Captured:       func(_, _ int, e *Entry, data []byte) { mu.Lock(); captured[e.Path] = string(data); mu.Unlock() },
		MaxCaptureSize: 4096,
	}
	res, err := Walk(context.Background(), []fetch.Layer{layerOf(0, tarball, tarball)}, opts, func(_ context.Context, c *Chunk) error {
		mu.Lock()
		scanned[c.Path] += len(c.Data)
		mu.Unlock()
		return nil
	})
	if err != nil || res[0].Err != nil {
		t.Fatal(err, res[0].Err)
	}
	if len(captured) != 1 || captured["/var/lib/dpkg/status"] != db {
		t.Errorf("captured %v", captured)
	}
	if scanned["/var/lib/dpkg/status"] != len(db) || scanned["/big.db"] != 5000 {
		t.Errorf("scanned %v", scanned)
	}
	if len(res[0].FileWarnings) != 1 || !strings.Contains(res[0].FileWarnings[0].Message, "package database") {
		t.Errorf("file warnings %+v", res[0].FileWarnings)
	}
}

// TestSHA512Verified: a layer whose digest is sha512 is verified like a
// sha256 one (a tampered blob is an error); an algorithm that cannot be
// verified is an error, never a pass.
func TestSHA512Verified(t *testing.T) {
	tarball := testimage.Tar(testimage.Entry{Name: "a.txt", Body: "hello\n"})
	sum := sha512.Sum512(tarball)
	good := v1.Hash{Algorithm: "sha512", Hex: hex.EncodeToString(sum[:])}
	tampered := append([]byte(nil), tarball...)
	tampered[600] ^= 1
	layer := func(stored []byte, d v1.Hash) fetch.Layer {
		return fetch.NewLayer(0, d, v1.Hash{}, int64(len(stored)), "", func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(stored)), nil
		})
	}
	for _, c := range []struct {
		name   string
		l      fetch.Layer
		errHas string
	}{
		{"sha512", layer(tarball, good), ""},
		{"tampered", layer(tampered, good), "digest mismatch"},
		{"unknown algorithm", layer(tarball, v1.Hash{Algorithm: "md5", Hex: "00"}), "not supported"},
	} {
		res, err := Walk(context.Background(), []fetch.Layer{c.l}, Options{}, func(context.Context, *Chunk) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if res[0].Err != nil {
			got = res[0].Err.Error()
		}
		if c.errHas == "" && got != "" || c.errHas != "" && !strings.Contains(got, c.errHas) {
			t.Errorf("%s: err %q, want %q", c.name, got, c.errHas)
		}
	}
}
