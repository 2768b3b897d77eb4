package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/layerscan/layerscan/pkg/evidence"
	"github.com/layerscan/layerscan/pkg/outfile"
	"github.com/layerscan/layerscan/pkg/sanitize"
)

func newExtractCmd(opts *scanOptions) *cobra.Command {
	var (
		layer  int
		output string
		force  bool
	)
	cmd := &cobra.Command{
		Use:   "extract IMAGE --layer N PATH -o FILE",
		Short: "Write a file as one layer stores it, even if a later layer deleted it",
		Long: `extract writes the bytes of the regular file at PATH as layer N of IMAGE stores
them, also when a later layer deleted or overwrote it: that is how anyone with
the image gets them. Only layer N is read; a hardlink gives its target, a
symlink is not followed; N is as scan and ls number layers (0 is the base).
FILE is created 0600, never overwritten without --force, and a symbolic link
there is refused (with --force replaced, never written through); -o - is
stdout. There is no default: the content is likely a secret.

Exit status: 0 written, 2 usage error, no such path or layer, FILE exists,
or the image could not be fetched.`,
		Example: `  layerscan extract oci-archive:./app.oci.tar --layer 1 /app/secrets.txt -o secrets.txt
  layerscan extract registry.example.com/app:1.4 --layer 3 /root/.npmrc -o - | sha256sum`,
		Args: nArgs(2, "IMAGE and PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExtract(cmd, opts, args[0], args[1], layer, output, force)
		},
	}
	f := cmd.Flags()
	f.IntVar(&layer, "layer", -1, "index of the layer to read (0 is the base; see layerscan ls)")
	// Shadows the root's persistent --output, which names a report file.
	f.StringVarP(&output, "output", "o", "", "write the file here (created with mode 0600), or - for stdout")
	f.BoolVar(&force, "force", false, "overwrite FILE if it exists (a symbolic link at FILE is replaced, never followed)")
	return cmd
}

func runExtract(cmd *cobra.Command, opts *scanOptions, ref, path string, layer int, output string, force bool) error {
	switch {
	case !cmd.Flags().Changed("layer"):
		return usageErr("extract needs --layer N: the layer that holds the file (see layerscan ls %s)", evidence.ShellQuote(ref))
	case output == "":
		return usageErr("extract needs -o FILE (or -o - for stdout): the content is likely a secret")
	}
	p, err := opts.pipeline(cmd, nil)
	if err != nil {
		return err
	}
	src, img, err := openForensicImage(cmd, p, ref)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := checkLayerIndex(img, ref, layer); err != nil {
		return err
	}

	if err := p.Extract(cmd.Context(), img.Layers[layer], path, output, force, cmd.OutOrStdout()); err != nil {
		switch {
		case errors.Is(err, evidence.ErrNotFound):
			return usageErr("%s (layerscan ls %s --layer %d lists its files)", sanitize.OneLine(err.Error()), evidence.ShellQuote(ref), layer)
		case errors.Is(err, outfile.ErrExist), errors.Is(err, outfile.ErrSymlink):
			return usageErr("creating %s: %v", output, err)
		}
		return usageErr("extracting %s from layer %d of %s: %s", path, layer, ref, sanitize.OneLine(err.Error()))
	}
	if output != "-" {
		fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s from layer %d of %s\n", output, layer, ref)
	}
	return nil
}
