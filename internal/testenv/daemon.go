package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// daemon describes a server a test starts on a free 127.0.0.1 port.
type daemon struct {
	name    string                                    // for messages, e.g. "mariadbd"
	logFile string                                    // stdout and stderr of the process
	command func(port int) *exec.Cmd                  // the process for a port
	ready   func(ctx context.Context, port int) error // nil once it serves
	timeout time.Duration                             // how long to wait for ready
}

// startDaemon starts d on a free port, waits until it is ready, and stops
// it (SIGTERM, then SIGKILL after 10 seconds) when the test ends. A port
// taken in the meantime ("address already in use" in the log) is retried
// with another; anything else fails the test, showing the log.
func startDaemon(t testing.TB, d daemon) (port int) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		port, err := pickPort()
		if err != nil {
			t.Fatalf("%s: finding a free port: %v", d.name, err)
			return 0
		}
		stop, err := d.start(port)
		if err == nil {
			t.Cleanup(stop)
			return port
		}
		if stop != nil {
			stop()
		}
		logText := readLog(d.logFile)
		if attempt < registryStartAttempts && strings.Contains(strings.ToLower(logText), "address already in use") {
			continue
		}
		t.Fatalf("%s did not come up on 127.0.0.1:%d: %v\n--- log (%s) ---\n%s--- end of log ---", d.name, port, err, d.logFile, logText)
		return 0
	}
}

func (d daemon) start(port int) (stop func(), err error) {
	logf, err := os.OpenFile(d.logFile, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := d.command(port)
	cmd.Stdout, cmd.Stderr = logf, logf
	if cmd.SysProcAttr == nil {
		setProcAttr(cmd)
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", d.name, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	stop = func() { terminate(cmd, exited) }
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
	defer cancel()
	go func() {
		select {
		case <-exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	lastErr := errors.New("no answer yet")
	for {
		select {
		case <-exited:
			return stop, fmt.Errorf("%s exited before it was ready: %v", d.name, waitErr)
		default:
		}
		if ctx.Err() != nil {
			return stop, fmt.Errorf("not ready after %s: %w", d.timeout, lastErr)
		}
		tctx, tcancel := context.WithTimeout(ctx, 2*time.Second)
		lastErr = d.ready(tctx, port)
		tcancel()
		if lastErr == nil {
			return stop, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// findTool finds an executable on PATH or in the sbin directories Debian
// puts servers in (not on a normal user's PATH). When it is missing the
// test is skipped, or fails with LAYERSCAN_REQUIRE_TOOLS=1 (RequireTool).
func findTool(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return RequireTool(t, name)
}

// firstExisting returns the first of paths that exists (globs allowed,
// newest-sorting match first), or "".
func firstExisting(paths ...string) string {
	for _, p := range paths {
		matches, _ := filepath.Glob(p)
		sort.Sort(sort.Reverse(sort.StringSlice(matches)))
		for _, m := range matches {
			if _, err := os.Stat(m); err == nil {
				return m
			}
		}
	}
	return ""
}

// terminate stops a process started by a test, unless it has exited
// already (exited is closed once its Wait returned): SIGTERM, then
// SIGKILL after 10 seconds.
func terminate(cmd *exec.Cmd, exited <-chan struct{}) {
	select {
	case <-exited:
		return
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}
