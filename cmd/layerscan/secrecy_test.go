package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/layerscan/layerscan/internal/testenv"
	"github.com/layerscan/layerscan/internal/testimage"
)

var plantedSecrets = []string{testimage.SecretAWS, testimage.SecretGitHub, testimage.SecretGitLab,
	testimage.SecretStripe, testimage.SecretSlack, testimage.SecretNPM}

// leaks says which of secrets appear in s, whole or by their last 12
// characters (a redaction keeps at most a short prefix).
func leaks(s string, secrets []string) []string {
	var out []string
	for _, sec := range secrets {
		if strings.Contains(s, sec) || strings.Contains(s, sec[len(sec)-12:]) {
			out = append(out, sec)
		}
	}
	return out
}

// runIn runs the binary with TMPDIR set to tmp.
func runIn(t *testing.T, tmp string, env []string, stdin string, args ...string) result {
	t.Helper()
	return runCLIStdin(t, append([]string{"TMPDIR=" + tmp}, env...), stdin, args...)
}

// checkTmp fails if tmp holds anything: every run cleans up after itself.
func checkTmp(t *testing.T, tmp string, secrets []string) {
	t.Helper()
	filepath.WalkDir(tmp, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == tmp {
			return nil
		}
		t.Errorf("left in TMPDIR: %s", p)
		if !d.IsDir() {
			if b, err := os.ReadFile(p); err == nil && len(leaks(string(b), secrets)) > 0 {
				t.Errorf("%s holds a plaintext secret", p)
			}
		}
		return nil
	})
}

func TestSecretsStaySecret(t *testing.T) {
	img := fixture(t, "lifecycle.oci.tar")
	tmp := t.TempDir()
	out := t.TempDir()
	run := func(t *testing.T, want func(code int) bool, args ...string) result {
		t.Helper()
		res := runIn(t, tmp, nil, "", args...)
		if !want(res.code) {
			t.Errorf("layerscan %q: exit %d\nstderr: %s", args, res.code, res.stderr)
		}
		if l := leaks(res.stdout+res.stderr, plantedSecrets); len(l) > 0 {
			t.Errorf("layerscan %q printed plaintext secrets %q", args, l)
		}
		return res
	}
	ok := func(code int) bool { return code == 0 || code == 1 }
	failed := func(code int) bool { return code == 2 }

	for _, format := range []string{"table", "json", "sarif", "csv", "markdown"} {
		t.Run("scan "+format, func(t *testing.T) {
			run(t, ok, "--format", format, img)
			file := filepath.Join(out, "report."+format)
			run(t, ok, "--format", format, "-o", file, img)
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if l := leaks(string(b), plantedSecrets); len(l) > 0 {
				t.Errorf("%s report file holds plaintext secrets %q", format, l)
			}
		})
	}
	t.Run("scan --show-secrets prints them", func(t *testing.T) {
		res := runIn(t, tmp, nil, "", "--format", "json", "--show-secrets", img)
		if l := leaks(res.stdout, plantedSecrets); len(l) < 3 {
			t.Errorf("--show-secrets shows only %d secrets", len(l))
		}
	})
	t.Run("history", func(t *testing.T) {
		run(t, ok, "history", img)
		run(t, ok, "history", "--format", "json", img)
	})
	t.Run("ls", func(t *testing.T) {
		run(t, ok, "ls", "--deleted", "--long", img)
		run(t, ok, "ls", "--layer", "0", img)
	})
	t.Run("extract", func(t *testing.T) {
		dst := filepath.Join(out, "present.env")
		run(t, func(c int) bool { return c == 0 }, "extract", img, "--layer", "0", "/app/present.env", "-o", dst)
		st, err := os.Stat(dst)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("extracted file mode %v, want 0600", st.Mode().Perm())
		}
		// Error paths: no plaintext in the messages either.
		run(t, failed, "extract", img, "--layer", "0", "/app/nope.env", "-o", filepath.Join(out, "x"))
		run(t, failed, "extract", img, "--layer", "9", "/app/present.env", "-o", filepath.Join(out, "y"))
		run(t, failed, "extract", img, "--layer", "0", "/app/present.env", "-o", filepath.Join(out, "no", "such", "dir", "z"))
	})
	checkTmp(t, tmp, plantedSecrets)
}

