package sarifcheck

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerscan/layerscan/internal/testenv"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// MultitoolVersion is the npm version of @microsoft/sarif-multitool that
// scripts/install-test-deps.sh installs.
const MultitoolVersion = "5.7.0"

// SchemaPath is the SARIF 2.1.0 JSON schema kept in the repository.
func SchemaPath() string {
	return filepath.Join(testenv.RepoRoot(), "pkg", "report", "testdata", "sarif-schema-2.1.0.json")
}

// Schema compiles the SARIF 2.1.0 schema, formats asserted.
func Schema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile(SchemaPath())
	if err != nil {
		t.Fatalf("compiling the SARIF schema: %v", err)
	}
	return sch
}

// ValidateSchema reports an error when doc does not match the schema.
func ValidateSchema(sch *jsonschema.Schema, doc []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

// Multitool returns the path of the Sarif.Multitool binary: from
// $LAYERSCAN_SARIF_MULTITOOL, else .cache/sarif-multitool (where make test
// installs it), else "" when it is not installed.
func Multitool() string {
	if p := os.Getenv("LAYERSCAN_SARIF_MULTITOOL"); p != "" {
		return p
	}
	p := filepath.Join(testenv.RepoRoot(), ".cache", "sarif-multitool", "node_modules", "@microsoft", "sarif-multitool-linux", "Sarif.Multitool")
	if st, err := os.Stat(p); err == nil && st.Mode()&0o100 != 0 {
		return p
	}
	return ""
}

// RequireMultitool returns the Multitool, or skips the test (fails it
// when LAYERSCAN_REQUIRE_TOOLS=1) when it is not installed.
func RequireMultitool(t testing.TB) string {
	t.Helper()
	p := Multitool()
	if p != "" {
		return p
	}
	msg := "the SARIF Multitool (npm @microsoft/sarif-multitool@" + MultitoolVersion + ") is not installed: bash scripts/install-test-deps.sh puts it in .cache/sarif-multitool"
	if os.Getenv("LAYERSCAN_REQUIRE_TOOLS") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Issue is one problem the Multitool reported.
type Issue struct {
	Level, RuleID, Message string
}

// RunMultitool runs `Sarif.Multitool validate` on the file with its SARIF
// rules and its GitHub ones (--rule-kind "Gh;Sarif": what GitHub code
// scanning requires, e.g. GH2012, a rule's fullDescription), and returns
// what it reported. Errors in running it fail the test.
func RunMultitool(t testing.TB, tool, file string) []Issue {
	t.Helper()
	out := filepath.Join(t.TempDir(), "validation.sarif")
	cmd := exec.Command(tool, "validate", file, "--rule-kind", "Gh;Sarif", "-o", out)
	// .NET needs a writable HOME; no telemetry.
	cmd.Env = append(os.Environ(), "DOTNET_CLI_TELEMETRY_OPTOUT=1", "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1")
	stdout, err := cmd.CombinedOutput()
	if _, statErr := os.Stat(out); statErr != nil {
		t.Fatalf("Sarif.Multitool validate: %v\n%s", err, stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID  string `json:"ruleId"`
				Level   string `json:"level"`
				Message struct {
					Text      string   `json:"text"`
					ID        string   `json:"id"`
					Arguments []string `json:"arguments"`
				} `json:"message"`
			} `json:"results"`
			Invocations []struct {
				ExecutionSuccessful bool `json:"executionSuccessful"`
				Notifications       []struct {
					Level   string `json:"level"`
					Message struct {
						Text string `json:"text"`
					} `json:"message"`
				} `json:"toolExecutionNotifications"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b, &log); err != nil {
		t.Fatalf("parsing the Multitool's output: %v\n%s", err, b)
	}
	var issues []Issue
	for _, run := range log.Runs {
		for _, inv := range run.Invocations {
			for _, n := range inv.Notifications {
				if n.Level == "error" {
					t.Errorf("Sarif.Multitool: %s", n.Message.Text)
				}
			}
		}
		for _, r := range run.Results {
			level := r.Level
			if level == "" {
				level = "warning"
			}
			msg := r.Message.Text
			if msg == "" {
				msg = r.Message.ID + " " + strings.Join(r.Message.Arguments, " | ")
			}
			issues = append(issues, Issue{Level: level, RuleID: r.RuleID, Message: msg})
		}
	}
	return issues
}
