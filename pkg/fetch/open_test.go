package fetch_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/fetch"
)

func TestClassify(t *testing.T) {
	images := imagesDir(t)
	missing := filepath.Join(t.TempDir(), "missing")
	tests := []struct {
		ref        string
		wantKind   fetch.Kind
		wantTarget string
	}{
		// Auto-detection by looking at what is on disk.
		{filepath.Join(images, "lifecycle"), fetch.KindOCILayout, filepath.Join(images, "lifecycle")},
		{filepath.Join(images, "lifecycle.docker.tar"), fetch.KindDockerArchive, filepath.Join(images, "lifecycle.docker.tar")},
		{filepath.Join(images, "lifecycle.oci.tar"), fetch.KindOCIArchive, filepath.Join(images, "lifecycle.oci.tar")},
		{filepath.Join(images, "multiarch.oci.tar"), fetch.KindOCIArchive, filepath.Join(images, "multiarch.oci.tar")},
		{filepath.Join(images, "hardlink-survives.docker.tar"), fetch.KindDockerArchive, filepath.Join(images, "hardlink-survives.docker.tar")},
		// Explicit prefixes win and are stripped.
		{"docker-archive:" + filepath.Join(images, "lifecycle.oci.tar"), fetch.KindDockerArchive, filepath.Join(images, "lifecycle.oci.tar")},
		{"oci-archive:" + filepath.Join(images, "lifecycle.docker.tar"), fetch.KindOCIArchive, filepath.Join(images, "lifecycle.docker.tar")},
		{"oci:" + filepath.Join(images, "lifecycle") + ":latest", fetch.KindOCILayout, filepath.Join(images, "lifecycle") + ":latest"},
		{"oci-archive:/x/y.tar:v1", fetch.KindOCIArchive, "/x/y.tar:v1"},
		{"docker://alpine:3.19", fetch.KindRegistry, "alpine:3.19"},
		{"registry:ghcr.io/org/app:1.0", fetch.KindRegistry, "ghcr.io/org/app:1.0"},
		// Registry references.
		{"alpine:3.19", fetch.KindRegistry, "alpine:3.19"},
		{"ghcr.io/org/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", fetch.KindRegistry,
			"ghcr.io/org/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
		{"localhost:5000/app", fetch.KindRegistry, "localhost:5000/app"},
		// Paths that do not exist go to the archive reader, which reports
		// the missing file instead of contacting a registry.
		{missing + ".tar", fetch.KindDockerArchive, missing + ".tar"},
		{"./nope.tar", fetch.KindDockerArchive, "./nope.tar"},
		{"../nope", fetch.KindDockerArchive, "../nope"},
		{"image.tar.gz", fetch.KindDockerArchive, "image.tar.gz"},
	}
	for _, tt := range tests {
		kind, target := fetch.Classify(tt.ref)
		if kind != tt.wantKind || target != tt.wantTarget {
			t.Errorf("Classify(%q) = (%s, %q), want (%s, %q)", tt.ref, kind, target, tt.wantKind, tt.wantTarget)
		}
	}
}

func TestOpenKinds(t *testing.T) {
	images := imagesDir(t)
	tests := []struct {
		ref  string
		kind fetch.Kind
	}{
		{filepath.Join(images, "lifecycle"), fetch.KindOCILayout},
		{"oci:" + filepath.Join(images, "lifecycle"), fetch.KindOCILayout},
		{filepath.Join(images, "lifecycle.docker.tar"), fetch.KindDockerArchive},
		{"docker-archive:" + filepath.Join(images, "lifecycle.docker.tar"), fetch.KindDockerArchive},
		{filepath.Join(images, "lifecycle.oci.tar"), fetch.KindOCIArchive},
		{"oci-archive:" + filepath.Join(images, "lifecycle.oci.tar"), fetch.KindOCIArchive},
	}
	for _, tt := range tests {
		src := open(t, tt.ref)
		if src.Kind != tt.kind || src.Ref != tt.ref {
			t.Errorf("%s: Kind, Ref = %s, %q", tt.ref, src.Kind, src.Ref)
		}
		img := onlyImage(t, src)
		if len(img.Layers) != 4 || img.Platform != "linux/amd64" {
			t.Errorf("%s: %d layers, platform %q; want 4, linux/amd64", tt.ref, len(img.Layers), img.Platform)
		}
	}
}

func TestOpenRefNameSuffix(t *testing.T) {
	images := imagesDir(t)
	for _, ref := range []string{
		"oci:" + filepath.Join(images, "lifecycle") + ":latest",
		"oci-archive:" + filepath.Join(images, "lifecycle.oci.tar") + ":latest",
	} {
		img := onlyImage(t, open(t, ref))
		if len(img.Layers) != 4 {
			t.Errorf("%s: %d layers, want 4", ref, len(img.Layers))
		}
		if !strings.HasSuffix(img.Ref, "latest") {
			t.Errorf("%s: image ref %q does not name the tag", ref, img.Ref)
		}
	}
	for _, ref := range []string{
		"oci:" + filepath.Join(images, "lifecycle") + ":v9",
		"oci-archive:" + filepath.Join(images, "lifecycle.oci.tar") + ":v9",
	} {
		_, err := fetch.Open(context.Background(), ref)
		if err == nil {
			t.Fatalf("%s: opened an image that is not in index.json", ref)
		}
		// The message names what was asked for and what there is.
		if !strings.Contains(err.Error(), `"v9"`) || !strings.Contains(err.Error(), "latest") {
			t.Errorf("%s: error %q should name the missing and the available names", ref, err)
		}
	}
}

func TestOpenMissingPath(t *testing.T) {
	dir := t.TempDir()
	for _, ref := range []string{
		filepath.Join(dir, "nope.tar"),
		filepath.Join(dir, "nope"),
		"docker-archive:" + filepath.Join(dir, "nope.tar"),
		"oci-archive:" + filepath.Join(dir, "nope.tar"),
		"oci:" + filepath.Join(dir, "nope"),
	} {
		_, err := fetch.Open(context.Background(), ref)
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Open(%s) = %v, want an error wrapping os.ErrNotExist", ref, err)
			continue
		}
		if !strings.Contains(err.Error(), "nope") {
			t.Errorf("Open(%s): error %q does not name the path", ref, err)
		}
	}
}

