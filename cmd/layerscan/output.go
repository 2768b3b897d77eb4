package main

import (
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"text/template"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/progress"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/sanitize"
)

// outputOptions are the flags about how results are written and gated.
type outputOptions struct {
	formats  []string // --format values: FORMAT or FORMAT=FILE
	template string
	failOn   string
	severity string
	quiet    bool
	color    string
	force    bool
	verified bool // --fail-on-verified

	outs []report.Output
	tmpl *template.Template
}

func (o *outputOptions) register(f *pflag.FlagSet) {
	f.StringArrayVarP(&o.formats, "format", "f", []string{"table"}, "output format: table, json, sarif, gitlab, csv, markdown, template or html; repeat as FORMAT=FILE for several outputs in one run")
	f.StringVar(&o.template, "template", "", "Go text/template file for --format template (runs over the layerscan/v1 report)")
	f.StringVar(&o.failOn, "fail-on", "low", "lowest severity that makes the exit status non-zero: critical, high, medium, low or info")
	f.StringVar(&o.severity, "severity", "", "report only findings at or above this severity: critical, high, medium, low or info (default: all)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress bars on stderr")
	f.StringVar(&o.color, "color", "auto", "colour in the table: auto (only on a terminal, and not with NO_COLOR set), always or never")
	f.BoolVar(&o.verified, "fail-on-verified", false, "with --verify: exit with --exit-code when a secret is verified working, whatever its severity")
	f.BoolVar(&o.force, "force", false, "replace a symbolic link at an output file's path (-o, --format FORMAT=FILE) instead of refusing it")
}

// format is the last --format name: the one format of commands that
// take one (history).
func (o *outputOptions) format() string {
	outs, _ := report.ParseOutputs(o.formats[len(o.formats)-1:], "")
	if len(outs) == 0 {
		return o.formats[len(o.formats)-1]
	}
	return outs[0].Format
}

// validate checks the output and gating flags before anything is fetched.
func (o *outputOptions) validate(s *scanOptions) (err error) {
	var unknown *report.UnknownFormatError
	if o.outs, err = report.ParseOutputs(o.formats, s.output); errors.As(err, &unknown) {
		return usageErr("unknown --format %q: use %s", unknown.Name, strings.Join(report.Formats, ", "))
	} else if err != nil {
		return usageErr("--format: %v", err)
	}
	for _, out := range o.outs {
		if out.Format == "template" && o.template == "" {
			return usageErr("--format template needs --template FILE")
		}
	}
	if o.template != "" {
		if o.tmpl, err = report.ParseTemplateFile(o.template); err != nil {
			return usageErr("--template: %s", sanitize.OneLine(err.Error()))
		}
	}
	switch {
	case !detect.ValidSeverity(o.failOn):
		return usageErr("unknown --fail-on %q: use critical, high, medium, low or info", o.failOn)
	case o.severity != "" && !detect.ValidSeverity(o.severity):
		return usageErr("unknown --severity %q: use critical, high, medium, low or info", o.severity)
	case s.exitCode < 0 || s.exitCode > 125:
		return usageErr("--exit-code must be between 0 and 125")
	case !slices.Contains([]string{"auto", "always", "never"}, o.color):
		return usageErr("unknown --color %q: use auto, always or never", o.color)
	}
	return nil
}

// startProgress draws bars on stderr when it is a terminal and --quiet
// is not set; nil otherwise (every method of a nil *Bars does nothing).
func (o *outputOptions) startProgress(stderr io.Writer) *progress.Bars {
	if f, ok := stderr.(*os.File); o.quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progress.New(stderr)
}
