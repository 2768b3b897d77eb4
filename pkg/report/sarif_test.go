package report

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/layerscan/layerscan/pkg/detect"
)

// githubSample is a report with what GitHub code scanning's SARIF rules
// are about: several images (two platforms of one, one by digest, two tags
// of one repository, an archive), config, history and path-rule findings,
// one rule whose findings differ in severity, a --config rule, and one
// secret at one path in two layers.
func githubSample() *Report {
	three := 3
	img := func(ref, platform string, fs ...Finding) *Image {
		return &Image{Ref: ref, Source: ref, Platform: platform, Digest: "sha256:" + strings.Repeat("ab", 32), Findings: fs,
			Layers: []Layer{{Index: 0, Digest: "sha256:l0"}, {Index: 1, Digest: "sha256:l1"}, {Index: 2, Digest: "sha256:l2"}}}
	}
	file := func(rule, sev, path string, line, layer int, fp string) Finding {
		return Finding{Rule: rule, Description: "A " + rule, Severity: sev, Source: "file", Path: path, Line: line,
			Layer: LayerRef{Index: layer, Digest: fmt.Sprintf("sha256:l%d", layer), Instruction: "COPY . /app"}, Status: "present", Secret: "xxxx****", Fingerprint: fp}
	}
	key := file("private-key", "high", "/app/id_rsa", 1, 0, "fpkey")
	key.Cause, key.Remediation = "copied-into-image", "Rotate the key and stop copying it in: exclude it in .dockerignore."
	hostKey := file("private-key", "info", "/etc/ssh/ssh_host_rsa_key", 1, 0, "fphost")
	hostKey.Note = "SSH host key generated when openssh-server was installed"
	a := img("registry.example.com/team/app:1.4", "linux/amd64",
		hostKey, key,
		file("pkcs12-file", "medium", "/app/cert.p12", 0, 1, "fpp12"),
		Finding{Rule: "generic-api-key", Description: "Generic API key", Severity: "medium", Source: "config", Field: "Env API_KEY", Layer: LayerRef{Index: -1}, Status: "present", Fingerprint: "fpenv"},
		Finding{Rule: "generic-api-key", Description: "Generic API key", Severity: "medium", Source: "config", Field: "Labels org.example/token", Layer: LayerRef{Index: -1}, Status: "present", Fingerprint: "fplabel"},
		Finding{Rule: "gitlab-pat", Description: "GitLab PAT", Severity: "high", Source: "history", HistoryIndex: &three, Layer: LayerRef{Index: 1, Instruction: "RUN make"}, Status: "present", Fingerprint: "fphist"},
		file("acme-token", "low", "/app/a.conf", 1, 0, "fpa1"), file("acme-token", "low", "/app/b.conf", 1, 0, "fpa2"), file("acme-token", "high", "/app/c.conf", 1, 0, "fpa3"),
		file("github-pat", "high", "/app/.env", 2, 0, "fpsame"), file("github-pat", "high", "/app/.env", 2, 2, "fpsame"),
	)
	return New(Tool{Name: "layerscan", Version: "v1.2.3"},
		a, img("registry.example.com/team/app:1.4", "linux/arm64", file("github-pat", "high", "/app/.env", 2, 0, "fpsame")),
		img("registry.example.com/team/api@sha256:"+strings.Repeat("cd", 32), "linux/amd64"),
		img("registry.example.com/team/web:1", "linux/amd64"), img("registry.example.com/team/web:2", "linux/amd64"),
		img("oci-archive:app.oci.tar", ""), img("localhost:5000/app:latest", "linux/amd64"))
}

