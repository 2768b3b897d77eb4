package fetch_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/vbatts/tar-split/tar/asm"
	"github.com/vbatts/tar-split/tar/storage"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/fetch"
)

// fakeStore writes a containers-storage store as podman and buildah lay
// it out on disk (DRIVER-images/images.json, DRIVER-layers/layers.json
// with LAYER.tar-split.gz, the layer's files, big-data files named by
// their key or "=" and its base64), so the reader is tested on stores
// whose every byte the test chooses, hostile ones included.
type fakeStore struct {
	t              *testing.T
	root, driver   string
	images, layers []map[string]any
}

func newFakeStore(t *testing.T, driver string) *fakeStore {
	return &fakeStore{t: t, root: t.TempDir(), driver: driver}
}

func sha(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }

// layer adds a layer made from tarball, its directory holding files
// (for vfs: the whole file system at this layer; for overlay: this
// layer's files); it returns the layer's ID.
func (s *fakeStore) layer(parent string, tarball []byte, files map[string]string) string {
	s.t.Helper()
	id := sha([]byte(fmt.Sprintf("layer %d %s", len(s.layers), parent)))
	dir := filepath.Join(s.root, "vfs", "dir", id)
	if s.driver == "overlay" {
		dir = filepath.Join(s.root, "overlay", id, "diff")
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		must(s.t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(s.t, os.WriteFile(p, []byte(body), 0o644))
	}
	must(s.t, os.MkdirAll(dir, 0o755))
	var ts bytes.Buffer
	zw := gzip.NewWriter(&ts)
	r, done, err := asm.NewInputTarStreamWithDone(bytes.NewReader(tarball), storage.NewJSONPacker(zw), storage.NewDiscardFilePutter())
	must(s.t, err)
	_, err = io.Copy(io.Discard, r)
	must(s.t, err)
	must(s.t, <-done)
	r.Close()
	must(s.t, zw.Close())
	must(s.t, os.MkdirAll(filepath.Join(s.root, s.driver+"-layers"), 0o700))
	must(s.t, os.WriteFile(filepath.Join(s.root, s.driver+"-layers", id+".tar-split.gz"), ts.Bytes(), 0o600))
	rec := map[string]any{"id": id, "diff-digest": "sha256:" + sha(tarball), "diff-size": len(tarball)}
	if parent != "" {
		rec["parent"] = parent
	}
	s.layers = append(s.layers, rec)
	return id
}

// image adds an image of the layers (base first) and returns its ID.
func (s *fakeStore) image(names []string, tarballs [][]byte, top string) string {
	s.t.Helper()
	cfg := v1.ConfigFile{OS: "linux", Architecture: "amd64", RootFS: v1.RootFS{Type: "layers"}}
	for i, tb := range tarballs {
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, v1.Hash{Algorithm: "sha256", Hex: sha(tb)})
		cfg.History = append(cfg.History, v1.History{CreatedBy: fmt.Sprintf("/bin/sh -c step-%d %v", i, names)})
	}
	rawCfg, err := json.Marshal(cfg)
	must(s.t, err)
	id := sha(rawCfg)
	m := v1.Manifest{SchemaVersion: 2, MediaType: "application/vnd.oci.image.manifest.v1+json",
		Config: v1.Descriptor{MediaType: "application/vnd.oci.image.config.v1+json", Digest: v1.Hash{Algorithm: "sha256", Hex: id}, Size: int64(len(rawCfg))}}
	rawM, err := json.Marshal(m)
	must(s.t, err)
	dir := filepath.Join(s.root, s.driver+"-images", id)
	must(s.t, os.MkdirAll(dir, 0o700))
	must(s.t, os.WriteFile(filepath.Join(dir, "manifest"), rawM, 0o600))
	must(s.t, os.WriteFile(filepath.Join(dir, "="+base64.StdEncoding.EncodeToString([]byte("sha256:"+id))), rawCfg, 0o600))
	s.images = append(s.images, map[string]any{"id": id, "digest": "sha256:" + sha(rawM), "names": names, "layer": top})
	return id
}

// write writes images.json and layers.json.
func (s *fakeStore) write() {
	s.t.Helper()
	for dir, recs := range map[string][]map[string]any{s.driver + "-images/images.json": s.images, s.driver + "-layers/layers.json": s.layers} {
		b, err := json.Marshal(recs)
		must(s.t, err)
		must(s.t, os.MkdirAll(filepath.Join(s.root, filepath.Dir(dir)), 0o700))
		must(s.t, os.WriteFile(filepath.Join(s.root, dir), b, 0o600))
	}
}

