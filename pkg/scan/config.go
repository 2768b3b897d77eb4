package scan

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/history"
	"github.com/layerscan/layerscan/pkg/redact"
	"github.com/layerscan/layerscan/pkg/report"
)

// StoredConfig is an image config as a store may keep it: what the
// config records in the clear — Env, Labels, Cmd, Entrypoint, User and
// every history entry's created_by and comment — redacted, and the
// findings it held, found before the redaction (redacted too). A sharded
// sweep stores it with an image whose report another process assembles.
type StoredConfig struct {
	Config   json.RawMessage  `json:"config"`
	Findings []report.Finding `json:"findings"`
}

// StoreConfig makes the StoredConfig of img. The secrets are redacted
// whatever ShowSecrets says: a store never holds one.
func (s *Scanner) StoreConfig(img *fetch.Image) (*StoredConfig, error) {
	if img.Config == nil {
		return nil, fmt.Errorf("image %s has no config", img.Ref)
	}
	plain := *s
	plain.opts.ShowSecrets = false
	steps, _, _ := history.Map(img.Config, len(img.Layers))
	layers := make([]report.Layer, len(img.Layers))
	for i := range layers {
		layers[i].Index = i
	}
	fs, secrets := plain.metadataFindings(img, steps, layers, nil)
	// Causes read the build arguments, which the stored config no longer
	// holds in the clear: decide them now.
	tmp := &report.Image{Findings: fs}
	plain.Causes(img, tmp, nil)
	fs = tmp.Findings
	red := redact.New(s.det)
	red.Add(secrets...)
	cfg := img.Config.DeepCopy()
	redactConfig(cfg, red.Text)
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encoding the config: %w", err)
	}
	for i := range fs {
		fs[i].Layer.CreatedBy, fs[i].Layer.Instruction = red.Text(fs[i].Layer.CreatedBy), red.Text(fs[i].Layer.Instruction)
	}
	return &StoredConfig{Config: raw, Findings: fs}, nil
}

// redactConfig applies red to every string of cfg the image author wrote.
func redactConfig(cfg *v1.ConfigFile, red func(string) string) {
	c := &cfg.Config
	for _, list := range [][]string{c.Env, c.Cmd, c.Entrypoint, c.Shell, c.OnBuild} {
		for i := range list {
			list[i] = red(list[i])
		}
	}
	c.User, c.WorkingDir = red(c.User), red(c.WorkingDir)
	if c.Labels != nil {
		labels := map[string]string{}
		for _, k := range slices.Sorted(maps.Keys(c.Labels)) {
			labels[red(k)] = red(c.Labels[k])
		}
		c.Labels = labels
	}
	for i := range cfg.History {
		h := &cfg.History[i]
		h.CreatedBy, h.Comment, h.Author = red(h.CreatedBy), red(h.Comment), red(h.Author)
	}
}

// keepCauses gives the stored findings of im back the causes found when
// the config was stored (Causes, run again over the redacted config,
// cannot see build-argument values).
func (sc *StoredConfig) keepCauses(im *report.Image) {
	type key struct{ rule, fp string }
	stored := map[key]report.Finding{}
	for _, f := range sc.Findings {
		stored[key{f.Rule, f.Fingerprint}] = f
	}
	for i := range im.Findings {
		f := &im.Findings[i]
		if f.Source == "file" {
			continue
		}
		if st, ok := stored[key{f.Rule, f.Fingerprint}]; ok && st.Cause != "" {
			f.Cause, f.Remediation = st.Cause, st.Remediation
		}
	}
}

// findings are the stored findings, their layers named as layers says.
func (sc *StoredConfig) findings(layers []report.Layer) []report.Finding {
	out := slices.Clone(sc.Findings)
	for i := range out {
		if l := out[i].Layer.Index; l >= 0 && l < len(layers) {
			out[i].Layer = report.LayerRef{Index: l, Digest: layers[l].Digest, CreatedBy: layers[l].CreatedBy, Instruction: layers[l].Instruction}
		}
	}
	return out
}
