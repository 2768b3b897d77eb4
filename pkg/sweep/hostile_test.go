package sweep

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/fingerprint"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/scan"
	"github.com/layerscan/layerscan/pkg/store"
	"github.com/layerscan/layerscan/pkg/store/sqlite"
)

// sweepOpts are the options of a sweep of host into a fresh SQLite store.
func sweepOpts(t *testing.T, host string) Options {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return Options{Registry: host, Pipeline: testPipeline(t), Store: st, Jobs: 2,
		Fetch: []fetch.Option{fetch.WithInsecure(true), fetch.WithTimeout(10 * time.Second), fetch.WithKeychain(authn.NewMultiKeychain())}}
}

var (
	pipelineOnce sync.Once
	pipeline     *scan.Pipeline
	pipelineErr  error
)

// testPipeline is the pipeline of the package's sweeps (the detector is
// built once).
func testPipeline(t *testing.T) *scan.Pipeline {
	t.Helper()
	pipelineOnce.Do(func() { pipeline, pipelineErr = scan.NewPipeline(scan.Config{Detect: detect.Options{}}) })
	if pipelineErr != nil {
		t.Fatal(pipelineErr)
	}
	return pipeline
}

// TestSweepNestedIndex: an image behind an index nested in the tag's index
// is swept with --platform all; an index with nothing
// but an attestation manifest is an error on that tag, as scan says, not
// "0 images".
func TestSweepNestedIndex(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	inner := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img,
		Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	outer := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: inner,
		Descriptor: v1.Descriptor{MediaType: types.OCIImageIndex}})
	att, _ := random.Image(64, 1)
	onlyAtt := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: att,
		Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest"}}})
	for tag, idx := range map[string]v1.ImageIndex{"nested": outer, "attest": onlyAtt} {
		ref, _ := name.ParseReference(host+"/app:"+tag, name.Insecure)
		if err := remote.WriteIndex(ref, idx); err != nil {
			t.Fatal(err)
		}
	}
	o := sweepOpts(t, host)
	o.Fetch = append(o.Fetch, fetch.WithPlatform("all"))
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var swept, failed []string
	for _, im := range sweptImages(t, o.Store, res) {
		if len(im.Errors) > 0 {
			failed = append(failed, im.Ref+" "+im.Errors[0].Message)
		} else {
			swept = append(swept, im.Ref+" "+im.Platform)
		}
	}
	if len(swept) != 1 || !strings.Contains(swept[0], ":nested") {
		t.Errorf("swept %q, want the image behind the nested index", swept)
	}
	if len(failed) != 1 || !strings.Contains(failed[0], ":attest") || !strings.Contains(failed[0], "no image") {
		t.Errorf("errors %q, want one for the attestation-only index", failed)
	}
}

