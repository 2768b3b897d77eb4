package fetch_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerscan/layerscan/pkg/fetch"
)

// TestParseReference: the grammar's order — a known scheme wins, then
// standard input, then what exists on disk, then what looks like a path,
// then another tool's scheme (an error), then a registry reference.
func TestParseReference(t *testing.T) {
	dir := t.TempDir()
	colon := filepath.Join(dir, "app:v1")
	must(t, os.WriteFile(colon, nil, 0o644))
	t.Chdir(dir)
	must(t, os.Mkdir("containerd:x", 0o755)) // a path wins over a foreign scheme
	tests := []struct {
		ref    string
		kind   fetch.Kind
		target string
	}{
		{"alpine:3.19", fetch.KindRegistry, "alpine:3.19"},
		{"alpine", fetch.KindRegistry, "alpine"},
		{"localhost:5000/app", fetch.KindRegistry, "localhost:5000/app"},
		{"localhost:5000/app:1.0", fetch.KindRegistry, "localhost:5000/app:1.0"},
		{"registry.example:443/org/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", fetch.KindRegistry,
			"registry.example:443/org/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
		{"my_app:latest", fetch.KindRegistry, "my_app:latest"},
		{"docker://alpine:3.19", fetch.KindRegistry, "alpine:3.19"},
		{"registry:2", fetch.KindRegistry, "2"},
		{"docker:app", fetch.KindDaemon, "app"},
		{"docker-daemon:app:1", fetch.KindDaemon, "app:1"},
		{"podman:localhost/app", fetch.KindPodman, "localhost/app"},
		{"containers-storage:[vfs@/s]app", fetch.KindStorage, "[vfs@/s]app"},
		{"dir:/srv/rootfs", fetch.KindDir, "/srv/rootfs"},
		{"rootfs:./r", fetch.KindDir, "./r"},
		{"docker-archive:/x.tar:app:1", fetch.KindDockerArchive, "/x.tar:app:1"},
		{"docker-archive:/x.tar:@1", fetch.KindDockerArchive, "/x.tar:@1"},
		{"oci-archive:/x.tar", fetch.KindOCIArchive, "/x.tar"},
		{"oci:/layout", fetch.KindOCILayout, "/layout"},
		{"-", fetch.KindStdin, "-"},
		{colon, fetch.KindDockerArchive, colon},
		{"app:v1", fetch.KindDockerArchive, "app:v1"}, // the file in the working directory
		{"containerd:x", fetch.KindOCILayout, "containerd:x"},
		{"./missing.tar", fetch.KindDockerArchive, "./missing.tar"},
	}
	for _, tt := range tests {
		r, err := fetch.ParseReference(tt.ref)
		if err != nil || r.Kind != tt.kind || r.Target != tt.target {
			t.Errorf("ParseReference(%q) = %+v, %v; want %s %q", tt.ref, r, err, tt.kind, tt.target)
		}
	}
	for _, ref := range []string{"containerd:docker.io/library/app:1", "oci-dir:/x", "singularity:x", "dir2:/x", "foo:bar/baz",
		"ftp://x", "containerd:/x.tar", "https://registry.example/app", "nerdctl:app", "sif:x.sif", "tarball:/x.tar"} {
		_, err := fetch.ParseReference(ref)
		var use *fetch.UnknownSchemeError
		if !errors.Is(err, fetch.ErrUnknownScheme) || !errors.As(err, &use) {
			t.Errorf("ParseReference(%q) = %v, want an UnknownSchemeError", ref, err)
			continue
		}
		for _, s := range []string{"docker-archive:", "containers-storage:", "podman:", "dir:"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%q: %q does not list %s", ref, err, s)
			}
		}
		scheme, _, _ := strings.Cut(ref, ":")
		if use.Scheme != scheme {
			t.Errorf("%q: scheme %q", ref, use.Scheme)
		}
	}
	for _, ref := range []string{"", "docker:", "containers-storage:", "dir:"} {
		if _, err := fetch.ParseReference(ref); !errors.Is(err, fetch.ErrBadReference) {
			t.Errorf("ParseReference(%q) = %v, want ErrBadReference", ref, err)
		}
	}
}

// TestReferenceHelp: --help shows every scheme and the order rules.
func TestReferenceHelp(t *testing.T) {
	h := fetch.ReferenceHelp()
	for _, s := range fetch.Schemes {
		if !strings.Contains(h, s.Prefix+s.Syntax) {
			t.Errorf("help lacks %s%s", s.Prefix, s.Syntax)
		}
	}
	for _, s := range []string{"containerd:", "existing path"} {
		if !strings.Contains(h, s) {
			t.Errorf("help lacks %q", s)
		}
	}
}

// TestEngineHost: the sockets the daemon sources talk to.
func TestEngineHost(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if h := fetch.EngineHost(fetch.KindDaemon, env(nil)); h != fetch.DefaultDockerHost {
		t.Errorf("docker default %q", h)
	}
	if h := fetch.EngineHost(fetch.KindDaemon, env(map[string]string{"DOCKER_HOST": "tcp://h:2375", "CONTAINER_HOST": "unix:///p"})); h != "tcp://h:2375" {
		t.Errorf("DOCKER_HOST: %q", h)
	}
	if h := fetch.EngineHost(fetch.KindPodman, env(map[string]string{"DOCKER_HOST": "tcp://h:2375", "CONTAINER_HOST": "unix:///p"})); h != "unix:///p" {
		t.Errorf("CONTAINER_HOST: %q", h)
	}
}
