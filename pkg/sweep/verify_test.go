package sweep

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/fingerprint"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/scan"
	"github.com/layerscan/layerscan/pkg/verify"
)

// TestSweepVerifiesOncePerSecret: a --verify sweep tries each secret once,
// however many images hold it; its report carries the verdict; the
// verdict is kept in the store, so the next sweep (whose layers come from
// the store, without plaintext) reports it without trying again.
func TestSweepVerifiesOncePerSecret(t *testing.T) {
	var tries atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/user" {
			tries.Add(1)
			if r.Header.Get("Authorization") == "Bearer "+testimage.SecretGitHub {
				w.Write([]byte(`{"login":"octo-sweep"}`))
				return
			}
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer api.Close()
	endpoints := map[string]string{}
	for _, k := range []string{verify.KindGitHub, verify.KindGitLab, verify.KindSlack, verify.KindStripe, verify.KindSendGrid, verify.KindNPM} {
		endpoints[k] = api.URL
	}
	v := verify.New(verify.Options{AllowHosts: []string{"127.0.0.1"}, Endpoints: endpoints, PerHostRate: 1000})
	defer v.Close()

	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	idx, err := layout.ImageIndexFromPath("../../testdata/images/lifecycle")
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	img, _ := idx.Image(im.Manifests[0].Digest)
	for _, r := range []string{"/app:1", "/app:2", "/other:1"} {
		ref, _ := name.ParseReference(host+r, name.Insecure)
		if err := remote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
	}
	o := sweepOpts(t, host)
	key, _ := fingerprint.ParseKey("sweep verify test key")
	verdictOf := func() (report.Verdict, int) {
		t.Helper()
		p, err := scan.NewPipeline(scan.Config{Scan: scan.Options{Key: key, Verify: &scan.VerifyOptions{Verifier: v}}})
		if err != nil {
			t.Fatal(err)
		}
		o.Pipeline = p
		res, err := Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		rendered, err := Render(context.Background(), o.Store, RenderOptions{Sweep: res.Sweep})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := report.NewStream(report.Tool{}, rendered.Images).Collect()
		if err != nil || len(rep.Images) != 3 {
			t.Fatalf("sweep report: %d images, %v", len(rep.Images), err)
		}
		var got []report.Verdict
		for _, s := range rep.Secrets() {
			if s.Kind == testimage.RuleGitHub && s.Verification != nil {
				got = append(got, *s.Verification)
			}
		}
		if len(got) != 1 {
			t.Fatalf("github-pat verdicts in the report: %+v, want one secret with a verdict", got)
		}
		return got[0], res.Stats.LayersScanned
	}
	first, scanned := verdictOf()
	if first.Status != report.Verified || first.Identity != "octo-sweep" || scanned == 0 {
		t.Fatalf("first sweep: verdict %+v (%d layers scanned)", first, scanned)
	}
	if n := tries.Load(); n != 1 {
		t.Fatalf("the token in 3 images was tried %d times, want 1", n)
	}
	second, scanned := verdictOf()
	if second.Status != report.Verified || scanned != 0 {
		t.Errorf("second sweep (layers from the store): verdict %+v, %d layers scanned", second, scanned)
	}
	if n := tries.Load(); n != 1 {
		t.Errorf("the second sweep tried the token again (%d tries in all): the stored verdict is within its TTL", n)
	}
}