func (s *fakeStore) ref(name string) string {
	return "containers-storage:[" + s.driver + "@" + s.root + "+/run/unused]" + name
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// readLayers reads every layer blob of img to its end.
func readLayers(img *fetch.Image) ([][]byte, error) {
	var out [][]byte
	for _, l := range img.Layers {
		rc, err := l.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return out, fmt.Errorf("layer %d: %w", l.Index, err)
		}
		out = append(out, b)
	}
	return out, nil
}

// Two layers: a secret added, then deleted (a whiteout) while another
// file is added; the vfs snapshot of layer 1 no longer has the secret.
var (
	storeTar0 = testimage.Tar(
		testimage.Entry{Name: "app/", Type: '5'},
		testimage.Entry{Name: "app/secret.env", Body: "token=" + testimage.SecretGitHub + "\n"},
	)
	storeTar1 = testimage.Tar(
		testimage.Entry{Name: "app/", Type: '5'},
		testimage.Entry{Name: "app/.wh.secret.env"},
		testimage.Entry{Name: "app/new.txt", Body: "hello\n"},
		testimage.Entry{Name: "app/link", Type: '2', Linkname: "/etc/shadow"},
	)
)

func twoLayerStore(t *testing.T, driver string) (*fakeStore, string) {
	s := newFakeStore(t, driver)
	l0 := s.layer("", storeTar0, map[string]string{"app/secret.env": "token=" + testimage.SecretGitHub + "\n"})
	files1 := map[string]string{"app/new.txt": "hello\n"}
	if driver == "vfs" {
		files1["app/unrelated-in-snapshot"] = "only in the snapshot"
	}
	l1 := s.layer(l0, storeTar1, files1)
	id := s.image([]string{"localhost/app:v1", "quay.io/org/app:latest"}, [][]byte{storeTar0, storeTar1}, l1)
	s.image([]string{"localhost/other:latest"}, [][]byte{storeTar0}, l0)
	s.write()
	return s, id
}

// TestStorageRebuildsLayers: each layer read from the store is the very
// tar the layer was made from (same bytes, so the same diff ID), for
// vfs (full snapshots) and overlay (the layer's own files) alike.
func TestStorageRebuildsLayers(t *testing.T) {
	for _, driver := range []string{"vfs", "overlay"} {
		t.Run(driver, func(t *testing.T) {
			s, id := twoLayerStore(t, driver)
			src := open(t, s.ref("localhost/app:v1"))
			if src.Kind != fetch.KindStorage {
				t.Errorf("kind %s", src.Kind)
			}
			img := onlyImage(t, src)
			if img.Ref != "localhost/app:v1" || img.ConfigDigest.Hex != id || img.Platform != "linux/amd64" {
				t.Errorf("ref %q, config %s, platform %q", img.Ref, img.ConfigDigest, img.Platform)
			}
			got, err := readLayers(img)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range [][]byte{storeTar0, storeTar1} {
				if !bytes.Equal(got[i], want) {
					t.Errorf("layer %d: rebuilt tar differs from the original (%d vs %d bytes)", i, len(got[i]), len(want))
				}
				if img.Layers[i].DiffID.Hex != sha(want) {
					t.Errorf("layer %d: diff ID %s", i, img.Layers[i].DiffID)
				}
			}
			walkImage(t, img) // the walker checks the digests itself
		})
	}
}

// TestStorageNames: the names podman takes for an image.
func TestStorageNames(t *testing.T) {
	s, id := twoLayerStore(t, "vfs")
	digest := s.images[0]["digest"].(string)
	for _, name := range []string{"localhost/app:v1", "app:v1", "app", "quay.io/org/app", "org/app:latest", id, "sha256:" + id, id[:12], id[:3],
		"app@" + digest, "localhost/app@" + digest} {
		img := onlyImage(t, open(t, s.ref(name)))
		if img.ConfigDigest.Hex != id {
			t.Errorf("%s: image %s, want %s", name, img.ConfigDigest.Hex[:12], id[:12])
		}
	}
	// The driver is found without being named.
	img := onlyImage(t, open(t, "containers-storage:["+s.root+"]app:v1"))
	if img.ConfigDigest.Hex != id {
		t.Errorf("no driver named: image %s", img.ConfigDigest)
	}
	for _, tt := range []struct {
		name string
		want string
	}{
		{"app:v2", `no image "app:v2"`},
		{"nothing", "localhost/app:v1"}, // the message lists the names there are
		{"registry.example/app:v1", "no image"},
		{"other@" + digest, "no image"}, // another repository's digest
	} {
		_, err := fetch.Open(context.Background(), s.ref(tt.name))
		if !errors.Is(err, fetch.ErrNotFound) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want ErrNotFound mentioning %q", tt.name, err, tt.want)
		}
	}
}

