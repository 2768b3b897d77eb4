package report

import (
	"fmt"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/sanitize"
)

// SARIF 2.1.0 (OASIS): one run for the whole report, the rules that fired
// in tool.driver.rules, one result per finding. Only the parts layerscan
// fills are modelled.

// SARIFSchemaURI is the schema the document names in "$schema".
const SARIFSchemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// sarifRootBase is the uriBaseId of file locations: the image's root
// filesystem, so that a location's uri is the path inside the image.
const sarifRootBase = "IMAGEROOT"

// SARIFFingerprintKey is the partialFingerprints key holding the finding's
// fingerprint.
const SARIFFingerprintKey = "layerscanFingerprint/v1"

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool               sarifTool                   `json:"tool"`
	Invocations        []sarifInvocation           `json:"invocations"`
	OriginalURIBaseIDs map[string]sarifArtifactLoc `json:"originalUriBaseIds"`
	Results            []sarifResult               `json:"results"`
	Properties         map[string]any              `json:"properties,omitempty"`
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
	Name                 string         `json:"name,omitempty"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      *sarifText     `json:"fullDescription,omitempty"`
	Help                 sarifText      `json:"help"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties,omitempty"`
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
	PartialFingerprints map[string]string `json:"partialFingerprints,omitempty"`
	Properties          map[string]any    `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
	Message          *sarifText     `json:"message,omitempty"`
	Properties       map[string]any `json:"properties,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
	Region           *sarifRegion     `json:"region,omitempty"`
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

// securitySeverity is GitHub code scanning's numeric severity of a rule.
func securitySeverity(severity string) string {
	return [...]string{"1.0", "3.0", "5.5", "8.0", "9.5"}[detect.SeverityRank(severity)]
}

// WriteSARIF writes the report as a SARIF 2.1.0 log with one run.
func WriteSARIF(w io.Writer, r *Report) error {
	type ruleInfo struct {
		desc, remediation, severity string
	}
	rules := map[string]*ruleInfo{}
	for _, im := range r.Images {
		for _, f := range im.Findings {
			ri := rules[f.Rule]
			if ri == nil {
				ri = &ruleInfo{desc: f.Description, severity: f.Severity}
				rules[f.Rule] = ri
			}
			if ri.remediation == "" {
				ri.remediation = f.Remediation
			}
			if detect.SeverityRank(f.Severity) > detect.SeverityRank(ri.severity) {
				ri.severity = f.Severity
			}
		}
	}
	ids := make([]string, 0, len(rules))
	for id := range rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	index := map[string]int{}
	driver := sarifDriver{
		Name:           r.Tool.Name,
		InformationURI: "https://github.com/layerscan/layerscan",
		Rules:          []sarifRule{},
	}
	driver.Version, driver.SemVer = sarifVersions(r.Tool.Version)
	if driver.Name == "" {
		driver.Name = "layerscan"
	}
	driver.Properties = map[string]any{"toolVersion": r.Tool.Version}
	if r.Tool.Ruleset != "" {
		driver.Properties["ruleset"] = r.Tool.Ruleset
	}
	for i, id := range ids {
		ri := rules[id]
		index[id] = i
		desc := ri.desc
		if desc == "" {
			desc = "Secret found by rule " + id
		}
		help := strings.TrimSuffix(desc, ".") + "." +
			" A secret in any layer of an image — even one a later layer deleted or overwrote — can be extracted by anyone who can pull the image."
		if ri.remediation != "" {
			help += "\n\nRemediation: " + ri.remediation
		} else {
			help += "\n\nRemediation: revoke the secret and rotate it, then rebuild the image without it (use build secrets, not COPY, ENV or build arguments); deleting the file in a later layer does not remove it."
		}
		driver.Rules = append(driver.Rules, sarifRule{
			ID: id, ShortDescription: sarifText{Text: desc},
			Help:                 sarifText{Text: help},
			DefaultConfiguration: sarifConfig{Level: SARIFLevel(ri.severity)},
			Properties: map[string]any{
				"tags":              []string{"security", "secret"},
				"security-severity": securitySeverity(ri.severity),
				"severity":          ri.severity,
			},
		})
	}

	run := sarifRun{
		Tool: sarifTool{Driver: driver},
		OriginalURIBaseIDs: map[string]sarifArtifactLoc{
			sarifRootBase: {URI: "file:///", Description: &sarifText{Text: "The root of the image's filesystem: a result's uri is the path inside the image."}},
		},
		Results: []sarifResult{},
	}
	inv := sarifInvocation{ExecutionSuccessful: !r.Incomplete()}
	var images []map[string]any
	for _, im := range r.Images {
		img := map[string]any{
			"ref": im.Ref, "digest": im.Digest, "configDigest": im.ConfigDigest, "platform": im.Platform,
			"layers": len(im.Layers), "incomplete": len(im.Errors) > 0,
		}
		if len(im.Vendor) > 0 {
			img["vendor"] = im.Vendor
		}
		images = append(images, img)
		for _, e := range im.Errors {
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications,
				sarifNotification{Level: "error", Message: sarifText{Text: im.Ref + ": " + problemText(e)}})
		}
		for _, wn := range im.Warnings {
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications,
				sarifNotification{Level: "warning", Message: sarifText{Text: im.Ref + ": " + problemText(wn)}})
		}
		for _, f := range im.Findings {
			run.Results = append(run.Results, sarifResultOf(im, f, index[f.Rule], r.verdict))
		}
	}
	run.Invocations = []sarifInvocation{inv}
	run.Properties = map[string]any{"images": images}
	if len(r.Images) == 1 {
		run.Properties["imageRef"] = r.Images[0].Ref
		run.Properties["imageDigest"] = r.Images[0].Digest
	}
	if r.Tool.Ruleset != "" {
		run.Properties["ruleset"] = r.Tool.Ruleset
	}
	log := sarifLog{Schema: SARIFSchemaURI, Version: "2.1.0", Runs: []sarifRun{run}}
	return writeJSON(w, log)
}

