package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/layerscan/layerscan/internal/testenv"
	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/report"
)

// scanStdin pipes file into `layerscan --format json -` (as
// `cat file | layerscan -` does: a pipe, not a file) and parses the report.
func scanStdin(t *testing.T, file string, extra ...string) *report.Report {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(binPath, append([]string{"--format", "json", "-"}, extra...)...)
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HOME="+home, "DOCKER_CONFIG="+home)
	cmd.Stdin = bufio.NewReader(f) // not an *os.File: exec makes a pipe
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err = cmd.Run()
	var ee *exec.ExitError
	if err != nil && (!errors.As(err, &ee) || ee.ExitCode() != 1) {
		t.Fatalf("cat %s | layerscan -: %v\n%s", file, err, se.String())
	}
	var rep report.Report
	if err := json.Unmarshal(so.Bytes(), &rep); err != nil {
		t.Fatalf("report of stdin: %v\n%s", err, so.String())
	}
	return &rep
}

// TestUnknownSchemeIsUsageError: another tool's prefix, or WORD:x/y, is a
// usage error (exit 2) naming the schemes layerscan reads — never a
// Docker Hub image of that name, never a scan of something else.
func TestUnknownSchemeIsUsageError(t *testing.T) {
	for _, ref := range []string{"containerd:x", "oci-dir:/x", "singularity:x", "dir2:/x", "foo:bar/baz", "nerdctl:app", "https://registry.example/app"} {
		res := runCLI(t, nil, ref)
		if res.code != 2 {
			t.Errorf("%s: exit %d, want 2\n%s", ref, res.code, res.stderr)
			continue
		}
		scheme, _, _ := strings.Cut(ref, ":")
		for _, want := range []string{"usage: unknown image source scheme", `"` + scheme + `:"`, "docker-archive:", "containers-storage:", "podman:", "dir:", "oci-archive:"} {
			if !strings.Contains(res.stderr, want) {
				t.Errorf("%s: stderr lacks %q:\n%s", ref, want, res.stderr)
			}
		}
	}
	// The scan subcommand and ls say the same.
	for _, args := range [][]string{{"scan", "containerd:x"}, {"ls", "containerd:x"}} {
		if res := runCLI(t, nil, args...); res.code != 2 || !strings.Contains(res.stderr, "containers-storage:") {
			t.Errorf("%v: exit %d\n%s", args, res.code, res.stderr)
		}
	}
}

// TestScanHelpShowsSources: --help of scan (and of the root command,
// which scans by default) shows the reference grammar.
func TestScanHelpShowsSources(t *testing.T) {
	for _, args := range [][]string{{"scan", "--help"}, {"--help"}} {
		res := runCLI(t, nil, args...)
		if res.code != 0 {
			t.Fatalf("%v: exit %d", args, res.code)
		}
		for _, s := range fetch.Schemes {
			if !strings.Contains(res.stdout, s.Prefix+s.Syntax) {
				t.Errorf("%v: help lacks %s%s", args, s.Prefix, s.Syntax)
			}
		}
	}
}

// TestDirSource: a directory is scanned as one layer; the finding is
// there, present, in layer 0, and the report says there is no history.
func TestDirSource(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app", "ci.env"), []byte("GITHUB_TOKEN="+testimage.SecretGitHub+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "app", "passwd")); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"dir:" + dir, "rootfs:" + dir} {
		rep := scanJSON(t, nil, ref)
		im := rep.Images[0]
		if len(im.Layers) != 1 || len(im.Findings) != 1 {
			t.Fatalf("%s: %d layers, %d findings", ref, len(im.Layers), len(im.Findings))
		}
		f := im.Findings[0]
		if f.Path != "/app/ci.env" || f.Layer.Index != 0 || f.Status != "present" || f.Rule != "github-pat" {
			t.Errorf("%s: finding %s layer %d %s %s", ref, f.Path, f.Layer.Index, f.Status, f.Rule)
		}
		var warned bool
		for _, w := range im.Warnings {
			warned = warned || strings.Contains(w.Message, "one layer, no history: instructions unknown")
		}
		if !warned {
			t.Errorf("%s: no warning about the missing history: %+v", ref, im.Warnings)
		}
	}
	res := runCLI(t, nil, "dir:"+dir)
	if res.code != 1 || !strings.Contains(res.stdout, "warning: one layer, no history: instructions unknown") {
		t.Errorf("table: exit %d, no warning line:\n%s", res.code, res.stdout)
	}
}

