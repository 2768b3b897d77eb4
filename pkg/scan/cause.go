package scan

import (
	"strings"

	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/history"
	"github.com/layerscan/layerscan/pkg/report"
)

// Causes fills in the Cause and Remediation of every finding of im, the
// report of img, from the finding's own data: its source, path, status,
// the layer's or history entry's instruction, and whether that layer or
// entry belongs to the base image (see history.Classify for the
// precedence). base is the base image's boundary; nil finds it from the
// manifest annotations and the history (history.FindBase).
func (s *Scanner) Causes(img *fetch.Image, im *report.Image, base *history.Base) {
	steps, infos, _ := history.Map(img.Config, len(img.Layers))
	if base == nil {
		base = history.FindBase(img.Annotations, steps)
	}
	if base.Known() {
		im.Base = &report.BaseImage{Name: base.Name, Digest: base.Digest, Layers: base.Layers, Source: base.Source}
	}
	for i := range im.Findings {
		f := &im.Findings[i]
		in := history.Facts{Source: f.Source, Path: f.Path, Status: history.Status(f.Status), Field: f.Field,
			Instruction: f.Layer.Instruction, CreatedBy: f.Layer.CreatedBy}
		switch f.Source {
		case "config":
			if st := configStep(steps, f.Field); st >= 0 {
				in.InBase = base.HasStep(st)
			}
		case "history":
			if f.HistoryIndex != nil && *f.HistoryIndex >= 0 && *f.HistoryIndex < len(steps) {
				st := steps[*f.HistoryIndex]
				in.Instruction, in.CreatedBy = st.Instruction, st.CreatedBy
				in.InBase = base.HasStep(st.Index)
				in.InBuildArg = s.inBuildArgs(st.BuildArgs, f)
			}
		default:
			l := f.Layer.Index
			if l >= 0 && l < len(infos) {
				in.Instruction, in.CreatedBy = infos[l].Instruction, infos[l].CreatedBy
			}
			in.InBase = base.HasLayer(l)
		}
		c := history.Classify(in)
		f.Cause = string(c)
		f.Remediation = history.Remediation(c, base)
	}
}

// inBuildArgs tells whether the secret of history finding f is in one of
// the build arguments the step recorded: the detector finds the same
// secret (same fingerprint) in NAME=value.
func (s *Scanner) inBuildArgs(args []history.Arg, f *report.Finding) bool {
	for _, a := range args {
		for _, g := range s.det.Scan("", []byte(a.Name+"="+a.Value), 1) {
			if g.RuleID == f.Rule && s.opts.Key.Finding(g.RuleID, "history", g.Secret) == f.Fingerprint {
				return true
			}
		}
	}
	return false
}

// configStep is the history entry that set a config field: the last ENV
// naming the variable of "Env NAME", the last LABEL naming the key of
// "Labels KEY"; -1 when none does (or for other fields).
func configStep(steps []history.Step, field string) int {
	kind, name, _ := strings.Cut(field, " ")
	var word string
	switch kind {
	case "Env":
		word = "ENV"
	case "Labels":
		word = "LABEL"
	default:
		return -1
	}
	for i := len(steps) - 1; i >= 0; i-- {
		instr := steps[i].Instruction
		rest, ok := strings.CutPrefix(instr, word+" ")
		if !ok {
			continue
		}
		rest = " " + rest
		if strings.Contains(rest, " "+name+"=") || strings.Contains(rest, " \""+name+"\"=") || strings.HasPrefix(rest, " "+name+" ") {
			return i
		}
	}
	return -1
}
