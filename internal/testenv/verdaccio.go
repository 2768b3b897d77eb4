package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// VerdaccioDirEnv names the directory verdaccio was installed into with
// npm (default .cache/verdaccio in the repository; scripts/install-test-deps.sh
// installs it there).
const VerdaccioDirEnv = "LAYERSCAN_VERDACCIO_DIR"

// Verdaccio is a running verdaccio npm registry on 127.0.0.1 with one user.
type Verdaccio struct {
	URL   string // "http://127.0.0.1:PORT/"
	User  string
	Token string // the user's token, from the registry's adduser API
}

// StartVerdaccio starts verdaccio (the npm package, installed into
// .cache/verdaccio by scripts/install-test-deps.sh) with node on a free
// 127.0.0.1 port, no uplinks (nothing is fetched from elsewhere) and
// htpasswd auth, creates user through the registry's own adduser API
// (PUT /-/user/org.couchdb.user:NAME, as `npm adduser` does) and keeps the
// token it answers. It stops the registry when the test ends. When node
// or verdaccio is missing the test is skipped, or fails with
// LAYERSCAN_REQUIRE_TOOLS=1.
func StartVerdaccio(t testing.TB, user string) *Verdaccio {
	t.Helper()
	node := RequireTool(t, "node")
	if node == "" {
		return nil
	}
	vdir := os.Getenv(VerdaccioDirEnv)
	if vdir == "" {
		vdir = filepath.Join(RepoRoot(), ".cache", "verdaccio")
	}
	bin := filepath.Join(vdir, "node_modules", "verdaccio", "bin", "verdaccio")
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv(RequireToolsEnv) == "1" {
			t.Fatalf("verdaccio not found at %s and %s=1: run scripts/install-test-deps.sh", bin, RequireToolsEnv)
			return nil
		}
		t.Skipf("verdaccio not found at %s; run scripts/install-test-deps.sh to run this test (set %s=1 to make this a failure)", bin, RequireToolsEnv)
		return nil
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "config.yaml")
	q := strconv.Quote
	text := `storage: ` + q(filepath.Join(dir, "storage")) + `
auth:
  htpasswd:
    file: ` + q(filepath.Join(dir, "htpasswd")) + `
    max_users: 10
uplinks: {}
packages:
  '**':
    access: $authenticated
    publish: $authenticated
log: { type: stdout, format: pretty, level: warn }
`
	if err := writeFile(conf, []byte(text)); err != nil {
		t.Fatal(err)
	}
	port := startDaemon(t, daemon{
		name:    "verdaccio",
		logFile: filepath.Join(dir, "verdaccio.log"),
		timeout: 60 * time.Second,
		command: func(port int) *exec.Cmd {
			cmd := exec.Command(node, bin, "--config", conf, "--listen", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			cmd.Env = append(os.Environ(), "VERDACCIO_HANDLE_KILL_SIGNALS=true")
			return cmd
		},
		ready: func(ctx context.Context, port int) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/-/ping", port), nil)
			if err != nil {
				return err
			}
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("/-/ping answered %s", resp.Status)
			}
			return nil
		},
	})
	v := &Verdaccio{URL: fmt.Sprintf("http://127.0.0.1:%d/", port), User: user}
	body, _ := json.Marshal(map[string]string{"name": user, "password": randomHex(12)})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, v.URL+"-/user/org.couchdb.user:"+user, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("verdaccio adduser: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated || out.Token == "" {
		t.Fatalf("verdaccio adduser answered %s (%v), no token", resp.Status, err)
	}
	v.Token = out.Token
	return v
}
