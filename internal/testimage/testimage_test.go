package testimage

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func readTar(t *testing.T, r io.Reader) []*tar.Header {
	t.Helper()
	var hdrs []*tar.Header
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return hdrs
		}
		if err != nil {
			t.Fatal(err)
		}
		hdrs = append(hdrs, h)
	}
}

func TestTar(t *testing.T) {
	entries := []Entry{
		{Name: "app/", Type: tar.TypeDir},
		{Name: "app/a.env", Body: "A=1\n"},
		{Name: "app/run", Type: tar.TypeReg, Body: "#!/bin/sh\n", Mode: 0o755},
		{Name: "app/link", Type: tar.TypeSymlink, Linkname: "a.env"},
		{Name: "app/hard", Type: tar.TypeLink, Linkname: "app/a.env"},
		{Name: "app/.wh..wh..opq"},
	}
	a, b := Tar(entries...), Tar(entries...)
	if !bytes.Equal(a, b) {
		t.Fatal("Tar is not deterministic")
	}
	hdrs := readTar(t, bytes.NewReader(a))
	if len(hdrs) != len(entries) {
		t.Fatalf("got %d entries, want %d", len(hdrs), len(entries))
	}
	wantMode := []int64{0o755, 0o644, 0o755, 0o777, 0o644, 0o644}
	wantType := []byte{tar.TypeDir, tar.TypeReg, tar.TypeReg, tar.TypeSymlink, tar.TypeLink, tar.TypeReg}
	for i, h := range hdrs {
		if h.Name != entries[i].Name {
			t.Errorf("entry %d: name %q, want %q (order must be kept)", i, h.Name, entries[i].Name)
		}
		if h.Typeflag != wantType[i] || h.Mode != wantMode[i] {
			t.Errorf("%s: type %c mode %o, want %c %o", h.Name, h.Typeflag, h.Mode, wantType[i], wantMode[i])
		}
		if !h.ModTime.Equal(Epoch) || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: metadata mtime=%v uid=%d gid=%d uname=%q gname=%q", h.Name, h.ModTime, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if h.Linkname != entries[i].Linkname {
			t.Errorf("%s: linkname %q, want %q", h.Name, h.Linkname, entries[i].Linkname)
		}
		if h.Size != int64(len(entries[i].Body)) {
			t.Errorf("%s: size %d", h.Name, h.Size)
		}
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func TestLayer(t *testing.T) {
	entries := []Entry{{Name: "etc/", Type: tar.TypeDir}, {Name: "etc/x.env", Body: "X=1\n"}}
	raw := Tar(entries...)
	for _, tc := range []struct {
		c     Compression
		mt    types.MediaType
		magic []byte
	}{
		{None, "application/vnd.oci.image.layer.v1.tar", raw[:8]},
		{Gzip, "application/vnd.oci.image.layer.v1.tar+gzip", []byte{0x1f, 0x8b}},
		{Zstd, "application/vnd.oci.image.layer.v1.tar+zstd", []byte{0x28, 0xb5, 0x2f, 0xfd}},
	} {
		t.Run(tc.c.String(), func(t *testing.T) {
			l := Layer(tc.c, entries...)
			mt, err := l.MediaType()
			if err != nil || mt != tc.mt || tc.c.MediaType() != tc.mt {
				t.Fatalf("media type %q (%v), want %q", mt, err, tc.mt)
			}
			rc, err := l.Compressed()
			if err != nil {
				t.Fatal(err)
			}
			comp, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.HasPrefix(comp, tc.magic) {
				t.Errorf("compressed blob starts % x, want % x", comp[:4], tc.magic)
			}
			rc, err = l.Uncompressed()
			if err != nil {
				t.Fatal(err)
			}
			unc, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(unc, raw) {
				t.Error("uncompressed content differs from Tar()")
			}
			dig, _ := l.Digest()
			diff, _ := l.DiffID()
			size, _ := l.Size()
			if dig.String() != sha(comp) || diff.String() != sha(raw) || size != int64(len(comp)) {
				t.Errorf("digest %s diffID %s size %d do not match the blobs", dig, diff, size)
			}
			again, _ := Layer(tc.c, entries...).Digest()
			if again != dig {
				t.Error("Layer is not deterministic")
			}
		})
	}
}

func rawConfig(t *testing.T, img v1.Image) map[string]json.RawMessage {
	t.Helper()
	b, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestImage(t *testing.T) {
	l0 := Layer(Gzip, Entry{Name: "a", Body: "a"})
	l1 := Layer(None, Entry{Name: "b", Body: "b"})
	steps := []Step{
		{CreatedBy: "COPY a /", Layer: l0},
		{CreatedBy: "ENV X=1", Comment: "env"},
		{CreatedBy: "COPY b /", Layer: l1},
	}
	img, err := Image(steps, WithEnv("X=1"))
	if err != nil {
		t.Fatal(err)
	}
	mt, _ := img.MediaType()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if mt != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
		t.Errorf("media types %q / %q", mt, m.Config.MediaType)
	}
	if len(m.Layers) != 2 || m.Layers[0].MediaType != types.OCILayer || m.Layers[1].MediaType != types.OCIUncompressedLayer {
		t.Errorf("manifest layers %+v", m.Layers)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" || cf.Variant != "" {
		t.Errorf("platform %s/%s/%s", cf.OS, cf.Architecture, cf.Variant)
	}
	if len(cf.RootFS.DiffIDs) != 2 || len(cf.History) != 3 {
		t.Fatalf("%d diff_ids, %d history entries", len(cf.RootFS.DiffIDs), len(cf.History))
	}
	for i, h := range cf.History {
		if h.CreatedBy != steps[i].CreatedBy || h.Comment != steps[i].Comment ||
			h.EmptyLayer != (steps[i].Layer == nil) || !h.Created.Time.Equal(StepTime(i)) {
			t.Errorf("history[%d] = %+v", i, h)
		}
	}
	if !cf.Created.Time.Equal(StepTime(2)) || len(cf.Config.Env) != 1 || cf.Config.Env[0] != "X=1" {
		t.Errorf("created %v env %v", cf.Created, cf.Config.Env)
	}
	d1, _ := img.Digest()
	img2, _ := Image(steps, WithEnv("X=1"))
	if d2, _ := img2.Digest(); d1 != d2 {
		t.Error("Image is not deterministic")
	}

	arm, err := Image(steps, WithPlatform("linux", "arm64", "v8"), WithoutHistory())
	if err != nil {
		t.Fatal(err)
	}
	cf, _ = arm.ConfigFile()
	if cf.Architecture != "arm64" || cf.Variant != "v8" {
		t.Errorf("WithPlatform: %s/%s", cf.Architecture, cf.Variant)
	}
	if _, ok := rawConfig(t, arm)["history"]; ok {
		t.Error("WithoutHistory: config still has a history field")
	}
	if l, _ := arm.Layers(); len(l) != 2 {
		t.Errorf("WithoutHistory: %d layers", len(l))
	}

	over := []v1.History{{CreatedBy: "x"}, {CreatedBy: "y", EmptyLayer: true}, {CreatedBy: "z"}, {CreatedBy: "w"}}
	long, err := Image(steps[:1], WithHistoryOverride(over))
	if err != nil {
		t.Fatal(err)
	}
	cf, _ = long.ConfigFile()
	if len(cf.History) != 4 || cf.History[3].CreatedBy != "w" || len(cf.RootFS.DiffIDs) != 1 {
		t.Errorf("WithHistoryOverride: %+v", cf.History)
	}
}

func TestIndex(t *testing.T) {
	amd, _ := Image([]Step{{CreatedBy: "a", Layer: Layer(Gzip, Entry{Name: "a", Body: "a"})}})
	arm, _ := Image([]Step{{CreatedBy: "b", Layer: Layer(Gzip, Entry{Name: "b", Body: "b"})}},
		WithPlatform("linux", "arm64", "v8"))
	idx, err := Index(map[string]v1.Image{"linux/arm64/v8": arm, "linux/amd64": amd})
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if im.MediaType != types.OCIImageIndex || len(im.Manifests) != 2 {
		t.Fatalf("index %+v", im)
	}
	want := []string{"linux/amd64", "linux/arm64/v8"}
	for i, d := range im.Manifests {
		if d.Platform == nil || d.Platform.String() != want[i] {
			t.Errorf("manifests[%d] platform %v, want %s", i, d.Platform, want[i])
		}
		if d.MediaType != types.OCIManifestSchema1 || d.ArtifactType != "" {
			t.Errorf("manifests[%d] media type %q artifactType %q", i, d.MediaType, d.ArtifactType)
		}
		if _, err := idx.Image(d.Digest); err != nil {
			t.Errorf("manifests[%d]: %v", i, err)
		}
	}
	if _, err := Index(map[string]v1.Image{"linux/arm/v7/extra": amd}); err == nil {
		t.Error("bad platform accepted")
	}
	if _, err := Index(map[string]v1.Image{"linux": amd}); err == nil {
		t.Error("platform without architecture accepted")
	}
}
