package testenv

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

const (
	// registryStartTimeout bounds how long StartRegistry waits for /v2/.
	registryStartTimeout = 20 * time.Second
	// registryStartAttempts is how often StartRegistry picks a new port when
	// the one it picked was taken in the meantime.
	registryStartAttempts = 5
	// pushTimeout bounds one skopeo copy.
	pushTimeout = 5 * time.Minute
)

// Registry is a running docker-registry (CNCF distribution 2.8) that serves
// HTTPS on 127.0.0.1 with a certificate signed by a throw-away test CA and
// requires HTTP basic auth. It is stopped when the test that started it ends.
type Registry struct {
	// Host is "127.0.0.1:PORT", the registry part of image references.
	Host string
	// CAFile is the PEM file of the test CA that signed the registry's
	// certificate.
	CAFile string
	// Username and Password are the only credentials the registry accepts.
	Username, Password string
	// DockerConfigDir holds a config.json with the credentials for Host,
	// usable as DOCKER_CONFIG.
	DockerConfigDir string
	// LogFile is the registry's own log (stdout and stderr, text format, level
	// info, with access log lines).
	LogFile string
	// StorageDir is the root directory of the registry's filesystem storage
	// driver. The registry keeps no cache of it, so a test may write a
	// distribution storage tree (docker/registry/v2/...) into it directly
	// instead of pushing (internal/benchreg does).
	StorageDir string

	rootCAs    *x509.CertPool
	certDir    string // directory holding only ca.crt, for skopeo --dest-cert-dir
	policyFile string // skopeo trust policy accepting anything
	regConf    string // empty registries.conf so the host's mirrors do not apply
	anonymous  bool   // no htpasswd: every request is served without credentials
}

// RegistryOption changes how StartRegistry runs the registry.
type RegistryOption func(*Registry)

// Anonymous makes the registry serve every request without credentials (no
// htpasswd auth; Username and Password stay set but are not checked). For
// benchmarks: with basic auth the registry runs a bcrypt check on every
// request, which at tens of thousands of requests costs the shared CPUs
// more than the client being measured.
func Anonymous() RegistryOption {
	return func(r *Registry) { r.anonymous = true }
}

// StartRegistry starts /usr/bin/docker-registry (found on PATH) on a free
// 127.0.0.1 port with TLS and htpasswd basic auth, its storage in a temporary
// directory (StorageDir), waits until /v2/ answers 401 (200 when
// Anonymous), and stops it when the test ends.
// It fails the test, showing the registry's log, if the registry is not up
// within 20 seconds. When docker-registry is missing it behaves like
// RequireTool.
func StartRegistry(t testing.TB, opts ...RegistryOption) *Registry {
	t.Helper()
	bin := RequireTool(t, "docker-registry")
	if bin == "" {
		return nil
	}
	dir := t.TempDir()

	r, err := prepareRegistry(dir)
	if err != nil {
		t.Fatalf("preparing test registry: %v", err)
		return nil
	}
	for _, o := range opts {
		o(r)
	}

	for attempt := 1; ; attempt++ {
		port, err := pickPort()
		if err != nil {
			t.Fatalf("finding a free port: %v", err)
			return nil
		}
		r.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err := r.writeHostFiles(dir); err != nil {
			t.Fatalf("writing registry config: %v", err)
			return nil
		}
		stop, err := r.start(bin, dir)
		if err == nil {
			t.Cleanup(stop)
			return r
		}
		if stop != nil {
			stop()
		}
		logText := readLog(r.LogFile)
		if attempt < registryStartAttempts && strings.Contains(logText, "address already in use") {
			t.Logf("testenv: port %d was taken, retrying (attempt %d): %v", port, attempt, err)
			continue
		}
		t.Fatalf("docker-registry did not come up on %s: %v\n--- registry log (%s) ---\n%s--- end of registry log ---",
			r.Host, err, r.LogFile, logText)
		return nil
	}
}

