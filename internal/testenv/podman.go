package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Podman is a podman API service (`podman system service`, Docker
// Engine API compatible) on a store of its own: vfs storage, root, run
// root, temporary and event files all under one temporary directory, so
// the machine's stores are never touched.
type Podman struct {
	// Socket is the service's unix socket; Host is unix://Socket, for
	// DOCKER_HOST or CONTAINER_HOST.
	Socket, Host string
	// Root is the store's root (podman --root), Driver its driver.
	Root, Driver string
	dir          string
	bin          string
}

// NewPodmanStore makes an empty podman store with the storage driver
// (vfs or overlay) under a temporary directory, removed when the test
// ends, for podman commands (Run) and no service; it skips (or fails,
// LAYERSCAN_REQUIRE_TOOLS=1) without podman.
func NewPodmanStore(t testing.TB, driver string) *Podman {
	t.Helper()
	bin := RequireTool(t, "podman")
	// A short directory: a unix socket path has at most 107 bytes.
	dir, err := os.MkdirTemp("", "podman-")
	if err != nil {
		t.Fatalf("podman: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := &Podman{Socket: filepath.Join(dir, "podman.sock"), Root: filepath.Join(dir, "root"), Driver: driver, dir: dir, bin: bin}
	p.Host = "unix://" + p.Socket
	return p
}

// StartPodman starts a podman service on a vfs store of its own for the
// test and stops it when the test ends; it skips (or fails,
// LAYERSCAN_REQUIRE_TOOLS=1) without podman.
func StartPodman(t testing.TB) *Podman {
	t.Helper()
	p := NewPodmanStore(t, "vfs")
	dir := p.dir
	logPath := filepath.Join(dir, "service.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("podman: %v", err)
	}
	cmd := p.command("system", "service", "--time=0", p.Host)
	cmd.Stdout, cmd.Stderr = logf, logf
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("starting podman system service: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(exited)
	}()
	t.Cleanup(func() { terminate(cmd, exited) })
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", p.Socket)
		}}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get("http://podman/_ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
			err = errors.New(resp.Status)
		}
		select {
		case <-exited:
			t.Fatalf("podman system service exited:\n%s", readLog(logPath))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("podman system service not ready in 30s: %v\n%s", err, readLog(logPath))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// command is podman with the service's own store.
func (p *Podman) command(args ...string) *exec.Cmd {
	base := []string{"--root", p.Root, "--runroot", filepath.Join(p.dir, "run"),
		"--storage-driver", p.Driver, "--events-backend", "file", "--tmpdir", filepath.Join(p.dir, "tmp")}
	return exec.Command(p.bin, append(base, args...)...)
}

// Run runs podman on the store (load -i ARCHIVE, save -m …) and returns
// its output; a failure fails the test.
func (p *Podman) Run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := p.TryRun(args...)
	if err != nil {
		t.Fatalf("podman %v: %v\n%s", args, err, out)
	}
	return out
}

// TryRun runs podman on the store and returns its output and error.
func (p *Podman) TryRun(args ...string) (string, error) {
	out, err := p.command(args...).CombinedOutput()
	return string(out), err
}

// Env is the environment that points docker-daemon: (DOCKER_HOST) and
// podman: (CONTAINER_HOST) at the service.
func (p *Podman) Env() []string {
	return []string{"DOCKER_HOST=" + p.Host, "CONTAINER_HOST=" + p.Host}
}

// String names the service for messages.
func (p *Podman) String() string { return fmt.Sprintf("podman service at %s", p.Host) }
