package scan

import (
	"fmt"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/history"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/walk"
)

// History tells the image's build from its config history (layerscan
// history): each entry with the layer it made, the files and bytes later
// layers hid of it, and the secrets it left, from the same read of the
// layers as the report. base, when not nil, replaces the boundary found
// from the annotations and the history (--base). Text from the image is
// redacted as the report is.
func (a *Analysis) History(base *history.Base) *report.History {
	s := a.scanner
	img := a.Image
	steps, _, warnings := history.Map(img.Config, len(img.Layers))
	if base == nil {
		base = history.FindBase(img.Annotations, steps)
	}
	s.Causes(img, a.Report, base)
	h := &report.History{Schema: report.HistorySchema, Image: a.Report.Ref, Platform: img.Platform,
		Entries: []report.HistoryEntry{}, BuildArgs: []report.HistoryArg{}, ConfigFindings: []report.HistoryFinding{},
		Causes: []report.HistoryCause{}, Warnings: []string{}, Incomplete: len(a.Report.Errors) > 0}
	for _, w := range warnings {
		h.Warnings = append(h.Warnings, a.Redact(w))
	}
	if img.Digest.Hex != "" {
		h.Digest = img.Digest.String()
	}
	for _, e := range a.Report.Errors {
		if e.Layer != nil {
			h.Warnings = append(h.Warnings, fmt.Sprintf("layer %d could not be read to its end: %s", *e.Layer, e.Message))
		}
	}
	if base.Known() {
		h.Base = &report.HistoryBase{Name: a.Redact(base.Name), Digest: base.Digest, LastHistoryIndex: base.LastHistoryIndex,
			Layers: base.Layers, Source: base.Source}
	}
	byLayer, byStep := map[int][]report.HistoryFinding{}, map[int][]report.HistoryFinding{}
	seen := map[string]bool{}
	for _, f := range a.Report.Findings {
		hf := report.HistoryFinding{Rule: f.Rule, Source: f.Source, Path: f.Path, Line: f.Line, Field: f.Field,
			Status: f.Status, Secret: f.Secret, Cause: f.Cause, Evidence: a.Report.Evidence(f)}
		if f.RemovedBy != nil {
			by := f.RemovedBy.Index
			hf.RemovedBy = &by
		}
		switch {
		case f.Source == "history" && f.HistoryIndex != nil:
			byStep[*f.HistoryIndex] = append(byStep[*f.HistoryIndex], hf)
		case f.Source == "file":
			byLayer[f.Layer.Index] = append(byLayer[f.Layer.Index], hf)
		default:
			h.ConfigFindings = append(h.ConfigFindings, hf)
		}
		if f.Cause != "" && !seen[f.Cause] {
			seen[f.Cause] = true
			h.Causes = append(h.Causes, report.HistoryCause{Cause: f.Cause, Remediation: f.Remediation})
		}
	}
	for _, st := range steps {
		e := report.HistoryEntry{Index: st.Index, CreatedBy: a.Redact(st.CreatedBy), Instruction: a.Redact(st.Instruction),
			Comment: a.Redact(st.Comment), EmptyLayer: st.EmptyLayer, InBase: h.Base != nil && st.Index <= h.Base.LastHistoryIndex}
		if !st.Created.IsZero() {
			t := st.Created.UTC()
			e.Created = &t
		}
		if l := st.Layer; l >= 0 && l < len(a.Report.Layers) {
			e.Layer = &l
			size := a.Report.Layers[l].Size
			e.Size = &size
			e.Digest = a.Report.Layers[l].Digest
			e.Hidden = a.hidden(l)
		}
		e.Findings = append(e.Findings, byStep[st.Index]...)
		if st.Layer >= 0 {
			e.Findings = append(e.Findings, byLayer[st.Layer]...)
		}
		h.Entries = append(h.Entries, e)
		for _, arg := range st.BuildArgs {
			v := arg.Value
			if !s.opts.ShowSecrets && v != "" {
				v = detect.Redact(v)
			}
			h.BuildArgs = append(h.BuildArgs, report.HistoryArg{HistoryIndex: st.Index, Name: a.Redact(arg.Name), Value: v})
		}
	}
	return h
}

// hidden counts the regular files of layer l that later layers deleted or
// overwrote (and no surviving hardlink reaches), and their bytes.
func (a *Analysis) hidden(l int) *report.HistoryCount {
	c := &report.HistoryCount{}
	if l >= len(a.Results) || a.Results[l] == nil {
		return c
	}
	for j, e := range a.Results[l].Entries {
		if e.Kind == walk.Regular && a.Lifecycle.Hidden(l, j) {
			c.Files++
			c.Bytes += e.Size
		}
	}
	return c
}
