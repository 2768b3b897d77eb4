package scan_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/layerscan/layerscan/internal/fakeapi"
	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/scan"
	"github.com/layerscan/layerscan/pkg/store/sqlite"
)

// TestVerdictsOncePerSecretAndTTL: a secret is tried once per process,
// whatever the number of images; a stored verdict is used until it is
// older than the TTL, then the secret is tried again.
func TestVerdictsOncePerSecretAndTTL(t *testing.T) {
	v, tries := fakeapi.GitHub(t, "octo-test")
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	opts := func() scan.Options {
		return scan.Options{Verify: &scan.VerifyOptions{Verifier: v, Store: st, TTL: 24 * time.Hour, Now: func() time.Time { return now }}}
	}
	github := func(rep *report.Image) report.Verdict {
		t.Helper()
		for _, f := range rep.Findings {
			if f.Rule == testimage.RuleGitHub {
				return rep.Verdicts[f.SecretID]
			}
		}
		t.Fatal("no github-pat finding")
		return report.Verdict{}
	}
	s := newScanner(t, opts())
	for range 2 { // two images with the same secret, one scanner
		if v := github(scanFixture(t, "lifecycle", opts())); v.Status != report.Verified || v.Identity != "octo-test" {
			t.Fatalf("verdict %+v", v)
		}
		rep := scanRef(t, s, filepath.Join(imagesDir(t), "lifecycle"))[0]
		if v := github(rep); v.Status != report.Verified {
			t.Fatalf("verdict %+v", v)
		}
	}
	if n := tries.Load(); n != 1 {
		t.Fatalf("the token was tried %d times over four scans within the TTL, want 1", n)
	}
	now = now.Add(25 * time.Hour)
	github(scanFixture(t, "lifecycle", opts()))
	if n := tries.Load(); n != 2 {
		t.Errorf("after the TTL the token was tried %d times in all, want 2", n)
	}
}
