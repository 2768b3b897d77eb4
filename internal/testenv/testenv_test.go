package testenv

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// childRefEnv makes the test binary act as a registry client child process
// (see TestMain): it pulls the named image using only the environment
// (system roots, DOCKER_CONFIG), the way the layerscan binary does.
const childRefEnv = "LAYERSCAN_TESTENV_CHILD_REF"

func TestMain(m *testing.M) {
	if ref := os.Getenv(childRefEnv); ref != "" {
		os.Exit(childMain(ref))
	}
	os.Exit(m.Run())
}

func childMain(ref string) int {
	r, err := name.ParseReference(ref)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	img, err := remote.Image(r, remote.WithAuthFromKeychain(authn.DefaultKeychain))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	d, err := img.Digest()
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	fmt.Println(d)
	return 0
}

// fakeTB records Skipf and Fatalf instead of stopping the goroutine, so the
// failure paths of the helpers can be tested. Everything else goes to the
// real test.
type fakeTB struct {
	testing.TB
	skipped, fatal string
}

func (f *fakeTB) Skipf(format string, args ...any)  { f.skipped = fmt.Sprintf(format, args...) }
func (f *fakeTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }

func TestRequireToolFound(t *testing.T) {
	path := RequireTool(t, "sh")
	if !filepath.IsAbs(path) {
		t.Fatalf("RequireTool(sh) = %q, want an absolute path", path)
	}
}

func TestRequireToolMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // an empty PATH directory: nothing is found

	t.Run("skips by default", func(t *testing.T) {
		t.Setenv(RequireToolsEnv, "")
		f := &fakeTB{TB: t}
		if got := RequireTool(f, "docker-registry"); got != "" {
			t.Errorf("RequireTool returned %q for a missing tool", got)
		}
		if f.fatal != "" {
			t.Errorf("unexpected Fatalf: %s", f.fatal)
		}
		if !strings.Contains(f.skipped, `"docker-registry"`) {
			t.Errorf("skip message %q does not name the package", f.skipped)
		}
	})
	t.Run("fails when required", func(t *testing.T) {
		t.Setenv(RequireToolsEnv, "1")
		f := &fakeTB{TB: t}
		RequireTool(f, "skopeo")
		if f.skipped != "" {
			t.Errorf("unexpected Skipf: %s", f.skipped)
		}
		if !strings.Contains(f.fatal, "apt-get install skopeo") {
			t.Errorf("fatal message %q does not name the Debian package", f.fatal)
		}
	})
	t.Run("StartRegistry follows RequireTool", func(t *testing.T) {
		t.Setenv(RequireToolsEnv, "1")
		f := &fakeTB{TB: t}
		if r := StartRegistry(f); r != nil {
			t.Errorf("StartRegistry returned %+v without docker-registry", r)
		}
		if !strings.Contains(f.fatal, "apt-get install docker-registry") {
			t.Errorf("fatal message %q does not name the Debian package", f.fatal)
		}
	})
}

// ociImage returns a random two-layer image with OCI media types.
func ociImage(t *testing.T) v1.Image {
	t.Helper()
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	for i := 0; i < 2; i++ {
		l, err := random.Layer(4096, types.OCILayer)
		if err != nil {
			t.Fatal(err)
		}
		img, err = mutate.AppendLayers(img, l)
		if err != nil {
			t.Fatal(err)
		}
	}
	return img
}

func layerDigests(t *testing.T, img v1.Image) (digests, diffIDs []v1.Hash) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		id, err := l.DiffID()
		if err != nil {
			t.Fatal(err)
		}
		digests, diffIDs = append(digests, d), append(diffIDs, id)
	}
	return digests, diffIDs
}

// pull reads ref from the registry with the given options and fully reads
// every layer blob, checking its sha256 against its digest.
func pull(t *testing.T, r *Registry, ref string, opts ...remote.Option) (v1.Image, error) {
	t.Helper()
	parsed, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]remote.Option{remote.WithContext(t.Context())}, opts...)
	img, err := remote.Image(parsed, opts...)
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	for _, l := range layers {
		want, err := l.Digest()
		if err != nil {
			return nil, err
		}
		rc, err := l.Compressed()
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		_, err = io.Copy(h, rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != want.String() {
			return nil, fmt.Errorf("blob %s has sha256 %s", want, got)
		}
	}
	return img, nil
}

func (r *Registry) goodAuth() remote.Option {
	return remote.WithAuth(&authn.Basic{Username: r.Username, Password: r.Password})
}

