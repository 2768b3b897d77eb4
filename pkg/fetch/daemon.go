package fetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/layerscan/layerscan/pkg/sanitize"
)

// Default engine sockets.
const (
	DefaultDockerHost = "unix:///var/run/docker.sock"
	// DefaultPodmanHost is podman's rootful socket; other users' is
	// $XDG_RUNTIME_DIR/podman/podman.sock.
	DefaultPodmanHost = "unix:///run/podman/podman.sock"
	// daemonMinTimeout is the least time an engine is given to start
	// its answer: podman writes the whole export to disk before the
	// first byte, so a large image takes a while.
	daemonMinTimeout = 10 * time.Minute
	// maxDaemonError bounds the error body an engine sends.
	maxDaemonError = 64 << 10
)

// EngineHost says which socket the daemon source of kind talks to, from
// the environment: $DOCKER_HOST for docker-daemon:, $CONTAINER_HOST for
// podman: (podman's own variable), else the default sockets.
func EngineHost(kind Kind, getenv func(string) string) string {
	if kind == KindPodman {
		if h := getenv("CONTAINER_HOST"); h != "" {
			return h
		}
		if os.Geteuid() == 0 {
			return DefaultPodmanHost
		}
		dir := getenv("XDG_RUNTIME_DIR")
		if dir == "" {
			dir = fmt.Sprintf("/run/user/%d", os.Geteuid())
		}
		return "unix://" + dir + "/podman/podman.sock"
	}
	if h := getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return DefaultDockerHost
}

// engineClient is an HTTP client for an engine at host (unix://PATH or
// tcp://HOST:PORT, plain HTTP), and the base URL of its API.
func engineClient(host string, getenv func(string) string, o Options) (*http.Client, string, error) {
	u, err := url.Parse(host)
	if err != nil {
		return nil, "", fmt.Errorf("%w: engine host %q: %v", ErrBadReference, host, err)
	}
	tr := &http.Transport{DisableCompression: true, MaxIdleConns: 1}
	base := "http://engine"
	switch u.Scheme {
	case "unix":
		sock := u.Path
		if sock == "" {
			sock = u.Opaque
		}
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}
	case "tcp", "http":
		if getenv("DOCKER_TLS_VERIFY") != "" {
			return nil, "", fmt.Errorf("%w: %s with DOCKER_TLS_VERIFY: TLS to an engine is not supported; use its unix socket", ErrNoDaemon, host)
		}
		if u.Host == "" {
			return nil, "", fmt.Errorf("%w: engine host %q has no address", ErrBadReference, host)
		}
		base = "http://" + u.Host
	default:
		return nil, "", fmt.Errorf("%w: engine host %q: only unix:// and tcp:// are supported (forward an ssh host's socket: ssh -L /tmp/engine.sock:/var/run/docker.sock HOST, then DOCKER_HOST=unix:///tmp/engine.sock)", ErrNoDaemon, host)
	}
	d := max(o.Timeout, daemonMinTimeout)
	return &http.Client{Transport: &timeoutTransport{base: tr, d: d, server: "the engine at " + host, unreachable: ErrNoDaemon}}, base, nil
}

// engineName is the name asked of the engine: a bare repository gets
// ":latest" (Docker exports every tag of a repository named without
// one); image IDs, tags and digests are kept.
var hexID = regexp.MustCompile(`^(sha256:)?[0-9a-f]{12,64}$`)

func engineName(name string) string {
	last := name[strings.LastIndex(name, "/")+1:]
	if hexID.MatchString(name) || strings.ContainsAny(last, ":@") {
		return name
	}
	return name + ":latest"
}

// openDaemon reads an image from the Docker Engine API of the Docker
// daemon or podman's service (GET /images/NAME/get, a docker save tar
// stream), spooled to an unlinked temporary file bounded by
// MaxStreamSize, then read as a docker archive.
func openDaemon(ctx context.Context, kind Kind, name string, o Options) (*Source, error) {
	host := EngineHost(kind, o.Env)
	client, base, err := engineClient(host, o.Env, o)
	if err != nil {
		return nil, err
	}
	name = engineName(name)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/images/"+url.PathEscape(name)+"/get", nil)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrBadReference, name, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !errors.Is(err, ErrNoDaemon) {
			err = fmt.Errorf("%w: %v", ErrNoDaemon, err)
		}
		return nil, fmt.Errorf("%s (%s): %w", kind, host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s (%s): %w", kind, host, engineError(resp, name))
	}
	what := fmt.Sprintf("the export of %s by %s", name, host)
	f, err := spool(ctx, resp.Body, o.MaxStreamSize, what)
	if err != nil {
		return nil, err
	}
	return openSpooled(f, what, o)
}

// engineError turns an engine's error answer into an error: 404 wraps
// ErrNotFound; the engine's message is kept, bounded and made inert.
func engineError(resp *http.Response, name string) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxDaemonError))
	var body struct {
		Message string `json:"message"`
	}
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &body) == nil && body.Message != "" {
		msg = body.Message
	}
	msg = sanitize.OneLine(msg)
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: no image %s in the engine: %s", ErrNotFound, name, msg)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%w: the engine refused access (%s): %s", ErrUnauthorized, resp.Status, msg)
	}
	return fmt.Errorf("the engine answered %s: %s", resp.Status, msg)
}