// TestStorageAmbiguousName: a short name that two images answer to is an
// error naming both, not a guess.
func TestStorageAmbiguousName(t *testing.T) {
	s, id := twoLayerStore(t, "vfs")
	other := s.image([]string{"docker.io/library/app:latest"}, [][]byte{storeTar0}, s.layers[0]["id"].(string))
	s.write()
	_, err := fetch.Open(context.Background(), s.ref("app"))
	if !errors.Is(err, fetch.ErrNotFound) || !strings.Contains(err.Error(), id[:12]) || !strings.Contains(err.Error(), other[:12]) {
		t.Errorf("%v, want an error naming %s and %s", err, id[:12], other[:12])
	}
	if img := onlyImage(t, open(t, s.ref("docker.io/library/app"))); img.ConfigDigest.Hex != other {
		t.Errorf("full name: %s", img.ConfigDigest)
	}
}

func TestStorageNoStore(t *testing.T) {
	dir := t.TempDir()
	for _, ref := range []string{
		"containers-storage:[" + dir + "]app",
		"containers-storage:[vfs@" + dir + "]app",
		"containers-storage:[btrfs@" + dir + "]app",
	} {
		_, err := fetch.Open(context.Background(), ref)
		if !errors.Is(err, fetch.ErrNoStore) {
			t.Errorf("%s: %v, want ErrNoStore", ref, err)
		}
	}
	if _, err := fetch.Open(context.Background(), "containers-storage:["+dir+"app"); !errors.Is(err, fetch.ErrBadReference) {
		t.Errorf("unclosed [: %v", err)
	}
}

// TestStorageHostile: a store is input like any image. Names in the
// tar-split that leave the layer directory, links out of it, FIFOs,
// files changed on disk and records that disagree with the config fail
// the layer (or the image) instead of reading something else.
func TestStorageHostile(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "outside.txt")
	must(t, os.WriteFile(outside, []byte("host file!\n"), 0o644))

	t.Run("dotdot name", func(t *testing.T) {
		s := newFakeStore(t, "vfs")
		rel, err := filepath.Rel(filepath.Join(s.root, "vfs", "dir", "x"), outside)
		must(t, err)
		tb := testimage.Tar(testimage.Entry{Name: rel, Body: "host file!\n"})
		l := s.layer("", tb, nil)
		s.image([]string{"localhost/evil:latest"}, [][]byte{tb}, l)
		s.write()
		_, err = readLayers(onlyImage(t, open(t, s.ref("evil"))))
		if err == nil || !errors.Is(err, fetch.ErrNoStore) {
			t.Errorf("a name out of the layer directory was read: %v", err)
		}
	})
	t.Run("symlink out", func(t *testing.T) {
		s := newFakeStore(t, "vfs")
		tb := testimage.Tar(testimage.Entry{Name: "etc/passwd", Body: "host file!\n"})
		l := s.layer("", tb, nil)
		p := filepath.Join(s.root, "vfs", "dir", l, "etc", "passwd")
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.Symlink(outside, p))
		s.image([]string{"localhost/evil:latest"}, [][]byte{tb}, l)
		s.write()
		if _, err := readLayers(onlyImage(t, open(t, s.ref("evil")))); err == nil {
			t.Error("a symbolic link out of the layer directory was followed")
		}
	})
	t.Run("fifo", func(t *testing.T) {
		s := newFakeStore(t, "vfs")
		tb := testimage.Tar(testimage.Entry{Name: "pipe", Body: "data\n"})
		l := s.layer("", tb, nil)
		must(t, syscall.Mkfifo(filepath.Join(s.root, "vfs", "dir", l, "pipe"), 0o644))
		s.image([]string{"localhost/evil:latest"}, [][]byte{tb}, l)
		s.write()
		if _, err := readLayers(onlyImage(t, open(t, s.ref("evil")))); !errors.Is(err, fetch.ErrNotRegular) {
			t.Errorf("FIFO: %v, want ErrNotRegular", err)
		}
	})
	t.Run("changed file", func(t *testing.T) {
		s := newFakeStore(t, "vfs")
		tb := testimage.Tar(testimage.Entry{Name: "a.txt", Body: "original\n"})
		l := s.layer("", tb, map[string]string{"a.txt": "tampered\n"})
		s.image([]string{"localhost/evil:latest"}, [][]byte{tb}, l)
		s.write()
		if _, err := readLayers(onlyImage(t, open(t, s.ref("evil")))); err == nil || !strings.Contains(err.Error(), "checksum") {
			t.Errorf("a file changed on disk: %v, want a checksum error", err)
		}
	})
	t.Run("diff id disagrees", func(t *testing.T) {
		s := newFakeStore(t, "vfs")
		l := s.layer("", storeTar0, nil)
		s.image([]string{"localhost/evil:latest"}, [][]byte{storeTar1}, l)
		s.write()
		if _, err := fetch.Open(context.Background(), s.ref("evil")); !errors.Is(err, fetch.ErrNotImage) {
			t.Errorf("%v, want ErrNotImage", err)
		}
	})
	t.Run("parent loop", func(t *testing.T) {
		s := newFakeStore(t, "vfs")
		l := s.layer("", storeTar0, nil)
		s.layers[0]["parent"] = l
		s.image([]string{"localhost/evil:latest"}, [][]byte{storeTar0}, l)
		s.write()
		if _, err := fetch.Open(context.Background(), s.ref("evil")); err == nil || !strings.Contains(err.Error(), "layers allowed") {
			t.Errorf("%v, want the layer bound", err)
		}
	})
	t.Run("bad ids", func(t *testing.T) {
		s := newFakeStore(t, "vfs")
		s.images = []map[string]any{{"id": "../../etc", "names": []string{"localhost/evil:latest"}, "layer": "x"}}
		s.write()
		if _, err := fetch.Open(context.Background(), s.ref("evil")); !errors.Is(err, fetch.ErrNoStore) {
			t.Errorf("%v, want ErrNoStore", err)
		}
	})
}