// Credentials given to layerscan never show up in its errors.
func TestCredentialsStaySecret(t *testing.T) {
	const password = "Pa55-w0rd-never-printed-7f3a9"
	tmp := t.TempDir()
	check := func(t *testing.T, res result) {
		t.Helper()
		if res.code == 0 {
			t.Errorf("exit 0, want a failure\nstderr: %s", res.stderr)
		}
		enc := base64.StdEncoding.EncodeToString([]byte("user:" + password))
		for _, s := range []string{password, enc} {
			if strings.Contains(res.stdout+res.stderr, s) {
				t.Errorf("output holds the credential %q:\n%s%s", s, res.stdout, res.stderr)
			}
		}
	}
	t.Run("password-stdin, unreachable registry", func(t *testing.T) {
		check(t, runIn(t, tmp, nil, password+"\n", "--username", "user", "--password-stdin", "127.0.0.1:1/app:1"))
	})
	t.Run("docker config, unreachable registry", func(t *testing.T) {
		dir := t.TempDir()
		auth := base64.StdEncoding.EncodeToString([]byte("user:" + password))
		os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":{"127.0.0.1:1":{"auth":"`+auth+`"}}}`), 0o600)
		check(t, runIn(t, tmp, []string{"DOCKER_CONFIG=" + dir}, "", "127.0.0.1:1/app:1"))
	})
	t.Run("real registry, wrong password", func(t *testing.T) {
		reg := testenv.StartRegistry(t)
		env := []string{"SSL_CERT_FILE=" + reg.CAFile}
		res := runIn(t, tmp, env, password+"\n", "--username", reg.Username, "--password-stdin", reg.Host+"/app:1")
		check(t, res)
		if !strings.Contains(res.stderr, "unauthorized") {
			t.Errorf("stderr does not say unauthorized: %s", res.stderr)
		}
		// The registry's own valid password, on a missing image.
		res = runIn(t, tmp, env, reg.Password+"\n", "--username", reg.Username, "--password-stdin", reg.Host+"/nope:1")
		if strings.Contains(res.stdout+res.stderr, reg.Password) {
			t.Errorf("output holds the registry password:\n%s", res.stderr)
		}
	})
	checkTmp(t, tmp, []string{password})
}

// bigImage is an OCI layout whose scan takes seconds: a layer with
// ~150 MiB of text and zip archives big enough to be spooled to disk.
func bigImage(t *testing.T) string {
	t.Helper()
	var text bytes.Buffer
	for i := 0; text.Len() < 150<<20; i++ {
		fmt.Fprintf(&text, "%x line %d\n", sha256.Sum256([]byte(strconv.Itoa(i))), i)
	}
	entries := []testimage.Entry{{Name: "data/big.txt", Body: text.String(), Format: tar.FormatPAX}}
	for j := range 3 {
		var zb bytes.Buffer
		zw := zip.NewWriter(&zb)
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: "blob.txt", Method: zip.Store})
		w.Write(text.Bytes()[:8<<20])
		zw.Close()
		entries = append(entries, testimage.Entry{Name: fmt.Sprintf("lib/a%d.jar", j), Body: zb.String(), Format: tar.FormatPAX})
	}
	tr := testimage.Tar(entries...)
	return hostileImage{layers: []hostileLayer{{tar: tr}, {tar: tr}}}.write(t)
}

// Ctrl-C in the middle of a scan: the process exits promptly, with status
// 130, and leaves nothing in TMPDIR (zip archives spooled to disk are
// unlinked as soon as they are created).
func TestInterruptCleansUp(t *testing.T) {
	img := bigImage(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			tmp := t.TempDir()
			cmd := exec.Command(binPath, "--format", "json", "--archive-memory", "0", "--jobs", "1", img)
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "HOME="+t.TempDir(), "NO_COLOR=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
				t.Fatalf("the scan ended before the signal: make the image bigger")
			case <-time.After(1500 * time.Millisecond):
			}
			fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", cmd.Process.Pid))
			cmd.Process.Signal(sig)
			start := time.Now()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("no exit within 15 s of %s", sig)
			}
			t.Logf("exit %d %s after %s; %d open fds mid-scan; stderr: %s", cmd.ProcessState.ExitCode(), sig, time.Since(start).Round(time.Millisecond), len(fds), stderr.String())
			if code := cmd.ProcessState.ExitCode(); code != 130 || !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("exit %d after %s, want 130 and \"interrupted\"; stderr: %s", code, sig, stderr.String())
			}
			if len(fds) > 64 {
				t.Errorf("%d open file descriptors mid-scan", len(fds))
			}
			if strings.Contains(stderr.String(), "panic") {
				t.Errorf("stderr: %s", stderr.String())
			}
			checkTmp(t, tmp, nil)
		})
	}
}
