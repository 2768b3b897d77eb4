package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"text/template"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/provenance"
	"github.com/layerscan/layerscan/pkg/sanitize"
)

// Schema is the version tag of the JSON report.
const Schema = "layerscan/v1"

// Report is the whole result of a run.
type Report struct {
	Schema string   `json:"schema"`
	Tool   Tool     `json:"tool"`
	Images []*Image `json:"images"`
	// Verdicts are the verification verdicts by secret id (--verify);
	// the JSON report carries them in its secrets.
	Verdicts map[string]Verdict `json:"-"`
}

// New is the report of images made by tool: the one place a report's
// header is made.
func New(tool Tool, images ...*Image) *Report {
	if images == nil {
		images = []*Image{}
	}
	return &Report{Schema: Schema, Tool: tool, Images: images}
}

// Tool names the program that made the report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Ruleset identifies the detection rules and options used.
	Ruleset string `json:"ruleset,omitempty"`
}

// Image is the result for one platform image.
type Image struct {
	Ref string `json:"ref"`
	// Source is the reference exactly as given to layerscan ("oci-archive:
	// app.tar", "registry.example/app:1"): what reads this image again.
	// Evidence builds its commands from it.
	Source       string     `json:"source,omitempty"`
	Digest       string     `json:"digest"`
	ConfigDigest string     `json:"config_digest,omitempty"`
	Platform     string     `json:"platform"`
	Layers       []Layer    `json:"layers"`
	Findings     []Finding  `json:"findings"`
	Errors       []Problem  `json:"errors"`
	Warnings     []Problem  `json:"warnings,omitempty"`
	Stats        ImageStats `json:"stats"`
	// Base, when known, is where the base image ends: layers
	// 0..Base.Layers-1 are the base image's.
	Base *BaseImage `json:"base,omitempty"`
	// Vendor lists, per package, the findings in vendor content that are
	// not in Findings (--vendor hide, the default).
	Vendor []VendorPackage `json:"vendor,omitempty"`
	// Verdicts are the --verify verdicts of the image's secrets, by secret
	// id; the JSON report carries them in its secrets view.
	Verdicts map[string]Verdict `json:"-"`
}

// BaseImage names the base image an image was built FROM and how many of
// its layers are the base's.
type BaseImage struct {
	Name   string `json:"name,omitempty"`
	Digest string `json:"digest,omitempty"`
	// Layers is the number of the base image's layers.
	Layers int `json:"layers"`
	// Source says how the boundary was found: annotation,
	// history-comment, created-time-gap or base-image.
	Source string `json:"source,omitempty"`
}

// Layer describes one layer and the step that made it.
type Layer struct {
	Index  int    `json:"index"`
	Digest string `json:"digest"`
	DiffID string `json:"diff_id"`
	// Size is the stored (compressed) size in bytes.
	Size int64 `json:"size"`
	// HistoryIndex is the config history entry that made the layer, or -1.
	HistoryIndex int    `json:"history_index"`
	CreatedBy    string `json:"created_by"`
	Instruction  string `json:"instruction"`
}

// LayerRef names the layer a finding is in.
type LayerRef struct {
	Index       int    `json:"index"`
	Digest      string `json:"digest"`
	CreatedBy   string `json:"created_by"`
	Instruction string `json:"instruction"`
}

// Removal names the layer that deleted or overwrote a file.
type Removal struct {
	Index       int    `json:"index"`
	Digest      string `json:"digest,omitempty"`
	Instruction string `json:"instruction"`
}

// Finding is one secret in the image.
type Finding struct {
	Rule        string `json:"rule"`
	Description string `json:"description"`
	// Severity is critical, high, medium, low or info.
	Severity string `json:"severity"`
	// Source is where the secret is: "file" (in a file of a layer),
	// "config" (in the image config: Env, Labels, Cmd, Entrypoint, User) or
	// "history" (in a history entry's created_by, build arguments included).
	Source string `json:"source"`
	Path   string `json:"path"`
	Line   int    `json:"line"`
	// Field names the config field of a "config" finding ("Env API_KEY",
	// "Labels org.example.token", "Cmd").
	Field string `json:"field,omitempty"`
	// HistoryIndex is the history entry of a "history" finding.
	HistoryIndex *int `json:"history_index,omitempty"`
	// HardlinkTo, for a finding reached through a hardlink, is the path
	// of the file the link points at.
	HardlinkTo string   `json:"hardlink_to,omitempty"`
	Layer      LayerRef `json:"layer"`
	// Status is "present", "deleted" or "overwritten": the file's fate in
	// the final filesystem. Deleted and overwritten files are still in the
	// layer that added them.
	Status    string   `json:"status"`
	RemovedBy *Removal `json:"removed_by"`
	// Secret is redacted ("ghp_****") unless --show-secrets.
	Secret      string `json:"secret"`
	Fingerprint string `json:"fingerprint"`
	// SecretID names the secret's value (keyed): the findings of one
	// secret, wherever it was found, share it (Report.Secrets).
	SecretID string `json:"secret_id,omitempty"`
	// ArchivePath is the chain of members inside nested archives, when the
	// secret is in a file inside an archive at Path ("BOOT-INF/…").
	ArchivePath []string `json:"archive_path,omitempty"`
	// Encoding names how the secret was encoded in the file ("base64",
	// "hex", "percent"), when it was found by decoding.
	Encoding string `json:"encoding,omitempty"`
	// Note adds what the rule knows (e.g. "encrypted private key").
	Note string `json:"note,omitempty"`
	// Cause says why the secret leaked (copied-into-image,
	// removed-in-later-layer, …) and Remediation what to do about it.
	Cause       string `json:"cause,omitempty"`
	Remediation string `json:"remediation,omitempty"`
	// New marks a finding that was not in the previous sweep of the same
	// image (set by layerscan sweep; absent in a single scan).
	New bool `json:"new,omitempty"`
	// Origin says whose content the secret is in: the image builder's
	// ("image"), or a package's as it shipped ("package", with the
	// manager, name, version and how that was established).
	Origin *provenance.Origin `json:"origin,omitempty"`
	// Vendor marks a finding in vendor content that is not a credential
	// the package could not have shipped as an example: listed with
	// --vendor show, but not counted by --fail-on (docs/rules.md).
	Vendor bool `json:"vendor,omitempty"`

	// evidence is Image.Evidence of the finding, set in the copy the
	// writers render (Sanitized) from the exact path, before the path is
	// made printable.
	evidence string
}

