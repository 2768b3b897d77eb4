package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerscan/layerscan/internal/testenv"
)

func fixture(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(repoRoot(t), "testdata", "images", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return p
}

// assertUsageError checks exit status 2 and one clear line on stderr.
func assertUsageError(t *testing.T, res result, wants ...string) {
	t.Helper()
	if res.code != 2 {
		t.Errorf("exit %d, want 2\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	lines := strings.Split(strings.TrimRight(res.stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "layerscan: ") {
		t.Errorf("stderr must be one line starting with \"layerscan: \", got:\n%s", res.stderr)
	}
	for _, w := range wants {
		if !strings.Contains(strings.ToLower(res.stderr), strings.ToLower(w)) {
			t.Errorf("stderr %q does not say %q", res.stderr, w)
		}
	}
	for _, bad := range []string{"goroutine ", "panic", ".go:"} {
		if strings.Contains(res.stderr, bad) {
			t.Errorf("stderr has %q: %s", bad, res.stderr)
		}
	}
	if res.stdout != "" {
		t.Errorf("stdout must be empty on error, got %q", res.stdout)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.tar")
	os.WriteFile(text, []byte("this is not a tar file, just some words that go on for a while to fill a block"), 0o644)
	emptyDir := filepath.Join(dir, "empty")
	os.Mkdir(emptyDir, 0o755)

	whole, err := os.ReadFile(fixture(t, "lifecycle.docker.tar"))
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.tar")
	os.WriteFile(truncated, whole[:len(whole)/2+100], 0o644)

	t.Run("not an image", func(t *testing.T) {
		assertUsageError(t, runCLI(t, nil, text), "not an image")
	})
	t.Run("directory that is not a layout", func(t *testing.T) {
		assertUsageError(t, runCLI(t, nil, emptyDir), "not an image", "oci-layout")
	})
	t.Run("truncated tarball", func(t *testing.T) {
		assertUsageError(t, runCLI(t, nil, truncated), "truncated")
	})
	t.Run("missing file", func(t *testing.T) {
		assertUsageError(t, runCLI(t, nil, filepath.Join(dir, "nope.tar")), "no such file")
	})
	t.Run("malformed reference", func(t *testing.T) {
		assertUsageError(t, runCLI(t, nil, "Not A Reference::x"), "not a valid image reference")
	})
	t.Run("unreachable registry", func(t *testing.T) {
		assertUsageError(t, runCLI(t, nil, "127.0.0.1:1/app:1.0"), "unreachable")
	})
	t.Run("unknown flag", func(t *testing.T) {
		assertUsageError(t, runCLI(t, nil, "--no-such-flag", text), "unknown flag")
	})
	t.Run("unknown format", func(t *testing.T) {
		assertUsageError(t, runCLI(t, nil, "--format", "yaml", text), "unknown --format")
	})
}

// TestRegistryErrors uses the real registry: an unknown repository and
// wrong credentials are exit 2 with one clear line.
func TestRegistryErrors(t *testing.T) {
	reg := testenv.StartRegistry(t)
	reg.Push(t, "oci:"+fixture(t, "clean")+":latest", "known/clean:v1")

	t.Run("known image scans", func(t *testing.T) {
		res := runCLI(t, reg.Env(), reg.Host+"/known/clean:v1")
		if res.code != 0 || !strings.Contains(res.stdout, "0 findings") {
			t.Errorf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
		}
	})
	t.Run("unknown reference", func(t *testing.T) {
		assertUsageError(t, runCLI(t, reg.Env(), reg.Host+"/no/such-repo:v1"), "not found")
	})
	t.Run("unknown tag", func(t *testing.T) {
		assertUsageError(t, runCLI(t, reg.Env(), reg.Host+"/known/clean:v2"), "not found")
	})
	t.Run("wrong password on stdin", func(t *testing.T) {
		res := runCLIStdin(t, reg.Env(), "wrong-password\n", "--username", reg.Username, "--password-stdin", reg.Host+"/known/clean:v1")
		assertUsageError(t, res, "unauthorized")
		if strings.Contains(res.stderr, "wrong-password") {
			t.Error("the password is echoed in the error")
		}
	})
	t.Run("right password on stdin", func(t *testing.T) {
		res := runCLIStdin(t, []string{"SSL_CERT_FILE=" + reg.CAFile}, reg.Password+"\n", "--username", reg.Username, "--password-stdin", reg.Host+"/known/clean:v1")
		if res.code != 0 {
			t.Errorf("exit %d: %s", res.code, res.stderr)
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		assertUsageError(t, runCLI(t, []string{"SSL_CERT_FILE=" + reg.CAFile}, reg.Host+"/known/clean:v1"), "unauthorized")
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		res := runCLI(t, []string{"DOCKER_CONFIG=" + reg.DockerConfigDir}, reg.Host+"/known/clean:v1")
		if res.code != 2 || !strings.Contains(res.stderr, "certificate") {
			t.Errorf("exit %d, stderr %q: want 2 and a word about the certificate", res.code, res.stderr)
		}
	})
}

func TestExitCodes(t *testing.T) {
	lifecycle := fixture(t, "lifecycle")
	if res := runCLI(t, nil, "oci:"+fixture(t, "clean")); res.code != 0 {
		t.Errorf("clean image: exit %d, want 0: %s", res.code, res.stderr)
	}
	if res := runCLI(t, nil, "oci:"+lifecycle); res.code != 1 || res.stderr != "" {
		t.Errorf("findings: exit %d, want 1 and a quiet stderr: %s", res.code, res.stderr)
	}
	if res := runCLI(t, nil, "--exit-code", "7", "oci:"+lifecycle); res.code != 7 {
		t.Errorf("--exit-code 7: exit %d", res.code)
	}
	if res := runCLI(t, nil, "--exit-code", "0", "oci:"+lifecycle); res.code != 0 {
		t.Errorf("--exit-code 0: exit %d", res.code)
	}

	// A layout whose second layer blob is corrupt: exit 3, that layer's
	// error in the report, the other layers still scanned.
	broken := filepath.Join(t.TempDir(), "broken")
	if err := os.CopyFS(broken, os.DirFS(lifecycle)); err != nil {
		t.Fatal(err)
	}
	rep := scanJSON(t, nil, "oci:"+lifecycle)
	victim := rep.Images[0].Layers[1].Digest
	blob := filepath.Join(broken, "blobs", "sha256", strings.TrimPrefix(victim, "sha256:"))
	b, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	os.Chmod(blob, 0o644)
	if err := os.WriteFile(blob, b, 0o644); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, nil, "--format", "json", "oci:"+broken)
	if res.code != 3 {
		t.Fatalf("corrupt layer: exit %d, want 3\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "incomplete") {
		t.Errorf("stderr %q should say the scan is incomplete", res.stderr)
	}
	if !strings.Contains(res.stdout, `"layer": 1`) || !strings.Contains(res.stdout, "/app/present.env") {
		t.Errorf("the report must name layer 1's error and keep layer 0's findings:\n%s", res.stdout)
	}
}
