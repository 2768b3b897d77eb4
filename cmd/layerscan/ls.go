package main

import (
	"bufio"

	"github.com/spf13/cobra"

	"github.com/layerscan/layerscan/pkg/history"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/sanitize"
)

func newLsCmd(opts *scanOptions) *cobra.Command {
	var (
		layer   int
		deleted bool
		long    bool
	)
	cmd := &cobra.Command{
		Use:   "ls IMAGE [--layer N] [--deleted] [--long]",
		Short: "List every file of every layer, with its fate in the final filesystem",
		Long: `ls lists the tar entries of each layer of IMAGE under a heading (index, short
digest, instruction): each entry's fate (present, or deleted/overwritten by
layer N: still in the image, see extract), kind and path; whiteouts and
opaque markers name what they delete. Only headers are read. Names and
instructions are redacted unless --show-secrets.

Exit status: 0 listed, 2 usage error or the image could not be fetched, 3 a
layer could not be read to its end.`,
		Example: `  layerscan ls oci-archive:./app.oci.tar --deleted
  layerscan ls ./app.tar --layer 3 --long`,
		Args: nArgs(1, "one IMAGE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("layer") {
				layer = -1
			}
			return runLs(cmd, opts, args[0], layer, deleted, long)
		},
	}
	f := cmd.Flags()
	f.IntVar(&layer, "layer", 0, "list only this layer (0 is the base)")
	f.BoolVar(&deleted, "deleted", false, "list only entries a later layer deleted or overwrote")
	f.BoolVarP(&long, "long", "l", false, "add mode, size and link target")
	return cmd
}

func runLs(cmd *cobra.Command, opts *scanOptions, ref string, layer int, deleted, long bool) error {
	p, err := opts.pipeline(cmd, nil)
	if err != nil {
		return err
	}
	src, img, err := openForensicImage(cmd, p, ref)
	if err != nil {
		return err
	}
	defer src.Close()
	if layer >= 0 {
		if err := checkLayerIndex(img, ref, layer); err != nil {
			return err
		}
	}
	list, err := p.List(cmd.Context(), img)
	if err != nil {
		return usageErr("listing %s: %v", ref, sanitize.OneLine(err.Error()))
	}
	bw := bufio.NewWriter(cmd.OutOrStdout())
	err = report.WriteListing(bw, list, report.ListingOptions{Instructions: history.Instructions(img.Config, len(img.Layers)), Only: layer, Deleted: deleted, Long: long, Redact: p.Redact})
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return usageErr("writing the listing: %v", err)
	}
	if list.Incomplete() {
		return &exitError{code: exitIncomplete, msg: "listing incomplete: some layers could not be read"}
	}
	return nil
}
