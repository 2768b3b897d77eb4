package scan_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerscan/layerscan/pkg/fingerprint"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/scan"
)

func suppressedWarning(rep *report.Image) string {
	for _, w := range rep.Warnings {
		if strings.Contains(w.Message, "suppressed") {
			return w.Message
		}
	}
	return ""
}

func TestIgnoreFileSuppressesByFingerprint(t *testing.T) {
	full := scanFixture(t, "lifecycle", scan.Options{})
	if len(full.Findings) < 2 {
		t.Fatalf("lifecycle has %d findings; the test needs at least 2", len(full.Findings))
	}
	drop := full.Findings[0]
	ignore := filepath.Join(t.TempDir(), ".layerscanignore")
	body := "# reviewed 2026-11-28: fixture token\n\n" + drop.Fingerprint + "  # " + drop.Rule + " in " + drop.Path + "\n"
	if err := os.WriteFile(ignore, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	sup := scan.Suppressions{}
	if err := scan.LoadIgnoreFile(ignore, sup); err != nil {
		t.Fatal(err)
	}
	rep := scanFixture(t, "lifecycle", scan.Options{Suppress: sup})
	want := 0
	for _, f := range full.Findings {
		if f.Fingerprint != drop.Fingerprint {
			want++
		}
	}
	if len(rep.Findings) != want {
		t.Errorf("%d findings after suppression, want %d", len(rep.Findings), want)
	}
	for _, f := range rep.Findings {
		if f.Fingerprint == drop.Fingerprint {
			t.Errorf("suppressed finding still reported: %+v", f)
		}
	}
	if w := suppressedWarning(rep); !strings.Contains(w, fmt.Sprint(len(full.Findings)-want)) {
		t.Errorf("warning %q should count the suppressed findings", w)
	}
	if suppressedWarning(full) != "" {
		t.Error("warning without suppression")
	}
}

func TestIgnoreFileRejectsJunk(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ignore")
	os.WriteFile(p, []byte("# ok\nnot-a-fingerprint\n"), 0o644)
	err := scan.LoadIgnoreFile(p, scan.Suppressions{})
	if err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Errorf("want an error naming line 2, got %v", err)
	}
}

func TestBaselineSuppressesEarlierFindings(t *testing.T) {
	full := scanFixture(t, "lifecycle", scan.Options{})
	base := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(base, []byte(jsonOf(t, full)), 0o644); err != nil {
		t.Fatal(err)
	}
	sup := scan.Suppressions{}
	if err := scan.LoadBaseline(base, sup); err != nil {
		t.Fatal(err)
	}
	rep := scanFixture(t, "lifecycle", scan.Options{Suppress: sup})
	if len(rep.Findings) != 0 {
		t.Errorf("baseline of the same image left %d findings: %+v", len(rep.Findings), rep.Findings)
	}
	if w := suppressedWarning(rep); !strings.Contains(w, fmt.Sprint(len(full.Findings))) {
		t.Errorf("warning %q", w)
	}
	// A finding not in the baseline is still reported: a baseline of
	// another image suppresses nothing here.
	other := scanFixture(t, "hardlink-survives", scan.Options{})
	os.WriteFile(base, []byte(jsonOf(t, other)), 0o644)
	sup = scan.Suppressions{}
	if err := scan.LoadBaseline(base, sup); err != nil {
		t.Fatal(err)
	}
	rep = scanFixture(t, "lifecycle", scan.Options{Suppress: sup})
	if len(rep.Findings) != len(full.Findings) {
		t.Errorf("unrelated baseline changed findings: %d → %d", len(full.Findings), len(rep.Findings))
	}
	// Not a report.
	os.WriteFile(base, []byte(`{"schema":"other"}`), 0o644)
	if err := scan.LoadBaseline(base, scan.Suppressions{}); err == nil {
		t.Error("foreign JSON accepted as a baseline")
	}
}

// TestOldUnkeyedFingerprintsStillMatch: an ignore file written before
// keyed fingerprints (fingerprint.Legacy values) still suppresses, with a
// warning to replace it.
func TestOldUnkeyedFingerprintsStillMatch(t *testing.T) {
	shown := scanFixture(t, "lifecycle", scan.Options{ShowSecrets: true})
	var drop report.Finding
	for _, f := range shown.Findings {
		if f.Source == "file" && len(f.ArchivePath) == 0 {
			drop = f
			break
		}
	}
	old := fingerprint.Legacy(drop.Rule, drop.Path, drop.Secret)
	if old == drop.Fingerprint {
		t.Fatal("the keyed fingerprint is the legacy one")
	}
	ignore := filepath.Join(t.TempDir(), ".layerscanignore")
	os.WriteFile(ignore, []byte(old+" # written by an older layerscan\n"), 0o644)
	sup := scan.Suppressions{}
	if err := scan.LoadIgnoreFile(ignore, sup); err != nil {
		t.Fatal(err)
	}
	rep := scanFixture(t, "lifecycle", scan.Options{Suppress: sup})
	for _, f := range rep.Findings {
		if f.Fingerprint == drop.Fingerprint {
			t.Errorf("the finding the old fingerprint names is still reported: %s %s", f.Rule, f.Path)
		}
	}
	if len(rep.Findings) != len(shown.Findings)-1 {
		t.Errorf("%d findings, want %d", len(rep.Findings), len(shown.Findings)-1)
	}
	var msgs []string
	for _, w := range rep.Warnings {
		msgs = append(msgs, w.Message)
	}
	if !strings.Contains(strings.Join(msgs, "\n"), "1 of them by an old unkeyed fingerprint") {
		t.Errorf("no warning about the old fingerprint: %q", msgs)
	}
}
