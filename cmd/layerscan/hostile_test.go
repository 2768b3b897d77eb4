package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/report"
)

// hostileLayer is one layer of a hand-made OCI layout: what the blob
// holds, and what the manifest and config claim about it.
type hostileLayer struct {
	tar     []byte // the uncompressed tar
	blob    []byte // stored bytes; default: gzip of tar
	digest  string // manifest digest; default: of blob
	diffID  string // config diff_id; default: of tar
	missing bool   // the blob is not written
}

type hostileImage struct {
	layers  []hostileLayer
	history []map[string]any  // default: one entry per layer
	refName string            // org.opencontainers.image.ref.name of the index entry
	env     []string          // config Env
	labels  map[string]string // config Labels
}

func digestStr(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// write lays the image out as an OCI layout directory and returns its path.
func (h hostileImage) write(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	blobs := filepath.Join(dir, "blobs", "sha256")
	os.MkdirAll(blobs, 0o755)
	put := func(b []byte) string {
		d := digestStr(b)
		os.WriteFile(filepath.Join(blobs, strings.TrimPrefix(d, "sha256:")), b, 0o644)
		return d
	}
	var diffIDs []string
	var descs []map[string]any
	for _, l := range h.layers {
		blob := l.blob
		if blob == nil {
			blob = gzipped(l.tar)
		}
		d := digestStr(blob)
		if l.digest != "" {
			d = l.digest
		}
		if !l.missing {
			os.WriteFile(filepath.Join(blobs, strings.TrimPrefix(d, "sha256:")), blob, 0o644)
		}
		id := digestStr(l.tar)
		if l.diffID != "" {
			id = l.diffID
		}
		diffIDs = append(diffIDs, id)
		descs = append(descs, map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": len(blob)})
	}
	hist := h.history
	if hist == nil {
		for i := range h.layers {
			hist = append(hist, map[string]any{"created_by": fmt.Sprintf("/bin/sh -c step-%d", i)})
		}
	}
	cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux", "config": map[string]any{"Env": h.env, "Labels": h.labels},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs}, "history": hist})
	cd := put(cfg)
	man, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cfg)}, "layers": descs})
	md := put(man)
	entry := map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len(man)}
	if h.refName != "" {
		entry["annotations"] = map[string]string{"org.opencontainers.image.ref.name": h.refName}
	}
	idx, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []any{entry}})
	os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644)
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	return dir
}

func secretFile(name, secret string) testimage.Entry {
	return testimage.Entry{Name: name, Body: "# planted\nTOKEN=" + secret + "\n", Format: tar.FormatPAX}
}

