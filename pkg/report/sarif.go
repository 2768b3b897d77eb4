package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/sanitize"
)

// SARIF 2.1.0 (OASIS), shaped for GitHub code scanning (its "SARIF
// support for code scanning" page; docs/output-formats.md): one run per
// image, kept apart by runs[].automationDetails.id; every result has a
// physical location (a file of the image, or a pseudo-file of its config);
// every rule a name, full description, help text and Markdown, helpUri and
// security-severity; every result its own security-severity and
// partialFingerprints.primaryLocationLineHash. Only the parts layerscan
// fills are modelled.

// SARIFSchemaURI is the schema the document names in "$schema".
const SARIFSchemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// URI bases of SARIF locations: the image's root filesystem (a file
// finding's uri is the path inside the image) and its config (a config or
// history finding's uri is SARIFConfigDir/…).
const (
	sarifRootBase   = "IMAGEROOT"
	sarifConfigBase = "IMAGECONFIG"
)

// SARIFConfigDir is the pseudo-directory of config and history findings:
// SARIFConfigDir/Env/NAME, SARIFConfigDir/Labels/KEY (line 1),
// SARIFConfigDir/Cmd, …/Entrypoint, …/User (line 1) and
// SARIFConfigDir/history (line = history index + 1).
const SARIFConfigDir = "image-config"

// SARIFFingerprintKey is the partialFingerprints key holding the finding's
// fingerprint (detect.Fingerprint).
const SARIFFingerprintKey = "layerscanFingerprint/v1"

// SARIFLineHashKey is the partialFingerprints key GitHub code scanning
// matches results by across uploads (with the path and the rule).
const SARIFLineHashKey = "primaryLocationLineHash"

// SARIFRulesDoc is where helpUri points: docs/rules.md, one anchor per
// layerscan rule (#rule-ID), one for gitleaks' rules and one for rules
// of --config.
const SARIFRulesDoc = "https://github.com/layerscan/layerscan/blob/main/docs/rules.md"

// SARIFRuleAnchor is the anchor in docs/rules.md of a rule: rule-ID for
// layerscan's rules, gitleaks-rules for gitleaks' defaults, config-rules
// for the user's.
func SARIFRuleAnchor(rule string) string {
	switch detect.RuleOrigin(rule) {
	case detect.OriginLayerscan:
		return "rule-" + rule
	case detect.OriginGitleaks:
		return "gitleaks-rules"
	}
	return "config-rules"
}

type sarifRun struct {
	Tool               sarifTool                   `json:"tool"`
	AutomationDetails  *sarifAutomation            `json:"automationDetails,omitempty"`
	Invocations        []sarifInvocation           `json:"invocations"`
	OriginalURIBaseIDs map[string]sarifArtifactLoc `json:"originalUriBaseIds"`
	Results            []sarifResult               `json:"results"`
	Properties         map[string]any              `json:"properties,omitempty"`
}

type sarifAutomation struct {
	ID string `json:"id"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string         `json:"name"`
	Version        string         `json:"version,omitempty"`
	SemVer         string         `json:"semanticVersion,omitempty"`
	InformationURI string         `json:"informationUri"`
	Rules          []sarifRule    `json:"rules"`
	Properties     map[string]any `json:"properties,omitempty"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	HelpURI              string         `json:"helpUri"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level   string    `json:"level"`
	Message sarifText `json:"message"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical  `json:"physicalLocation"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
	Region           sarifRegion      `json:"region"`
}

type sarifArtifactLoc struct {
	URI         string     `json:"uri"`
	URIBaseID   string     `json:"uriBaseId,omitempty"`
	Description *sarifText `json:"description,omitempty"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
	Kind               string `json:"kind,omitempty"`
}

// SARIFLevel maps a severity to a SARIF level: critical and high are
// errors, medium a warning, low and info notes.
func SARIFLevel(severity string) string {
	switch r := detect.SeverityRank(severity); {
	case r >= 3:
		return "error"
	case r == 2:
		return "warning"
	}
	return "note"
}

