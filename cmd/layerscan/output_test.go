package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/layerscan/layerscan/internal/sarifcheck"
	"github.com/layerscan/layerscan/pkg/report"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/output")

// The fixed image of the golden files, as a path relative to this
// package (the tests run the binary here), so that the output is stable.
const lifecycleRef = "oci:../../testdata/images/lifecycle"

var sampleTemplate = filepath.Join("..", "..", "pkg", "report", "testdata", "sample.tmpl")

// normalize removes what changes from run to run or build to build: wall
// time, the tool's version and the ruleset hash.
func normalize(t *testing.T, s string) string {
	t.Helper()
	v := strings.TrimPrefix(strings.SplitN(runCLI(t, nil, "version").stdout, "\n", 2)[0], "layerscan ")
	for _, re := range []struct{ re, with string }{
		{`scanned in [0-9.]+(ns|µs|ms|s|m[0-9.]+s|h[0-9hms.]+)`, "scanned in TIME"},
		{`"duration_ms": [0-9]+`, `"duration_ms": 0`},
		{`"(ruleset|semanticVersion)": "[^"]*"`, `"$1": "X"`},
	} {
		s = regexp.MustCompile(re.re).ReplaceAllString(s, re.with)
	}
	if v != "" {
		s = strings.ReplaceAll(s, v, "VERSION")
	}
	return s
}

func goldenFile(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", "output", name)
	if *update {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (go test ./cmd/layerscan -run TestFormatsGolden -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test ./cmd/layerscan -run TestFormatsGolden -update to accept):\n%s", name, got)
	}
}

// TestFormatsGolden scans the fixed lifecycle image through the binary in
// every format.
func TestFormatsGolden(t *testing.T) {
	for _, tc := range []struct{ format, file string }{
		{"table", "lifecycle.table"},
		{"json", "lifecycle.json"},
		{"sarif", "lifecycle.sarif"},
		{"csv", "lifecycle.csv"},
		{"markdown", "lifecycle.md"},
		{"template", "lifecycle.template.txt"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			res := runCLI(t, nil, "--format", tc.format, "--template", sampleTemplate, lifecycleRef)
			if res.code != 1 {
				t.Fatalf("exit %d, want 1\n%s", res.code, res.stderr)
			}
			if res.stderr != "" {
				t.Errorf("stderr: %q", res.stderr)
			}
			goldenFile(t, tc.file+".golden", normalize(t, res.stdout))
		})
	}
}

func TestSARIFFromCLI(t *testing.T) {
	sch := sarifcheck.Schema(t)
	out := filepath.Join(t.TempDir(), "report.sarif")
	for _, ref := range []string{lifecycleRef, "oci:" + fixture(t, "clean"), "oci-archive:" + fixture(t, "multiarch.oci.tar")} {
		res := runCLI(t, nil, "--format", "sarif", "-o", out, "--platform", "all", ref)
		if res.code > 1 {
			t.Fatalf("%s: exit %d: %s", ref, res.code, res.stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if err := sarifcheck.ValidateSchema(sch, b); err != nil {
			t.Errorf("%s: SARIF does not match the 2.1.0 schema: %v", ref, err)
		}
		// GitHub code scanning: one run per image, each its own category;
		// every result on a file and line.
		var doc struct {
			Runs []struct {
				AutomationDetails struct{ ID string }
				Results           []struct {
					Locations []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string }
							Region           struct{ StartLine int }
						}
					}
					PartialFingerprints map[string]string
				}
			}
		}
		json.Unmarshal(b, &doc)
		images := len(scanJSON(t, nil, ref, "--platform", "all").Images)
		ids := map[string]bool{}
		for _, run := range doc.Runs {
			if id := run.AutomationDetails.ID; !strings.HasPrefix(id, "layerscan/") || !strings.HasSuffix(id, "/") || ids[id] {
				t.Errorf("%s: automationDetails.id %q (seen: %v)", ref, id, ids)
			}
			ids[run.AutomationDetails.ID] = true
			for _, res := range run.Results {
				if l := res.Locations[0].PhysicalLocation; l.ArtifactLocation.URI == "" || l.Region.StartLine < 1 || res.PartialFingerprints["primaryLocationLineHash"] == "" {
					t.Errorf("%s: result without a line or primaryLocationLineHash: %+v", ref, res)
				}
			}
		}
		if len(doc.Runs) != images {
			t.Errorf("%s: %d runs for %d images", ref, len(doc.Runs), images)
		}
		if tool := sarifcheck.Multitool(); tool != "" {
			for _, is := range sarifcheck.RunMultitool(t, tool, out) {
				if is.Level == "error" || is.Level == "warning" {
					t.Errorf("%s: Sarif.Multitool %s %s: %s", ref, is.Level, is.RuleID, is.Message)
				}
			}
		}
	}
	sarifcheck.RequireMultitool(t) // say so when the consumer check did not run
}

