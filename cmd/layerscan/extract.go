package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/layerscan/layerscan/pkg/evidence"
	"github.com/layerscan/layerscan/pkg/outfile"
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
		Long: `extract writes the bytes of the regular file at PATH exactly as layer N of
IMAGE stores them — also when a later layer deleted or overwrote the file: its
bytes are still in layer N, and this is how anyone with the image gets them.
Only layer N is read. A hardlink at PATH gives its target's content; symlinks
are not followed. Layer numbers are the ones the scan report and
"layerscan ls" give (0 is the base).

FILE is created with mode 0600 and is never overwritten unless --force; a
symbolic link at FILE is refused, or with --force replaced, never written
through. -o - writes to stdout. There is no default: the content is likely
a secret and is not printed to a terminal by accident.

Exit status: 0 written, 2 usage error, no such path in the layer, layer out
of range, FILE exists, or the image could not be fetched.`,
		Example: `  layerscan extract oci-archive:./app.oci.tar --layer 1 /app/secrets.txt -o secrets.txt
  layerscan extract registry.example.com/app:1.4 --layer 3 /root/.npmrc -o - | sha256sum`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageErr("extract needs IMAGE and PATH (see layerscan extract --help)")
			}
			return nil
		},
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

func runExtract(cmd *cobra.Command, opts *scanOptions, ref, path string, layer int, output string, force bool) (err error) {
	switch {
	case !cmd.Flags().Changed("layer"):
		return usageErr("extract needs --layer N: the layer that holds the file (see layerscan ls %s)", evidence.ShellQuote(ref))
	case output == "":
		return usageErr("extract needs -o FILE (or -o - for stdout): the content is likely a secret")
	}
	src, img, err := openForensicImage(cmd, opts, ref)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := checkLayerIndex(img, ref, layer); err != nil {
		return err
	}

	w := cmd.OutOrStdout()
	if output != "-" {
		f, err := outfile.Create(output, outfile.Options{Mode: 0o600, Secret: true, Force: force})
		if err != nil {
			return usageErr("creating %s: %v", output, err)
		}
		defer func() {
			if cerr := f.Close(); err == nil && cerr != nil {
				err = usageErr("writing %s: %v", output, cerr)
			}
			if err != nil {
				os.Remove(output)
			}
		}()
		w = f
	}
	if err := evidence.Extract(cmd.Context(), img.Layers[layer], path, w, evidence.Options{}); err != nil {
		if errors.Is(err, evidence.ErrNotFound) {
			return usageErr("%s (layerscan ls %s --layer %d lists its files)", oneLine(err.Error()), evidence.ShellQuote(ref), layer)
		}
		return usageErr("extracting %s from layer %d of %s: %s", path, layer, ref, oneLine(err.Error()))
	}
	if output != "-" {
		fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s from layer %d of %s\n", output, layer, ref)
	}
	return nil
}