// SARIFSecuritySeverity is GitHub code scanning's numeric severity
// ("0.0"–"10.0") of a layerscan severity: critical 9.5, high 8.0, medium
// 5.5, low 3.0, info 1.0 (GitHub ranks over 9.0 critical, 7.0–8.9 high,
// 4.0–6.9 medium, 0.1–3.9 low).
func SARIFSecuritySeverity(severity string) string {
	return [...]string{"1.0", "3.0", "5.5", "8.0", "9.5"}[detect.SeverityRank(severity)]
}

// sarifRemediation is every rule's generic remediation: what to do about
// a secret in an image whatever leaked it. A result's message and
// properties carry the remediation for its own cause.
const sarifRemediation = "Revoke the secret and issue a new one, then rebuild the image without it: pass secrets to the build with RUN --mount=type=secret (not COPY, ENV or build arguments) and keep them out of the build context with .dockerignore. Deleting or overwriting the file in a later layer does not remove it from the image."

// WriteSARIF writes the report as a SARIF 2.1.0 log with one run per
// image (one run without results when there is none).
func WriteSARIF(w io.Writer, r *Report) error {
	return writeSARIFStream(w, r.Stream())
}

// writeSARIFStream writes the SARIF log of s, a run per image, in two
// passes over its images: their names (automationDetails ids must tell
// every image apart), then the runs, each made and written alone.
func writeSARIFStream(w io.Writer, s *Stream) error {
	var names []*Image
	err := s.each(func(im *Image) error {
		names = append(names, &Image{Ref: im.Ref, Platform: im.Platform})
		return nil
	})
	if err != nil {
		return err
	}
	ids := sarifAutomationIDs(names)
	log := struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    string `json:"runs"`
	}{SARIFSchemaURI, "2.1.0", streamed("runs")}
	return streamJSON(w, log, map[string]func(func(any) error) error{
		"runs": func(emit func(any) error) error {
			i := 0
			err := s.each(func(im *Image) error {
				run := newSARIFRun(s.Tool, []*Image{im})
				id := fmt.Sprintf("layerscan/image-%d/", i)
				if i < len(ids) {
					id = ids[i]
				}
				run.AutomationDetails = &sarifAutomation{ID: id}
				i++
				return emit(run)
			})
			if err == nil && i == 0 {
				err = emit(newSARIFRun(s.Tool, nil))
			}
			return err
		},
	})
}

// newSARIFRun is the run of images (one, or none).
func newSARIFRun(tool Tool, images []*Image) sarifRun {
	var findings []Finding
	for _, im := range images {
		findings = append(findings, im.Findings...)
	}
	rules, index := sarifRules(findings)
	driver := sarifDriver{Name: tool.Name, InformationURI: "https://github.com/layerscan/layerscan", Rules: rules,
		Properties: map[string]any{"toolVersion": tool.Version}}
	driver.Version, driver.SemVer = sarifVersions(tool.Version)
	if driver.Name == "" {
		driver.Name = "layerscan"
	}
	if tool.Ruleset != "" {
		driver.Properties["ruleset"] = tool.Ruleset
	}
	run := sarifRun{
		Tool: sarifTool{Driver: driver},
		OriginalURIBaseIDs: map[string]sarifArtifactLoc{
			sarifRootBase:   {URI: "file:///", Description: &sarifText{Text: "The root of the image's filesystem: a file finding's uri is the path inside the image."}},
			sarifConfigBase: {URI: "file:///", Description: &sarifText{Text: "The image config: " + SARIFConfigDir + "/Env/NAME, /Labels/KEY, /Cmd, /Entrypoint, /User, and /history, whose line is the history index + 1."}},
		},
		Results: []sarifResult{},
	}
	inv := sarifInvocation{ExecutionSuccessful: true}
	occurrence := map[string]int{}
	for _, im := range images {
		inv.ExecutionSuccessful = len(im.Errors) == 0
		for _, e := range im.Errors {
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications,
				sarifNotification{Level: "error", Message: sarifText{Text: im.Ref + ": " + problemText(e)}})
		}
		for _, wn := range im.Warnings {
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications,
				sarifNotification{Level: "warning", Message: sarifText{Text: im.Ref + ": " + problemText(wn)}})
		}
		for _, f := range im.Findings {
			run.Results = append(run.Results, sarifResultOf(im, f, index[f.Rule], occurrence))
		}
		run.Properties = map[string]any{"imageRef": im.Ref, "imageDigest": im.Digest, "configDigest": im.ConfigDigest,
			"platform": im.Platform, "layers": len(im.Layers), "incomplete": len(im.Errors) > 0}
		if len(im.Vendor) > 0 {
			run.Properties["vendor"] = im.Vendor
		}
		if tool.Ruleset != "" {
			run.Properties["ruleset"] = tool.Ruleset
		}
	}
	run.Invocations = []sarifInvocation{inv}
	return run
}