func TestRegistry(t *testing.T) {
	r := StartRegistry(t)
	RequireTool(t, "skopeo")

	if !strings.HasPrefix(r.Host, "127.0.0.1:") {
		t.Errorf("Host = %q, want 127.0.0.1:PORT", r.Host)
	}

	src := ociImage(t)
	layoutDir := t.TempDir()
	lp, err := layout.Write(layoutDir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(src, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": "v1",
	})); err != nil {
		t.Fatal(err)
	}
	r.Push(t, "oci:"+layoutDir+":v1", "testenv/oci:v1")
	ociRef := r.Host + "/testenv/oci:v1"

	t.Run("oci layout round trip", func(t *testing.T) {
		wantLayers, wantDiffIDs := layerDigests(t, src)
		before := map[v1.Hash]int{}
		for _, d := range wantLayers {
			before[d] = r.BlobGETs(t, "testenv/oci", d.String())
		}
		allBefore := r.BlobGETs(t, "testenv/oci", "")
		got, err := pull(t, r, ociRef, r.goodAuth(), remote.WithTransport(r.Transport()))
		if err != nil {
			t.Fatalf("pulling %s: %v", ociRef, err)
		}
		// The registry's access log records the blob GETs pull just made:
		// each layer once (pull fetches no config blob; DiffID below will).
		for _, d := range wantLayers {
			if n := r.BlobGETs(t, "testenv/oci", d.String()) - before[d]; n != 1 {
				t.Errorf("BlobGETs(%s) grew by %d during the pull, want 1", d, n)
			}
		}
		if n := r.BlobGETs(t, "testenv/oci", "") - allBefore; n != len(wantLayers) {
			t.Errorf("BlobGETs(all) grew by %d during the pull, want %d\n%s", n, len(wantLayers), r.Log())
		}
		if n := r.BlobGETs(t, "testenv/other", ""); n != 0 {
			t.Errorf("BlobGETs of an unused repository = %d, want 0", n)
		}
		wantDigest, _ := src.Digest()
		gotDigest, _ := got.Digest()
		if gotDigest != wantDigest {
			t.Errorf("manifest digest = %s, want %s (skopeo rewrote the manifest)", gotDigest, wantDigest)
		}
		gotLayers, gotDiffIDs := layerDigests(t, got)
		if !slices.Equal(gotLayers, wantLayers) {
			t.Errorf("layer digests = %v, want %v", gotLayers, wantLayers)
		}
		if !slices.Equal(gotDiffIDs, wantDiffIDs) {
			t.Errorf("diff IDs = %v, want %v", gotDiffIDs, wantDiffIDs)
		}
	})

	t.Run("docker archive round trip", func(t *testing.T) {
		img, err := random.Image(2048, 3)
		if err != nil {
			t.Fatal(err)
		}
		tag, err := name.NewTag("testenv/docker:v1")
		if err != nil {
			t.Fatal(err)
		}
		archive := filepath.Join(t.TempDir(), "image.tar")
		if err := tarball.WriteToFile(archive, tag, img); err != nil {
			t.Fatal(err)
		}
		r.Push(t, "docker-archive:"+archive, "testenv/docker:v1")
		got, err := pull(t, r, r.Host+"/testenv/docker:v1", r.goodAuth(), remote.WithTransport(r.Transport()))
		if err != nil {
			t.Fatal(err)
		}
		// skopeo's docker-archive source hands out layers uncompressed
		// (docker save format) and the push gzips them again, so only the
		// uncompressed digests (diff IDs) survive; pull has already checked
		// that every pushed blob matches its digest.
		_, wantDiffIDs := layerDigests(t, img)
		_, gotDiffIDs := layerDigests(t, got)
		if !slices.Equal(gotDiffIDs, wantDiffIDs) {
			t.Errorf("diff IDs = %v, want %v", gotDiffIDs, wantDiffIDs)
		}
	})

	t.Run("anonymous is refused", func(t *testing.T) {
		_, err := pull(t, r, ociRef, remote.WithAuth(authn.Anonymous), remote.WithTransport(r.Transport()))
		assertStatus(t, err, http.StatusUnauthorized)

		resp, err := (&http.Client{Transport: r.Transport()}).Get("https://" + r.Host + "/v2/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("anonymous GET /v2/ = %s, want 401", resp.Status)
		}
		if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic ") {
			t.Errorf("WWW-Authenticate = %q, want a Basic challenge", got)
		}
	})

	t.Run("wrong password is refused", func(t *testing.T) {
		_, err := pull(t, r, ociRef,
			remote.WithAuth(&authn.Basic{Username: r.Username, Password: r.Password + "x"}),
			remote.WithTransport(r.Transport()))
		assertStatus(t, err, http.StatusUnauthorized)

		_, err = pull(t, r, ociRef,
			remote.WithAuth(&authn.Basic{Username: "someone-else", Password: r.Password}),
			remote.WithTransport(r.Transport()))
		assertStatus(t, err, http.StatusUnauthorized)
	})

	t.Run("TLS without the CA fails", func(t *testing.T) {
		// http.DefaultTransport trusts the system roots, not the test CA.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		_, err := pull(t, r, ociRef, r.goodAuth(), remote.WithTransport(tr))
		var unknownCA x509.UnknownAuthorityError
		if !errors.As(err, &unknownCA) {
			t.Errorf("pull without the CA: err = %v, want x509.UnknownAuthorityError", err)
		}
		_, err = (&http.Client{Transport: tr}).Get("https://" + r.Host + "/v2/")
		if !errors.As(err, &unknownCA) {
			t.Errorf("GET /v2/ without the CA: err = %v, want x509.UnknownAuthorityError", err)
		}
	})

	t.Run("CAFile and DockerConfigDir", func(t *testing.T) {
		pemData, err := os.ReadFile(r.CAFile)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemData) {
			t.Fatalf("%s holds no PEM certificate", r.CAFile)
		}
		cfg, err := os.ReadFile(filepath.Join(r.DockerConfigDir, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(cfg, []byte(`"`+r.Host+`"`)) {
			t.Errorf("config.json does not name %s:\n%s", r.Host, cfg)
		}
	})

	t.Run("child process with Env", func(t *testing.T) {
		wantDigest, _ := src.Digest()
		emptyDockerConfig := t.TempDir()
		child := func(extraEnv ...string) (string, error) {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), childRefEnv+"="+ociRef, "DOCKER_CONFIG="+emptyDockerConfig)
			cmd.Env = append(cmd.Env, extraEnv...)
			out, err := cmd.CombinedOutput()
			return strings.TrimSpace(string(out)), err
		}
		out, err := child(r.Env()...)
		if err != nil {
			t.Fatalf("child with Env(): %v\n%s", err, out)
		}
		if out != wantDigest.String() {
			t.Errorf("child pulled %q, want %s", out, wantDigest)
		}
		// Each half of Env() is needed.
		if out, err := child(); err == nil || !strings.Contains(out, "certificate") {
			t.Errorf("child without Env(): err=%v, output %q; want a certificate error", err, out)
		}
		if out, err := child("SSL_CERT_FILE=" + r.CAFile); err == nil || !strings.Contains(out, "UNAUTHORIZED") {
			t.Errorf("child without DOCKER_CONFIG: err=%v, output %q; want UNAUTHORIZED", err, out)
		}
	})

	t.Run("push failure reports skopeo output", func(t *testing.T) {
		f := &fakeTB{TB: t}
		missing := filepath.Join(t.TempDir(), "no-such-layout")
		r.Push(f, "oci:"+missing+":v1", "testenv/missing:v1")
		if !strings.Contains(f.fatal, "skopeo copy") || !strings.Contains(f.fatal, "no-such-layout") ||
			!strings.Contains(f.fatal, "--- skopeo output ---") {
			t.Errorf("Push of a missing source: fatal message = %q", f.fatal)
		}
	})
}

