package report

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/layerscan/layerscan/pkg/evidence"
)

// Evidence is the shell command that extracts a file finding's bytes from
// the layer that holds them — "layerscan extract 'REF' --layer N 'PATH'
// -o FILE" — built from the image's Source and Platform and the finding's
// layer and path, every value from the image quoted (evidence.Command).
// It is "" for a finding in the config or the history. Library data holds
// the fields; the writers render the command.
func (im *Image) Evidence(f Finding) string {
	if f.evidence != "" {
		return f.evidence
	}
	if f.Source != "file" || f.Path == "" {
		return ""
	}
	src := im.Source
	if src == "" {
		src = im.Ref
	}
	return evidence.Command(src, im.Platform, f.Layer.Index, f.Path)
}

// MarshalJSON writes the image with each file finding's "evidence"
// command (Evidence), which the JSON report has always carried.
func (im Image) MarshalJSON() ([]byte, error) {
	type plain Image
	p := plain(im)
	p.Findings = slices.Clone(im.Findings)
	for i := range p.Findings {
		p.Findings[i].evidence = im.Evidence(im.Findings[i])
	}
	return marshal(p)
}

// MarshalJSON writes the finding and its evidence command, when the
// image it is in has set it (Image.MarshalJSON).
func (f Finding) MarshalJSON() ([]byte, error) {
	type plain Finding
	return marshal(struct {
		plain
		Evidence string `json:"evidence,omitempty"`
	}{plain(f), f.evidence})
}

// marshal is json.Marshal without HTML escaping, as writeJSON encodes.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