// TestStdinSource: `cat app.docker.tar | layerscan -` and the OCI archive
// on standard input give the findings of the file itself; a terminal or
// junk on standard input is an error (exit 2).
func TestStdinSource(t *testing.T) {
	images := testenv.ImagesDir()
	for _, file := range []string{"lifecycle.docker.tar", "lifecycle.oci.tar"} {
		p := filepath.Join(images, file)
		want := keysOf(scanJSON(t, nil, p))
		if len(want) == 0 {
			t.Fatalf("%s: no findings", file)
		}
		if got := keysOf(scanStdin(t, p)); !slices.Equal(got, want) {
			t.Errorf("%s on stdin:\n got %+v\nwant %+v", file, got, want)
		}
	}
	res := runCLIStdin(t, nil, "not an image archive", "-")
	if res.code != 2 || !strings.Contains(res.stderr, "standard input") {
		t.Errorf("junk on stdin: exit %d\n%s", res.code, res.stderr)
	}
	raw, err := os.ReadFile(filepath.Join(images, "lifecycle.docker.tar"))
	if err != nil {
		t.Fatal(err)
	}
	res = runCLIStdin(t, nil, string(raw), "--max-image-size", "4KiB", "-")
	if res.code != 2 || !strings.Contains(res.stderr, "more than 4096 bytes (--max-image-size)") {
		t.Errorf("stdin past --max-image-size: exit %d\n%s", res.code, res.stderr)
	}
}

// TestStorageSource: buildah's own vfs store, read from disk by name,
// short name and ID prefix, gives the findings of the image's docker
// archive; a name not there, or no store, is exit 2 naming the problem.
func TestStorageSource(t *testing.T) {
	dir := buildahCorpus(t)
	store := filepath.Join(dir, "storage")
	want := keysOf(scanJSON(t, nil, filepath.Join(dir, "copy-then-rm.docker.tar")))
	rep := scanJSON(t, nil, "containers-storage:["+store+"]layerscan-test/copy-then-rm")
	if got := keysOf(rep); !slices.Equal(got, want) {
		t.Errorf("containers-storage:\n got %+v\nwant %+v", got, want)
	}
	id := strings.TrimPrefix(rep.Images[0].ConfigDigest, "sha256:")
	if rep.Images[0].Ref != "localhost/layerscan-test/copy-then-rm:latest" || len(id) != 64 {
		t.Errorf("ref %q, config digest %q", rep.Images[0].Ref, rep.Images[0].ConfigDigest)
	}
	if got := keysOf(scanJSON(t, nil, "containers-storage:[vfs@"+store+"+/run/x]"+id[:12])); !slices.Equal(got, want) {
		t.Errorf("by ID prefix: %+v", got)
	}
	// podman's overlay store: the layer directories hold the layer's own
	// files, deletions as 0/0 character devices; tar-split gives the tar.
	ov := testenv.NewPodmanStore(t, "overlay")
	out, err := ov.TryRun("load", "-q", "-i", filepath.Join(dir, "whiteout-dir.docker.tar"))
	switch {
	case err != nil && strings.Contains(out, "not supported") && os.Getenv(testenv.RequireToolsEnv) != "1":
		t.Logf("overlay store not checked: podman has no overlay on this kernel: %s", out)
	case err != nil:
		t.Fatalf("podman load (overlay): %v\n%s", err, out)
	default:
		wantOv := keysOf(scanJSON(t, nil, filepath.Join(dir, "whiteout-dir.docker.tar")))
		if got := keysOf(scanJSON(t, nil, "containers-storage:[overlay@"+ov.Root+"]whiteout-dir")); len(wantOv) == 0 || !slices.Equal(got, wantOv) {
			t.Errorf("overlay store:\n got %+v\nwant %+v", got, wantOv)
		}
	}
	for ref, want := range map[string]string{
		"containers-storage:[" + store + "]layerscan-test/no-such-image": "no image",
		"containers-storage:[" + t.TempDir() + "]app":                    "cannot read the containers-storage store",
	} {
		if res := runCLI(t, nil, ref); res.code != 2 || !strings.Contains(res.stderr, want) {
			t.Errorf("%s: exit %d, want 2 and %q:\n%s", ref, res.code, want, res.stderr)
		}
	}
}

