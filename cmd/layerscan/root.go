package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/layerscan/layerscan/pkg/detect"
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

Exit status: 0 no findings at or above --fail-on (default low), 1 findings
(see --exit-code), 2 usage error or the image could not be fetched, 3 the
scan was incomplete (a layer could not be read; the findings from the rest
are still reported).

Defaults for any flag can come from the environment (LAYERSCAN_FLAG_NAME,
e.g. LAYERSCAN_FAIL_ON=high) or from a YAML config file
(~/.config/layerscan/config.yaml, or --config-file / LAYERSCAN_CONFIG_FILE;
keys are flag names). Precedence: flag > environment > config file.`,
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
	root.PersistentFlags().String("config-file", "", "YAML file of flag defaults (default ~/.config/layerscan/config.yaml; LAYERSCAN_CONFIG_FILE)")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return applyDefaults(cmd) }
	root.DisableAutoGenTag = true
	root.AddCommand(newScanCmd(opts), newVersionCmd(opts), newExtractCmd(opts), newLsCmd(opts), newHistoryCmd(opts), newManCmd(root),
		newSweepCmd(opts), newReportCmd(opts))
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

func newVersionCmd(opts *scanOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print layerscan's version, its rule set and the Go version",
		Example: "  layerscan version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "layerscan %s\n", toolVersion())
			rules := "gitleaks default rules"
			if v := moduleVersion("github.com/zricethezav/gitleaks/v8"); v != "" {
				rules = "gitleaks " + v + " default rules"
			}
			if det, err := detect.New(detect.Options{MaxDecodeDepth: opts.decodeDepth}); err == nil {
				rules += ", ruleset " + det.RulesetFingerprint()
			}
			fmt.Fprintf(w, "rules: %s\n", rules)
			fmt.Fprintf(w, "go: %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

// moduleVersion is the version of a module built into the binary.
func moduleVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, d := range bi.Deps {
		if d.Path == path {
			if d.Replace != nil {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	return ""
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

// configPath is the config file: --config-file, LAYERSCAN_CONFIG_FILE, or
// ~/.config/layerscan/config.yaml ($XDG_CONFIG_HOME respected). explicit
// tells whether the user named it (then it must exist).
func configPath(cmd *cobra.Command) (path string, explicit bool) {
	if f := cmd.Flags().Lookup("config-file"); f != nil && f.Changed {
		return f.Value.String(), true
	}
	if p := os.Getenv("LAYERSCAN_CONFIG_FILE"); p != "" {
		return p, true
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", false
	}
	return filepath.Join(dir, "layerscan", "config.yaml"), false
}

// envName is the environment variable that sets a flag's default.
func envName(flag string) string {
	return "LAYERSCAN_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// applyDefaults fills the flags not given on the command line from the
// environment (LAYERSCAN_FLAG_NAME), then from the config file: flag >
// environment > config file.
func applyDefaults(cmd *cobra.Command) error {
	switch cmd.Name() {
	case "help", "completion", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
		return nil
	}
	fs := cmd.Flags()
	file := map[string]any{}
	path, explicit := configPath(cmd)
	if path != "" {
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			if err := yaml.Unmarshal(b, &file); err != nil {
				return usageErr("config file %s: %s", path, oneLine(err.Error()))
			}
		case explicit || !os.IsNotExist(err):
			return usageErr("config file: %s", oneLine(err.Error()))
		}
	}
	for key := range file {
		if key == "config-file" || cmd.Root().PersistentFlags().Lookup(key) == nil && fs.Lookup(key) == nil && !anyCommandHasFlag(cmd.Root(), key) {
			return usageErr("config file %s: unknown setting %q (keys are flag names, e.g. fail-on)", path, key)
		}
	}
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Name == "config-file" || f.Name == "help" {
			return
		}
		var values []string
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			values = []string{v}
			if f.Name == "format" {
				values = strings.Split(v, ",")
			}
		} else if v, ok := file[f.Name]; ok {
			switch v := v.(type) {
			case []any:
				for _, x := range v {
					values = append(values, fmt.Sprint(x))
				}
			case nil:
			default:
				values = []string{fmt.Sprint(v)}
			}
		}
		for _, v := range values {
			if e := fs.Set(f.Name, strings.TrimSpace(v)); e != nil {
				err = usageErr("%s (from %s or the config file): %s", f.Name, envName(f.Name), oneLine(e.Error()))
				return
			}
		}
	})
	return err
}

func anyCommandHasFlag(c *cobra.Command, name string) bool {
	if c.Flags().Lookup(name) != nil || c.PersistentFlags().Lookup(name) != nil {
		return true
	}
	for _, sub := range c.Commands() {
		if anyCommandHasFlag(sub, name) {
			return true
		}
	}
	return false
}

// oneLine keeps an error message on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