// TestSARIFGitHub checks each requirement of GitHub code scanning's
// "SARIF support for code scanning" that layerscan's SARIF meets.
func TestSARIFGitHub(t *testing.T) {
	_, doc := writeSARIFDoc(t, githubSample())
	if len(doc.Runs) != 7 {
		t.Fatalf("%d runs, want one per image (7)", len(doc.Runs))
	}
	run := doc.Runs[0]

	t.Run("every result has a physical location with a line", func(t *testing.T) {
		want := map[string]string{ // fingerprint: uri:line
			"fpkey": "app/id_rsa:1", "fpp12": "app/cert.p12:1", "fpenv": SARIFConfigDir + "/Env/API_KEY:1",
			"fplabel": SARIFConfigDir + "/Labels/org.example%2Ftoken:1", "fphist": SARIFConfigDir + "/history:4",
		}
		for _, r := range doc.Runs {
			for _, res := range r.Results {
				pl := res.Locations[0].PhysicalLocation
				if pl == nil || pl.ArtifactLocation.URI == "" || pl.Region == nil || pl.Region.StartLine < 1 {
					t.Fatalf("%s: no physical location with a line: %+v", res.RuleID, res.Locations)
				}
				got := fmt.Sprintf("%s:%d", pl.ArtifactLocation.URI, pl.Region.StartLine)
				if w, ok := want[res.PartialFingerprints[SARIFFingerprintKey]]; ok && got != w {
					t.Errorf("%s: location %s, want %s", res.RuleID, got, w)
				}
			}
		}
	})

	t.Run("rules have name, fullDescription, help text and markdown, helpUri to docs/rules.md", func(t *testing.T) {
		doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "rules.md"))
		if err != nil {
			t.Fatal(err)
		}
		for _, rule := range run.Tool.Driver.Rules {
			if !regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`).MatchString(rule.Name) || rule.FullDescription.Text == "" ||
				rule.ShortDescription.Text == "" || rule.Help.Text == "" || rule.Help.Markdown == "" {
				t.Errorf("%s: name %q, full description %q, help %q / %q", rule.ID, rule.Name, rule.FullDescription.Text, rule.Help.Text, rule.Help.Markdown)
			}
			anchor, ok := strings.CutPrefix(rule.HelpURI, SARIFRulesDoc+"#")
			if !ok || !strings.Contains(string(doc), `<a id="`+anchor+`"></a>`) {
				t.Errorf("%s: helpUri %q has no anchor in docs/rules.md", rule.ID, rule.HelpURI)
			}
		}
		for _, id := range append(detect.LayerscanRules(), "github-pat", "acme-token") {
			if a := SARIFRuleAnchor(id); !strings.Contains(string(doc), `<a id="`+a+`"></a>`) {
				t.Errorf("docs/rules.md has no anchor %q for rule %s", a, id)
			}
		}
		// The table's severity column starts with each rule's default.
		for _, id := range detect.LayerscanRules() {
			row := regexp.MustCompile(`(?m)^\| <a id="rule-` + regexp.QuoteMeta(id) + `"></a>[^|]*\| ([a-z]+)`).FindSubmatch(doc)
			if row == nil || string(row[1]) != detect.DefaultSeverity(id) {
				t.Errorf("docs/rules.md: rule %s's row does not start its severity with %s", id, detect.DefaultSeverity(id))
			}
		}
		if SARIFRuleAnchor("private-key") != "rule-private-key" || SARIFRuleAnchor("github-pat") != "gitleaks-rules" || SARIFRuleAnchor("acme-token") != "config-rules" {
			t.Error("anchors do not tell layerscan's, gitleaks' and --config rules apart")
		}
	})

	t.Run("security-severity: per result from its severity, per rule from its default", func(t *testing.T) {
		rules := map[string]map[string]any{}
		for _, r := range run.Tool.Driver.Rules {
			rules[r.ID] = r.Properties
		}
		for id, want := range map[string]string{"private-key": "8.0", "pkcs12-file": "5.5", "generic-api-key": "5.5", "acme-token": "3.0", "github-pat": "8.0"} {
			if got := rules[id]["security-severity"]; got != want {
				t.Errorf("rule %s: security-severity %v, want %s", id, got, want)
			}
		}
		for _, res := range run.Results {
			got, _ := res.Properties["security-severity"].(string)
			if v, err := strconv.ParseFloat(got, 64); err != nil || v < 0 || v > 10 || got != SARIFSecuritySeverity(res.Properties["severity"].(string)) {
				t.Errorf("%s: result security-severity %q for severity %v", res.RuleID, got, res.Properties["severity"])
			}
			if res.PartialFingerprints[SARIFFingerprintKey] == "fphost" && (got != "1.0" || res.Level != "note") {
				t.Errorf("the info host key: security-severity %s, level %s", got, res.Level)
			}
		}
	})

	t.Run("cause-specific remediation in results, generic help in rules", func(t *testing.T) {
		for _, r := range run.Tool.Driver.Rules {
			if strings.Contains(r.Help.Text, ".dockerignore.") && strings.Contains(r.Help.Text, "Rotate the key") || !strings.Contains(r.Help.Text, "Remediation: ") {
				t.Errorf("%s: help %q", r.ID, r.Help.Text)
			}
		}
		found := false
		for _, res := range run.Results {
			if res.PartialFingerprints[SARIFFingerprintKey] == "fpkey" {
				found = strings.Contains(res.Message.Text, "Remediation: Rotate the key") && res.Properties["remediation"] != nil
			}
		}
		if !found {
			t.Error("the finding's remediation is not in its result")
		}
	})

	t.Run("automationDetails.id per image", func(t *testing.T) {
		want := []string{
			"layerscan/registry.example.com/team/app/linux/amd64/", "layerscan/registry.example.com/team/app/linux/arm64/",
			"layerscan/registry.example.com/team/api/linux/amd64/",
			"layerscan/registry.example.com/team/web:1/linux/amd64/", "layerscan/registry.example.com/team/web:2/linux/amd64/",
			"layerscan/oci-archive:app.oci.tar/", "layerscan/localhost:5000/app/linux/amd64/",
		}
		for i, r := range doc.Runs {
			if r.AutomationDetails == nil || r.AutomationDetails.ID != want[i] {
				t.Errorf("run %d: automationDetails %+v, want %s", i, r.AutomationDetails, want[i])
			}
		}
		if ids := sarifAutomationIDs([]*Image{{Ref: "a:1"}, {Ref: "a:1"}}); ids[0] == ids[1] {
			t.Errorf("one image twice: ids %v", ids)
		}
	})

	t.Run("partialFingerprints: primaryLocationLineHash and layerscan's", func(t *testing.T) {
		seen := map[string]bool{}
		for _, res := range run.Results {
			h := res.PartialFingerprints[SARIFLineHashKey]
			if !regexp.MustCompile(`^[0-9a-f]{16}:[1-9][0-9]*$`).MatchString(h) || res.PartialFingerprints[SARIFFingerprintKey] == "" {
				t.Errorf("%s: partialFingerprints %v", res.RuleID, res.PartialFingerprints)
			}
			key := res.Locations[0].PhysicalLocation.ArtifactLocation.URI + " " + h
			if seen[key] {
				t.Errorf("%s: two results share %s", res.RuleID, key)
			}
			seen[key] = true
		}
		// The same secret at the same path in two layers: one hash, two
		// occurrences; and the hash does not change when the image is
		// rebuilt (other layer digests and indexes).
		rebuilt := githubSample()
		for i := range rebuilt.Images[0].Findings {
			rebuilt.Images[0].Findings[i].Layer = LayerRef{Index: 5, Digest: "sha256:other"}
		}
		_, again := writeSARIFDoc(t, rebuilt)
		var same []string
		for i, res := range run.Results {
			if got := again.Runs[0].Results[i].PartialFingerprints[SARIFLineHashKey]; got != res.PartialFingerprints[SARIFLineHashKey] {
				t.Errorf("%s: hash %s after a rebuild, was %s", res.RuleID, got, res.PartialFingerprints[SARIFLineHashKey])
			}
			if res.PartialFingerprints[SARIFFingerprintKey] == "fpsame" {
				same = append(same, res.PartialFingerprints[SARIFLineHashKey])
			}
		}
		if len(same) != 2 || strings.TrimSuffix(same[0], ":1") != strings.TrimSuffix(same[1], ":2") {
			t.Errorf("one secret in two layers: %v", same)
		}
	})
}

func TestImageName(t *testing.T) {
	for ref, want := range map[string]string{
		"registry.example.com/app:1.4": "registry.example.com/app", "app:1.4": "app", "localhost:5000/app": "localhost:5000/app",
		"oci-archive:app.oci.tar:latest": "oci-archive:app.oci.tar", "oci-archive:app.oci.tar": "oci-archive:app.oci.tar",
		"oci:../layout:v1": "oci:../layout", "./app.tar": "./app.tar", "app@sha256:" + strings.Repeat("0", 64): "app",
		"oci-archive:x.tar:localhost/ns/img:2": "oci-archive:x.tar:localhost/ns/img",
	} {
		if got := imageName(ref); got != want {
			t.Errorf("imageName(%q) = %q, want %q", ref, got, want)
		}
	}
}
