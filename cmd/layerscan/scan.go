package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/scan"
)

type scanOptions struct {
	format        string
	output        string
	showSecrets   bool
	platform      string
	username      string
	passwordStdin bool
	insecure      bool
	jobs          int
	exitCode      int
	maxFileSize   int64
	decodeDepth   int

	// Flags added by other parts of the CLI, each in its own file.
	out outputOptions // output.go: formats, progress, gating
	det detectOptions // detectflags.go: rules, allowlists, baselines
	wlk walkOptions   // walkflags.go: archives, binaries, bounds
}

func (o *scanOptions) register(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	o.format = "table"
	f.VarP(newFormatValue(&o.format, &o.out.specs), "format", "f", formatUsage)
	f.StringVarP(&o.output, "output", "o", "", "write the report to this file instead of stdout")
	f.BoolVar(&o.showSecrets, "show-secrets", false, "print secrets in full instead of redacted")
	f.StringVar(&o.platform, "platform", "linux/amd64", "platform to scan in a multi-arch image: os/arch[/variant], or all")
	f.StringVarP(&o.username, "username", "u", "", "registry username (use with --password-stdin)")
	f.BoolVar(&o.passwordStdin, "password-stdin", false, "read the registry password from stdin")
	f.BoolVar(&o.insecure, "insecure", false, "allow plain HTTP and self-signed registries")
	f.IntVarP(&o.jobs, "jobs", "j", runtime.NumCPU(), "layers read at once")
	f.IntVar(&o.exitCode, "exit-code", exitFindings, "exit status when findings at or above --fail-on are found")
	f.Int64Var(&o.maxFileSize, "max-file-size", 0, "scan at most this many bytes of each file (0: no limit)")
	f.IntVar(&o.decodeDepth, "max-decode-depth", 2, "rounds of base64/hex/percent decoding to find encoded secrets (0: none)")
	o.out.register(f)
	o.det.register(f)
	o.wlk.register(f)
}

func usageErr(format string, args ...any) error {
	return &exitError{code: exitError2, msg: fmt.Sprintf(format, args...)}
}

// scanMemoryLimit is the soft limit on the Go heap during a scan (unless
// GOMEMLIMIT is set): layer content is streamed, but a layer's tar entries
// are kept until its image's lifecycle is worked out, and without a limit
// the heap may grow to twice what is live before the collector runs
// (docs/benchmarks.md, "Memory").
const scanMemoryLimit = 96 << 20

func runScan(cmd *cobra.Command, o *scanOptions, refs []string) error {
	if err := o.out.validate(o); err != nil {
		return err
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(scanMemoryLimit)
	}
	fopts, err := o.fetchOptions(cmd)
	if err != nil {
		return err
	}

	det, err := detect.New(o.det.options(o.decodeDepth))
	if err != nil {
		return usageErr("%v", err)
	}
	sopts := scan.Options{Jobs: o.jobs, ShowSecrets: o.showSecrets, MaxFileSize: o.maxFileSize}
	if err := o.wlk.apply(&sopts); err != nil {
		return err
	}
	if err := o.det.apply(&sopts); err != nil {
		return err
	}
	prog := o.out.startProgress(cmd.ErrOrStderr())
	defer prog.wait()
	if prog != nil {
		sopts.OnFile = prog.fileScanned
	}
	scanner := scan.New(det, sopts)
	rep := &report.Report{Schema: report.Schema, Tool: report.Tool{Name: "layerscan", Version: toolVersion(), Ruleset: det.RulesetFingerprint()}}

	ctx := cmd.Context()
	for _, ref := range refs {
		src, err := fetch.Open(ctx, ref, fopts...)
		if err != nil {
			return &exitError{code: exitError2, msg: describeFetchError(ref, err)}
		}
		for _, img := range src.Images {
			imageDone := prog.image(img)
			if img.Ref == "" {
				img.Ref = ref
			}
			ri, err := scanner.Image(ctx, img)
			imageDone()
			if err != nil {
				src.Close()
				return &exitError{code: exitError2, msg: fmt.Sprintf("scanning %s: %v", ref, oneLine(err.Error()))}
			}
			rep.Images = append(rep.Images, ri)
		}
		src.Close()
	}

	prog.wait()
	if err := writeReport(cmd.OutOrStdout(), o, rep); err != nil {
		return usageErr("writing the report: %v", err)
	}
	switch {
	case rep.Incomplete():
		return &exitError{code: exitIncomplete, msg: "scan incomplete: some layers could not be read (see the report's errors)"}
	case o.out.failing(rep) > 0:
		return &exitError{code: o.exitCode}
	}
	return nil
}

// fetchOptions turns the registry and platform flags into fetch options,
// reading the password from stdin when asked.
func (o *scanOptions) fetchOptions(cmd *cobra.Command) ([]fetch.Option, error) {
	if o.jobs < 1 {
		return nil, usageErr("--jobs must be at least 1")
	}
	fopts := []fetch.Option{
		fetch.WithPlatform(o.platform), fetch.WithInsecure(o.insecure), fetch.WithJobs(o.jobs),
		fetch.WithUserAgent("layerscan/" + toolVersion()),
	}
	fopts = append(fopts, o.wlk.fetchOptions()...)
	switch {
	case o.passwordStdin && o.username == "":
		return nil, usageErr("--password-stdin needs --username")
	case o.passwordStdin:
		pw, err := readPassword(cmd.InOrStdin())
		if err != nil {
			return nil, usageErr("reading the password from stdin: %v", err)
		}
		fopts = append(fopts, fetch.WithBasicAuth(o.username, pw))
	case o.username != "":
		return nil, usageErr("--username needs --password-stdin")
	}
	return fopts, nil
}

func writeReport(stdout io.Writer, o *scanOptions, rep *report.Report) error {
	for _, sp := range o.out.outputs(o.format) {
		file := sp.file
		if file == "" {
			file = o.output
		}
		var err error
		if file == "" || file == "-" {
			err = o.out.writeReportTo(stdout, sp.format, rep, o.out.tableOptions(stdout))
		} else {
			err = o.out.writeFile(file, sp.format, rep, o.showSecrets)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func readPassword(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, 1<<16))
	if err != nil {
		return "", err
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return "", errors.New("empty password")
	}
	return pw, nil
}

// describeFetchError says in one line why an image could not be opened.
func describeFetchError(ref string, err error) string {
	msg := oneLine(err.Error())
	switch {
	case errors.Is(err, fetch.ErrBadReference):
		return fmt.Sprintf("%q is not a valid image reference or an existing path: %s", ref, msg)
	case errors.Is(err, fetch.ErrUnauthorized):
		return fmt.Sprintf("unauthorized: the registry refused the credentials for %s (docker login, or --username/--password-stdin): %s", ref, msg)
	case errors.Is(err, fetch.ErrNotFound):
		return fmt.Sprintf("not found: %s: %s", ref, msg)
	case errors.Is(err, fetch.ErrCertificate):
		return fmt.Sprintf("TLS: %s", msg)
	case errors.Is(err, fetch.ErrUnreachable):
		return fmt.Sprintf("registry unreachable for %s: %s", ref, msg)
	case errors.Is(err, fetch.ErrNotImage):
		return fmt.Sprintf("not an image: %s", msg)
	case errors.Is(err, fetch.ErrNoPlatform):
		return msg
	case errors.Is(err, os.ErrNotExist):
		return fmt.Sprintf("no such file: %s", msg)
	}
	return fmt.Sprintf("cannot open %s: %s", ref, msg)
}
