package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/report"
)

// zeroTarGz is a gzip layer holding a file of n zero bytes: a bomb.
func zeroTarGz(n int64) (plain int64, blob []byte) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	cw := &countWriter{w: zw}
	tw := tar.NewWriter(cw)
	tw.WriteHeader(&tar.Header{Name: "zeros", Typeflag: tar.TypeReg, Size: n, Mode: 0o644})
	zero := make([]byte, 1<<20)
	for left := n; left > 0; left -= int64(len(zero)) {
		tw.Write(zero[:min(left, int64(len(zero)))])
	}
	tw.Close()
	zw.Close()
	return cw.n, buf.Bytes()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return c.w.Write(p) }

// Each bound, crossed through the CLI: a warning or a layer error naming
// the flag, the other layers scanned.
func TestBoundFlags(t *testing.T) {
	secret := testimage.Tar(secretFile("app/first.env", testimage.SecretGitHub))
	var many []testimage.Entry
	for i := range 30 {
		many = append(many, testimage.Entry{Name: fmt.Sprintf("f%d", i), Body: "x", Format: tar.FormatPAX})
	}
	deep := testimage.Tar(testimage.Entry{Name: strings.Repeat("d/", 40) + "f", Body: "x", Format: tar.FormatPAX})
	_, bomb := zeroTarGz(200 << 20)
	// The bomb's tar is not kept in memory: its diff_id is left out.
	bombImg := hostileImage{layers: []hostileLayer{{tar: secret}, {tar: nil, blob: bomb, diffID: "sha256:" + strings.Repeat("0", 64)}}}
	manyLayers := hostileImage{}
	for range 5 {
		manyLayers.layers = append(manyLayers.layers, hostileLayer{tar: secret})
	}
	longHistory := hostileImage{layers: []hostileLayer{{tar: secret}}}
	for i := range 20 {
		longHistory.history = append(longHistory.history, map[string]any{"created_by": fmt.Sprintf("step %d", i), "empty_layer": i > 0})
	}

	cases := []struct {
		name  string
		img   hostileImage
		args  []string
		code  int
		where string // "error", "warning" or "stderr"
		want  string
	}{
		{"max-entries", hostileImage{layers: []hostileLayer{{tar: secret}, {tar: testimage.Tar(many...)}}}, []string{"--max-entries", "10"}, 3, "error", "--max-entries"},
		{"max-path-depth", hostileImage{layers: []hostileLayer{{tar: secret}, {tar: deep}}}, []string{"--max-path-depth", "8"}, 1, "warning", "--max-path-depth"},
		{"max-path-len", hostileImage{layers: []hostileLayer{{tar: secret}, {tar: deep}}}, []string{"--max-path-len", "20"}, 1, "warning", "--max-path-len"},
		{"max-layer-size", hostileImage{layers: []hostileLayer{{tar: secret}, {tar: testimage.Tar(many...)}}}, []string{"--max-layer-size", "4096"}, 3, "error", "--max-layer-size"},
		{"max-image-size", hostileImage{layers: []hostileLayer{{tar: secret}, {tar: testimage.Tar(many...)}}}, []string{"--max-image-size", "20000", "--jobs", "1"}, 3, "error", "--max-image-size"},
		{"max-layer-ratio (gzip bomb)", bombImg, nil, 3, "error", "--max-layer-ratio"},
		{"max-history", longHistory, []string{"--max-history", "5"}, 1, "warning", "--max-history"},
		{"max-layers", manyLayers, []string{"--max-layers", "3"}, 2, "stderr", "more than the 3 allowed"},
		{"max-metadata-size", manyLayers, []string{"--max-metadata-size", "100"}, 2, "stderr", "allowed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := c.img.write(t)
			res := runCLI(t, nil, append(append([]string{"--format", "json", "--exit-code", "1"}, c.args...), dir)...)
			if res.code != c.code {
				t.Fatalf("exit %d, want %d\nstderr: %s", res.code, c.code, res.stderr)
			}
			if c.where == "stderr" {
				if !strings.Contains(res.stderr, c.want) {
					t.Errorf("stderr %q does not say %q", res.stderr, c.want)
				}
				return
			}
			var rep report.Report
			if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
				t.Fatal(err)
			}
			img := rep.Images[0]
			var msgs []string
			ps := img.Warnings
			if c.where == "error" {
				ps = img.Errors
			}
			for _, p := range ps {
				msgs = append(msgs, p.Message)
			}
			if !strings.Contains(strings.Join(msgs, "\n"), c.want) {
				t.Errorf("%ss do not say %q:\n%s", c.where, c.want, strings.Join(msgs, "\n"))
			}
			found := false
			for _, f := range img.Findings {
				found = found || f.Path == "/app/first.env"
			}
			if !found {
				t.Errorf("layer 0 was not scanned")
			}
		})
	}
	t.Run("max-image-archive-entries", func(t *testing.T) {
		assertUsageError(t, runCLI(t, nil, "--max-image-archive-entries", "2", fixture(t, "lifecycle.docker.tar")), "more than 2 entries")
	})
	t.Run("bad values", func(t *testing.T) {
		for _, flag := range []string{"--max-entries", "--max-path-len", "--max-path-depth", "--max-layer-size", "--max-image-size",
			"--max-layer-ratio", "--max-metadata-size", "--max-layers", "--max-history", "--max-image-archive-entries", "--timeout"} {
			v := "0"
			if flag == "--timeout" {
				v = "0s"
			}
			assertUsageError(t, runCLI(t, nil, flag, v, fixture(t, "lifecycle.oci.tar")), flag)
		}
	})
}
