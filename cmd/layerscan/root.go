package main

import (
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Exit statuses.
const (
	exitOK         = 0
	exitFindings   = 1
	exitError2     = 2 // usage error, or the image could not be fetched
	exitIncomplete = 3 // a layer could not be read; findings still reported
)

// exitError carries an exit status (and an optional message) to main.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// version is set at link time (-ldflags "-X main.version=…").
var version = ""

func toolVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func newRootCmd() *cobra.Command {
	opts := &scanOptions{}
	root := &cobra.Command{
		Use:   "layerscan [flags] IMAGE",
		Short: "Find the secrets a container image leaks, layer by layer",
		Long: `layerscan reads every layer of a container image — without unpacking it —
and reports every secret any layer holds, with the Dockerfile instruction that
added it and its fate in the final filesystem: present, deleted or overwritten
by a later layer. Deleted and overwritten files are still in the image: anyone
who can pull it can extract them.

IMAGE is a registry reference (registry.example.com/app:1.4, or @sha256:…),
a docker save tarball (./app.tar), an OCI archive (oci-archive:./app.oci.tar)
or an OCI layout directory (oci:./layout).

Exit status: 0 no findings, 1 findings (see --exit-code), 2 usage error or
the image could not be fetched, 3 the scan was incomplete (a layer could not
be read; the findings from the rest are still reported).`,
		Example: `  layerscan registry.example.com/app:1.4
  layerscan ./app.tar
  layerscan oci-archive:./app.oci.tar --format json -o report.json
  layerscan oci:./app-layout --platform all`,
		Args:          cobra.ArbitraryArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return runScan(cmd, opts, args)
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: exitError2, msg: err.Error() + " (see layerscan --help)"}
	})
	opts.register(root)
	root.AddCommand(newScanCmd(opts), newVersionCmd(), newExtractCmd(opts), newLsCmd(opts), newHistoryCmd(opts))
	return root
}

func newScanCmd(opts *scanOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "scan [flags] IMAGE...",
		Short: "Scan images for secrets (the default command)",
		Example: `  layerscan scan registry.example.com/app:1.4
  layerscan scan --format json -o report.json ./app.tar`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &exitError{code: exitError2, msg: "scan needs an IMAGE (see layerscan scan --help)"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runScan(cmd, opts, args) },
	}
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print layerscan's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.Printf("layerscan %s\n", toolVersion())
			return nil
		},
	}
}

// oneLine keeps an error message on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