// sarifRules are the rules of findings, by id, and each one's index. A
// rule's level and security-severity are those of its default severity
// (detect.DefaultSeverity; for a rule of --config, the severity most of its
// findings have), not of its most severe finding: an SSH host key (info)
// and an encrypted key (medium) do not rank the private-key rule.
func sarifRules(findings []Finding) ([]sarifRule, map[string]int) {
	desc := map[string]string{}
	sevs := map[string]map[string]int{}
	for _, f := range findings {
		if desc[f.Rule] == "" {
			desc[f.Rule] = f.Description
		}
		if sevs[f.Rule] == nil {
			sevs[f.Rule] = map[string]int{}
		}
		sevs[f.Rule][f.Severity]++
	}
	ids := make([]string, 0, len(sevs))
	for id := range sevs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	rules := []sarifRule{}
	index := map[string]int{}
	for i, id := range ids {
		index[id] = i
		rules = append(rules, sarifRuleOf(id, desc[id], sevs[id]))
	}
	return rules, index
}

func sarifRuleOf(id, desc string, sevs map[string]int) sarifRule {
	origin := detect.RuleOrigin(id)
	sev := detect.DefaultSeverity(id)
	if origin == detect.OriginConfig {
		sev = typicalSeverity(sevs)
	}
	desc = strings.TrimSpace(sanitize.Text(desc))
	if desc == "" {
		desc = "Secret found by rule " + id
	}
	desc = strings.TrimSuffix(desc, ".") + "."
	from := map[string]string{
		detect.OriginLayerscan: "layerscan's rule",
		detect.OriginGitleaks:  "gitleaks' default rule",
		detect.OriginConfig:    "a rule of --config",
	}[origin]
	full := fmt.Sprintf("%s Rule %s: %s, default severity %s.", desc, id, from, sev)
	uri := SARIFRulesDoc + "#" + SARIFRuleAnchor(id)
	why := "A secret in any layer of an image, even one a later layer deleted or overwrote, can be extracted by anyone who can pull the image."
	precision := "high"
	if strings.HasPrefix(id, "generic-") || origin == detect.OriginConfig {
		precision = "medium"
	}
	return sarifRule{
		ID: id, Name: sarifRuleName(id),
		ShortDescription: sarifText{Text: cut(desc, 200)},
		FullDescription:  sarifText{Text: full},
		Help: sarifText{
			Text:     full + "\n\n" + why + "\n\nRemediation: " + sarifRemediation + "\n\nRule documentation: " + uri,
			Markdown: fmt.Sprintf("**%s** (%s, default severity %s): %s\n\n%s\n\n**Remediation:** %s\n\n[Rule documentation](%s)", "`"+id+"`", from, sev, desc, why, sarifRemediation, uri),
		},
		HelpURI:              uri,
		DefaultConfiguration: sarifConfig{Level: SARIFLevel(sev)},
		Properties: map[string]any{
			"tags":              []string{"security", "secret", "external/cwe/cwe-798"},
			"security-severity": SARIFSecuritySeverity(sev),
			"severity":          sev,
			"precision":         precision,
			"origin":            origin,
		},
	}
}

