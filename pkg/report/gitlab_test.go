package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// gitlabSchema compiles GitLab's secret detection report schema kept in
// testdata (its source in testdata/README.md).
func gitlabSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile(filepath.Join("testdata", "gitlab-secret-detection-report-format-"+GitLabSchemaVersion+".json"))
	if err != nil {
		t.Fatalf("compiling GitLab's schema: %v", err)
	}
	return sch
}

func validGitLab(t *testing.T, sch *jsonschema.Schema, doc []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return sch.Validate(inst)
}

type gitlabDoc struct {
	Version, Schema string
	Scan            struct {
		Type, Status string
		Messages     []struct{ Level, Value string }
	}
	Vulnerabilities []struct {
		ID, Name, Description, Severity, Solution string
		Identifiers                               []struct{ Type, Name, Value, URL string }
		Location                                  struct {
			File      string
			Commit    struct{ SHA string }
			StartLine int `json:"start_line"`
		}
		Details map[string]struct{ Name, Type, Value string }
	}
}

func writeGitLab(t *testing.T, r *Report) ([]byte, gitlabDoc) {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, "gitlab", r, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	var doc gitlabDoc
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), doc
}

func fixGitLabClock(t *testing.T) {
	t.Helper()
	old := gitlabNow
	gitlabNow = func() time.Time { return time.Date(2026, 11, 28, 3, 4, 5, 0, time.UTC) }
	t.Cleanup(func() { gitlabNow = old })
}

func TestGitLabGolden(t *testing.T) {
	fixGitLabClock(t)
	t.Setenv(GitLabCommitEnv, "")
	b, _ := writeGitLab(t, sample())
	golden(t, "report.gitlab.golden", b)
}

// TestGitLabSchema: every report validates against GitLab's published
// schema — the sample, the GitHub sample of several images and kinds of
// finding, one with hostile strings, an incomplete one and an empty one —
// and the schema check can fail.
func TestGitLabSchema(t *testing.T) {
	fixGitLabClock(t)
	sch := gitlabSchema(t)
	incomplete := sample()
	incomplete.Images[0].Errors = []Problem{{Message: "layer 1 could not be read"}}
	for name, r := range map[string]*Report{"sample": sample(), "github": githubSample(), "hostile": evilReport(), "incomplete": incomplete,
		"empty": New(Tool{Name: "layerscan"})} {
		b, doc := writeGitLab(t, r)
		if err := validGitLab(t, sch, b); err != nil {
			t.Errorf("%s: not a valid GitLab secret detection report: %v", name, err)
		}
		if wantStatus := map[bool]string{true: "failure", false: "success"}[r.Incomplete()]; doc.Scan.Status != wantStatus {
			t.Errorf("%s: scan status %s, want %s", name, doc.Scan.Status, wantStatus)
		}
		if doc.Version != GitLabSchemaVersion || doc.Scan.Type != "secret_detection" || len(doc.Vulnerabilities) != r.FindingCount() {
			t.Errorf("%s: version %s, type %s, %d vulnerabilities for %d findings", name, doc.Version, doc.Scan.Type, len(doc.Vulnerabilities), r.FindingCount())
		}
	}
	b, _ := writeGitLab(t, sample())
	if validGitLab(t, sch, bytes.Replace(b, []byte(`"sha": "`), []byte(`"shah": "`), 1)) == nil {
		t.Error("a location without a commit passed GitLab's schema")
	}
	if validGitLab(t, sch, bytes.Replace(b, []byte(`"severity": "High"`), []byte(`"severity": "high"`), 1)) == nil {
		t.Error("a lower-case severity passed GitLab's schema")
	}
}

func TestGitLabVulnerabilities(t *testing.T) {
	fixGitLabClock(t)
	t.Setenv(GitLabCommitEnv, "")
	_, one := writeGitLab(t, sample())
	v := one.Vulnerabilities[0]
	if v.Severity != "High" || v.Location.File != "/app/deleted.env" || v.Location.StartLine != 2 ||
		v.Location.Commit.SHA != strings.TrimPrefix(sample().Images[0].Digest, "sha256:") {
		t.Errorf("first vulnerability: %+v", v)
	}
	if v.Identifiers[0].Type != "layerscan_rule_id" || v.Identifiers[0].Value != "github-pat" || !strings.HasSuffix(v.Identifiers[0].URL, "#gitleaks-rules") {
		t.Errorf("primary identifier %+v", v.Identifiers[0])
	}
	if v.Solution != sample().Images[0].Findings[0].Remediation || v.Details["secret"].Value != "ghp_****" || v.Details["layer"].Value == "" {
		t.Errorf("solution %q, details %v", v.Solution, v.Details)
	}
	if !strings.HasPrefix(v.Details["evidence"].Value, "layerscan extract ") {
		t.Errorf("evidence %v", v.Details["evidence"])
	}

	t.Setenv(GitLabCommitEnv, "0123456789abcdef0123456789abcdef01234567")
	_, many := writeGitLab(t, githubSample())
	ids := map[string]bool{}
	places := map[string]string{}
	for _, v := range many.Vulnerabilities {
		if ids[v.ID] {
			t.Errorf("id %s twice", v.ID)
		}
		ids[v.ID] = true
		if v.Location.Commit.SHA != "0123456789abcdef0123456789abcdef01234567" {
			t.Errorf("commit %q, want $%s", v.Location.Commit.SHA, GitLabCommitEnv)
		}
		places[v.Details["fingerprint"].Value] = fmt.Sprintf("%s:%d", v.Location.File, v.Location.StartLine)
		if v.Severity == "Info" && !strings.Contains(v.Details["note"].Value, "SSH host key") {
			t.Errorf("info vulnerability %+v", v)
		}
	}
	for fp, want := range map[string]string{
		"fpkey":  "registry.example.com/team/app/linux/amd64:/app/id_rsa:1",
		"fpenv":  "registry.example.com/team/app/linux/amd64:image-config/Env/API_KEY:1",
		"fphist": "registry.example.com/team/app/linux/amd64:image-config/history:4",
		"fpp12":  "registry.example.com/team/app/linux/amd64:/app/cert.p12:1",
	} {
		if places[fp] != want {
			t.Errorf("%s at %q, want %q", fp, places[fp], want)
		}
	}
	// Markdown fields hold no string of the image.
	_, evil := writeGitLab(t, evilReport())
	for _, v := range evil.Vulnerabilities {
		if strings.Contains(v.Name+v.Description+v.Solution, "INJ") {
			t.Errorf("an image's string in a Markdown field: %+v", v)
		}
	}
}
