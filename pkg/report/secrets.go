package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/layerscan/layerscan/pkg/detect"
)

// Secret is one secret value, whatever rules, files, layers, images or
// encodings it was found in: what a security team rotates. The secrets
// view (Report.Secrets) groups the findings by their SecretID.
type Secret struct {
	// ID is the secret's keyed id (Finding.SecretID); Secret its
	// redaction (the plaintext with --show-secrets). Two secrets with the
	// same redaction have different ids.
	ID     string `json:"id"`
	Secret string `json:"secret"`
	// Kind is the most specific rule that found it (detect.Specificity);
	// Rules every rule that did.
	Kind  string   `json:"kind"`
	Rules []string `json:"rules"`
	// Severity is the highest of its findings'; Status the worst fate of
	// its occurrences: present (still in the final filesystem or config)
	// before overwritten before deleted.
	Severity string `json:"severity"`
	Status   string `json:"status"`
	// Vendor: every occurrence is in vendor content (--vendor show).
	Vendor      bool   `json:"vendor,omitempty"`
	Remediation string `json:"remediation"`
	// Verification is the verdict of --verify, when it ran.
	Verification *Verdict `json:"verification,omitempty"`
	// Findings counts the findings of the secret; Occurrences are its
	// places (one per image, layer and place, whatever rules found it).
	Findings    int          `json:"findings"`
	Occurrences []Occurrence `json:"occurrences"`
}

// Occurrence is one place a secret is in.
type Occurrence struct {
	Image    string `json:"image"`
	Platform string `json:"platform,omitempty"`
	// Source, Path, ArchivePath, Field, HistoryIndex and Line say where,
	// as in Finding.
	Source       string   `json:"source"`
	Path         string   `json:"path,omitempty"`
	ArchivePath  []string `json:"archive_path,omitempty"`
	Field        string   `json:"field,omitempty"`
	HistoryIndex *int     `json:"history_index,omitempty"`
	Line         int      `json:"line,omitempty"`
	// Layer is the layer's index (-1: the image config); Instruction the
	// step that made it.
	Layer       int      `json:"layer"`
	Instruction string   `json:"instruction,omitempty"`
	Status      string   `json:"status"`
	Cause       string   `json:"cause,omitempty"`
	Rules       []string `json:"rules"`
}