func assertStatus(t *testing.T, err error, want int) {
	t.Helper()
	var terr *transport.Error
	if !errors.As(err, &terr) {
		t.Errorf("err = %v, want a registry error with status %d", err, want)
		return
	}
	if terr.StatusCode != want {
		t.Errorf("status = %d, want %d (err %v)", terr.StatusCode, want, err)
	}
}

func TestStartRegistryTwice(t *testing.T) {
	a, b := StartRegistry(t), StartRegistry(t)
	if a.Host == b.Host {
		t.Errorf("two registries on the same address %s", a.Host)
	}
	caA, _ := os.ReadFile(a.CAFile)
	caB, _ := os.ReadFile(b.CAFile)
	if bytes.Equal(caA, caB) {
		t.Error("two registries share a CA")
	}
}

// takenPort returns a port that a listener holds until the test ends.
func takenPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// Not parallel: these replace pickPort.
func TestStartRegistryRetriesTakenPort(t *testing.T) {
	RequireTool(t, "docker-registry")
	taken := takenPort(t)
	calls := 0
	pickPort = func() (int, error) {
		calls++
		if calls == 1 {
			return taken, nil
		}
		return freePort()
	}
	t.Cleanup(func() { pickPort = freePort })

	r := StartRegistry(t)
	if calls != 2 {
		t.Errorf("pickPort called %d times, want 2 (one retry)", calls)
	}
	if r.Host == fmt.Sprintf("127.0.0.1:%d", taken) {
		t.Errorf("registry claims the taken port %d", taken)
	}
}

func TestStartRegistryFailureShowsLog(t *testing.T) {
	RequireTool(t, "docker-registry")
	taken := takenPort(t)
	pickPort = func() (int, error) { return taken, nil }
	t.Cleanup(func() { pickPort = freePort })

	f := &fakeTB{TB: t}
	if r := StartRegistry(f); r != nil {
		t.Fatalf("StartRegistry succeeded on a taken port: %+v", r)
	}
	for _, want := range []string{"did not come up", "--- registry log", "address already in use"} {
		if !strings.Contains(f.fatal, want) {
			t.Errorf("failure message lacks %q:\n%s", want, f.fatal)
		}
	}
}

func TestStartPostgres(t *testing.T) {
	dsn := StartPostgres(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRow(`SELECT current_database()`).Scan(&v); err != nil || v != "layerscan" {
		t.Fatalf("database %q: %v", v, err)
	}
	if !strings.HasPrefix(dsn, "postgres://layerscan@127.0.0.1:") {
		t.Errorf("dsn %s", dsn)
	}
}