// TestNoFormatLeaksSecrets: without --show-secrets, no output format
// prints any secret the scan found.
func TestNoFormatLeaksSecrets(t *testing.T) {
	refs := []string{lifecycleRef, "oci:" + fixture(t, "hardlink-survives")}
	for _, ref := range refs {
		full := scanJSON(t, nil, ref, "--show-secrets")
		var secrets []string
		for _, im := range full.Images {
			for _, f := range im.Findings {
				if len(f.Secret) < 8 || strings.HasSuffix(f.Secret, "****") {
					t.Fatalf("--show-secrets gave %q", f.Secret)
				}
				secrets = append(secrets, f.Secret)
			}
		}
		if len(secrets) == 0 {
			t.Fatalf("%s: no findings to check", ref)
		}
		dir := t.TempDir()
		args := []string{"--template", sampleTemplate, "--format", "table"}
		for _, f := range report.Formats {
			args = append(args, "--format", f+"="+filepath.Join(dir, f+".out"))
		}
		res := runCLI(t, nil, append(args, ref)...)
		if res.code != 1 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		outputs := map[string]string{"stdout": res.stdout, "stderr": res.stderr}
		for _, f := range report.Formats {
			b, err := os.ReadFile(filepath.Join(dir, f+".out"))
			if err != nil {
				t.Fatal(err)
			}
			outputs[f] = string(b)
		}
		for name, out := range outputs {
			for _, s := range secrets {
				// The redacted form keeps 4 characters; look for more.
				if strings.Contains(out, s[:min(len(s), 10)]) {
					t.Errorf("%s: %s output shows the secret %.6s…", ref, name, s)
				}
			}
		}
	}
}

func TestSeveralOutputs(t *testing.T) {
	dir := t.TempDir()
	j, s, main := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.sarif"), filepath.Join(dir, "r.md")
	res := runCLI(t, nil, "--format", "json="+j, "--format", "sarif="+s, "--format", "markdown", "-o", main, lifecycleRef)
	if res.code != 1 || res.stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", res.code, res.stdout, res.stderr)
	}
	var rep report.Report
	b, _ := os.ReadFile(j)
	if err := json.Unmarshal(b, &rep); err != nil || rep.FindingCount() == 0 {
		t.Errorf("json output: %v %d", err, rep.FindingCount())
	}
	b, _ = os.ReadFile(s)
	if !bytes.Contains(b, []byte(`"version": "2.1.0"`)) {
		t.Errorf("sarif output:\n%.300s", b)
	}
	b, _ = os.ReadFile(main)
	if !bytes.HasPrefix(b, []byte("# layerscan report")) {
		t.Errorf("-o gets the format without a file:\n%.300s", b)
	}
	st, _ := os.Stat(j)
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", st.Mode())
	}
	runCLI(t, nil, "--show-secrets", "--format", "csv="+filepath.Join(dir, "s.csv"), "--format", "json", lifecycleRef)
	if st, err := os.Stat(filepath.Join(dir, "s.csv")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("--show-secrets output must be 0600: %v %v", st.Mode(), err)
	}

	t.Run("usage errors", func(t *testing.T) {
		assertUsageError(t, runCLI(t, nil, "--format", "json", "--format", "sarif", lifecycleRef), "same output")
		assertUsageError(t, runCLI(t, nil, "--format", "xml", lifecycleRef), "unknown --format")
		assertUsageError(t, runCLI(t, nil, "--format", "template", lifecycleRef), "--template")
		assertUsageError(t, runCLI(t, nil, "--format", "template", "--template", filepath.Join(dir, "none.tmpl"), lifecycleRef), "--template")
		assertUsageError(t, runCLI(t, nil, "--fail-on", "severe", lifecycleRef), "--fail-on")
		assertUsageError(t, runCLI(t, nil, "--color", "sometimes", lifecycleRef), "--color")
		assertUsageError(t, runCLI(t, nil, "--exit-code", "300", lifecycleRef), "--exit-code")
	})
}