func TestHostileImages(t *testing.T) {
	good0 := testimage.Tar(secretFile("app/first.env", testimage.SecretGitHub))
	good2 := testimage.Tar(secretFile("app/last.env", testimage.SecretStripe))
	mid := testimage.Tar(secretFile("app/mid.env", testimage.SecretGitLab), testimage.Entry{Name: "app/pad.txt", Body: strings.Repeat("padding\n", 4000), Format: tar.FormatPAX})
	// Entry 0 (header and one block of content), then a block that is no
	// tar header, then a valid entry the walk never reaches.
	badHeader := append(append([]byte{}, testimage.Tar(secretFile("app/mid.env", testimage.SecretGitLab))[:1024]...), bytes.Repeat([]byte{0x7f}, 512)...)
	badHeader = append(badHeader, testimage.Tar(testimage.Entry{Name: "after", Body: "x", Format: tar.FormatPAX})...)
	var noise strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&noise, "%x\n", sha256.Sum256([]byte{byte(i), byte(i >> 8)}))
	}
	big := testimage.Tar(secretFile("app/mid.env", testimage.SecretGitLab), testimage.Entry{Name: "app/noise.txt", Body: noise.String(), Format: tar.FormatPAX})
	bigGz := gzipped(big)
	other := testimage.Tar(testimage.Entry{Name: "x", Body: "other", Format: tar.FormatPAX})

	type want struct {
		code     int
		layerErr []string // substrings of layer 1's error
		warnings []string // substrings of some warning
		findings []string // paths that must be found
	}
	three := func(l hostileLayer) hostileImage {
		return hostileImage{layers: []hostileLayer{{tar: good0}, l, {tar: good2}}}
	}
	cases := []struct {
		name string
		img  hostileImage
		want want
	}{
		{"truncated gzip", three(hostileLayer{tar: big, blob: bigGz[:len(bigGz)/2]}),
			want{code: 3, layerErr: []string{"reading /app/noise.txt", "unexpected EOF"}, findings: []string{"/app/mid.env"}}},
		{"bad tar header mid-layer", three(hostileLayer{tar: badHeader, blob: badHeader}),
			want{code: 3, layerErr: []string{"reading tar entry 1", "invalid tar header"}, findings: []string{"/app/mid.env"}}},
		{"layer digest mismatch", three(hostileLayer{tar: mid, digest: digestStr(other)}),
			want{code: 3, layerErr: []string{"digest mismatch", digestStr(other)}}},
		{"diff_id mismatch", three(hostileLayer{tar: mid, diffID: digestStr(other)}),
			want{code: 3, layerErr: []string{"diff_id mismatch"}}},
		{"manifest points to a missing blob", three(hostileLayer{tar: mid, missing: true}),
			want{code: 3, layerErr: []string{"no such file"}}},
		{"more history than layers", hostileImage{layers: []hostileLayer{{tar: good0}, {tar: mid}, {tar: good2}},
			history: []map[string]any{{"created_by": "a"}, {"created_by": "b"}, {"created_by": "c"}, {"created_by": "d"}, {"created_by": "e"}}},
			want{code: 1, warnings: []string{"history"}, findings: []string{"/app/mid.env"}}},
		{"fewer history entries than layers", hostileImage{layers: []hostileLayer{{tar: good0}, {tar: mid}, {tar: good2}},
			history: []map[string]any{{"created_by": "a"}}},
			want{code: 1, warnings: []string{"history"}, findings: []string{"/app/mid.env"}}},
		{"symlink and hardlink loops", three(hostileLayer{tar: testimage.Tar(
			testimage.Entry{Name: "loop/a", Linkname: "b", Type: tar.TypeSymlink, Format: tar.FormatPAX}, testimage.Entry{Name: "loop/b", Linkname: "a", Type: tar.TypeSymlink, Format: tar.FormatPAX},
			testimage.Entry{Name: "loop/self", Linkname: "self", Type: tar.TypeSymlink, Format: tar.FormatPAX},
			testimage.Entry{Name: "loop/h1", Linkname: "loop/h2", Type: tar.TypeLink, Format: tar.FormatPAX}, testimage.Entry{Name: "loop/h2", Linkname: "loop/h1", Type: tar.TypeLink, Format: tar.FormatPAX},
			secretFile("app/mid.env", testimage.SecretGitLab))}),
			want{code: 1, findings: []string{"/app/mid.env"}}},
		{"dot-dot and absolute names", three(hostileLayer{tar: testimage.Tar(
			secretFile("../../../etc/escape.env", testimage.SecretGitLab), secretFile("/abs/secret.env", testimage.SecretNPM))}),
			want{code: 1, warnings: []string{"climbs out of the root", "../../../etc/escape.env"}, findings: []string{"/etc/escape.env", "/abs/secret.env"}}},
		{"duplicate entries", three(hostileLayer{tar: testimage.Tar(
			secretFile("app/dup.env", testimage.SecretGitLab), testimage.Entry{Name: "app/dup.env", Body: "clean\n", Format: tar.FormatPAX})}),
			want{code: 1, warnings: []string{"layer 1 has /app/dup.env more than once"}, findings: []string{"/app/dup.env"}}},
		{"whiteout for a path that never existed", three(hostileLayer{tar: testimage.Tar(
			testimage.Entry{Name: "nowhere/.wh.ghost", Body: "", Format: tar.FormatPAX}, secretFile("app/mid.env", testimage.SecretGitLab))}),
			want{code: 1, warnings: []string{"layer 1: whiteout for /nowhere/ghost"}, findings: []string{"/app/mid.env"}}},
		{"non-UTF-8 names", three(hostileLayer{tar: testimage.Tar(secretFile("app/caf\xe9-\xff.env", testimage.SecretGitLab))}),
			want{code: 1, warnings: []string{"not valid UTF-8", `caf\xe9-\xff.env`}, findings: []string{"/app/caf"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := c.img.write(t)
			start := time.Now()
			res := runCLI(t, nil, "--format", "json", "--exit-code", "1", dir)
			if d := time.Since(start); d > 60*time.Second {
				t.Errorf("took %s", d)
			}
			for _, bad := range []string{"panic", "goroutine "} {
				if strings.Contains(res.stderr, bad) {
					t.Fatalf("stderr has %q:\n%s", bad, res.stderr)
				}
			}
			if res.code != c.want.code {
				t.Errorf("exit %d, want %d\nstderr: %s", res.code, c.want.code, res.stderr)
			}
			var rep report.Report
			if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil || len(rep.Images) != 1 {
				t.Fatalf("report: %v\n%s\nstderr: %s", err, res.stdout, res.stderr)
			}
			img := rep.Images[0]
			var errs, warns []string
			for _, p := range img.Errors {
				l := -1
				if p.Layer != nil {
					l = *p.Layer
				}
				errs = append(errs, fmt.Sprintf("layer %d: %s", l, p.Message))
				if l != 1 {
					t.Errorf("error on layer %d (only layer 1 may fail): %s", l, p.Message)
				}
			}
			for _, p := range img.Warnings {
				warns = append(warns, p.Message)
			}
			for _, w := range c.want.layerErr {
				if !strings.Contains(strings.Join(errs, "\n"), w) {
					t.Errorf("errors do not say %q:\n%s", w, strings.Join(errs, "\n"))
				}
			}
			if len(c.want.layerErr) == 0 && len(errs) > 0 {
				t.Errorf("unexpected errors:\n%s", strings.Join(errs, "\n"))
			}
			for _, w := range c.want.warnings {
				if !strings.Contains(strings.Join(warns, "\n"), w) {
					t.Errorf("warnings do not say %q:\n%s", w, strings.Join(warns, "\n"))
				}
			}
			found := map[string]bool{}
			for _, f := range img.Findings {
				found[f.Path] = true
			}
			// The other layers are always scanned.
			for _, p := range append([]string{"/app/first.env", "/app/last.env"}, c.want.findings...) {
				ok := found[p]
				for fp := range found {
					ok = ok || strings.HasPrefix(fp, p)
				}
				if !ok {
					t.Errorf("no finding at %s; found %v", p, found)
				}
			}
		})
	}
}