// typicalSeverity is the severity most findings have (the lower one of a
// tie).
func typicalSeverity(counts map[string]int) string {
	best := ""
	for s, n := range counts {
		if best == "" || n > counts[best] || n == counts[best] && detect.SeverityRank(s) < detect.SeverityRank(best) {
			best = s
		}
	}
	return best
}

// sarifRuleName is a rule id as the Pascal-case name SARIF recommends:
// github-pat gives GithubPat.
func sarifRuleName(id string) string {
	var b strings.Builder
	up := true
	for _, r := range id {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if up {
				r = unicode.ToUpper(r)
			}
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	if b.Len() == 0 || !unicode.IsLetter([]rune(b.String())[0]) {
		return "Rule" + b.String()
	}
	return b.String()
}

// sarifAutomationIDs are the runs' automationDetails.id, one per image:
// "layerscan/" + imageKeys + "/".
func sarifAutomationIDs(images []*Image) []string {
	ids := imageKeys(images)
	for i := range ids {
		ids[i] = "layerscan/" + ids[i] + "/"
	}
	return ids
}

// imageKeys name the images of a report, one key each, stable from scan to
// scan: "NAME/PLATFORM", NAME being the image reference without its tag or
// digest, so that every scan of an image (of any tag) has one key: its
// SARIF category in GitHub, its location prefix in GitLab, and a secret no
// longer found there is closed as fixed. Images of one report that would
// share a key (two tags of one repository) keep their whole reference,
// and if that is shared too, a number.
func imageKeys(images []*Image) []string {
	keys := make([]string, len(images))
	count := map[string]int{}
	key := func(name string, im *Image) string {
		k := sanitize.OneLine(name)
		if im.Platform != "" {
			k += "/" + im.Platform
		}
		return k
	}
	for i, im := range images {
		keys[i] = key(imageName(im.Ref), im)
		count[keys[i]]++
	}
	seen := map[string]int{}
	for i, im := range images {
		if count[keys[i]] > 1 {
			keys[i] = key(im.Ref, im)
		}
		if seen[keys[i]]++; seen[keys[i]] > 1 {
			keys[i] += fmt.Sprintf("/%d", seen[keys[i]])
		}
	}
	return keys
}

// transports are the image-source prefixes a reference may start with
// (fetch's kinds): "oci-archive:app.tar" has no tag to remove.
var transports = map[string]bool{"oci-archive": true, "oci": true, "docker-archive": true, "docker-daemon": true,
	"docker": true, "podman": true, "containers-storage": true, "registry": true, "daemon": true, "dir": true, "rootfs": true}

var refDigest = regexp.MustCompile(`@[A-Za-z0-9_+.-]+:[0-9A-Fa-f]{32,}$`)
var refTag = regexp.MustCompile(`:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// imageName is a reference without its digest and tag:
// registry.example.com/app:1.4 gives registry.example.com/app,
// oci-archive:app.tar:latest gives oci-archive:app.tar.
func imageName(ref string) string {
	name := refDigest.ReplaceAllString(ref, "")
	last := name[strings.LastIndex(name, "/")+1:]
	if loc := refTag.FindStringIndex(last); loc != nil {
		rest := name[:len(name)-len(last)+loc[0]]
		if rest != "" && !transports[rest] {
			return rest
		}
	}
	if name == "" {
		return ref
	}
	return name
}

// sarifLocationOf is where GitHub shows a finding: a file finding at its
// path in the image (line 1 for a finding of a whole file, such as a path
// rule's); a config finding in the pseudo-file of its field; a history
// finding on the line of its history index in SARIFConfigDir/history.
func sarifLocationOf(im *Image, f Finding) sarifLocation {
	loc := sarifLocation{}
	line := max(f.Line, 1)
	switch f.Source {
	case "config":
		segs, line := configPlace(f)
		for i := range segs {
			segs[i] = url.PathEscape(segs[i])
		}
		loc.PhysicalLocation = sarifPhysical{ArtifactLocation: sarifArtifactLoc{URI: strings.Join(segs, "/"), URIBaseID: sarifConfigBase}, Region: sarifRegion{StartLine: line}}
		loc.LogicalLocations = []sarifLogical{{Name: f.Field, FullyQualifiedName: im.Ref + "/config/" + f.Field, Kind: "variable"}}
		return loc
	case "history":
		segs, line := configPlace(f)
		name := "history"
		if f.HistoryIndex != nil {
			name = fmt.Sprintf("history[%d]", *f.HistoryIndex)
		}
		loc.PhysicalLocation = sarifPhysical{ArtifactLocation: sarifArtifactLoc{URI: strings.Join(segs, "/"), URIBaseID: sarifConfigBase}, Region: sarifRegion{StartLine: line}}
		loc.LogicalLocations = []sarifLogical{{Name: name, FullyQualifiedName: im.Ref + "/config/" + name, Kind: "resource"}}
	default:
		loc.PhysicalLocation = sarifPhysical{ArtifactLocation: sarifArtifactLoc{URI: sarifURI(f.Path), URIBaseID: sarifRootBase}, Region: sarifRegion{StartLine: line}}
	}
	if f.Layer.Index >= 0 {
		name := fmt.Sprintf("layer %d", f.Layer.Index)
		if f.Layer.Instruction != "" {
			name += ": " + cut(f.Layer.Instruction, 200)
		}
		loc.LogicalLocations = append(loc.LogicalLocations, sarifLogical{Name: name, FullyQualifiedName: fmt.Sprintf("%s/layer/%d", im.Ref, f.Layer.Index), Kind: "module"})
	}
	return loc
}

// configPlace is where a config or history finding is in the image
// config, as path segments under SARIFConfigDir and a line:
// image-config/Env/NAME, image-config/Labels/KEY, image-config/Cmd (line
// 1), image-config/history (line = history index + 1).
func configPlace(f Finding) ([]string, int) {
	if f.Source == "history" {
		line := 1
		if f.HistoryIndex != nil {
			line = *f.HistoryIndex + 1
		}
		return []string{SARIFConfigDir, "history"}, line
	}
	kind, name, _ := strings.Cut(f.Field, " ")
	if name == "" {
		return []string{SARIFConfigDir, kind}, 1
	}
	return []string{SARIFConfigDir, kind, name}, 1
}

// sarifLineHash is the primaryLocationLineHash of a finding: a hash of
// its fingerprint (rule, path or config field, secret: stable across
// rebuilds) and its occurrence among the run's results of the same hash
// at the same place (the same secret at the same path in two layers).
func sarifLineHash(f Finding, uri string, occurrence map[string]int) string {
	key := f.Fingerprint
	if key == "" {
		key = f.Rule + "\x00" + Location(f) + "\x00" + f.Secret
	}
	sum := sha256.Sum256([]byte("layerscan/sarif\x00" + key))
	h := hex.EncodeToString(sum[:8])
	occurrence[uri+"\x00"+h]++
	return fmt.Sprintf("%s:%d", h, occurrence[uri+"\x00"+h])
}

func sarifResultOf(im *Image, f Finding, ruleIndex int, occurrence map[string]int) sarifResult {
	props := map[string]any{
		"security-severity": SARIFSecuritySeverity(f.Severity),
		"severity":          f.Severity,
		"source":            f.Source,
		"status":            f.Status,
		"layerIndex":        f.Layer.Index,
		"secret":            f.Secret,
		"image":             im.Ref,
		"imageDigest":       im.Digest,
	}
	setIf := func(k, v string) {
		if v != "" {
			props[k] = v
		}
	}
	setIf("layerDigest", f.Layer.Digest)
	setIf("instruction", f.Layer.Instruction)
	setIf("createdBy", f.Layer.CreatedBy)
	setIf("platform", im.Platform)
	setIf("cause", f.Cause)
	setIf("remediation", f.Remediation)
	setIf("evidence", im.Evidence(f))
	setIf("encoding", f.Encoding)
	setIf("note", f.Note)
	setIf("hardlinkTo", f.HardlinkTo)
	setIf("field", f.Field)
	setIf("path", f.Path)
	setIf("secretId", f.SecretID)
	if v, ok := im.Verdicts[f.SecretID]; ok && f.SecretID != "" {
		props["verification"] = v
	}
	if f.HistoryIndex != nil {
		props["historyIndex"] = *f.HistoryIndex
	}
	if len(f.ArchivePath) > 0 {
		props["archivePath"] = f.ArchivePath
	}
	if f.RemovedBy != nil {
		props["removedBy"] = map[string]any{"layerIndex": f.RemovedBy.Index, "layerDigest": f.RemovedBy.Digest, "instruction": f.RemovedBy.Instruction}
	}
	if f.Origin != nil {
		props["origin"] = f.Origin
	}
	if f.Vendor {
		props["vendor"] = true
	}

	var msg strings.Builder
	// Message text is for people: the image's strings in it are
	// sanitised (the properties and locations keep the data).
	fmt.Fprintf(&msg, "Secret (%s, %s) in %s", f.Rule, f.Severity, sanitize.Text(Location(f)))
	if f.Layer.Index >= 0 {
		fmt.Fprintf(&msg, ", layer %d", f.Layer.Index)
		if f.Layer.Instruction != "" {
			fmt.Fprintf(&msg, " (%s)", cut(sanitize.Text(f.Layer.Instruction), 120))
		}
	} else {
		msg.WriteString(", image config")
	}
	msg.WriteString(": " + sanitize.Text(status(f)))
	if f.Note != "" {
		msg.WriteString("; " + sanitize.Text(f.Note))
	}
	if f.Cause != "" {
		msg.WriteString("; cause: " + f.Cause)
	}
	msg.WriteString(".")
	if f.Remediation != "" {
		msg.WriteString(" Remediation: " + strings.TrimSuffix(f.Remediation, ".") + ".")
	}
	loc := sarifLocationOf(im, f)
	fps := map[string]string{SARIFLineHashKey: sarifLineHash(f, loc.PhysicalLocation.ArtifactLocation.URI, occurrence)}
	if f.Fingerprint != "" {
		fps[SARIFFingerprintKey] = f.Fingerprint
	}
	return sarifResult{
		RuleID: f.Rule, RuleIndex: ruleIndex, Level: SARIFLevel(f.Severity),
		Message:             sarifText{Text: msg.String()},
		Locations:           []sarifLocation{loc},
		PartialFingerprints: fps,
		Properties:          props,
	}
}

// sarifURI makes the relative URI reference of a path inside the image:
// no leading slash, percent-encoded where needed.
func sarifURI(p string) string {
	p = strings.TrimLeft(p, "/")
	if p == "" {
		return "."
	}
	return (&url.URL{Path: p}).String()
}

var numericVersion = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)
var semVersion = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?$`)

// sarifVersions splits the tool version into SARIF's numeric "version"
// and "semanticVersion": v1.2.3 gives 1.2.3 and 1.2.3; a build that is not
// a release (dev, a commit) gives 0.0.0-dev.
func sarifVersions(v string) (numeric, semantic string) {
	v = strings.TrimPrefix(v, "v")
	switch {
	case numericVersion.MatchString(v):
		numeric = v
		if semVersion.MatchString(v) {
			semantic = v
		}
	case semVersion.MatchString(v):
		semantic = v
	default:
		clean := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '.' || r == '-' {
				return r
			}
			return '-'
		}, v)
		if clean == "" {
			clean = "unknown"
		}
		semantic = "0.0.0-" + clean
	}
	return numeric, semantic
}
