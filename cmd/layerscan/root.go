package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/layerscan/layerscan/internal/buildinfo"
	"github.com/layerscan/layerscan/internal/flagdefaults"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/sanitize"
)

// Exit statuses.
const (
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

func toolVersion() string { return buildinfo.Version(version) }

func newRootCmd() *cobra.Command {
	opts := &scanOptions{}
	root := &cobra.Command{
		Use:   "layerscan [flags] IMAGE",
		Short: "Find the secrets a container image leaks, layer by layer",
		Long: `layerscan reads every layer of a container image without unpacking it and
reports every secret any layer holds, with the instruction that added it and
its fate: present, or deleted or overwritten by a later layer (still in the
image: anyone who can pull it can extract it). IMAGE is a registry reference,
an archive, a daemon's or a store's image, a directory or - (see below).

Exit status: 0 nothing at or above --fail-on, 1 findings (--exit-code), 2
usage error or the image could not be fetched, 3 incomplete (a layer could
not be read; the rest is reported). Flag defaults come from LAYERSCAN_FLAG
variables or ~/.config/layerscan/config.yaml (--config-file): flag >
environment > file.` + "\n\nIMAGE references:\n" + fetch.ReferenceHelp(),
		Example: `  layerscan registry.example.com/app:1.4
  layerscan ./app.tar
  layerscan oci-archive:./app.oci.tar --format json -o report.json
  layerscan oci:./app-layout --platform all
  layerscan ./app.tar --format sarif=layerscan.sarif --format table --fail-on high
  layerscan ./app.tar --format template --template report.tmpl -o report.txt`,
		Args:          cobra.ArbitraryArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if v, _ := cmd.Flags().GetBool("version"); v {
				return printVersion(cmd, opts)
			} else if len(args) == 0 {
				return cmd.Help()
			}
			return runScan(cmd, opts, args)
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: exitError2, msg: err.Error() + " (see layerscan --help)"}
	})
	opts.register(root)
	root.Flags().Bool("version", false, "print the version, as layerscan version does")
	root.PersistentFlags().String("config-file", "", "YAML file of flag defaults (default ~/.config/layerscan/config.yaml; LAYERSCAN_CONFIG_FILE)")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := flagdefaults.Apply(cmd, "LAYERSCAN_"); err != nil {
			return usageErr("%s", sanitize.OneLine(err.Error()))
		}
		if err := flagdefaults.Check(cmd); err != nil {
			return usageErr("%v", err)
		}
		return nil
	}
	root.DisableAutoGenTag = true
	root.AddCommand(newScanCmd(opts), newVersionCmd(opts), newExtractCmd(opts), newLsCmd(opts), newHistoryCmd(opts), newManCmd(root),
		newSweepCmd(opts), newReportCmd(opts))
	return root
}

func newScanCmd(opts *scanOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "scan [flags] IMAGE...",
		Short: "Scan images for secrets (the default command)",
		Long:  "Scan each IMAGE for secrets, layer by layer.\n\nIMAGE references:\n" + fetch.ReferenceHelp(),
		Example: `  layerscan scan registry.example.com/app:1.4
  layerscan scan --format json -o report.json ./app.tar
  docker save app | layerscan scan -   (or podman:app, containers-storage:app, dir:./rootfs)`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr("scan needs an IMAGE (see layerscan scan --help)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runScan(cmd, opts, args) },
	}
}

func newVersionCmd(opts *scanOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print layerscan's version, its rule set and the Go version",
		Example: "  layerscan version",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return printVersion(cmd, opts) },
	}
}

// printVersion prints buildinfo.Lines: layerscan version and --version.
func printVersion(cmd *cobra.Command, opts *scanOptions) error {
	ruleset := ""
	if p, err := opts.pipeline(cmd, nil); err == nil {
		ruleset = p.Ruleset()
	}
	_, err := fmt.Fprintln(cmd.OutOrStdout(), strings.Join(buildinfo.Lines(toolVersion(), ruleset), "\n"))
	return err
}

func newManCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:     "man DIR",
		Short:   "Write the man pages (section 1) into DIR",
		Example: "  layerscan man ./man   # make man",
		Hidden:  true,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return err
			}
			hdr := &doc.GenManHeader{Title: "LAYERSCAN", Section: "1", Source: "layerscan " + toolVersion(), Manual: "layerscan manual"}
			return doc.GenManTree(root, hdr, args[0])
		},
	}
}

// nArgs checks a command's arguments: n of them, else a usage error
// naming what the command needs.
func nArgs(n int, need string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErr("%s needs %s (see layerscan %s --help)", cmd.Name(), need, cmd.Name())
		}
		return nil
	}
}
