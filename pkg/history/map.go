package history

import (
	"fmt"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Step is one history entry of the image config.
type Step struct {
	// Index is the entry's position in the config's history.
	Index       int
	CreatedBy   string
	Instruction string
	BuildArgs   []Arg
	Created     time.Time
	Comment     string
	EmptyLayer  bool
	// Layer is the index of the layer this step made, or -1.
	Layer int
}

// LayerInfo ties a layer to the step that made it.
type LayerInfo struct {
	Index int
	// Step is the history index of the step that made the layer, or -1
	// when the history does not say.
	Step        int
	CreatedBy   string
	Instruction string
	BuildArgs   []Arg
}

// MissingInstruction stands for a layer without a history entry.
const MissingInstruction = "(no history entry)"

// Instructions are the instructions that made each of nLayers layers
// (MissingInstruction where no history entry made it), as Map pairs them.
func Instructions(cfg *v1.ConfigFile, nLayers int) []string {
	_, infos, _ := Map(cfg, nLayers)
	out := make([]string, len(infos))
	for i, in := range infos {
		out[i] = in.Instruction
	}
	return out
}

// Map pairs history entries with layers. Entries marked empty_layer made
// no layer; the n-th other entry made the n-th layer. Warnings say when the
// history and the layers do not agree.
func Map(cfg *v1.ConfigFile, nLayers int) ([]Step, []LayerInfo, []string) {
	var hist []v1.History
	if cfg != nil {
		hist = cfg.History
	}
	steps := make([]Step, len(hist))
	layers := make([]LayerInfo, nLayers)
	for i := range layers {
		layers[i] = LayerInfo{Index: i, Step: -1, Instruction: MissingInstruction}
	}
	var warnings []string
	next := 0
	for i, h := range hist {
		instr, args := Normalize(h.CreatedBy)
		steps[i] = Step{Index: i, CreatedBy: h.CreatedBy, Instruction: instr, BuildArgs: args,
			Created: h.Created.Time, Comment: h.Comment, EmptyLayer: h.EmptyLayer, Layer: -1}
		if h.EmptyLayer {
			continue
		}
		if metadataOnly(instr) {
			warnings = append(warnings, fmt.Sprintf("history entry %d (%s) is not marked empty_layer, but such steps make no layer: the layers after it may be tied to the wrong steps", i, firstWord(instr)))
		}
		if next < nLayers {
			steps[i].Layer = next
			layers[next] = LayerInfo{Index: next, Step: i, CreatedBy: h.CreatedBy, Instruction: instr, BuildArgs: args}
			if instr == "" {
				layers[next].Instruction = MissingInstruction
			}
		}
		next++
	}
	switch {
	case len(hist) == 0 && nLayers > 0:
		warnings = append(warnings, "the image config has no history: layers cannot be tied to build steps")
	case next < nLayers:
		warnings = append(warnings, fmt.Sprintf("history names %d layer-making steps for %d layers: the last %d layers have no history entry", next, nLayers, nLayers-next))
	case next > nLayers:
		warnings = append(warnings, fmt.Sprintf("history names %d layer-making steps for %d layers: the extra steps made no layer", next, nLayers))
	}
	return steps, layers, warnings
}

// metadataOnly tells instructions that only change the config. (WORKDIR is
// not one: BuildKit makes a layer for it.)
func metadataOnly(instr string) bool {
	switch firstWord(instr) {
	case "ENV", "CMD", "ENTRYPOINT", "EXPOSE", "LABEL", "USER", "ARG", "VOLUME", "STOPSIGNAL", "HEALTHCHECK", "ONBUILD", "SHELL", "MAINTAINER":
		return true
	}
	return false
}

func firstWord(s string) string {
	w, _, _ := strings.Cut(s, " ")
	return w
}
