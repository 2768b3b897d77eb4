package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/layerscan/layerscan/internal/sarifcheck"
)

func TestGoldenFormats(t *testing.T) {
	tmpl, err := ParseTemplateFile(filepath.Join("testdata", "sample.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		write func(*bytes.Buffer, *Report) error
	}{
		{"report.sarif.golden", func(b *bytes.Buffer, r *Report) error { return WriteSARIF(b, r) }},
		{"report.csv.golden", func(b *bytes.Buffer, r *Report) error { return WriteCSV(b, r) }},
		{"report.md.golden", func(b *bytes.Buffer, r *Report) error { return WriteMarkdown(b, r) }},
		{"report.template.golden", func(b *bytes.Buffer, r *Report) error { return WriteTemplate(b, r, tmpl) }},
		{"report.table-color-80.golden", func(b *bytes.Buffer, r *Report) error {
			return WriteTableOptions(b, r, TableOptions{Color: true, Width: 80})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.write(&b, sample()); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, b.Bytes())
		})
	}
}

func TestTableFitsTheTerminal(t *testing.T) {
	for _, width := range []int{80, 100, 120} {
		var b bytes.Buffer
		if err := WriteTableOptions(&b, sample(), TableOptions{Width: width}); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(b.String(), "\n") {
			// Summary, warnings and evidence lines are prose: they wrap.
			if strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "  still extractable") && !strings.HasPrefix(strings.TrimSpace(line), "fix") || strings.HasPrefix(line, "Layer") {
				if n := len([]rune(line)); n > width {
					t.Errorf("width %d: line of %d columns: %q", width, n, line)
				}
			}
		}
	}
	var b bytes.Buffer
	WriteTableOptions(&b, sample(), TableOptions{})
	if strings.Contains(b.String(), "\x1b[") {
		t.Error("colour without Color")
	}
	if !strings.Contains(b.String(), "/app/lib/app.jar!BOOT-INF/classes/id_rsa") {
		t.Errorf("archive chain missing:\n%s", b.String())
	}
}

func TestCSV(t *testing.T) {
	var b bytes.Buffer
	r := sample()
	r.Images[0].Findings[0].Note = "=HYPERLINK(\"x\")"
	if err := WriteCSV(&b, r); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+r.FindingCount() || len(rows[0]) != len(CSVHeader) {
		t.Fatalf("%d rows of %d cells", len(rows), len(rows[0]))
	}
	if got := rows[1][22]; got != "'=HYPERLINK(\"x\")" {
		t.Errorf("formula not neutralised: %q", got)
	}
}

func validateSARIF(t *testing.T, sch *jsonschema.Schema, doc []byte) {
	t.Helper()
	if err := sarifcheck.ValidateSchema(sch, doc); err != nil {
		t.Errorf("SARIF does not validate against the 2.1.0 schema: %v", err)
	}
}

func TestSARIF(t *testing.T) {
	sch := sarifcheck.Schema(t)
	var b bytes.Buffer
	if err := WriteSARIF(&b, sample()); err != nil {
		t.Fatal(err)
	}
	validateSARIF(t, sch, b.Bytes())

	// The schema check must be able to fail.
	bad := bytes.Replace(b.Bytes(), []byte(`"level": "error"`), []byte(`"level": "fatal"`), 1)
	if sarifcheck.ValidateSchema(sch, bad) == nil {
		t.Error("a wrong level passed the schema")
	}

	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID                   string
						Help                 struct{ Text string }
						DefaultConfiguration struct{ Level string }
					}
				}
			}
			Results []struct {
				RuleID              string
				RuleIndex           int
				Level               string
				PartialFingerprints map[string]string
				Locations           []struct {
					PhysicalLocation *struct {
						ArtifactLocation struct{ URI string }
						Region           *struct{ StartLine int }
					}
					LogicalLocations []struct{ Name, FullyQualifiedName string }
				}
				Properties map[string]any
			}
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if len(log.Runs) != 1 {
		t.Fatalf("%d runs", len(log.Runs))
	}
	run := log.Runs[0]
	if len(run.Tool.Driver.Rules) != 4 || len(run.Results) != 5 {
		t.Fatalf("%d rules, %d results", len(run.Tool.Driver.Rules), len(run.Results))
	}
	if run.Properties["imageRef"] != "oci-archive:app.oci.tar:latest" || !strings.HasPrefix(run.Properties["imageDigest"].(string), "sha256:93714a") {
		t.Errorf("run properties %v", run.Properties)
	}
	for _, res := range run.Results {
		rule := run.Tool.Driver.Rules[res.RuleIndex]
		if rule.ID != res.RuleID {
			t.Errorf("ruleIndex %d is %s, not %s", res.RuleIndex, rule.ID, res.RuleID)
		}
		if res.PartialFingerprints[SARIFFingerprintKey] == "" {
			t.Errorf("%s: no fingerprint", res.RuleID)
		}
		loc := res.Locations[0]
		switch res.Properties["source"] {
		case "file":
			if loc.PhysicalLocation == nil || strings.HasPrefix(loc.PhysicalLocation.ArtifactLocation.URI, "/") {
				t.Errorf("%s: file location %+v", res.RuleID, loc.PhysicalLocation)
			}
			if res.Properties["instruction"] == nil || res.Properties["layerIndex"] == nil {
				t.Errorf("%s: no layer in properties: %v", res.RuleID, res.Properties)
			}
		default:
			if loc.PhysicalLocation != nil || len(loc.LogicalLocations) == 0 {
				t.Errorf("%s: %s finding must have a logical location only", res.RuleID, res.Properties["source"])
			}
		}
	}
	byID := map[string]string{}
	for _, r := range run.Tool.Driver.Rules {
		byID[r.ID] = r.DefaultConfiguration.Level
	}
	if byID["private-key"] != "error" || byID["generic-api-key"] != "warning" {
		t.Errorf("levels %v", byID)
	}
	if h := run.Tool.Driver.Rules[0]; !strings.Contains(h.Help.Text, "Remediation:") {
		t.Errorf("help without remediation: %q", h.Help.Text)
	}
	for _, r := range run.Tool.Driver.Rules {
		if r.ID == "github-pat" && !strings.Contains(r.Help.Text, "Revoke the token") {
			t.Errorf("the finding's remediation is not in the rule's help: %q", r.Help.Text)
		}
	}

	// An empty report is valid SARIF too.
	b.Reset()
	if err := WriteSARIF(&b, &Report{Schema: Schema, Tool: Tool{Name: "layerscan", Version: "test"}}); err != nil {
		t.Fatal(err)
	}
	validateSARIF(t, sch, b.Bytes())
}

// TestSARIFMultitool checks the SARIF output with Microsoft's SARIF
// Multitool (npm @microsoft/sarif-multitool; make test installs it under
// .cache/sarif-multitool), a real SARIF consumer: no errors, no warnings.
func TestSARIFMultitool(t *testing.T) {
	tool := sarifcheck.RequireMultitool(t)
	in := filepath.Join(t.TempDir(), "report.sarif")
	var b bytes.Buffer
	if err := WriteSARIF(&b, sample()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, is := range sarifcheck.RunMultitool(t, tool, in) {
		if is.Level == "error" || is.Level == "warning" {
			t.Errorf("Sarif.Multitool %s %s: %s", is.Level, is.RuleID, is.Message)
		} else {
			t.Logf("Sarif.Multitool %s %s: %s", is.Level, is.RuleID, is.Message)
		}
	}
}