func TestOpenNotAnImage(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	shortText := write("notes.txt", []byte("just some words\n"))
	longText := write("long.txt", bytes.Repeat([]byte("this is a text file, not a tar archive\n"), 100))
	empty := write("empty.tar", nil)
	emptyDir := filepath.Join(dir, "emptydir")
	if err := os.Mkdir(emptyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// A tar that is not an image at all.
	someTar := write("other.tar", testimage.Tar(testimage.Entry{Name: "hello.txt", Body: "hi\n"}))

	images := imagesDir(t)
	tests := []struct {
		ref  string
		want string
	}{
		{shortText, ""},
		{longText, ""},
		{"docker-archive:" + longText, ""},
		{"oci-archive:" + longText, ""},
		{empty, "empty"},
		{emptyDir, "oci-layout"},
		{"oci:" + emptyDir, "oci-layout"},
		{"oci:" + longText, "not a directory"},
		{someTar, "manifest.json"},
		{"oci-archive:" + someTar, "oci-layout"},
		// A prefix that names the wrong format.
		{"docker-archive:" + filepath.Join(images, "lifecycle.oci.tar"), "manifest.json"},
		{"oci-archive:" + filepath.Join(images, "lifecycle.docker.tar"), "oci-layout"},
	}
	for _, tt := range tests {
		_, err := fetch.Open(context.Background(), tt.ref)
		if !errors.Is(err, fetch.ErrNotImage) {
			t.Errorf("Open(%s) = %v, want ErrNotImage", tt.ref, err)
			continue
		}
		if tt.want != "" && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%s): error %q does not say %q", tt.ref, err, tt.want)
		}
	}
}

func TestOpenTruncatedArchive(t *testing.T) {
	images := imagesDir(t)
	for _, name := range []string{"lifecycle.docker.tar", "lifecycle.oci.tar", "compression.docker.tar"} {
		whole, err := os.ReadFile(filepath.Join(images, name))
		if err != nil {
			t.Fatal(err)
		}
		// Cut inside every member's header and one byte before the end of
		// every member's data.
		var cuts []int
		for _, m := range members(t, whole) {
			cuts = append(cuts, m.header+100)
			if m.size > 0 {
				cuts = append(cuts, m.data+m.size-1)
			}
		}
		for _, n := range cuts {
			p := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(p, whole[:n], 0o644); err != nil {
				t.Fatal(err)
			}
			src, err := fetch.Open(context.Background(), p)
			if err == nil {
				src.Close()
				t.Errorf("%s cut to %d of %d bytes: opened", name, n, len(whole))
				continue
			}
			if !errors.Is(err, fetch.ErrNotImage) || !strings.Contains(err.Error(), "truncated") {
				t.Errorf("%s cut to %d of %d bytes: %v; want ErrNotImage saying truncated", name, n, len(whole), err)
			}
		}
	}
}

