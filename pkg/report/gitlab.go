package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/layerscan/layerscan/pkg/detect"
)

// GitLab's secret detection report (gl-secret-detection-report.json, the
// artifacts:reports:secret_detection of a CI job), schema version
// GitLabSchemaVersion of gitlab-org/security-products/security-report-schemas
// (pkg/report/testdata keeps that schema; the tests validate against it).

// GitLabSchemaVersion is the version of GitLab's security report schema
// the report follows.
const GitLabSchemaVersion = "15.2.5"

// GitLabSchemaURI is the published schema the report names.
const GitLabSchemaURI = "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v" +
	GitLabSchemaVersion + "/dist/secret-detection-report-format.json"

// GitLabCommitEnv is the variable whose value is the commit of every
// vulnerability's location (GitLab CI sets it to the pipeline's commit).
// Without it the commit is the image's manifest digest: the content that
// was scanned.
const GitLabCommitEnv = "CI_COMMIT_SHA"

// gitlabNow is the end of the scan the report states (a variable for the
// tests).
var gitlabNow = time.Now

type gitlabReport struct {
	Version         string       `json:"version"`
	Schema          string       `json:"schema"`
	Scan            gitlabScan   `json:"scan"`
	Vulnerabilities []gitlabVuln `json:"vulnerabilities"`
}

type gitlabScan struct {
	Analyzer  gitlabComponent `json:"analyzer"`
	Scanner   gitlabComponent `json:"scanner"`
	Type      string          `json:"type"`
	StartTime string          `json:"start_time"`
	EndTime   string          `json:"end_time"`
	Status    string          `json:"status"`
	Messages  []gitlabMessage `json:"messages,omitempty"`
}

type gitlabComponent struct {
	ID      string       `json:"id"`
	Name    string       `json:"name"`
	URL     string       `json:"url"`
	Version string       `json:"version"`
	Vendor  gitlabVendor `json:"vendor"`
}

type gitlabVendor struct {
	Name string `json:"name"`
}

type gitlabMessage struct {
	Level string `json:"level"`
	Value string `json:"value"`
}

type gitlabVuln struct {
	ID          string                  `json:"id"`
	Name        string                  `json:"name"`
	Description string                  `json:"description"`
	Severity    string                  `json:"severity"`
	Solution    string                  `json:"solution"`
	Identifiers []gitlabIdentifier      `json:"identifiers"`
	Links       []gitlabLink            `json:"links"`
	Location    gitlabLocation          `json:"location"`
	Details     map[string]gitlabDetail `json:"details"`
}

type gitlabIdentifier struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Value string `json:"value"`
	URL   string `json:"url"`
}

type gitlabLink struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

type gitlabLocation struct {
	File      string       `json:"file"`
	Commit    gitlabCommit `json:"commit"`
	StartLine int          `json:"start_line"`
	EndLine   int          `json:"end_line"`
}

type gitlabCommit struct {
	SHA string `json:"sha"`
}

// gitlabDetail is a named text field of a vulnerability's details (shown
// as plain text, never as Markdown: the image's strings go here).
type gitlabDetail struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

// GitLabSeverity is GitLab's name of a severity: Critical, High, Medium,
// Low, Info (Unknown for one layerscan does not know).
func GitLabSeverity(severity string) string {
	if !detect.ValidSeverity(severity) {
		return "Unknown"
	}
	s := strings.ToLower(severity)
	return strings.ToUpper(s[:1]) + s[1:]
}

// WriteGitLab writes the report as a GitLab secret detection report: one
// vulnerability per finding, at the path in the image (or the image-config
// pseudo-file of a config or history finding, as in SARIF), prefixed with
// the image's key (imageKeys: NAME/PLATFORM) when the report holds several
// images. Text GitLab renders as Markdown (name, description, solution) is
// layerscan's own; what the image supplied (paths, instructions) is in the
// location and the plain-text details, sanitised.
func WriteGitLab(w io.Writer, r *Report) error {
	r = Sanitized(r)
	end := gitlabNow().UTC()
	var took time.Duration
	for _, im := range r.Images {
		took += time.Duration(im.Stats.DurationMS) * time.Millisecond
	}
	version := r.Tool.Version
	if version == "" {
		version = "dev"
	}
	tool := gitlabComponent{ID: "layerscan", Name: "layerscan", URL: "https://github.com/layerscan/layerscan", Version: version, Vendor: gitlabVendor{Name: "layerscan"}}
	out := gitlabReport{
		Version: GitLabSchemaVersion, Schema: GitLabSchemaURI,
		Scan: gitlabScan{Analyzer: tool, Scanner: tool, Type: "secret_detection", Status: "success",
			StartTime: end.Add(-took).Format("2006-01-02T15:04:05"), EndTime: end.Format("2006-01-02T15:04:05")},
		Vulnerabilities: []gitlabVuln{},
	}
	if r.Incomplete() {
		out.Scan.Status = "failure"
	}
	keys := imageKeys(r.Images)
	seen := map[string]int{}
	for i, im := range r.Images {
		for _, e := range im.Errors {
			out.Scan.Messages = append(out.Scan.Messages, gitlabMessage{Level: "warn", Value: im.Ref + ": " + problemText(e)})
		}
		for _, wn := range im.Warnings {
			out.Scan.Messages = append(out.Scan.Messages, gitlabMessage{Level: "info", Value: im.Ref + ": " + problemText(wn)})
		}
		prefix := ""
		if len(r.Images) > 1 {
			prefix = keys[i] + ":"
		}
		for _, f := range im.Findings {
			out.Vulnerabilities = append(out.Vulnerabilities, gitlabVulnOf(im, f, prefix, keys[i], seen))
		}
	}
	return writeJSON(w, out)
}

