package sweep

import (
	"context"
	"testing"

	"github.com/layerscan/layerscan/internal/fakeapi"
	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/fingerprint"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/scan"
)

// TestSweepVerifiesOncePerSecret: a --verify sweep tries each secret once,
// however many images hold it; its report carries the verdict; the
// verdict is kept in the store, so the next sweep (whose layers come from
// the store, without plaintext) reports it without trying again.
func TestSweepVerifiesOncePerSecret(t *testing.T) {
	v, tries := fakeapi.GitHub(t, "octo-sweep")

	host := lifecycleRegistry(t, "app:1", "app:2", "other:1")
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
