package scan

import (
	"sort"
	"strings"

	"github.com/layerscan/layerscan/pkg/detect"
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
func (s *Scanner) metadataFindings(img *fetch.Image, steps []history.Step, layers []report.Layer, red func(string) string) []report.Finding {
	var out []report.Finding
	if img.Config != nil {
		c := img.Config.Config
		for _, kv := range c.Env {
			name, _, _ := strings.Cut(kv, "=")
			out = append(out, s.configFindings("Env "+name, kv)...)
		}
		keys := make([]string, 0, len(c.Labels))
		for k := range c.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, s.configFindings("Labels "+k, k+"="+c.Labels[k])...)
		}
		if len(c.Cmd) > 0 {
			out = append(out, s.configFindings("Cmd", strings.Join(c.Cmd, " "))...)
		}
		if len(c.Entrypoint) > 0 {
			out = append(out, s.configFindings("Entrypoint", strings.Join(c.Entrypoint, " "))...)
		}
		if c.User != "" {
			out = append(out, s.configFindings("User", "USER="+c.User)...)
		}
	}
	for _, st := range steps {
		text := st.CreatedBy
		if len(text) > maxMetadataText {
			text = text[:maxMetadataText]
		}
		for _, f := range s.det.Scan("", []byte(text), 1) {
			idx := st.Index
			ref := report.LayerRef{Index: -1, CreatedBy: red(st.CreatedBy), Instruction: red(st.Instruction)}
			if st.Layer >= 0 && st.Layer < len(layers) {
				l := layers[st.Layer]
				ref = report.LayerRef{Index: l.Index, Digest: l.Digest, CreatedBy: l.CreatedBy, Instruction: l.Instruction}
			}
			out = append(out, report.Finding{
				Rule: f.RuleID, Description: f.Description, Severity: f.Severity, Encoding: f.Encoding, Note: f.Note, Source: "history",
				HistoryIndex: &idx, Layer: ref, Status: string(history.Present),
				Secret: s.secret(f.Secret), Fingerprint: detect.Fingerprint(f.RuleID, "history", f.Secret),
			})
		}
	}
	return out
}

func (s *Scanner) configFindings(field, text string) []report.Finding {
	if len(text) > maxMetadataText {
		text = text[:maxMetadataText]
	}
	var out []report.Finding
	for _, f := range s.det.Scan("", []byte(text), 1) {
		out = append(out, report.Finding{
			Rule: f.RuleID, Description: f.Description, Severity: f.Severity, Encoding: f.Encoding, Note: f.Note, Source: "config", Field: field,
			Layer: report.LayerRef{Index: -1}, Status: string(history.Present),
			Secret: s.secret(f.Secret), Fingerprint: detect.Fingerprint(f.RuleID, "config:"+field, f.Secret),
		})
	}
	return out
}
