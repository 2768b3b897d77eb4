package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/layerscan/layerscan/internal/bytesize"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/fingerprint"
	"github.com/layerscan/layerscan/pkg/progress"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/scan"
)

type scanOptions struct {
	output                      string
	showSecrets                 bool
	platform                    string
	username                    string
	passwordStdin               bool
	password                    string // read from stdin once (credentials)
	insecure                    bool
	jobs, exitCode, decodeDepth int
	maxFileSize                 int64
	keyFile                     string

	// Flags added by other parts of the CLI, each in its own file.
	out outputOptions // output.go: formats, progress, gating
	det detectOptions // detectflags.go: rules, allowlists, baselines
	wlk walkOptions   // walkflags.go: archives, binaries, bounds
}

func (o *scanOptions) register(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVarP(&o.output, "output", "o", "", "write the report to this file instead of stdout")
	f.BoolVar(&o.showSecrets, "show-secrets", false, "print secrets in full instead of redacted")
	f.StringVar(&o.platform, "platform", "linux/amd64", "platform to scan in a multi-arch image: os/arch[/variant], or all")
	f.StringVarP(&o.username, "username", "u", "", "registry username (use with --password-stdin)")
	f.BoolVar(&o.passwordStdin, "password-stdin", false, "read the registry password from stdin")
	f.BoolVar(&o.insecure, "insecure", false, "allow plain HTTP and self-signed registries")
	f.IntVarP(&o.jobs, "jobs", "j", runtime.NumCPU(), "layers read at once")
	f.IntVar(&o.exitCode, "exit-code", exitFindings, "exit status when findings at or above --fail-on are found")
	bytesize.Var(f, &o.maxFileSize, "max-file-size", 0, "scan at most this many bytes of each file (0: no limit)")
	f.IntVar(&o.decodeDepth, "max-decode-depth", 2, "rounds of base64/hex/percent decoding to find encoded secrets (0: none)")
	f.StringVar(&o.keyFile, "fingerprint-key-file", "", "key file of the fingerprints and secret ids (default: $"+fingerprint.EnvKey+", else ~/.config/layerscan/fingerprint.key, made once)")
	o.out.register(f)
	o.det.register(f)
	o.wlk.register(f)
}

func usageErr(format string, args ...any) error {
	return &exitError{code: exitError2, msg: fmt.Sprintf(format, args...)}
}

// scanMemoryLimit is the soft limit on the Go heap during a scan unless
// GOMEMLIMIT is set (docs/benchmarks.md, "Memory").
const scanMemoryLimit = 96 << 20

func runScan(cmd *cobra.Command, o *scanOptions, refs []string) error {
	if err := o.out.validate(o); err != nil {
		return err
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(scanMemoryLimit)
	}
	prog := o.out.startProgress(cmd.ErrOrStderr())
	defer prog.Wait()
	p, err := o.pipeline(cmd, prog)
	if err != nil {
		return err
	}
	rep := p.NewReport()
	for _, ref := range refs {
		images, err := p.ScanRef(cmd.Context(), ref)
		if err != nil {
			return &exitError{code: exitError2, msg: fetch.Describe(ref, err)}
		}
		rep.Images = append(rep.Images, images...)
	}
	prog.Wait()
	return finishReport(cmd, o, rep.Stream())
}

// pipeline builds the one pipeline every command runs through from the
// flags: fetch (source, platform, credentials, bounds), walk and archive
// bounds, the detector (rules, decoding), suppressions and the vendor
// view, and the report's header. prog, when not nil, draws progress.
func (o *scanOptions) pipeline(cmd *cobra.Command, prog *progress.Bars) (*scan.Pipeline, error) {
	fopts, err := o.fetchOptions(cmd)
	if err != nil {
		return nil, err
	}
	cfg := scan.Config{
		Fetch:  fopts,
		Detect: o.det.options(o.decodeDepth),
		Scan:   scan.Options{Jobs: o.jobs, ShowSecrets: o.showSecrets, MaxFileSize: o.maxFileSize},
		Tool:   report.Tool{Name: "layerscan", Version: toolVersion()},
	}
	if cfg.Scan.Key, err = fingerprint.Resolve(o.keyFile, cmd.ErrOrStderr()); err != nil {
		return nil, usageErr("%v", err)
	}
	if err := o.wlk.apply(&cfg.Scan); err != nil {
		return nil, err
	}
	if err := o.det.apply(&cfg.Scan); err != nil {
		return nil, err
	}
	if prog != nil {
		cfg.Scan.OnFile = prog.FileScanned
		cfg.OnImage = prog.Image
	}
	p, err := scan.NewPipeline(cfg)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return p, nil
}

// finishReport writes rep in every --format and gives the exit status:
// 3 when it is incomplete, --exit-code when findings reach --fail-on.
func finishReport(cmd *cobra.Command, o *scanOptions, rep *report.Stream) error {
	rep.KeepAtLeast(o.out.severity)
	if err := writeReport(cmd.OutOrStdout(), o, rep); err != nil {
		return usageErr("writing the report: %v", err)
	}
	switch tally := rep.Tally(); {
	case tally.Incomplete:
		return &exitError{code: exitIncomplete, msg: "incomplete: some layers or images could not be read (see the report's errors)"}
	case tally.Failing(o.out.failOn) > 0, o.out.verified && tally.Verified > 0:
		return &exitError{code: o.exitCode}
	}
	return nil
}

// fetchOptions turns the registry and platform flags into fetch options,
// reading the password from stdin when asked.
func (o *scanOptions) fetchOptions(cmd *cobra.Command) ([]fetch.Option, error) {
	fopts := []fetch.Option{
		fetch.WithPlatform(o.platform), fetch.WithInsecure(o.insecure), fetch.WithJobs(o.jobs),
		fetch.WithUserAgent("layerscan/" + toolVersion()),
	}
	fopts = append(fopts, o.wlk.fetchOptions()...)
	pw, err := o.credentials(cmd)
	if err != nil {
		return nil, err
	}
	if pw != "" {
		fopts = append(fopts, fetch.WithBasicAuth(o.username, pw))
	}
	return fopts, nil
}

// credentials checks --username and --password-stdin and reads the
// password from stdin, once per run ("" without --password-stdin).
func (o *scanOptions) credentials(cmd *cobra.Command) (string, error) {
	switch {
	case o.passwordStdin && o.username == "":
		return "", usageErr("--password-stdin needs --username")
	case o.passwordStdin && o.password == "":
		pw, err := fetch.ReadPassword(cmd.InOrStdin())
		if err != nil {
			return "", usageErr("reading the password from stdin: %v", err)
		}
		o.password = pw
	case !o.passwordStdin && o.username != "":
		return "", usageErr("--username needs --password-stdin")
	}
	return o.password, nil
}

func writeReport(stdout io.Writer, o *scanOptions, rep *report.Stream) error {
	return report.WriteOutputsStream(stdout, rep, o.out.outs, report.OutputOptions{Secrets: o.showSecrets, Force: o.out.force,
		WriteOptions: report.WriteOptions{Table: report.TerminalTable(stdout, o.out.color), Template: o.out.tmpl}})
}