func gitlabVulnOf(im *Image, f Finding, prefix, key string, seen map[string]int) gitlabVuln {
	file, line := f.Path, max(f.Line, 1)
	if f.Source == "config" || f.Source == "history" {
		var segs []string
		segs, line = configPlace(f)
		file = strings.Join(segs, "/")
	}
	commit := os.Getenv(GitLabCommitEnv)
	if commit == "" {
		_, commit, _ = strings.Cut(im.Digest, ":")
	}
	if commit == "" {
		commit = "unknown"
	}
	// The id is stable for the same secret at the same place of the same
	// image (GitLab recommends a UUID: the hash is shaped as one).
	idKey := fmt.Sprintf("%s\x00%s\x00%s\x00%d", key, f.Fingerprint, Location(f), f.Layer.Index)
	seen[idKey]++
	sum := sha256.Sum256(fmt.Appendf(nil, "layerscan/gitlab\x00%s\x00%d", idKey, seen[idKey]))
	h := hex.EncodeToString(sum[:16])
	uri := SARIFRulesDoc + "#" + SARIFRuleAnchor(f.Rule)

	desc := strings.TrimSuffix(strings.TrimSpace(f.Description), ".")
	if desc == "" {
		desc = "Secret found by rule " + f.Rule
	}
	where := "in a file of layer " + fmt.Sprint(f.Layer.Index)
	switch {
	case f.Source == "config":
		where = "in the image config"
	case f.Source == "history":
		where = "in the image's build history"
	}
	fate := map[string]string{"present": "still in the image's filesystem", "deleted": "deleted by a later layer, yet still in the image",
		"overwritten": "overwritten by a later layer, yet still in the image"}[f.Status]
	if fate == "" {
		fate = f.Status
	}
	description := fmt.Sprintf("%s. Found by layerscan rule `%s` %s: %s. A secret in any layer can be extracted by anyone who can pull the image.", desc, f.Rule, where, fate)
	solution := f.Remediation
	if solution == "" {
		solution = sarifRemediation
	}
	v := gitlabVuln{
		ID:          h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32],
		Name:        cutBytes(desc, 255),
		Description: cutBytes(description, 1<<20),
		Severity:    GitLabSeverity(f.Severity),
		Solution:    cutBytes(solution, 7000),
		Identifiers: []gitlabIdentifier{
			{Type: "layerscan_rule_id", Name: "layerscan rule " + f.Rule, Value: f.Rule, URL: uri},
			{Type: "cwe", Name: "CWE-798", Value: "798", URL: "https://cwe.mitre.org/data/definitions/798.html"},
		},
		Links:    []gitlabLink{{Name: "layerscan rule " + f.Rule, URL: uri}},
		Location: gitlabLocation{File: prefix + file, Commit: gitlabCommit{SHA: commit}, StartLine: line, EndLine: line},
		Details:  map[string]gitlabDetail{},
	}
	detail := func(key, name, value string) {
		if value != "" {
			v.Details[key] = gitlabDetail{Name: name, Type: "text", Value: value}
		}
	}
	detail("image", "Image", im.Ref)
	detail("image_digest", "Image digest", im.Digest)
	detail("platform", "Platform", im.Platform)
	if f.Layer.Index >= 0 {
		detail("layer", "Layer", strings.TrimSpace(fmt.Sprintf("%d %s %s", f.Layer.Index, ShortDigest(f.Layer.Digest), f.Layer.Instruction)))
	}
	detail("where", "Where", Location(f))
	detail("status", "Status", status(f))
	detail("cause", "Cause", f.Cause)
	detail("secret", "Secret", f.Secret)
	detail("fingerprint", "Fingerprint", f.Fingerprint)
	detail("evidence", "Still extractable", f.Evidence())
	detail("note", "Note", f.Note)
	detail("origin", "Origin", OriginText(f.Origin))
	return v
}

// cutBytes shortens s to at most n bytes (the schema's maxLength), on a
// rune boundary, marking the cut with "…".
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n-len("…")]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