// hostileRegistry answers /v2/ and a catalog page of n names whose Link
// points back at itself, or (redirect) a 302 to another host.
func hostileRegistry(t *testing.T, n int, redirect string) string {
	t.Helper()
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%q", fmt.Sprintf("repo-%06d", i))
	}
	page := `{"repositories":[` + strings.Join(names, ",") + `]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/":
			w.WriteHeader(http.StatusOK)
		case r.URL.Path == "/v2/_catalog" && redirect != "":
			http.Redirect(w, r, redirect+"/v2/_catalog", http.StatusFound)
		case r.URL.Path == "/v2/_catalog":
			w.Header().Set("Link", `</v2/_catalog?last=repo-000000&n=20000>; rel="next"`)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, page)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestCatalogBounds: a Link that loops back is an error at once, the
// names read are bounded (--max-names), and a redirect of the catalog to
// another host is refused.
func TestCatalogBounds(t *testing.T) {
	t.Run("Link loop", func(t *testing.T) {
		o := sweepOpts(t, hostileRegistry(t, 20000, ""))
		_, err := Run(context.Background(), o)
		if err == nil || !strings.Contains(err.Error(), "loop") {
			t.Errorf("got %v, want the loop named", err)
		}
	})
	t.Run("names bounded", func(t *testing.T) {
		o := sweepOpts(t, hostileRegistry(t, 300, ""))
		o.Fetch = append(o.Fetch, fetch.WithMaxNames(500))
		_, err := Run(context.Background(), o)
		if err == nil || !strings.Contains(err.Error(), "more than 500 repositories") {
			t.Errorf("got %v, want the bound named", err)
		}
	})
	t.Run("cross-host redirect", func(t *testing.T) {
		var asked int
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			asked++
			fmt.Fprint(w, `{"repositories":["planted/repo"]}`)
		}))
		defer other.Close()
		u, _ := url.Parse(other.URL)
		u.Host = strings.Replace(u.Host, "127.0.0.1", "localhost", 1)
		o := sweepOpts(t, hostileRegistry(t, 1, u.String()))
		_, err := Run(context.Background(), o)
		if err == nil || !strings.Contains(err.Error(), "another host") || asked != 0 {
			t.Errorf("got %v (other host asked %d times), want the redirect refused", err, asked)
		}
	})
}

// TestSweepRefusesAnotherKey: a store written under one fingerprint key
// is not swept into under another (its fingerprints would not compare).
func TestSweepRefusesAnotherKey(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img, _ := random.Image(256, 1)
	ref, _ := name.ParseReference(host+"/app:1", name.Insecure)
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	o := sweepOpts(t, host)
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	other, err := scan.NewPipeline(scan.Config{}) // another random key
	if err != nil {
		t.Fatal(err)
	}
	o.Pipeline = other
	if _, err := Run(context.Background(), o); !errors.Is(err, store.ErrOtherKey) {
		t.Errorf("a sweep under another key: %v, want store.ErrOtherKey", err)
	}
}

// TestStoreHoldsNoUnkeyedHash: nothing a sweep stores is the old unsalted
// fingerprint of a secret it found, nor a plain hash of it.
func TestStoreHoldsNoUnkeyedHash(t *testing.T) {
	host := lifecycleRegistry(t, "app:1")
	dbPath := filepath.Join(t.TempDir(), "s.db")
	st, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := fingerprint.ParseKey("sweep test key, not in the store")
	p, err := scan.NewPipeline(scan.Config{Detect: detect.Options{MaxDecodeDepth: 2}, Scan: scan.Options{Key: key}})
	if err != nil {
		t.Fatal(err)
	}
	det := p.Detector()
	o := sweepOpts(t, host)
	o.Store, o.Pipeline = st, p
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	rendered, err := Render(context.Background(), st, RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := report.NewStream(report.Tool{}, rendered.Images).Collect()
	if err != nil || len(rep.Images) != 1 || len(rep.Images[0].Findings) == 0 {
		t.Fatalf("sweep report: %v", err)
	}
	// Layer results are stored gzipped: read them decoded.
	var stored []byte
	for _, l := range rep.Images[0].Layers {
		b, ok, err := st.Layer(context.Background(), l.Digest, p.Ruleset())
		if err != nil || !ok {
			t.Fatalf("layer %s not stored: %v", l.Digest, err)
		}
		lr, err := DecodeLayer(b)
		if err != nil {
			t.Fatal(err)
		}
		j, _ := json.Marshal(lr)
		stored = append(stored, j...)
	}
	st.Close()
	// The plaintext of each finding, from a scan that shows secrets.
	src, err := fetch.Open(context.Background(), "oci:../../testdata/images/lifecycle")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	shown, err := scan.New(det, scan.Options{Key: key, ShowSecrets: true}).Image(context.Background(), src.Images[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal"} {
		b, _ := os.ReadFile(dbPath + suffix)
		stored = append(stored, b...)
	}
	if !bytes.Contains(stored, []byte(shown.Findings[0].Fingerprint)) {
		t.Fatal("the store does not hold the keyed fingerprints: the test reads the wrong bytes")
	}
	for _, f := range shown.Findings {
		plain := sha256.Sum256([]byte(f.Secret))
		for _, unkeyed := range []string{fingerprint.Legacy(f.Rule, f.Path, f.Secret), hex.EncodeToString(plain[:])[:32], hex.EncodeToString(plain[:])[:16]} {
			if bytes.Contains(stored, []byte(unkeyed)) {
				t.Errorf("%s %s: the store holds an unkeyed hash of the secret", f.Rule, f.Path)
			}
		}
		if bytes.Contains(stored, []byte(f.Secret)) {
			t.Errorf("%s %s: the store holds the plaintext secret", f.Rule, f.Path)
		}
	}
}
