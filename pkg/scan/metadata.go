package scan

import (
	"sort"
	"strings"

	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/history"
	"github.com/layerscan/layerscan/pkg/report"
)

// maxMetadataText bounds one config value or created_by scanned.
const maxMetadataText = 1 << 20

// metadataFindings scans what the image config records in the clear: the
// Env, Labels, Cmd, Entrypoint and User of the config, and every history
// entry's created_by (where ENV, ARG values given to RUN as |N NAME=value,
// and credentials typed into RUN lines end up, whatever the layers hold).
//
// It returns the plaintext of the secrets too, for the redactor.
func (s *Scanner) metadataFindings(img *fetch.Image, steps []history.Step, layers []report.Layer, legacy map[string]bool) ([]report.Finding, []string) {
	var out []report.Finding
	var secrets []string
	if img.Config != nil {
		c := img.Config.Config
		for _, kv := range c.Env {
			name, _, _ := strings.Cut(kv, "=")
			out, secrets = s.configFindings(out, secrets, legacy, "Env "+name, kv)
		}
		keys := make([]string, 0, len(c.Labels))
		for k := range c.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out, secrets = s.configFindings(out, secrets, legacy, "Labels "+k, k+"="+c.Labels[k])
		}
		if len(c.Cmd) > 0 {
			out, secrets = s.configFindings(out, secrets, legacy, "Cmd", strings.Join(c.Cmd, " "))
		}
		if len(c.Entrypoint) > 0 {
			out, secrets = s.configFindings(out, secrets, legacy, "Entrypoint", strings.Join(c.Entrypoint, " "))
		}
		if c.User != "" {
			out, secrets = s.configFindings(out, secrets, legacy, "User", "USER="+c.User)
		}
	}
	for _, st := range steps {
		text := st.CreatedBy
		if len(text) > maxMetadataText {
			text = text[:maxMetadataText]
		}
		for _, f := range s.det.Scan("", []byte(text), 1) {
			idx := st.Index
			secrets = append(secrets, f.Secret)
			s.matchLegacy(legacy, s.opts.Key.Finding(f.RuleID, "history", f.Secret), f.RuleID, "history", f.Secret)
			ref := report.LayerRef{Index: -1, CreatedBy: st.CreatedBy, Instruction: st.Instruction}
			if st.Layer >= 0 && st.Layer < len(layers) {
				l := layers[st.Layer]
				ref = report.LayerRef{Index: l.Index, Digest: l.Digest, CreatedBy: l.CreatedBy, Instruction: l.Instruction}
			}
			out = append(out, report.Finding{
				Rule: f.RuleID, Description: f.Description, Severity: f.Severity, Encoding: f.Encoding, Note: f.Note, Source: "history",
				HistoryIndex: &idx, Layer: ref, Status: string(history.Present),
				Secret: s.secret(f.Secret), Fingerprint: s.opts.Key.Finding(f.RuleID, "history", f.Secret),
				SecretID: s.opts.Key.Secret(f.Secret),
			})
		}
	}
	return out, secrets
}

func (s *Scanner) configFindings(out []report.Finding, secrets []string, legacy map[string]bool, field, text string) ([]report.Finding, []string) {
	if len(text) > maxMetadataText {
		text = text[:maxMetadataText]
	}
	for _, f := range s.det.Scan("", []byte(text), 1) {
		secrets = append(secrets, f.Secret)
		s.matchLegacy(legacy, s.opts.Key.Finding(f.RuleID, "config:"+field, f.Secret), f.RuleID, "config:"+field, f.Secret)
		out = append(out, report.Finding{
			Rule: f.RuleID, Description: f.Description, Severity: f.Severity, Encoding: f.Encoding, Note: f.Note, Source: "config", Field: field,
			Layer: report.LayerRef{Index: -1}, Status: string(history.Present),
			Secret: s.secret(f.Secret), Fingerprint: s.opts.Key.Finding(f.RuleID, "config:"+field, f.Secret),
			SecretID: s.opts.Key.Secret(f.Secret),
		})
	}
	return out, secrets
}
