package main

import (
	"bufio"

	"github.com/spf13/cobra"

	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/history"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/sanitize"
)

func newHistoryCmd(opts *scanOptions) *cobra.Command {
	var baseRef string
	cmd := &cobra.Command{
		Use:   "history IMAGE [--base REF] [--format table|json]",
		Short: "Show how the image was built: its history as a Dockerfile-like listing",
		Long: `history rebuilds IMAGE's build from its config history: per entry its index,
the layer it made (- for empty_layer entries such as ENV), the layer's size,
the created time and the instruction; under each layer the files and bytes a
later layer deleted or overwrote (hidden, but still in the image: see ls
--deleted and extract) and the secrets the entry left, with their leak cause.
Then the image config's secrets, the causes' remediations and the build
arguments RUN steps recorded. Secrets and build-argument values are redacted
unless --show-secrets. The layers are read once, as scan reads them, with
every detection and bound flag.

The base image boundary: --base REF (its layer diff IDs must be a prefix of
IMAGE's), else the manifest's base-image annotations, else heuristics (the
last history comment "FROM <name>", or the last entry before a gap of over an
hour); docs/history-json.md. Findings of the base's layers have the cause
inherited-from-base-image. --format json writes layerscan-history/v1.

Exit status: 0 shown, 2 usage error or the image could not be fetched, 3 a
layer could not be read to its end.`,
		Example: `  layerscan history oci-archive:./app.oci.tar
  layerscan history oci-archive:./app.oci.tar --base oci-archive:./base.oci.tar
  layerscan history registry.example.com/app:1.4 --format json`,
		Args: nArgs(1, "one IMAGE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runHistory(cmd, opts, args[0], baseRef) },
	}
	cmd.Flags().StringVar(&baseRef, "base", "", "the base image (any IMAGE form): its layers and history entries are marked as the base's")
	return cmd
}

func runHistory(cmd *cobra.Command, opts *scanOptions, ref, baseRef string) error {
	format := opts.out.format()
	if format != "table" && format != "json" {
		return usageErr("unknown --format %q: use table or json", format)
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
	var base *history.Base
	if baseRef != "" {
		if base, err = p.Base(cmd.Context(), baseRef, img); err != nil {
			return usageErr("--base: %s", fetch.Describe(baseRef, err))
		}
	}
	a, err := p.Analyze(cmd.Context(), img)
	if err != nil {
		return usageErr("scanning %s: %v", ref, sanitize.OneLine(err.Error()))
	}
	h := a.History(base)
	bw := bufio.NewWriter(cmd.OutOrStdout())
	if format == "json" {
		err = report.WriteHistoryJSON(bw, h)
	} else {
		err = report.WriteHistoryTable(bw, h)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return usageErr("writing the history: %v", err)
	}
	if h.Incomplete {
		return &exitError{code: exitIncomplete, msg: "history incomplete: some layers could not be read"}
	}
	return nil
}
