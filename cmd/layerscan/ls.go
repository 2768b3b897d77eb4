package main

import (
	"bufio"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/layerscan/layerscan/pkg/evidence"
	"github.com/layerscan/layerscan/pkg/history"
	"github.com/layerscan/layerscan/pkg/sanitize"
	"github.com/layerscan/layerscan/pkg/walk"
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
		Long: `ls lists the tar entries of each layer of IMAGE, grouped by layer under a
header with the layer's index, short digest and instruction, one entry per
line: its fate (present, or deleted/overwritten by layer N — deleted and
overwritten files are still in the image: see layerscan extract), its kind
(file, dir, symlink, hardlink, whiteout, opaque, other) and its path.
Whiteouts and opaque markers show the path they delete. Only headers are
read: no content is scanned.

Instructions are shown with secrets and build-argument values redacted unless
--show-secrets.

Exit status: 0 listed, 2 usage error or the image could not be fetched, 3 a
layer could not be read to its end (the entries before the failure are
listed).`,
		Example: `  layerscan ls oci-archive:./app.oci.tar --deleted
  layerscan ls ./app.tar --layer 3 --long`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("ls needs one IMAGE (see layerscan ls --help)")
			}
			return nil
		},
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
	src, img, err := openForensicImage(cmd, opts, ref)
	if err != nil {
		return err
	}
	defer src.Close()
	if layer >= 0 {
		if err := checkLayerIndex(img, ref, layer); err != nil {
			return err
		}
	}
	red, err := textRedactor(opts)
	if err != nil {
		return err
	}
	list, err := evidence.List(cmd.Context(), img.Layers, evidence.Options{Jobs: opts.jobs})
	if err != nil {
		return usageErr("listing %s: %v", ref, oneLine(err.Error()))
	}
	_, infos, _ := history.Map(img.Config, len(img.Layers))

	bw := bufio.NewWriter(cmd.OutOrStdout())
	incomplete := writeLs(bw, list, infos, red, layer, deleted, long)
	if err := bw.Flush(); err != nil {
		return usageErr("writing the listing: %v", err)
	}
	if incomplete {
		return &exitError{code: exitIncomplete, msg: "listing incomplete: some layers could not be read"}
	}
	return nil
}

func writeLs(out io.Writer, list *evidence.Listing, infos []history.LayerInfo, red func(string) string, only int, deleted, long bool) (incomplete bool) {
	// Every name from the image is redacted (a file may be named after a
	// secret) and sanitised.
	show := func(s string) string { return sanitize.Text(red(s)) }
	byLayer := make([][]evidence.Entry, len(list.Layers))
	for _, e := range list.Entries {
		if deleted && e.Fate.Status == history.Present {
			continue
		}
		byLayer[e.Layer] = append(byLayer[e.Layer], e)
	}
	first := true
	for i, li := range list.Layers {
		if li.Err != nil {
			incomplete = true
		}
		if (only >= 0 && i != only) || (deleted && len(byLayer[i]) == 0 && li.Err == nil) {
			continue
		}
		if !first {
			fmt.Fprintln(out)
		}
		first = false
		instr := history.MissingInstruction
		if i < len(infos) {
			instr = infos[i].Instruction
		}
		fmt.Fprintf(out, "Layer %d  %s  %s\n", i, forensicShortDigest(li.Digest.String()), show(instr))
		if li.Err != nil {
			fmt.Fprintf(out, "  ! could not be read to its end: %s\n", show(oneLine(li.Err.Error())))
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		for _, e := range byLayer[i] {
			fate := string(e.Fate.Status)
			if e.Fate.By >= 0 {
				fate = fmt.Sprintf("%s by layer %d", e.Fate.Status, e.Fate.By)
			}
			if e.Kind == walk.Whiteout || e.Kind == walk.Opaque {
				fate = "-"
			}
			name := show(e.Path)
			switch e.Kind {
			case walk.Whiteout:
				name += "  (deletes " + show(e.Target) + ")"
			case walk.Opaque:
				name += "  (empties " + show(e.Target) + ")"
			case walk.Symlink, walk.Hardlink:
				if long {
					name += " -> " + show(e.Linkname)
				}
			}
			if long {
				size := "-"
				if e.Kind == walk.Regular {
					size = fmt.Sprint(e.Size)
				}
				fmt.Fprintf(tw, "  %s\t%s\t%04o\t%s\t%s\n", fate, e.Kind, e.Mode&0o7777, size, name)
			} else {
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", fate, e.Kind, name)
			}
		}
		tw.Flush()
	}
	return incomplete
}
