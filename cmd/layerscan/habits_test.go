package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/report"
)

// scanJSONText parses a layerscan/v1 JSON report.
func scanJSONText(t *testing.T, s string) *report.Report {
	t.Helper()
	var rep report.Report
	if err := json.Unmarshal([]byte(s), &rep); err != nil || len(rep.Images) == 0 {
		t.Fatalf("not a JSON report with an image (%v):\n%s", err, s)
	}
	return &rep
}

// TestSizeFlagsTakeUnits: a bound that takes bytes reads 4KiB as 4096,
// from the command line, the environment and the config file alike; a
// size it cannot read is a usage error that shows the forms it takes.
func TestSizeFlagsTakeUnits(t *testing.T) {
	boundErr := func(res result) string {
		t.Helper()
		if res.code != 3 {
			t.Fatalf("want exit 3 (a layer past --max-layer-size), got %d\n%s", res.code, res.stderr)
		}
		rep := scanJSONText(t, res.stdout)
		if len(rep.Images[0].Errors) == 0 {
			t.Fatal("no layer error")
		}
		return rep.Images[0].Errors[0].Message
	}
	want := boundErr(runCLI(t, nil, "--format", "json", "--max-layer-size", "4096", lifecycleRef))
	if !strings.Contains(want, "more than 4096 bytes (--max-layer-size)") {
		t.Fatalf("bound error %q", want)
	}
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte("max-layer-size: 4KiB\narchive-max-entry-size: 1.5 MiB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, res := range map[string]result{
		"flag":        runCLI(t, nil, "--format", "json", "--max-layer-size", "4KiB", lifecycleRef),
		"environment": runCLI(t, []string{"LAYERSCAN_MAX_LAYER_SIZE=4 kib"}, "--format", "json", lifecycleRef),
		"config file": runCLI(t, nil, "--config-file", cfg, "--format", "json", lifecycleRef),
	} {
		if got := boundErr(res); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if res := runCLI(t, nil, "--format", "json", "--max-layer-size", "1MiB", lifecycleRef); res.code != 1 || len(scanJSONText(t, res.stdout).Images[0].Errors) != 0 {
		t.Errorf("1MiB holds every layer: exit %d\n%s", res.code, res.stderr)
	}
	assertUsageError(t, runCLI(t, nil, "--max-file-size", "12XB", lifecycleRef), "512MiB")
	assertUsageError(t, runCLI(t, []string{"LAYERSCAN_ARCHIVE_MAX_TOTAL_SIZE=lots"}, lifecycleRef), "archive-max-total-size")
	assertUsageError(t, runCLI(t, nil, "--max-metadata-size", "0KiB", lifecycleRef), "--max-metadata-size must be at least 1")
	help := runCLI(t, nil, "--help").stdout
	for _, want := range []string{"--max-layer-size size", "(default 32GiB)", "--max-file-size size", "--archive-memory size", "--max-path-len size"} {
		if !strings.Contains(help, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

// TestScanSeverity: --severity leaves the findings below it out of the
// report (and so out of the exit status), as the report command's does.
func TestScanSeverity(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "rules.toml")
	rules := "[extend]\nuseDefault = true\n\n[[rules]]\nid = \"acme-slack-copy\"\ndescription = \"a low rule\"\nregex = '''xoxb-[0-9A-Za-z-]{10,}'''\nkeywords = [\"xoxb\"]\ntags = [\"severity:low\"]\n"
	if err := os.WriteFile(cfg, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	rules_ := func(args ...string) []string {
		t.Helper()
		var out []string
		for _, f := range scanJSON(t, nil, lifecycleRef, append([]string{"--config", cfg}, args...)...).Images[0].Findings {
			out = append(out, f.Severity+" "+f.Rule)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	all := rules_()
	if !slices.Contains(all, "low acme-slack-copy") || !slices.Contains(all, "high slack-bot-token") {
		t.Fatalf("the low rule did not fire: %v", all)
	}
	high := rules_("--severity", "high")
	if slices.Contains(high, "low acme-slack-copy") || len(high) != len(all)-1 {
		t.Errorf("--severity high: %v (all: %v)", high, all)
	}
	if got := rules_("--severity", "LOW"); !slices.Equal(got, all) {
		t.Errorf("--severity low: %v, want %v", got, all)
	}
	res := runCLI(t, nil, "--config", cfg, "--severity", "critical", "--format", "table", lifecycleRef)
	if res.code != 0 || !strings.Contains(res.stdout, "0 findings") {
		t.Errorf("--severity critical: exit %d (want 0: nothing left)\n%s", res.code, res.stdout)
	}
	res = runCLI(t, []string{"LAYERSCAN_SEVERITY=high"}, "--config", cfg, "--fail-on", "low", "--format", "csv", lifecycleRef)
	if res.code != 1 || strings.Contains(res.stdout, "acme-slack-copy") {
		t.Errorf("LAYERSCAN_SEVERITY=high: exit %d\n%s", res.code, res.stdout)
	}
	assertUsageError(t, runCLI(t, nil, "--severity", "severe", lifecycleRef), "unknown --severity")
	assertUsageError(t, runCLI(t, nil, "report", "--severity", "severe", "--db", filepath.Join(t.TempDir(), "x.db")), "unknown --severity")
}

// TestGitLabFromCLI: --format gitlab writes a GitLab secret detection
// report that GitLab's published schema accepts, one vulnerability per
// finding, at the pipeline's commit.
func TestGitLabFromCLI(t *testing.T) {
	c := jsonschema.NewCompiler()
	sch, err := c.Compile(filepath.Join(repoRoot(t), "pkg", "report", "testdata", "gitlab-secret-detection-report-format-"+report.GitLabSchemaVersion+".json"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "gl-secret-detection-report.json")
	res := runCLI(t, []string{"CI_COMMIT_SHA=4b825dc642cb6eb9a060e54bf8d69288fbee4904"}, "--format", "gitlab="+out, "--format", "json", lifecycleRef)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1 (findings)\n%s", res.code, res.stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("not a valid GitLab secret detection report: %v", err)
	}
	var gl struct {
		Vulnerabilities []struct {
			Severity string
			Location struct {
				File   string
				Commit struct{ SHA string }
			}
		}
	}
	json.Unmarshal(b, &gl)
	rep := scanJSONText(t, res.stdout)
	if len(gl.Vulnerabilities) != rep.FindingCount() || len(gl.Vulnerabilities) == 0 {
		t.Fatalf("%d vulnerabilities for %d findings", len(gl.Vulnerabilities), rep.FindingCount())
	}
	for i, v := range gl.Vulnerabilities {
		f := rep.Images[0].Findings[i]
		if v.Location.File != f.Path || v.Location.Commit.SHA != "4b825dc642cb6eb9a060e54bf8d69288fbee4904" || v.Severity != "High" {
			t.Errorf("vulnerability %d: %+v, finding %s %s", i, v, f.Path, f.Severity)
		}
	}
	if strings.Contains(string(b), "ghp_") && !strings.Contains(string(b), "ghp_****") {
		t.Error("a secret in the GitLab report")
	}
}

// TestTableOnA100ColumnTerminal: the table on a real 100-column terminal,
// for an image with East Asian file names and long paths that differ at
// their end: every line fits in cells, cut paths keep their ends, STATUS
// keeps the layer that deleted the file, and one layer is "1 layer".
func TestTableOnA100ColumnTerminal(t *testing.T) {
	long := "app/node_modules/@acme/a-rather-long-package-name-%s/lib/config.env"
	ref := "oci:" + hostileImage{layers: []hostileLayer{
		{tar: testimage.Tar(secretFile("app/設定/認証情報.env", testimage.SecretGitHub),
			secretFile(fmt.Sprintf(long, "alpha"), testimage.SecretGitHub), secretFile(fmt.Sprintf(long, "beta"), testimage.SecretGitHub))},
		{tar: testimage.Tar(testimage.Entry{Name: "app/設定/.wh.認証情報.env"})},
	}}.write(t)
	code, stdout, term := runPTY(t, []string{"NO_COLOR=1"}, true, "--quiet", ref)
	if code != 1 {
		t.Fatalf("exit %d\n%s%s", code, stdout, term)
	}
	var table []string
	inTable := false // the secrets to rotate come first, then the layers' tables
	for _, line := range strings.Split(strings.ReplaceAll(term, "\r\n", "\n"), "\n") {
		inTable = inTable || strings.HasPrefix(line, "Layer ")
		if strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "  still extractable") && !strings.HasPrefix(strings.TrimSpace(line), "fix") {
			if inTable {
				table = append(table, line)
			}
			if w := runewidth.StringWidth(line); w > 100 {
				t.Errorf("line of %d cells on a 100-column terminal: %q", w, line)
			}
		}
	}
	for _, want := range []string{"alpha/lib/config.env", "beta/lib/config.env", "/app/設定/認証情報.env", "deleted by layer 1", " in 2 layers, 3 files,"} {
		if !strings.Contains(term, want) {
			t.Errorf("the terminal lacks %q:\n%s", want, term)
		}
	}
	t.Logf("on the terminal:\n%s", term)
	if len(table) != 4 {
		t.Errorf("want a heading and 3 rows:\n%s", term)
	}
}