func sarifResultOf(im *Image, f Finding, ruleIndex int, verdict func(string) (Verdict, bool)) sarifResult {
	props := map[string]any{
		"severity":    f.Severity,
		"source":      f.Source,
		"status":      f.Status,
		"layerIndex":  f.Layer.Index,
		"secret":      f.Secret,
		"image":       im.Ref,
		"imageDigest": im.Digest,
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
	if v, ok := verdict(f.SecretID); ok && f.SecretID != "" {
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

	layerName := "image config"
	layerFQN := im.Ref + "/config"
	if f.Layer.Index >= 0 {
		layerName = fmt.Sprintf("layer %d", f.Layer.Index)
		layerFQN = fmt.Sprintf("%s/layer/%d", im.Ref, f.Layer.Index)
		if f.Layer.Instruction != "" {
			layerName += ": " + cut(f.Layer.Instruction, 200)
		}
	}
	loc := sarifLocation{}
	switch f.Source {
	case "config":
		loc.LogicalLocations = []sarifLogical{{Name: f.Field, FullyQualifiedName: im.Ref + "/config/" + f.Field, Kind: "variable"}}
	case "history":
		name := "history"
		if f.HistoryIndex != nil {
			name = fmt.Sprintf("history[%d]", *f.HistoryIndex)
		}
		loc.LogicalLocations = []sarifLogical{{Name: name, FullyQualifiedName: im.Ref + "/config/" + name, Kind: "resource"}}
		if f.Layer.Index >= 0 {
			loc.LogicalLocations = append(loc.LogicalLocations, sarifLogical{Name: layerName, FullyQualifiedName: layerFQN, Kind: "module"})
		}
	default:
		loc.PhysicalLocation = &sarifPhysical{ArtifactLocation: sarifArtifactLoc{URI: sarifURI(f.Path), URIBaseID: sarifRootBase}}
		if f.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Line}
		}
		loc.LogicalLocations = []sarifLogical{{Name: layerName, FullyQualifiedName: layerFQN, Kind: "module"}}
	}

	var msg strings.Builder
	// Message text is for people: the image's strings in it are
	// sanitised (the properties and locations keep the data).
	fmt.Fprintf(&msg, "Secret (%s) in %s", f.Rule, sanitize.Text(Location(f)))
	if f.Layer.Index >= 0 {
		fmt.Fprintf(&msg, ", layer %d", f.Layer.Index)
		if f.Layer.Instruction != "" {
			fmt.Fprintf(&msg, " (%s)", cut(sanitize.Text(f.Layer.Instruction), 120))
		}
	} else {
		msg.WriteString(", image config")
	}
	msg.WriteString(": " + sanitize.Text(status(f)))
	if f.Cause != "" {
		msg.WriteString("; cause: " + f.Cause)
	}
	if f.Remediation != "" {
		msg.WriteString(". Remediation: " + f.Remediation)
	}
	res := sarifResult{
		RuleID: f.Rule, RuleIndex: ruleIndex, Level: SARIFLevel(f.Severity),
		Message:    sarifText{Text: msg.String()},
		Locations:  []sarifLocation{loc},
		Properties: props,
	}
	if f.Fingerprint != "" {
		res.PartialFingerprints = map[string]string{SARIFFingerprintKey: f.Fingerprint}
	}
	return res
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