// TestGating checks the exit status for each --fail-on and --exit-code
// case. The lifecycle image's findings are all high.
func TestGating(t *testing.T) {
	clean := "oci:" + fixture(t, "clean")
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"default low, high findings", nil, 1},
		{"fail-on info", []string{"--fail-on", "info"}, 1},
		{"fail-on low", []string{"--fail-on", "low"}, 1},
		{"fail-on medium", []string{"--fail-on", "medium"}, 1},
		{"fail-on high", []string{"--fail-on", "high"}, 1},
		{"fail-on critical, only high findings", []string{"--fail-on", "critical"}, 0},
		{"exit-code 7", []string{"--exit-code", "7"}, 7},
		{"exit-code 7, below fail-on", []string{"--exit-code", "7", "--fail-on", "critical"}, 0},
		{"exit-code 0", []string{"--exit-code", "0"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(t, nil, append(append([]string{"--format", "json"}, tc.args...), lifecycleRef)...)
			if res.code != tc.want {
				t.Errorf("exit %d, want %d\n%s", res.code, tc.want, res.stderr)
			}
			if !strings.Contains(res.stdout, `"findings"`) {
				t.Error("the report is written whatever the exit status")
			}
		})
	}
	if res := runCLI(t, nil, "--fail-on", "info", clean); res.code != 0 {
		t.Errorf("clean image: exit %d", res.code)
	}
}

// TestFailOnInfoOnly: findings of severity info fail only --fail-on info;
// a finding without a severity counts as high. (Through the binary:
// TestGatingInfoOnly.)
func TestFailOnInfoOnly(t *testing.T) {
	rep := &report.Report{Images: []*report.Image{{Findings: []report.Finding{{Rule: "ssh-host-key", Severity: "info"}, {Rule: "x", Severity: "info"}}}}}
	for sev, want := range map[string]int{"info": 2, "low": 0, "medium": 0, "high": 0, "critical": 0} {
		if got := rep.Failing(sev); got != want {
			t.Errorf("--fail-on %s: %d failing findings, want %d", sev, got, want)
		}
	}
	rep.Images[0].Findings = append(rep.Images[0].Findings, report.Finding{Rule: "y", Severity: ""})
	if got := rep.Failing("critical"); got != 0 {
		t.Errorf("an unrated finding ranks as high: %d", got)
	}
	if got := rep.Failing("high"); got != 1 {
		t.Errorf("an unrated finding ranks as high: %d", got)
	}
}

// runPTY runs layerscan with stderr (and, if ttyStdout, stdout) on a
// pseudo-terminal, and returns stdout and everything the terminal got.
func runPTY(t *testing.T, env []string, ttyStdout bool, args ...string) (code int, stdout, term string) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 100})
	cmd := exec.Command(binPath, args...)
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HOME="+home, "DOCKER_CONFIG="+home, "TERM=xterm")
	cmd.Env = append(cmd.Env, env...)
	var so bytes.Buffer
	cmd.Stdin = tty
	cmd.Stderr = tty
	cmd.Stdout = &so
	if ttyStdout {
		cmd.Stdout = tty
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	termOut := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(ptmx) // ends with EIO when the child exits
		termOut <- b
	}()
	err = cmd.Wait()
	var got []byte
	select {
	case got = <-termOut:
	case <-time.After(10 * time.Second):
		t.Fatal("reading the terminal timed out")
	}
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, so.String(), string(got)
}

// A big layer so that the progress bars have time to draw.
func slowImage(t *testing.T) string {
	t.Helper()
	return "oci-archive:" + fixture(t, "compression.oci.tar")
}

func TestProgressOnlyOnATerminal(t *testing.T) {
	env := []string{"NO_COLOR=1"}
	ref := slowImage(t)
	t.Run("stderr is a terminal", func(t *testing.T) {
		code, stdout, term := runPTY(t, env, false, "--format", "json", ref)
		if code > 1 {
			t.Fatalf("exit %d: %s", code, term)
		}
		if !strings.Contains(term, "layers") || !strings.Contains(term, "B/s") || !strings.Contains(term, "layer 0") || !strings.Contains(term, " files") {
			t.Errorf("no progress on the terminal: %q", term)
		}
		if strings.Contains(stdout, "\x1b") || strings.Contains(stdout, "layers ") {
			t.Errorf("progress reached stdout: %q", stdout)
		}
		var rep report.Report
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Errorf("stdout is not the JSON report: %v", err)
		}
	})
	t.Run("--quiet", func(t *testing.T) {
		_, _, term := runPTY(t, env, false, "--quiet", "--format", "json", ref)
		if strings.Contains(term, "layers") {
			t.Errorf("progress with --quiet: %q", term)
		}
	})
	t.Run("stderr is a pipe", func(t *testing.T) {
		res := runCLI(t, nil, "--format", "json", ref)
		if res.stderr != "" {
			t.Errorf("stderr to a pipe must stay empty: %q", res.stderr)
		}
	})
	t.Run("file output", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "r.txt")
		_, _, term := runPTY(t, env, false, "--format", "table", "-o", out, ref)
		b, _ := os.ReadFile(out)
		if bytes.Contains(b, []byte("\x1b")) || bytes.Contains(b, []byte("layers ")) {
			t.Errorf("progress or colour in the file output: %q", b)
		}
		_ = term
	})
}