func TestOpenGzippedArchive(t *testing.T) {
	images := imagesDir(t)
	for _, name := range []string{"lifecycle.docker.tar", "lifecycle.oci.tar"} {
		raw, err := os.ReadFile(filepath.Join(images, name))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(raw)
		zw.Close()
		p := filepath.Join(t.TempDir(), name+".gz")
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		// Named as what it is, or with a prefix, or hidden behind a .tar name.
		plainName := filepath.Join(t.TempDir(), "looks-plain.tar")
		if err := os.WriteFile(plainName, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, ref := range []string{p, plainName, "docker-archive:" + p, "oci-archive:" + p} {
			_, err := fetch.Open(context.Background(), ref)
			if err == nil {
				t.Errorf("%s: opened a gzip file", ref)
				continue
			}
			msg := err.Error()
			if !strings.Contains(msg, "gzip-compressed") || !strings.Contains(msg, "gunzip") {
				t.Errorf("%s: error %q should say the file is gzip-compressed and how to fix it", ref, msg)
			}
		}
	}
}

func TestOpenBadPlatform(t *testing.T) {
	_, err := fetch.Open(context.Background(), filepath.Join(imagesDir(t), "multiarch"), fetch.WithPlatform("linux/arm64/v8/extra/x"))
	if err == nil || !strings.Contains(err.Error(), "platform") {
		t.Fatalf("Open with a malformed platform = %v, want an error about the platform", err)
	}
}

type member struct {
	name               string
	header, data, size int
}

// members lists where each member's header and data start in a tar.
func members(t testing.TB, b []byte) []member {
	t.Helper()
	r := bytes.NewReader(b)
	tr := tar.NewReader(r)
	var out []member
	prevEnd := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data := len(b) - r.Len()
		// The header starts at the 512-byte block after the previous data.
		out = append(out, member{name: hdr.Name, header: (prevEnd + 511) / 512 * 512, data: data, size: int(hdr.Size)})
		prevEnd = data + int(hdr.Size)
	}
	if len(out) < 3 {
		t.Fatalf("only %d members", len(out))
	}
	return out
}

type tarMember struct {
	name, body, link string
	typ              byte
}

func tarMembers(t testing.TB, ms ...tarMember) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range ms {
		typ := m.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: m.name, Typeflag: typ, Linkname: m.link, Mode: 0o644}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(m.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, m.body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDockerArchiveLayerLinks: a layer reached through links inside the
// archive is read; links that loop, dangle or point out of the archive
// give an error naming the layer instead of a hang or a read elsewhere.
func TestDockerArchiveLayerLinks(t *testing.T) {
	layer := testimage.Tar(testimage.Entry{Name: "etc/hello", Body: "hi\n"})
	diffID := fmt.Sprintf("sha256:%x", sha256.Sum256(layer))
	config := `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["` + diffID + `","` + diffID + `"]}}`
	manifest := func(second string) tarMember {
		return tarMember{name: "manifest.json", body: `[{"Config":"config.json","RepoTags":["x:1"],"Layers":["a/layer.tar","` + second + `"]}]`}
	}
	write := func(ms ...tarMember) string {
		p := filepath.Join(t.TempDir(), "image.tar")
		if err := os.WriteFile(p, tarMembers(t, ms...), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := []tarMember{{name: "config.json", body: config}, {name: "a/layer.tar", body: string(layer)}}

	t.Run("symlink and hardlink", func(t *testing.T) {
		for _, ms := range [][]tarMember{
			{{name: "b/layer.tar", typ: tar.TypeSymlink, link: "../a/layer.tar"}},
			{{name: "b/layer.tar", typ: tar.TypeSymlink, link: "/a/layer.tar"}},
			{{name: "b/layer.tar", typ: tar.TypeLink, link: "a/layer.tar"}},
		} {
			p := write(append(append(append([]tarMember{}, base...), ms...), manifest("b/layer.tar"))...)
			img := onlyImage(t, open(t, p))
			if len(img.Layers) != 2 || img.Layers[1].Size != int64(len(layer)) {
				t.Fatalf("%+v: layers %+v", ms, img.Layers)
			}
			walkImage(t, img)
		}
	})
	t.Run("bad links", func(t *testing.T) {
		for _, tt := range []struct {
			ms   []tarMember
			want string
		}{
			{[]tarMember{{name: "b/layer.tar", typ: tar.TypeSymlink, link: "../c/layer.tar"},
				{name: "c/layer.tar", typ: tar.TypeSymlink, link: "../b/layer.tar"}}, "too many links"},
			{[]tarMember{{name: "b/layer.tar", typ: tar.TypeSymlink, link: "../missing/layer.tar"}}, "missing/layer.tar"},
			{[]tarMember{{name: "b/layer.tar", typ: tar.TypeSymlink, link: "../../../../etc/passwd"}}, "etc/passwd"},
			{[]tarMember{{name: "b/layer.tar", typ: tar.TypeDir}}, "not a regular file"},
		} {
			// The image opens; the layer fails alone, when read.
			p := write(append(append(append([]tarMember{}, base...), tt.ms...), manifest("b/layer.tar"))...)
			img := onlyImage(t, open(t, p))
			if _, err := img.Layers[0].Open(); err != nil {
				t.Errorf("%+v: layer 0: %v", tt.ms, err)
			}
			rc, err := img.Layers[1].Open()
			if err == nil {
				rc.Close()
				t.Errorf("%+v: layer 1 opened", tt.ms)
				continue
			}
			if !strings.Contains(err.Error(), "layer 1") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%+v: error %q should name layer 1 and say %q", tt.ms, err, tt.want)
			}
		}
	})
	t.Run("missing layer", func(t *testing.T) {
		p := write(append(append([]tarMember{}, base...), manifest("nope/layer.tar"))...)
		img := onlyImage(t, open(t, p))
		_, err := img.Layers[1].Open()
		if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "nope/layer.tar") {
			t.Errorf("%v: want a not-exist error naming nope/layer.tar", err)
		}
	})
}