// TestDaemonSource: images in a real engine (podman's service, Docker
// Engine API) are read as docker: (DOCKER_HOST) and podman:
// (CONTAINER_HOST); a multi-image archive saved by podman is picked from
// with docker-archive:PATH:REF and :@N; no engine is exit 2.
func TestDaemonSource(t *testing.T) {
	dir := buildahCorpus(t)
	pm := testenv.StartPodman(t)
	names := []string{"copy-then-rm", "hardlink"}
	want := map[string][]findingKey{}
	for _, n := range names {
		pm.Run(t, "load", "-q", "-i", filepath.Join(dir, n+".docker.tar"))
		want[n] = keysOf(scanJSON(t, nil, filepath.Join(dir, n+".docker.tar")))
	}
	for ref, name := range map[string]string{
		"docker:layerscan-test/copy-then-rm":                     "copy-then-rm",
		"docker-daemon:localhost/layerscan-test/hardlink:latest": "hardlink",
		"podman:localhost/layerscan-test/hardlink":               "hardlink",
	} {
		if got := keysOf(scanJSON(t, pm.Env(), ref)); !slices.Equal(got, want[name]) {
			t.Errorf("%s:\n got %+v\nwant %+v", ref, got, want[name])
		}
	}
	// podman: reads CONTAINER_HOST, not DOCKER_HOST.
	res := runCLI(t, []string{"CONTAINER_HOST=unix:///nonexistent/podman.sock", "DOCKER_HOST=" + pm.Host}, "podman:layerscan-test/hardlink")
	if res.code != 2 || !strings.Contains(res.stderr, "no container engine") || !strings.Contains(res.stderr, "/nonexistent/podman.sock") {
		t.Errorf("podman: without its service: exit %d\n%s", res.code, res.stderr)
	}
	res = runCLI(t, pm.Env(), "docker:layerscan-test/no-such-image")
	if res.code != 2 || !strings.Contains(res.stderr, "not found") {
		t.Errorf("missing image: exit %d\n%s", res.code, res.stderr)
	}

	multi := filepath.Join(t.TempDir(), "multi.tar")
	pm.Run(t, "save", "-q", "-m", "-o", multi, "localhost/layerscan-test/copy-then-rm:latest", "localhost/layerscan-test/hardlink:latest")
	for ref, name := range map[string]string{
		"docker-archive:" + multi + ":localhost/layerscan-test/hardlink:latest": "hardlink",
		"docker-archive:" + multi + ":@0":                                       "copy-then-rm",
		"docker-archive:" + multi + ":@1":                                       "hardlink",
	} {
		if got := keysOf(scanJSON(t, nil, ref)); !slices.Equal(got, want[name]) {
			t.Errorf("%s:\n got %+v\nwant %+v", ref, got, want[name])
		}
	}
	if res := runCLI(t, nil, "docker-archive:"+multi+":@2"); res.code != 2 || !strings.Contains(res.stderr, "@0 to @1") {
		t.Errorf(":@2 of two images: exit %d\n%s", res.code, res.stderr)
	}
}