func TestColourOnlyOnATerminal(t *testing.T) {
	_, _, term := runPTY(t, nil, true, "--quiet", lifecycleRef)
	if !strings.Contains(term, "\x1b[") {
		t.Errorf("no colour on a terminal: %q", term)
	}
	_, _, term = runPTY(t, []string{"NO_COLOR=1"}, true, "--quiet", lifecycleRef)
	if strings.Contains(term, "\x1b[3") || strings.Contains(term, "\x1b[1m") {
		t.Errorf("colour with NO_COLOR: %q", term)
	}
	_, stdout, _ := runPTY(t, nil, false, "--quiet", lifecycleRef)
	if strings.Contains(stdout, "\x1b") {
		t.Errorf("colour when stdout is redirected: %q", stdout)
	}
	if res := runCLI(t, nil, "--color", "always", lifecycleRef); !strings.Contains(res.stdout, "\x1b[") {
		t.Error("--color always")
	}
}

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "layerscan", "config.yaml")
	os.MkdirAll(filepath.Dir(cfg), 0o755)
	os.WriteFile(cfg, []byte("fail-on: critical\nformat: [json]\n"), 0o644)
	xdg := "XDG_CONFIG_HOME=" + dir

	res := runCLI(t, []string{xdg}, lifecycleRef)
	if res.code != 0 || !strings.HasPrefix(res.stdout, "{") {
		t.Errorf("config file: exit %d, output %.40q", res.code, res.stdout)
	}
	res = runCLI(t, []string{xdg, "LAYERSCAN_FAIL_ON=high", "LAYERSCAN_FORMAT=csv"}, lifecycleRef)
	if res.code != 1 || !strings.HasPrefix(res.stdout, "image,") {
		t.Errorf("env over config file: exit %d, output %.40q", res.code, res.stdout)
	}
	res = runCLI(t, []string{xdg, "LAYERSCAN_FAIL_ON=high"}, "--fail-on", "critical", "--format", "markdown", lifecycleRef)
	if res.code != 0 || !strings.HasPrefix(res.stdout, "# layerscan") {
		t.Errorf("flag over env: exit %d, output %.40q", res.code, res.stdout)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("fail_on: high\n"), 0o644)
	assertUsageError(t, runCLI(t, nil, "--config-file", bad, lifecycleRef), "unknown setting")
	assertUsageError(t, runCLI(t, []string{"LAYERSCAN_FAIL_ON=severe"}, lifecycleRef), "fail-on")
}

func TestVersionCompletionMan(t *testing.T) {
	res := runCLI(t, nil, "version")
	for _, want := range []string{"layerscan ", "rules: gitleaks v8", "ruleset ", "regexp engine: ", "go: go1."} {
		if res.code != 0 || !strings.Contains(res.stdout, want) {
			t.Errorf("version output %q lacks %q", res.stdout, want)
		}
	}
	// --version prints the same, also with a flag default from the
	// environment that changes the ruleset, and LAYERSCAN_VERSION is no
	// default for it.
	cfg := filepath.Join(t.TempDir(), "rules.toml")
	os.WriteFile(cfg, []byte("[extend]\nuseDefault = true\ndisabledRules = [\"shell-history\"]\n"), 0o644)
	env := []string{"LAYERSCAN_CONFIG=" + cfg, "LAYERSCAN_VERSION=9.9"}
	if v, flag := runCLI(t, env, "version"), runCLI(t, env, "--version"); flag.code != 0 || flag.stdout != v.stdout || v.stdout == res.stdout {
		t.Errorf("--version: exit %d %q %s\nlayerscan version: %q (default rules: %q)", flag.code, flag.stdout, flag.stderr, v.stdout, res.stdout)
	}
	if strings.Contains(os.Getenv("GOFLAGS"), "gore2regex") && !strings.Contains(res.stdout, "regexp engine: RE2") {
		t.Errorf("built with -tags gore2regex, but version says %q", res.stdout)
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		res := runCLI(t, nil, "completion", sh)
		if res.code != 0 || !strings.Contains(res.stdout, "layerscan") {
			t.Errorf("completion %s: exit %d %s", sh, res.code, res.stderr)
		}
	}
	dir := t.TempDir()
	if res := runCLI(t, nil, "man", dir); res.code != 0 {
		t.Fatalf("man: %d %s", res.code, res.stderr)
	}
	for _, page := range []string{"layerscan.1", "layerscan-scan.1", "layerscan-extract.1", "layerscan-history.1", "layerscan-ls.1"} {
		b, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil || !bytes.Contains(b, []byte(".TH")) {
			t.Errorf("%s: %v", page, err)
		}
	}
	for _, c := range []string{"scan", "extract", "ls", "history", "version"} {
		res := runCLI(t, nil, c, "--help")
		if !strings.Contains(res.stdout, "Examples:") {
			t.Errorf("%s --help has no examples", c)
		}
	}
}
