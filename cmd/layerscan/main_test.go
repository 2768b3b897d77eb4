package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/layerscan/layerscan/internal/testenv"
	"github.com/layerscan/layerscan/pkg/fingerprint"
	"github.com/layerscan/layerscan/pkg/report"
)

// The tests run the real binary, built once per test process.
var binPath string

// testFingerprintKey is the fingerprint key of the tests' runs.
const testFingerprintKey = "layerscan cmd test fingerprint key"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "layerscan-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binPath = filepath.Join(dir, "layerscan")
	// One fingerprint key for every run the tests make (goldens hold
	// fingerprints; sweep shards must share it); tests of the key file
	// set it to "" (unset).
	os.Setenv(fingerprint.EnvKey, testFingerprintKey)
	out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building layerscan: %v\n%s", err, out)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs layerscan with args and extra environment, with HOME and
// DOCKER_CONFIG pointing at an empty directory unless env overrides them.
func runCLI(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return runCLIStdin(t, env, "", args...)
}

func runCLIStdin(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(binPath, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "DOCKER_CONFIG="+home, "NO_COLOR=1")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running layerscan: %v", err)
	}
	return result{code: code, stdout: so.String(), stderr: se.String()}
}

// scanJSON scans ref and parses the JSON report, failing on exit status 2.
func scanJSON(t *testing.T, env []string, ref string, extra ...string) *report.Report {
	t.Helper()
	args := append([]string{"--format", "json", ref}, extra...)
	res := runCLI(t, env, args...)
	if res.code != 0 && res.code != 1 {
		t.Fatalf("layerscan %v: exit %d\nstderr: %s", args, res.code, res.stderr)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("parsing JSON report of %s: %v\n%s", ref, err, res.stdout)
	}
	if rep.Schema != report.Schema {
		t.Fatalf("schema = %q", rep.Schema)
	}
	return &rep
}

// repoRoot is the repository's top directory.
func repoRoot(testing.TB) string { return testenv.RepoRoot() }

var (
	corpusOnce sync.Once
	corpusDir  string
	corpusErr  error
)

// buildahCorpus builds the Containerfiles under testdata/buildah with real
// buildah (cached between runs under .cache/test-images) and returns the
// directory holding CASE.oci.tar and CASE.docker.tar.
func buildahCorpus(t *testing.T) string {
	t.Helper()
	testenv.RequireTool(t, "buildah")
	testenv.RequireTool(t, "skopeo")
	corpusOnce.Do(func() {
		root := repoRoot(t)
		corpusDir = os.Getenv("LAYERSCAN_TEST_IMAGES")
		if corpusDir == "" {
			corpusDir = filepath.Join(root, ".cache", "test-images")
		}
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "build-test-images.sh"), corpusDir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			corpusErr = fmt.Errorf("building the buildah corpus: %v\n%s", err, out)
		}
	})
	if corpusErr != nil {
		t.Fatal(corpusErr)
	}
	return corpusDir
}

// key is what must agree between two reports of the same image.
type findingKey struct {
	Rule, Path, Status, Instruction string
	Layer, Line                     int
	RemovedBy                       int
	Fingerprint                     string
}

func keysOf(rep *report.Report) []findingKey {
	var out []findingKey
	for _, im := range rep.Images {
		for _, f := range im.Findings {
			k := findingKey{Rule: f.Rule, Path: f.Path, Status: f.Status, Instruction: f.Layer.Instruction, Layer: f.Layer.Index, Line: f.Line, RemovedBy: -1, Fingerprint: f.Fingerprint}
			if f.RemovedBy != nil {
				k.RemovedBy = f.RemovedBy.Index
			}
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}