// prepareRegistry writes everything that does not depend on the port: PKI,
// htpasswd, skopeo policy.
func prepareRegistry(dir string) (*Registry, error) {
	pki, err := newTestPKI()
	if err != nil {
		return nil, err
	}
	r := &Registry{
		Username:        "layerscan",
		Password:        randomHex(16),
		certDir:         filepath.Join(dir, "certs.d"),
		DockerConfigDir: filepath.Join(dir, "docker-config"),
		LogFile:         filepath.Join(dir, "registry.log"),
		policyFile:      filepath.Join(dir, "policy.json"),
		regConf:         filepath.Join(dir, "registries.conf"),
		StorageDir:      filepath.Join(dir, "storage"),
	}
	r.CAFile = filepath.Join(r.certDir, "ca.crt")
	r.rootCAs = x509.NewCertPool()
	if !r.rootCAs.AppendCertsFromPEM(pki.caPEM) {
		return nil, errors.New("test CA PEM did not parse")
	}

	for _, d := range []string{r.certDir, r.DockerConfigDir, r.StorageDir, filepath.Join(dir, "server")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	// MinCost: the registry runs bcrypt on every request; the default cost
	// would add tens of milliseconds to each of them.
	hash, err := bcrypt.GenerateFromPassword([]byte(r.Password), bcrypt.MinCost)
	if err != nil {
		return nil, fmt.Errorf("hashing password: %w", err)
	}
	files := map[string][]byte{
		r.CAFile: pki.caPEM,
		filepath.Join(dir, "server", "server.crt"): pki.certPEM,
		filepath.Join(dir, "server", "server.key"): pki.keyPEM,
		filepath.Join(dir, "server", "htpasswd"):   []byte(r.Username + ":" + string(hash) + "\n"),
		r.policyFile:                               []byte(`{"default":[{"type":"insecureAcceptAnything"}]}` + "\n"),
		r.regConf:                                  []byte("# empty: no mirrors, no search registries\n"),
	}
	for path, data := range files {
		if err := writeFile(path, data); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// writeHostFiles writes the files that name the port: the registry config
// and the Docker config.json.
func (r *Registry) writeHostFiles(dir string) error {
	if err := writeFile(filepath.Join(dir, "config.yml"), []byte(r.config(dir))); err != nil {
		return err
	}
	auth := base64.StdEncoding.EncodeToString([]byte(r.Username + ":" + r.Password))
	cfg, err := json.MarshalIndent(map[string]any{
		"auths": map[string]any{r.Host: map[string]string{"auth": auth}},
	}, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(r.DockerConfigDir, "config.json"), append(cfg, '\n'))
}

// config returns the distribution 2.8 configuration (version 0.1). Nothing in
// it reaches beyond the loopback interface: no notifications, no proxy (pull
// through cache), no reporting, no redis.
func (r *Registry) config(dir string) string {
	q := strconv.Quote // Go-quoted ASCII is a valid YAML double-quoted scalar
	auth := `auth:
  htpasswd:
    realm: layerscan-test
    path: ` + q(filepath.Join(dir, "server", "htpasswd")) + `
`
	if r.anonymous {
		auth = ""
	}
	return `version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
  fields:
    service: layerscan-test-registry
storage:
  filesystem:
    rootdirectory: ` + q(r.StorageDir) + `
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
  redirect:
    disable: true
http:
  addr: ` + q(r.Host) + `
  secret: ` + q(randomHex(16)) + `
  tls:
    certificate: ` + q(filepath.Join(dir, "server", "server.crt")) + `
    key: ` + q(filepath.Join(dir, "server", "server.key")) + `
  headers:
    X-Content-Type-Options: [nosniff]
` + auth + `health:
  storagedriver:
    enabled: false
`
}

// start runs the registry and waits until it answers. The returned stop
// function (non-nil whenever the process was started) stops it and waits for
// it to exit.
func (r *Registry) start(bin, dir string) (stop func(), err error) {
	logf, err := os.Create(r.LogFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	cmd.Dir = dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.Env = registryEnv()
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	stop = func() { terminate(cmd, exited) }

	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: r.Transport(),
	}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(registryStartTimeout)
	lastErr := errors.New("no answer yet")
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return stop, fmt.Errorf("docker-registry exited before answering: %v", waitErr)
		default:
		}
		resp, err := getUnlessExited(client, "https://"+r.Host+"/v2/", exited)
		if err == nil {
			resp.Body.Close()
			want := http.StatusUnauthorized
			if r.anonymous {
				want = http.StatusOK
			}
			if resp.StatusCode == want {
				return stop, nil
			}
			lastErr = fmt.Errorf("GET /v2/ answered %s, want %d", resp.Status, want)
		} else {
			lastErr = err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return stop, fmt.Errorf("not ready after %s: %w", registryStartTimeout, lastErr)
}

// getUnlessExited GETs url, giving up as soon as exited is closed (another
// process holding the port may accept connections and never answer).
func getUnlessExited(client *http.Client, url string, exited <-chan struct{}) (*http.Response, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	// The body is empty or tiny; read it before ctx is cancelled.
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp, nil
}

// registryEnv is the environment minus REGISTRY_* variables, which would
// override the configuration file.
func registryEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "REGISTRY_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// Transport returns an HTTP transport that trusts only the test CA.
func (r *Registry) Transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: r.rootCAs, MinVersion: tls.VersionTLS12}
	return tr
}

// Push copies the image src, in any skopeo transport syntax (for example
// "oci:/dir:tag", "oci-archive:/x.tar", "docker-archive:/x.tar"), to
// docker://Host/repoTag with skopeo, using the registry's credentials and CA.
// It fails the test with skopeo's output when the copy fails.
//
// From "oci:" and "oci-archive:" sources skopeo copies compressed layers and
// the manifest byte for byte, so digests are preserved. From "docker-archive:"
// it reads every layer uncompressed (even the gzipped ones go-containerregistry's
// tarball.Write produces) and gzips it again: only the diff IDs (uncompressed
// digests) survive, and the manifest is a new one.
func (r *Registry) Push(t testing.TB, src, repoTag string) {
	t.Helper()
	skopeo := RequireTool(t, "skopeo")
	if skopeo == "" {
		return
	}
	ctx, cancel := context.WithTimeout(t.Context(), pushTimeout)
	defer cancel()
	dest := "docker://" + r.Host + "/" + repoTag
	cmd := exec.CommandContext(ctx, skopeo,
		"--policy", r.policyFile,
		"--tmpdir", t.TempDir(),
		"--registries.d", t.TempDir(),
		"copy", "--quiet",
		"--dest-creds", r.Username+":"+r.Password,
		"--dest-cert-dir", r.certDir,
		"--dest-tls-verify=true",
		src, dest)
	cmd.Env = append(os.Environ(), "CONTAINERS_REGISTRIES_CONF="+r.regConf)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("skopeo copy %s %s: %v\n--- skopeo output ---\n%s--- end of skopeo output ---", src, dest, err, out)
	}
}

// Env returns environment entries that make a child process trust the test
// CA (SSL_CERT_FILE) and use the registry's credentials (DOCKER_CONFIG).
// Append them to os.Environ() for exec.Cmd.Env. SSL_CERT_FILE replaces the
// system roots for Go programs, which is fine since tests reach only loopback.
func (r *Registry) Env() []string {
	return []string{
		"SSL_CERT_FILE=" + r.CAFile,
		"DOCKER_CONFIG=" + r.DockerConfigDir,
	}
}

// Log returns the registry's log so far. Call SyncLog first when the
// requests of interest have just completed.
func (r *Registry) Log() string {
	return readLog(r.LogFile)
}

func readLog(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)\n", err)
	}
	return string(b)
}

// pickPort is freePort; tests replace it to exercise the retry.
var pickPort = freePort

// freePort asks the kernel for a free TCP port on 127.0.0.1. The port is
// released before it is returned, so another process may take it; callers
// retry.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand.Read does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

// RootCAs returns a pool holding only the test CA that signed the
// registry's certificate.
func (r *Registry) RootCAs() *x509.CertPool { return r.rootCAs.Clone() }