// FuzzStorage opens a store whose images.json, layers.json and one
// layer's tar-split records are hostile (placeholders @I@, @L0@ and @L1@
// stand for the real image and layer IDs, so mutations get past the
// lookups): no panic, no hang, at most MaxLayers layers.
func FuzzStorage(f *testing.F) {
	f.Add(`[{"id":"@I@","names":["localhost/app:v1"],"layer":"@L1@"}]`,
		`[{"id":"@L0@","diff-digest":"@D0@"},{"id":"@L1@","parent":"@L0@","diff-digest":"@D1@"}]`,
		`{"type":2,"payload":"AAAA","position":0}`+"\n"+`{"type":1,"name":"app/new.txt","size":6,"payload":"AAAAAAAAAAA=","position":1}`)
	f.Add(`[{"id":"@I@","names":["app"],"layer":"@L1@"},{"id":"@I@","names":["app"],"layer":"@L0@"}]`,
		`[{"id":"@L1@","parent":"@L1@"}]`, `{"type":1,"name":"../../../etc/passwd","size":100}`)
	f.Fuzz(func(t *testing.T, images, layers, records string) {
		s, id := twoLayerStore(t, "vfs")
		l0, l1 := s.layers[0]["id"].(string), s.layers[1]["id"].(string)
		sub := strings.NewReplacer("@I@", id, "@L0@", l0, "@L1@", l1,
			"@D0@", "sha256:"+sha(storeTar0), "@D1@", "sha256:"+sha(storeTar1))
		must(t, os.WriteFile(filepath.Join(s.root, "vfs-images", "images.json"), []byte(sub.Replace(images)), 0o600))
		must(t, os.WriteFile(filepath.Join(s.root, "vfs-layers", "layers.json"), []byte(sub.Replace(layers)), 0o600))
		var ts bytes.Buffer
		zw := gzip.NewWriter(&ts)
		zw.Write([]byte(records))
		zw.Close()
		must(t, os.WriteFile(filepath.Join(s.root, "vfs-layers", l1+".tar-split.gz"), ts.Bytes(), 0o600))
		src, err := fetch.Open(context.Background(), s.ref("app"), fetch.WithMaxLayers(8))
		if err != nil {
			return
		}
		defer src.Close()
		for _, img := range src.Images {
			if len(img.Layers) > 8 {
				t.Fatalf("%d layers", len(img.Layers))
			}
			for _, l := range img.Layers {
				rc, err := l.Open()
				if err != nil {
					continue
				}
				// Fetch serves what the store holds; the walker checks it
				// against the diff ID. Reading must end, error or not.
				io.Copy(io.Discard, io.LimitReader(rc, 1<<20))
				rc.Close()
			}
		}
	})
}