// Evidence is the command a template prints as {{.Evidence}}: the
// finding's Image.Evidence, in the report the writers render.
func (f Finding) Evidence() string { return f.evidence }

// VendorPackage summarises the findings in one package's files that the
// default view folds away (--vendor hide).
type VendorPackage struct {
	Manager    string `json:"manager"`
	Name       string `json:"name"`
	Version    string `json:"version,omitempty"`
	VerifiedBy string `json:"verified_by"`
	// Findings is how many findings are in the package's files; Rules
	// which rules made them.
	Findings int      `json:"findings"`
	Rules    []string `json:"rules"`
}

// Label names the package for people: "aws-sdk 2.1693.0 (npm)".
func (v VendorPackage) Label() string {
	o := provenance.Origin{Manager: v.Manager, Name: v.Name, Version: v.Version}
	return o.Label()
}

// Problem is an error or warning, for the image or one of its layers.
type Problem struct {
	// Layer is the layer's index, or nil for the image as a whole.
	Layer   *int   `json:"layer,omitempty"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

// ImageStats count the work done.
type ImageStats struct {
	LayersScanned int   `json:"layers_scanned"`
	FilesScanned  int   `json:"files_scanned"`
	Entries       int   `json:"entries"`
	StoredBytes   int64 `json:"stored_bytes"`
	Bytes         int64 `json:"bytes"`
	DurationMS    int64 `json:"duration_ms"`
}

// FindingCount is the number of findings over all images.
func (r *Report) FindingCount() int {
	n := 0
	for _, im := range r.Images {
		n += len(im.Findings)
	}
	return n
}

// Failing counts the findings at or above severity min that count for an
// exit status: every one but the vendor findings --vendor show lists.
func (r *Report) Failing(min string) int {
	rank := detect.SeverityRank(min)
	n := 0
	for _, im := range r.Images {
		for _, f := range im.Findings {
			if !f.Vendor && detect.SeverityRank(f.Severity) >= rank {
				n++
			}
		}
	}
	return n
}

// Incomplete tells whether any image or layer could not be read fully.
func (r *Report) Incomplete() bool {
	for _, im := range r.Images {
		if len(im.Errors) > 0 {
			return true
		}
	}
	return false
}

// SortFindings orders findings by layer, path, line and rule.
func SortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Layer.Index != b.Layer.Index {
			return a.Layer.Index < b.Layer.Index
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Rule < b.Rule
	})
}

// WriteJSON writes the report as indented layerscan/v1 JSON.
func WriteJSON(w io.Writer, r *Report) error {
	return writeJSON(w, r)
}

// writeJSON encodes v indented, with the characters JSON leaves raw that
// are not printable (C1 controls, bidirectional and other format
// characters) escaped too (sanitize.JSON): the data stays exact, the
// bytes inert.
func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(sanitize.JSON(b.Bytes()))
	return err
}

// Formats are the names Write takes, "table" first (the default).
var Formats = []string{"table", "json", "sarif", "gitlab", "csv", "markdown", "template", "html"}

// WriteOptions are what some formats need besides the report.
type WriteOptions struct {
	// Table says how to draw the table.
	Table TableOptions
	// Template is the template of the "template" format.
	Template *template.Template
}

// Write writes r in format (one of Formats; "" is the table), buffered.
func Write(w io.Writer, format string, r *Report, o WriteOptions) error {
	bw := bufio.NewWriter(w)
	var err error
	switch format {
	case "json":
		err = WriteJSON(bw, r)
	case "sarif":
		err = WriteSARIF(bw, r)
	case "gitlab":
		err = WriteGitLab(bw, r)
	case "csv":
		err = WriteCSV(bw, r)
	case "markdown":
		err = WriteMarkdown(bw, r)
	case "template":
		if o.Template == nil {
			return errors.New("report: the template format needs a template")
		}
		err = WriteTemplate(bw, r, o.Template)
	case "html":
		err = WriteHTML(bw, r)
	case "table", "":
		err = WriteTableOptions(bw, r, o.Table)
	default:
		return fmt.Errorf("report: unknown format %q", format)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}
