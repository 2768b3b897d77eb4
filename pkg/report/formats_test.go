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
				if n := cells.StringWidth(line); n > width {
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

// sarifDoc is what the SARIF tests read of a log.
type sarifDoc struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID, Name, HelpURI                 string
					ShortDescription, FullDescription struct{ Text string }
					Help                              struct{ Text, Markdown string }
					DefaultConfiguration              struct{ Level string }
					Properties                        map[string]any
				}
			}
		}
		AutomationDetails *struct{ ID string }
		Results           []struct {
			RuleID              string
			RuleIndex           int
			Level               string
			Message             struct{ Text string }
			PartialFingerprints map[string]string
			Locations           []struct {
				PhysicalLocation *struct {
					ArtifactLocation struct{ URI, URIBaseID string }
					Region           *struct{ StartLine int }
				}
				LogicalLocations []struct{ Name, FullyQualifiedName string }
			}
			Properties map[string]any
		}
		Invocations []struct{ ExecutionSuccessful bool }
		Properties  map[string]any
	}
}

func writeSARIFDoc(t *testing.T, r *Report) ([]byte, sarifDoc) {
	t.Helper()
	var b bytes.Buffer
	if err := WriteSARIF(&b, r); err != nil {
		t.Fatal(err)
	}
	validateSARIF(t, sarifcheck.Schema(t), b.Bytes())
	var doc sarifDoc
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), doc
}

func TestSARIF(t *testing.T) {
	sch := sarifcheck.Schema(t)
	b, log := writeSARIFDoc(t, sample())

	// The schema check must be able to fail.
	bad := bytes.Replace(b, []byte(`"level": "error"`), []byte(`"level": "fatal"`), 1)
	if sarifcheck.ValidateSchema(sch, bad) == nil {
		t.Error("a wrong level passed the schema")
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
		if res.Properties["source"] == "file" && (res.Properties["instruction"] == nil || res.Properties["layerIndex"] == nil) {
			t.Errorf("%s: no layer in properties: %v", res.RuleID, res.Properties)
		}
	}
	byID := map[string]string{}
	for _, r := range run.Tool.Driver.Rules {
		byID[r.ID] = r.DefaultConfiguration.Level
	}
	if byID["private-key"] != "error" || byID["generic-api-key"] != "warning" {
		t.Errorf("levels %v", byID)
	}

	// An empty report is valid SARIF too: one run without results.
	_, empty := writeSARIFDoc(t, &Report{Schema: Schema, Tool: Tool{Name: "layerscan", Version: "test"}})
	if len(empty.Runs) != 1 || len(empty.Runs[0].Results) != 0 {
		t.Errorf("empty report: %+v", empty)
	}
}

// TestSARIFMultitool checks the SARIF output with Microsoft's SARIF
// Multitool (npm @microsoft/sarif-multitool; make test installs it under
// .cache/sarif-multitool), a real SARIF consumer: no errors, no warnings.
func TestSARIFMultitool(t *testing.T) {
	tool := sarifcheck.RequireMultitool(t)
	for name, r := range map[string]*Report{"sample": sample(), "github": githubSample()} {
		in := filepath.Join(t.TempDir(), name+".sarif")
		var b bytes.Buffer
		if err := WriteSARIF(&b, r); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(in, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, is := range sarifcheck.RunMultitool(t, tool, in) {
			if is.Level == "error" || is.Level == "warning" {
				t.Errorf("%s: Sarif.Multitool %s %s: %s", name, is.Level, is.RuleID, is.Message)
			} else {
				t.Logf("%s: Sarif.Multitool %s %s: %s", name, is.Level, is.RuleID, is.Message)
			}
		}
	}
	// The GitHub rules run: a rule without fullDescription is an error.
	in := filepath.Join(t.TempDir(), "bad.sarif")
	var b bytes.Buffer
	WriteSARIF(&b, sample())
	os.WriteFile(in, bytes.ReplaceAll(b.Bytes(), []byte(`"fullDescription"`), []byte(`"x-fullDescription"`)), 0o644)
	gh := false
	for _, is := range sarifcheck.RunMultitool(t, tool, in) {
		gh = gh || is.RuleID == "GH2012" && is.Level == "error"
	}
	if !gh {
		t.Error("the Multitool's GitHub rules did not flag a rule without fullDescription")
	}
}
