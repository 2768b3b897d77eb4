package fetch

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// memStore is an OCI layout in memory, for fuzzing.
type memStore struct {
	files map[string][]byte
	blobs map[v1.Hash][]byte
}

func (m memStore) openBlob(h v1.Hash) (io.ReadCloser, int64, error) {
	b, ok := m.blobs[h]
	if !ok {
		return nil, 0, fmt.Errorf("blob %s: %w", h, os.ErrNotExist)
	}
	return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
}

func (m memStore) readFile(name string, limit int64) ([]byte, error) {
	b, ok := m.files[name]
	if !ok {
		return nil, os.ErrNotExist
	}
	return readLimited(bytes.NewReader(b), limit, name)
}

func (memStore) Close() error { return nil }

func digestOf(b []byte) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(b))}
}

// substitute replaces @M@, @C@ and @L@ by the digests of the manifest,
// the config and the layer, so mutated documents still point at each
// other and the fuzzer gets past the digest checks.
func substitute(s string, digests map[string]v1.Hash) string {
	for k, d := range digests {
		s = strings.ReplaceAll(s, k, d.String())
	}
	return s
}

const (
	seedConfig   = `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["@L@"]},"history":[{"created_by":"/bin/sh -c #(nop) ADD file:x in /"},{"created_by":"CMD","empty_layer":true}]}`
	seedManifest = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"@C@","size":10},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"@L@","size":1024}]}`
	seedIndex    = `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"@M@","size":10,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}`
)

// FuzzOCIMetadata feeds hostile index.json, manifest and config JSON to
// the OCI reader: it must return images or an error, never panic, and
// never hand out more layers than MaxLayers.
func FuzzOCIMetadata(f *testing.F) {
	f.Add(seedIndex, seedManifest, seedConfig)
	f.Add(`{"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"@M@"}]}`, `{"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"@M@"}]}`, seedConfig)
	f.Add(seedIndex, `{"layers":[{"digest":"sha256:zz"},{}],"config":{"digest":"@C@"}}`, `{"rootfs":{"diff_ids":[]},"history":null}`)
	f.Add(`[]`, `null`, `{"rootfs":{"diff_ids":["x:y","@L@","@L@"]}}`)
	f.Fuzz(func(t *testing.T, index, manifest, config string) {
		layer := []byte(strings.Repeat("\x00", 1024))
		ld := digestOf(layer)
		cfg := []byte(substitute(config, map[string]v1.Hash{"@L@": ld}))
		cd := digestOf(cfg)
		man := []byte(substitute(manifest, map[string]v1.Hash{"@L@": ld, "@C@": cd}))
		md := digestOf(man)
		st := memStore{
			files: map[string][]byte{"index.json": []byte(substitute(index, map[string]v1.Hash{"@M@": md}))},
			blobs: map[v1.Hash][]byte{ld: layer, cd: cfg, md: man},
		}
		o := makeOptions([]Option{WithPlatform("all")})
		o.MaxLayers = 16
		src, err := readOCI(st, "", o)
		if err != nil {
			return
		}
		for _, img := range src.Images {
			if len(img.Layers) > o.MaxLayers {
				t.Fatalf("%d layers over MaxLayers", len(img.Layers))
			}
			if img.Config == nil {
				t.Fatal("image without a config")
			}
			for _, l := range img.Layers {
				if rc, err := l.Open(); err == nil {
					rc.Close()
				}
			}
		}
	})
}

// FuzzDockerArchive writes a docker-save archive with a hostile
// manifest.json and config and opens it.
func FuzzDockerArchive(f *testing.F) {
	f.Add(`[{"Config":"c.json","RepoTags":["x:1"],"Layers":["l/layer.tar"]}]`, seedConfig, "l/layer.tar", "")
	f.Add(`[{"Config":"c.json","Layers":["l/layer.tar","l/layer.tar","missing.tar"]}]`, `{"rootfs":{"diff_ids":["@L@"]}}`, "l/layer.tar", "l/layer.tar")
	f.Add(`[{"Config":"c.json","Layers":["loop"]}]`, `{}`, "loop", "loop")
	f.Add(`[{"Config":"../../c.json","Layers":["/l"],"LayerSources":{"@L@":{"digest":"sha256:00"}}}]`, `{}`, "l", "")
	dir := f.TempDir()
	n := 0
	f.Fuzz(func(t *testing.T, manifest, config, layerName, link string) {
		layer := []byte(strings.Repeat("\x00", 1024))
		ld := digestOf(layer)
		subs := map[string]v1.Hash{"@L@": ld}
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		add := func(name string, body []byte) {
			tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: int64(len(body)), Mode: 0o644})
			tw.Write(body)
		}
		add("manifest.json", []byte(substitute(manifest, subs)))
		add("c.json", []byte(substitute(config, subs)))
		add(layerName, layer)
		if link != "" {
			tw.WriteHeader(&tar.Header{Name: link, Typeflag: tar.TypeSymlink, Linkname: layerName, Mode: 0o777})
			tw.WriteHeader(&tar.Header{Name: "loop", Typeflag: tar.TypeSymlink, Linkname: link, Mode: 0o777})
		}
		tw.Close()
		n++
		p := filepath.Join(dir, fmt.Sprintf("a%d.tar", n%4))
		if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		o := makeOptions(nil)
		o.MaxLayers = 16
		src, err := openDockerArchive(p, o)
		if err != nil {
			return
		}
		defer src.Close()
		for _, img := range src.Images {
			if len(img.Layers) > o.MaxLayers {
				t.Fatalf("%d layers over MaxLayers", len(img.Layers))
			}
			for _, l := range img.Layers {
				if rc, err := l.Open(); err == nil {
					io.Copy(io.Discard, rc)
					rc.Close()
				}
			}
		}
	})
}
