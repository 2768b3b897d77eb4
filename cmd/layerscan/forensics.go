package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/sanitize"
	"github.com/layerscan/layerscan/pkg/scan"
)

// openForensicImage opens ref with the pipeline and returns its one image:
// the forensic commands read a single one, picked with --platform.
func openForensicImage(cmd *cobra.Command, p *scan.Pipeline, ref string) (*fetch.Source, *fetch.Image, error) {
	src, img, err := p.OpenImage(cmd.Context(), ref)
	switch {
	case errors.Is(err, scan.ErrSeveralImages):
		return nil, nil, usageErr("%s: %s reads one, pick it with --platform os/arch", sanitize.OneLine(err.Error()), cmd.Name())
	case err != nil:
		return nil, nil, &exitError{code: exitError2, msg: fetch.Describe(ref, err)}
	}
	return src, img, nil
}

// checkLayerIndex says when n is not a layer index of img.
func checkLayerIndex(img *fetch.Image, ref string, n int) error {
	if n < 0 || n >= len(img.Layers) {
		return usageErr("layer %d is out of range: %s has %d layers (0-%d)", n, ref, len(img.Layers), len(img.Layers)-1)
	}
	return nil
}