// Verdict is what live verification said of a secret.
type Verdict struct {
	// Status is verified (the credential works), invalid (rejected) or
	// unknown (could not tell).
	Status string `json:"status"`
	// Identity is who the credential is, where the service says (a
	// registry user, a database role, a GitHub login).
	Identity  string    `json:"identity,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	CheckedAt time.Time `json:"checked_at"`
}

// Verification statuses.
const (
	Verified = "verified"
	Invalid  = "invalid"
	Unknown  = "unknown"
)

// statusRank orders fates, worst first.
func statusRank(s string) int {
	switch s {
	case "present":
		return 0
	case "overwritten":
		return 1
	case "deleted":
		return 2
	}
	return 3
}

// verdictRank puts verified secrets first.
func verdictRank(v *Verdict) int {
	switch {
	case v == nil:
		return 2
	case v.Status == Verified:
		return 0
	case v.Status == Unknown:
		return 1
	}
	return 3
}

// secretKey is a finding's secret id; findings of a report made before
// secret ids are their own secret.
func secretKey(f Finding) string {
	if f.SecretID != "" {
		return f.SecretID
	}
	return "f" + f.Fingerprint
}

// Secrets groups the findings of every image of r by secret, most urgent
// first: verified, then by severity, fate and kind.
func (r *Report) Secrets() []Secret {
	var out []Secret
	at := map[string]int{}
	type place struct {
		image, source, path, archive, field string
		history, line, layer                int
	}
	places := map[string]map[place]int{}
	for ii, im := range r.Images {
		for fi, f := range im.Findings {
			key := secretKey(f)
			if key == "f" { // a report made before secret ids and fingerprints
				key = fmt.Sprintf("f%d.%d", ii, fi)
			}
			i, ok := at[key]
			if !ok {
				i = len(out)
				at[key] = i
				out = append(out, Secret{ID: key, Secret: f.Secret, Kind: f.Rule, Severity: f.Severity, Status: f.Status,
					Vendor: true, Remediation: f.Remediation, Occurrences: []Occurrence{}})
				places[key] = map[place]int{}
			}
			s := &out[i]
			s.Findings++
			s.Vendor = s.Vendor && f.Vendor
			if !slices.Contains(s.Rules, f.Rule) {
				s.Rules = append(s.Rules, f.Rule)
			}
			if better(f.Rule, s.Kind) {
				s.Kind = f.Rule
			}
			if detect.SeverityRank(f.Severity) > detect.SeverityRank(s.Severity) {
				s.Severity = f.Severity
			}
			if statusRank(f.Status) < statusRank(s.Status) {
				s.Status, s.Remediation = f.Status, f.Remediation
			}
			hist := -1
			if f.HistoryIndex != nil {
				hist = *f.HistoryIndex
			}
			p := place{im.Ref + "\x00" + im.Platform, f.Source, f.Path, strings.Join(f.ArchivePath, "\x00"), f.Field, hist, f.Line, f.Layer.Index}
			if j, ok := places[key][p]; ok {
				o := &s.Occurrences[j]
				if !slices.Contains(o.Rules, f.Rule) {
					o.Rules = append(o.Rules, f.Rule)
				}
				continue
			}
			places[key][p] = len(s.Occurrences)
			s.Occurrences = append(s.Occurrences, Occurrence{Image: im.Ref, Platform: im.Platform, Source: f.Source, Path: f.Path,
				ArchivePath: f.ArchivePath, Field: f.Field, HistoryIndex: f.HistoryIndex, Line: f.Line, Layer: f.Layer.Index,
				Instruction: f.Layer.Instruction, Status: f.Status, Cause: f.Cause, Rules: []string{f.Rule}})
		}
	}
	for i := range out {
		s := &out[i]
		slices.Sort(s.Rules)
		if v, ok := r.verdict(s.ID); ok {
			s.Verification = &v
		}
		if s.Remediation == "" {
			s.Remediation = "Rotate the secret (revoke it where it was issued) and keep it out of the image."
		}
		slices.SortStableFunc(s.Occurrences, func(a, b Occurrence) int {
			return cmp.Or(statusRank(a.Status)-statusRank(b.Status), cmp.Compare(a.Image, b.Image), cmp.Compare(a.Layer, b.Layer),
				cmp.Compare(a.Path, b.Path), cmp.Compare(a.Field, b.Field))
		})
	}
	slices.SortStableFunc(out, func(a, b Secret) int {
		return cmp.Or(verdictRank(a.Verification)-verdictRank(b.Verification),
			detect.SeverityRank(b.Severity)-detect.SeverityRank(a.Severity),
			statusRank(a.Status)-statusRank(b.Status), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// better says whether rule names a secret's kind more precisely than
// the current one: the more specific, then the alphabetically first.
func better(rule, current string) bool {
	a, b := detect.Specificity(rule), detect.Specificity(current)
	return a > b || a == b && rule < current
}

// ShortID is the part of a secret id the table prints.
func ShortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// Totals counts a report's secrets and findings separately: one secret
// found by two rules, or in forty files, is one secret to rotate.
type Totals struct {
	Secrets  int `json:"secrets"`
	Findings int `json:"findings"`
	// Present counts the secrets still in a final filesystem or config;
	// Verified those --verify found working.
	Present  int `json:"present"`
	Verified int `json:"verified"`
}

// TotalsOf counts secrets (given, from Secrets) and the report's findings.
func (r *Report) TotalsOf(secrets []Secret) Totals {
	t := Totals{Secrets: len(secrets)}
	for _, im := range r.Images {
		t.Findings += len(im.Findings)
	}
	for _, s := range secrets {
		if s.Status == "present" {
			t.Present++
		}
		if s.Verification != nil && s.Verification.Status == Verified {
			t.Verified++
		}
	}
	return t
}

// MarshalJSON writes the report with its secrets view and totals before
// the images (docs/json-schema.md).
func (r Report) MarshalJSON() ([]byte, error) {
	secrets := r.Secrets()
	if secrets == nil {
		secrets = []Secret{}
	}
	return marshal(struct {
		Schema  string   `json:"schema"`
		Tool    Tool     `json:"tool"`
		Totals  Totals   `json:"totals"`
		Secrets []Secret `json:"secrets"`
		Images  []*Image `json:"images"`
	}{r.Schema, r.Tool, r.TotalsOf(secrets), secrets, r.Images})
}

// SecretLabel is a finding's secret as the table and Markdown print it:
// the redaction and the short id that tells two secrets with the same
// redaction apart ("ghp_**** #7a00ac88").
func SecretLabel(f Finding) string {
	if f.SecretID == "" {
		return f.Secret
	}
	return f.Secret + " #" + ShortID(f.SecretID)
}

// verdict is a secret's --verify verdict: the report's, else the first
// image's that has one.
func (r *Report) verdict(id string) (Verdict, bool) {
	if v, ok := r.Verdicts[id]; ok {
		return v, true
	}
	for _, im := range r.Images {
		if v, ok := im.Verdicts[id]; ok {
			return v, true
		}
	}
	return Verdict{}, false
}

// Verifying says whether the report has verdicts (--verify ran).
func (r *Report) Verifying() bool {
	if r.Verdicts != nil {
		return true
	}
	for _, im := range r.Images {
		if im.Verdicts != nil {
			return true
		}
	}
	return false
}
